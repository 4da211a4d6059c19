import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { assembleLambdaPackage, productionPackagePaths } from '../../lib/lambda-bundle.ts';

describe('the Lambda package', () => {
  it('takes the production dependencies of package-lock.json and none of the dev ones', () => {
    const paths = productionPackagePaths(defaultRepoRoot);
    for (const needed of ['fastify', '@fastify/aws-lambda', '@aws-sdk/client-sqs', 'pino']) {
      expect(paths).toContain(`node_modules/${needed}`);
    }
    for (const dev of [
      'aws-cdk-lib',
      'aws-cdk',
      'vitest',
      'typescript',
      'cdk-nag',
      '@biomejs/biome',
    ]) {
      expect(paths).not.toContain(`node_modules/${dev}`);
    }
  });

  it('holds package.json, service/src, the dependencies and an ESM entry re-exporting the handler', () => {
    const repo = mkdtempSync(join(tmpdir(), 'lambda-repo-'));
    const out = mkdtempSync(join(tmpdir(), 'lambda-out-'));
    writeFileSync(join(repo, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(repo, 'package-lock.json'),
      JSON.stringify({
        packages: {
          '': {},
          'node_modules/kept': {},
          'node_modules/kept/node_modules/nested': {},
          'node_modules/devonly': { dev: true },
        },
      }),
    );
    for (const dir of [
      'service/src',
      'service/test',
      'node_modules/kept/node_modules/nested',
      'node_modules/devonly',
    ]) {
      mkdirSync(join(repo, dir), { recursive: true });
      writeFileSync(join(repo, dir, 'file.ts'), `// ${dir}\n`);
    }
    const copied = assembleLambdaPackage(repo, out);
    expect(copied).toEqual(['package.json', 'service/src', 'node_modules/kept']);
    expect(
      readFileSync(join(out, 'node_modules/kept/node_modules/nested/file.ts'), 'utf8'),
    ).toContain('nested');
    expect(() => readFileSync(join(out, 'node_modules/devonly/file.ts'))).toThrow();
    expect(() => readFileSync(join(out, 'service/test/file.ts'))).toThrow();
    expect(readFileSync(join(out, 'index.mjs'), 'utf8')).toContain(
      "export { handler } from './service/src/lambda.ts';",
    );
    expect(readFileSync(join(out, 'waker.mjs'), 'utf8')).toContain(
      "export { handler } from './service/src/waker/lambda.ts';",
    );
  });

  it("has entries whose handlers exist in the repository's own package", async () => {
    const out = mkdtempSync(join(tmpdir(), 'lambda-real-'));
    // Only the entries and the modules they load: the real dependencies resolve from the repo.
    assembleLambdaPackage(defaultRepoRoot, out);
    for (const entry of ['index.mjs', 'waker.mjs']) {
      const module = (await import(join(out, entry))) as { handler?: unknown };
      expect(typeof module.handler, entry).toBe('function');
    }
  });
});
