import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownSourcesOnly } from '../../../build.ts';

// A bundle of one own file and one dependency, as service/build.ts makes them: its map keeps
// the own file's mappings, exactly, and none of the dependency's.
let dir: string;
let code: string;
let before: SourceMap;
let after: SourceMap;
let afterPayload: SourceMapPayload;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'own-sources-'));
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', 'dep', 'index.js'),
    'export function depWork(x) {\n  const y = x * 2;\n  return y + 1;\n}\n',
  );
  writeFileSync(
    join(dir, 'own.ts'),
    "import { depWork } from 'dep';\n\nexport function ownWork(n: number): number {\n  const doubled = depWork(n);\n  return doubled - 3;\n}\nconsole.log(ownWork(2));\n",
  );
  await build({
    absWorkingDir: dir,
    entryPoints: ['own.ts'],
    outfile: join(dir, 'out.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    sourcemap: true,
  });
  code = readFileSync(join(dir, 'out.mjs'), 'utf8');
  const mapFile = join(dir, 'out.mjs.map');
  before = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload);
  ownSourcesOnly(mapFile);
  afterPayload = JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload;
  after = new SourceMap(afterPayload);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Line and column (0-based) of the first occurrence of `text` in the bundle. */
function at(text: string): [number, number] {
  const lines = code.split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  if (line < 0) throw new Error(`${text} is not in the bundle`);
  return [line, lines[line]?.indexOf(text) ?? 0];
}

describe('ownSourcesOnly', () => {
  it('lists the own sources only, without their contents', () => {
    expect(afterPayload.sources).toEqual(['own.ts']);
    expect(afterPayload).not.toHaveProperty('sourcesContent');
  });

  it('maps every position in the own code as before', () => {
    for (const text of ['doubled - 3', 'depWork(n)', 'ownWork(2)', 'function ownWork']) {
      const [line, column] = at(text);
      const was = before.findEntry(line, column);
      expect(was).toMatchObject({ originalSource: expect.stringContaining('own.ts') });
      expect(after.findEntry(line, column)).toMatchObject({
        originalLine: (was as { originalLine: number }).originalLine,
        originalColumn: (was as { originalColumn: number }).originalColumn,
        originalSource: expect.stringContaining('own.ts'),
      });
    }
  });

  it('maps no position in the dependency’s code to a source', () => {
    const [line, column] = at('x * 2');
    expect(before.findEntry(line, column)).toMatchObject({
      originalSource: expect.stringContaining('node_modules/dep/index.js'),
    });
    const entry = after.findEntry(line, column) as { originalSource?: string };
    expect(entry.originalSource ?? '').not.toContain('node_modules');
  });
});
