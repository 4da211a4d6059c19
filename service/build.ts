/**
 * `npm run build`: the two production artifacts, built from the TypeScript with esbuild.
 *
 * - The service, what the image runs: `dist/main.mjs` — the process (src/main.ts) and every
 *   production dependency it loads at start in one ES module, and in `dist/chunks/` what it loads
 *   later (the job adapters and their SDK packages: composition.ts imports them on first use),
 *   each with a source map of the service's own files so that stack traces name the TypeScript
 *   files and lines (`node --enable-source-maps`). Node parses a few files instead of ~2,000
 *   modules and strips no types at start, and the image needs no node_modules. The Dockerfile
 *   runs `node service/build.ts service` in its build stage; `npm run bench` builds it before
 *   measuring the process (docs/benchmarks.md, Process).
 * - The CLI, what the npm package installs as `acm-cert-export`: `dist/cli.mjs`, one
 *   self-contained file (src/cli/main.ts and every dependency it uses, its shebang kept) for
 *   Node 22 and 24. `npm pack` builds it first (package.json's `prepack`), so a tarball never
 *   holds a stale one; service/test/integration/package/ installs the tarball and runs it.
 *
 * `node service/build.ts` builds both; `node service/build.ts service` or `… cli` one of them.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the artifacts go (gitignored): `main.mjs` and `chunks/` (the service), `cli.mjs`. */
export const distDir = join(root, 'dist');

/** The service's files in the output directory; the CLI's build leaves them alone. */
const serviceOutputs = ['main.mjs', 'main.mjs.map', 'chunks'];

/** The CLI's file in the output directory (package.json's `bin` names it). */
export const cliFile = 'cli.mjs';

/**
 * The dashboard page's files (`acm-cert-export dashboard` serves them): dashboard-server.ts
 * reads them from `./page/` beside the module, which in the bundle is `page/` beside cli.mjs,
 * so the CLI's build copies them there (package.json's `files` lists `dist/page/`).
 */
const dashboardPage = { from: 'service/src/dashboard/page', to: 'page' };

/**
 * Bundled CommonJS dependencies call `require` for Node's built-in modules; an ES module has
 * none, so the bundle makes one.
 */
const requireShim =
  "import { createRequire as __acmCreateRequire } from 'node:module'; const require = __acmCreateRequire(import.meta.url);";

/** What both bundles share: one ES module for Node, its dependencies inside. */
const bundleOptions = {
  absWorkingDir: root,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Minified identifiers would make stack traces and log lines harder to read; whitespace and
  // syntax minification shrink what Node parses at start. The service's source map maps both back.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  // Packages' "module" builds (ES modules) first, as Node would not: smaller and tree-shaken.
  mainFields: ['module', 'main'],
  // After the entry's shebang, if it has one (the CLI's main.ts).
  banner: { js: requireShim },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
} satisfies BuildOptions;

/**
 * Builds the service's bundle into `outDir` (its earlier files removed first, the CLI's kept);
 * returns esbuild's metafile.
 */
export async function buildService(outDir: string = distDir): Promise<Metafile> {
  for (const file of serviceOutputs) rmSync(join(outDir, file), { recursive: true, force: true });
  const result = await build({
    ...bundleOptions,
    entryPoints: { main: 'service/src/main.ts' },
    outdir: outDir,
    target: 'node24',
    sourcemap: true,
    sourcesContent: false,
    // Dynamic imports (the job adapters and their SDK packages) become chunks of their own,
    // loaded on first use.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  });
  for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.map')) ownSourcesOnly(join(outDir, file));
  }
  return result.metafile;
}

/**
 * Builds the CLI into `outDir/cli.mjs`, one file with no imports but Node's own: the npm package
 * installs it with no node_modules, and Node 22 runs it (no type stripping, which Node 22 does
 * not do by default). No code splitting (a CLI run is short; one file is simpler to ship) and no
 * source map (its errors are messages, not stack traces). Beside it, `page/`: the dashboard's
 * files. Returns esbuild's metafile.
 */
export async function buildCli(outDir: string = distDir): Promise<Metafile> {
  mkdirSync(outDir, { recursive: true });
  const page = join(outDir, dashboardPage.to);
  rmSync(page, { recursive: true, force: true });
  if (existsSync(join(root, dashboardPage.from))) {
    cpSync(join(root, dashboardPage.from), page, { recursive: true });
  }
  const result = await build({
    ...bundleOptions,
    entryPoints: { cli: 'service/src/cli/main.ts' },
    outdir: outDir,
    // The oldest Node the package supports (package.json's engines).
    target: 'node22',
  });
  return result.metafile;
}

const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The numbers of one source-map segment (base64 VLQ). */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = base64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeValue(n: number): string {
  let vlq = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out += base64[digit];
  } while (vlq > 0);
  return out;
}

