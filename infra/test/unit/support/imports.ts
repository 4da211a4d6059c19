import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface ImportGraph {
  /** Every local file reached, absolute. */
  readonly files: Set<string>;
  /** Bare specifiers of runtime (value) imports, e.g. `fastify`, `@aws-sdk/client-sqs/x`. */
  readonly packages: Set<string>;
}

// Value imports only: `import type`/`export type` vanish when Node strips the types.
const staticImport = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const dynamicImport = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Follows the runtime imports from the entry files, as Node would load them. */
export function importGraph(entries: readonly string[]): ImportGraph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const pattern of [staticImport, dynamicImport]) {
      for (const match of source.matchAll(pattern)) {
        const specifier = match[1] as string;
        if (specifier.startsWith('node:')) continue;
        if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
        else packages.add(specifier);
      }
    }
  }
  return { files, packages };
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}
