/**
 * Writes docs/openapi.json from the app (`npm run openapi`), formatted by Biome like every other
 * file; a unit test checks that it describes the app as it is.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openApiJson } from './openapi.ts';

const target = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));
const biome = fileURLToPath(
  new URL('../../../node_modules/@biomejs/biome/bin/biome', import.meta.url),
);
await writeFile(target, await openApiJson());
execFileSync(process.execPath, [biome, 'format', '--write', target], { stdio: 'ignore' });
console.error(`wrote ${target}`);
