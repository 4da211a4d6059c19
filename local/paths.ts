import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The project-local Python virtual environment made by local/setup.sh. */
export const venvDir = join(repoRoot, '.venv');

/** Path of an executable inside the project's virtual environment. */
export function venvBin(name: string): string {
  const path = join(venvDir, 'bin', name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run "bash local/setup.sh" first to create .venv`);
  }
  return path;
}

/** Where local runs keep their state (stand-in server roots, logs). */
export const stateDir = join(repoRoot, '.state');
