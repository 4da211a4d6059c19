import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { serviceImageTarget } from '../../lib/container-image.ts';
import { lambdaHandlerModule, wakerHandlerModule } from '../../lib/lambda-bundle.ts';
import { args, parseDockerfile, stage, volumePaths } from './support/dockerfile.ts';
import { importGraph, packageName } from './support/imports.ts';

const root = defaultRepoRoot;
const dockerfile = parseDockerfile(join(root, 'Dockerfile'));
const service = stage(dockerfile, serviceImageTarget);
/** The mode the final stage gives /tmp: sticky, writable by every user (the node user too). */
const tmpVolumeMode = 'install -d -m 1777 /tmp';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};

describe('the Dockerfile', () => {
  it('builds every Node stage from Node 24, the major the tests run on', () => {
    const image = dockerfile.globalArgs.NODE_IMAGE;
    expect(image).toMatch(/^node:24[.-][\w.-]*$/);
    // The emulator stage (compose only) is Python: moto, as local/setup.sh installs it.
    const nodeStages = dockerfile.stages.filter((s) => s.name !== 'moto');
    expect(dockerfile.stages.find((s) => s.name === 'moto')?.from).toMatch(/^python:3\.\d+/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ARG reference, kept literal
    for (const s of nodeStages) expect(s.from).toBe('${NODE_IMAGE}');
    expect(pkg.engines.node).toMatch(/>=24/);
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('is multi-stage: dependencies are installed in their own stage, production only', () => {
    const deps = stage(dockerfile, 'deps');
    expect(args(deps, 'RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    expect(args(service, 'COPY')).toContainEqual(
      expect.stringMatching(/^--from=deps .*\/app\/node_modules \.\/node_modules$/),
    );
    // Nothing is installed in the final stage: its one RUN gives /tmp its mode (below).
    expect(args(service, 'RUN')).toEqual([tmpVolumeMode]);
  });

  it('declares /tmp a volume, sticky and world-writable, for the read-only root on Fargate', () => {
    // Fargate gives the task's bind mount at /tmp the owner and mode of the image's VOLUME of
    // that path (root 0755 without one): the node user could not write a temporary file.
    const keywords = service.instructions.map((i) => `${i.keyword} ${i.args}`);
    const volume = keywords.indexOf('VOLUME ["/tmp"]');
    expect(volume, 'VOLUME ["/tmp"]').toBeGreaterThan(-1);
    // A change to a volume path after its VOLUME line is discarded: the mode comes first.
    expect(keywords.indexOf(`RUN ${tmpVolumeMode}`)).toBeLessThan(volume);
    // The task definition mounts its volume at the same path (resources.test.ts).
    expect(volumePaths(service)).toEqual(['/tmp']);
  });

  it('runs as the unprivileged node user', () => {
    const users = args(service, 'USER');
    expect(users).toEqual(['node']);
    const keywords = service.instructions.map((i) => i.keyword);
    expect(keywords.indexOf('USER')).toBeLessThan(keywords.indexOf('CMD'));
  });

  it('health-checks /healthz with Node’s fetch on the configurable port', () => {
    const [healthcheck] = args(service, 'HEALTHCHECK');
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('process.env.PORT');
    expect(healthcheck).not.toMatch(/curl|wget/);
    expect(args(service, 'ENV').join(' ')).toMatch(/PORT=8080/);
  });

  it('starts service/src/main.ts (API and worker in one process), which exists', () => {
    const cmd = JSON.parse(args(service, 'CMD')[0] ?? '[]') as string[];
    expect(cmd).toEqual(['node', 'service/src/main.ts']);
    expect(existsSync(join(root, 'service/src/main.ts'))).toBe(true);
  });

  it('copies paths that exist', () => {
    for (const s of dockerfile.stages) {
      for (const copy of args(s, 'COPY').filter((c) => !c.startsWith('--from'))) {
        const sources = copy
          .split(/\s+/)
          .filter((p) => !p.startsWith('--'))
          .slice(0, -1);
        for (const source of sources)
          expect(existsSync(join(root, source)), `${s.name}: ${source}`).toBe(true);
      }
    }
  });
});

describe('the image holds the artefact the tests run', () => {
  const copied = args(service, 'COPY')
    .filter((c) => !c.startsWith('--from'))
    .flatMap((c) =>
      c
        .split(/\s+/)
        .filter((p) => !p.startsWith('--'))
        .slice(0, -1),
    );
  const graph = importGraph([
    join(root, 'service/src/main.ts'),
    join(root, lambdaHandlerModule),
    join(root, wakerHandlerModule),
  ]);

  it('every file main.ts and lambda.ts load is inside what the image copies', () => {
    expect(graph.files.size).toBeGreaterThan(10);
    for (const file of graph.files) {
      const path = relative(root, file);
      expect(
        copied.some((c) => path === c || path.startsWith(`${c}/`)),
        path,
      ).toBe(true);
    }
  });

  it('every package they load at run time is a production dependency', () => {
    for (const specifier of graph.packages) {
      expect(pkg.dependencies[packageName(specifier)], specifier).toBeDefined();
    }
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, local state, git and CDK output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const path of ['**/node_modules', '.venv', '.state', '.git', '**/cdk.out']) {
      expect(ignored).toContain(path);
    }
  });
});
