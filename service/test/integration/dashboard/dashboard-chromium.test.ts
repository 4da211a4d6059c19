import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumArgs,
  type DashboardBed,
  findChromium,
  startDashboardBed,
} from '../../../../local/dev/dashboard-bed.ts';

// The dashboard page in Debian's headless Chromium against the local run: the demo certificate
// deployed through the CLI, `acm-cert-export dashboard` serving the page as the demo IAM user.
const chromium = findChromium();

/** What the test reads of elements and of the page (the project compiles without the DOM lib). */
interface Shown {
  readonly hidden: boolean;
  readonly innerText: string;
}
interface InPage {
  readonly document: { getElementById(id: string): { textContent: string | null } | null };
  readonly location: { hash: string };
}

if (chromium === undefined) {
  const why =
    'dashboard browser test skipped: no Chromium at $CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser (apt-get install chromium; .ci/run installs it as root)';
  console.log(why);
  describe('the dashboard in headless Chromium', () => {
    it.skip(why, () => {});
  });
} else {
  let bed: DashboardBed;
  let browser: Browser;
  let page: Page;
  /** Console errors, uncaught exceptions, failed requests and 4xx/5xx answers of the page. */
  const problems: string[] = [];

  beforeAll(async () => {
    bed = await startDashboardBed();
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: chromiumArgs(),
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(bed.url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await bed?.stop();
  }, 60_000);

  const rows = (table: string) =>
    page.$$eval(`#${table} > tbody > tr`, (trs) =>
      trs.map((tr) =>
        // biome-ignore lint/performance/useDomNodeTextContent: the text as shown, a line per block
        [...tr.children].map((c) => (c as unknown as Shown).innerText.trim()),
      ),
    );

  describe('the dashboard in headless Chromium', () => {
    it('loads with no console error, failed request or error answer', async () => {
      expect(await page.title()).toBe('acm-cert-export dashboard');
      expect(await page.$eval('#problem', (e) => (e as unknown as Shown).hidden)).toBe(true);
      expect(problems, bed.output()).toEqual([]);
    });

    it('lists the demo certificate: days to expiry, last outcome, both servers converged', async () => {
      const certificates = await rows('certificate-table');
      expect(certificates).toHaveLength(1);
      const [name, target, serial, expires, days, outcome, converged] = certificates[0] ?? [];
      expect(name).toContain('demo');
      expect(name).toContain(bed.demo.certificateArn.split('/').pop());
      expect(target).toBe('env=dev');
      expect(serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){7,}$/);
      expect(expires).not.toBe('');
      expect(days).toMatch(/^\d+ days?/);
      expect(outcome).toMatch(/^Succeeded/);
      expect(converged).toMatch(/^2 of 2\s+all converged$/);
    });

    it('shows the demo deployment with its per-server results', async () => {
      const deployments = await rows('deployment-table');
      expect(deployments).toHaveLength(1);
      const [job, certificate, target, trigger, status, , , servers] = deployments[0] ?? [];
      expect(job).toMatch(/^(idem-)?[0-9a-f]{8}$/);
      expect(certificate).toContain('demo');
      expect(target).toBe('env=dev');
      expect(trigger).toBe('api');
      expect(status).toMatch(/^Succeeded\ninstalled on 2 of 2 servers/);
      expect(servers).toMatch(/^2 succeeded of 2/);
      // The per-server results under the row (a <details>), both servers by instance id.
      const inRow = await page.$$eval('#deployment-table tbody tr details tbody tr th', (ths) =>
        ths.map((th) => th.textContent),
      );
      expect(inRow.sort()).toEqual([...bed.demo.instanceIds].sort());
    });

    it('shows the newest deployment’s timeline and servers', async () => {
      const title = await page.$eval('#deployment-title', (e) => e.textContent);
      expect(title).toMatch(/^Deployment \S{8,}$/);
      const events = (await rows('timeline-table')).map((r) => r[2] ?? '');
      expect(events[0]).toMatch(/^Requested \(api by arn:aws:iam::123456789012:user\//);
      expect(events.some((e) => e.startsWith('Exported'))).toBe(true);
      expect(events.some((e) => e.startsWith('Dispatched'))).toBe(true);
      expect(events.filter((e) => e.startsWith('Server '))).toHaveLength(2);
      expect(events.at(-1)).toMatch(/^Ended Succeeded: installed on 2 of 2 servers/);
      const servers = await rows('server-table');
      expect(servers.map((s) => s[0]).sort()).toEqual([...bed.demo.instanceIds].sort());
      for (const s of servers) {
        expect(s[1]).toBe('Success');
        expect(s[2]).toBe('installed');
        expect(s[4]).toContain('/etc/ssl/certs/demo-fullchain.pem');
      }
    });

    it('follows a job chosen by its link, and states a bad one in text', async () => {
      const href = await page.$eval('#deployment-table > tbody > tr a', (a) =>
        a.getAttribute('href'),
      );
      expect(href).toMatch(/^#job=\S{8,}$/);
      await page.click('#deployment-table > tbody > tr a');
      await page.waitForFunction(
        (h) =>
          (globalThis as unknown as InPage).document.getElementById('deployment-title')
            ?.textContent === `Deployment ${h}`,
        {},
        href?.slice('#job='.length),
      );
      problems.length = 0;
      await page.evaluate(() => {
        (globalThis as unknown as InPage).location.hash =
          '#job=00000000-0000-4000-8000-000000000000';
      });
      await page.waitForSelector('#problem:not([hidden])');
      expect(await page.$eval('#problem', (e) => e.textContent)).toContain('DEPLOYMENT_NOT_FOUND');
      // The browser reports the 404 it was given; nothing else went wrong.
      expect(
        problems.every((p) => /404/.test(p)),
        problems.join('\n'),
      ).toBe(true);
    });
  });
}
