/**
 * The Lambda deployment package of the API, assembled without network or Docker: the same
 * service/src files the container runs, the production dependencies exactly as package-lock.json
 * installed them, package.json (for "type": "module") and a one-line ESM entry that re-exports
 * the handler. Node 24 strips the types of the .ts files at load time, as in the container.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

import { lambdaHandlerModule, wakerHandlerModule } from './lambda-handlers.ts';

export {
  lambdaHandler,
  lambdaHandlerModule,
  wakerHandler,
  wakerHandlerModule,
} from './lambda-handlers.ts';

interface LockPackage {
  readonly dev?: boolean;
}

/** `node_modules/...` paths package-lock.json installs for production (not dev-only). */
export function productionPackagePaths(repoRoot: string): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  return (
    Object.entries(lock.packages)
      .filter(([path, info]) => path.startsWith('node_modules/') && info.dev !== true)
      .map(([path]) => path)
      // A nested path is copied with its parent; keep only the top-level ones.
      .filter((path) => !path.slice('node_modules/'.length).includes('/node_modules/'))
      .sort()
  );
}

/** Copies the package into `outputDir`; returns the files and folders it copied. */
export function assembleLambdaPackage(repoRoot: string, outputDir: string): string[] {
  const copied = ['package.json', 'service/src', ...productionPackagePaths(repoRoot)];
  for (const path of copied) {
    const from = join(repoRoot, path);
    if (!existsSync(from)) throw new Error(`${path} is missing: run npm ci first`);
    cpSync(from, join(outputDir, path), { recursive: true, dereference: true });
  }
  // Lambda's Node runtime loads .js/.mjs handlers only; each entry re-exports a TypeScript one.
  for (const [entry, module] of [
    ['index.mjs', lambdaHandlerModule],
    ['waker.mjs', wakerHandlerModule],
  ] as const) {
    writeFileSync(
      join(outputDir, entry),
      `// Lambda's Node runtime loads .js/.mjs handlers only; this re-exports the TypeScript one.\nexport { handler } from './${module}';\n`,
    );
  }
  return copied;
}

class LocalPackageBundling implements ILocalBundling {
  readonly #repoRoot: string;

  constructor(repoRoot: string) {
    this.#repoRoot = repoRoot;
  }

  tryBundle(outputDir: string): boolean {
    assembleLambdaPackage(this.#repoRoot, outputDir);
    return true;
  }
}

/** The Lambda code of the API and the waker (one package, two entries). Bundling is local (file copies); the image is never pulled. */
export function serviceLambdaCode(repoRoot: string): lambda.Code {
  return lambda.Code.fromAsset(repoRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new LocalPackageBundling(repoRoot),
      // Required by the API; local bundling always succeeds first, so Docker is never used.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim'),
    },
  });
}
