import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerImage } from '../../../../infra/lib/container-image.ts';
import { openApiDocument } from '../../../src/api/openapi.ts';
import { version } from '../../../src/version.ts';

/**
 * One version number: package.json's `version` is the package's (what `npm pack` names the
 * tarball and `acm-cert-export --version` prints), the OpenAPI document's info.version (served
 * at /openapi.json and committed as docs/openapi.json) and the service image's
 * org.opencontainers.image.version label, which the Dockerfile takes from the VERSION build
 * argument that each builder of the image passes. CHANGELOG.md's newest entry is that version.
 */

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string };
const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('the one version number', () => {
  it('is package.json’s, a semantic version, and service/src/version.ts gives it', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(version).toBe(pkg.version);
  });

  it('is the OpenAPI document’s info.version, as served and as committed in docs/', async () => {
    const served = (await openApiDocument()) as { info: { version: string } };
    expect(served.info.version).toBe(pkg.version);
    const committed = JSON.parse(read('docs/openapi.json')) as { info: { version: string } };
    expect(committed.info.version, 'run npm run openapi').toBe(pkg.version);
  });

  it('labels the service image from the VERSION build argument', () => {
    // The service stage: from its FROM line to the next FROM.
    const dockerfile = read('Dockerfile');
    const service = dockerfile.slice(dockerfile.indexOf('AS service\n'));
    const stage = service.slice(0, service.indexOf('\nFROM ') + 1 || undefined);
    expect(stage).toMatch(/^ARG VERSION$/m);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ARG reference, kept literal
    expect(stage).toContain('org.opencontainers.image.version="${VERSION}"');
  });

  it('is the VERSION docker compose builds the service image with', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { build?: { target?: string; args?: Record<string, string> } }>;
    };
    const service = compose.services.service?.build;
    expect(service?.target).toBe('service');
    expect(service?.args?.VERSION, 'docker-compose.yml, services.service.build.args').toBe(
      pkg.version,
    );
  });

  it('is the VERSION the stack’s image asset is built with', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'acm-cert-export-version-'));
    outdirs.push(outdir);
    // Unstaged: the asset points at the repository instead of a copy of it (the copy is slow).
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    const stack = new Stack(app, 'VersionTest', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    task.addContainer('service', { image: containerImage(stack, { kind: 'asset' }, root) });
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'VersionTest.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: Record<string, unknown> }>;
    };
    const images = Object.values(manifest.dockerImages).map((i) => i.source);
    expect(images).toEqual([
      expect.objectContaining({
        dockerBuildTarget: 'service',
        dockerBuildArgs: { VERSION: pkg.version },
      }),
    ]);
    // CDK fingerprints the repository for the asset's hash: seconds on a busy machine.
  }, 60_000);

  it('names the tarball in the README’s install command', () => {
    const install = /^npm install -g \.\/acm-cert-export-(\S+)\.tgz/m.exec(read('README.md'))?.[1];
    expect(install).toBe(pkg.version);
  });

  it('is CHANGELOG.md’s newest entry', () => {
    const newest = /^## \[(\d[^\]]*)\]/m.exec(read('CHANGELOG.md'))?.[1];
    expect(newest).toBe(pkg.version);
  });
});
