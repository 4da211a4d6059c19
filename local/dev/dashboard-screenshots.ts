/**
 * `node local/dev/dashboard-screenshots.ts [DIR]`: the screenshots of the dashboard in the docs
 * (docs/images/ by default), taken in headless Chromium from the real page against the local run
 * (local/dev/dashboard-bed.ts: the demo certificate deployed twice through the CLI, then
 * `acm-cert-export dashboard` as the demo IAM user). Needs Chromium (CHROMIUM_PATH, or Debian's
 * /usr/bin/chromium).
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import puppeteer from 'puppeteer-core';
import { repoRoot } from '../paths.ts';
import { chromiumArgs, findChromium, startDashboardBed } from './dashboard-bed.ts';

const out = process.argv[2] ?? join(repoRoot, 'docs/images');
const chromium = findChromium();
if (chromium === undefined) {
  console.error('no Chromium: set CHROMIUM_PATH or apt-get install chromium');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
console.log('Starting the local run and deploying the demo certificate twice…');
const bed = await startDashboardBed({ deploys: 2 });
let failed = false;
try {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: chromiumArgs(),
  });
  try {
    const page = await browser.newPage();
    await page.emulateTimezone('UTC');
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(bed.url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    // The first deployment (which installed the files; the second found them unchanged), chosen
    // by its link, and its per-server results opened, as a reader would.
    await page.click('#deployment-table > tbody > tr:last-child a');
    await page.waitForSelector('#deployment-table > tbody > tr:last-child[aria-current="true"]');
    await page.click('#deployment-table > tbody > tr:last-child details summary');
    const shots = [
      { file: 'dashboard.png', fullPage: true },
      { file: 'dashboard-overview.png', fullPage: false },
    ];
    for (const shot of shots) {
      const path = join(out, shot.file);
      await page.screenshot({ path, fullPage: shot.fullPage });
      console.log(`wrote ${relative(process.cwd(), path)}`);
    }
  } finally {
    await browser.close();
  }
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? error.message : String(error));
  console.error(bed.output());
} finally {
  await bed.stop();
}
process.exit(failed ? 1 : 0);