/**
 * Keeps the mappings of the project's own files and drops those of its dependencies: Node
 * (--enable-source-maps) parses and keeps the map of every module it loads, and the
 * dependencies' mappings cost the process about 25 MB (docs/benchmarks.md, Process). Stack
 * frames in the service's code still name its .ts files and lines; a frame inside a dependency
 * names the chunk and the function (names are not minified).
 */
export function ownSourcesOnly(mapFile: string): void {
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as {
    sources: string[];
    sourcesContent?: (string | null)[];
    names: string[];
    mappings: string;
  };
  const keep = map.sources.map((source) => !source.includes('node_modules/'));
  const newIndex = new Map<number, number>();
  const sources: string[] = [];
  map.sources.forEach((source, i) => {
    if (keep[i]) {
      newIndex.set(i, sources.length);
      sources.push(source);
    }
  });
  // Absolute values carried from segment to segment (all but the column, which restarts each line).
  const inAbs = [0, 0, 0, 0];
  const outPrev = [0, 0, 0, 0];
  const lines = map.mappings.split(';').map((line) => {
    let inCol = 0;
    let outCol = 0;
    const kept: string[] = [];
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const v = decodeSegment(segment);
      inCol += v[0] ?? 0;
      if (v.length < 4) continue;
      for (let k = 1; k < v.length; k++) inAbs[k - 1] = (inAbs[k - 1] ?? 0) + (v[k] ?? 0);
      const source = newIndex.get(inAbs[0] ?? -1);
      if (source === undefined) continue;
      const abs = [
        source,
        inAbs[1] ?? 0,
        inAbs[2] ?? 0,
        ...(v.length === 5 ? [inAbs[3] ?? 0] : []),
      ];
      let out = encodeValue(inCol - outCol);
      outCol = inCol;
      abs.forEach((value, k) => {
        out += encodeValue(value - (outPrev[k] ?? 0));
        outPrev[k] = value;
      });
      kept.push(out);
    }
    return kept.join(',');
  });
  const { sourcesContent: _, ...rest } = map;
  writeFileSync(mapFile, JSON.stringify({ ...rest, sources, mappings: lines.join(';') }));
}

if (import.meta.main) {
  const which = process.argv.slice(2);
  const unknown = which.filter((name) => name !== 'service' && name !== 'cli');
  if (unknown.length > 0) {
    process.stderr.write(
      `usage: node service/build.ts [service] [cli] (unknown: ${unknown.join(' ')})\n`,
    );
    process.exit(2);
  }
  const all = which.length === 0;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
  if (all || which.includes('service')) {
    const metafile = await buildService();
    const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
    process.stdout.write(
      `dist/main.mjs ${mb(metafile.outputs['dist/main.mjs']?.bytes ?? 0)} MB and ${outputs.length - 1} chunks, ${mb(outputs.reduce((n, [, o]) => n + o.bytes, 0))} MB in all, from ${Object.keys(metafile.inputs).length} modules\n`,
    );
  }
  if (all || which.includes('cli')) {
    const metafile = await buildCli();
    process.stdout.write(
      `dist/${cliFile} ${mb(metafile.outputs[`dist/${cliFile}`]?.bytes ?? 0)} MB from ${Object.keys(metafile.inputs).length} modules\n`,
    );
  }
}
