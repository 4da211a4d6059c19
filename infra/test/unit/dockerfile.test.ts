import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { serviceImageTarget } from '../../lib/container-image.ts';
import { args, parseDockerfile, stage, volumePaths } from './support/dockerfile.ts';
import { importGraph, packageName } from './support/imports.ts';

const root = defaultRepoRoot;
const dockerfile = parseDockerfile(join(root, 'Dockerfile'));
const service = stage(dockerfile, serviceImageTarget);
const build = stage(dockerfile, 'build');
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
    // From the image, or from an earlier stage that is (the build stage adds to deps).
    const names = nodeStages.map((s) => s.name);
    for (const s of nodeStages) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ARG reference, kept literal
      if (s.from !== '${NODE_IMAGE}')
        expect(names.slice(0, names.indexOf(s.name))).toContain(s.from);
    }
    // Development and the image run Node 24 (.nvmrc); the npm package's CLI also runs on 22.
    expect(readFileSync(join(root, '.nvmrc'), 'utf8').trim()).toBe('24');
    const [, low, high] = /^>=(\d+) <(\d+)$/.exec(pkg.engines.node) ?? [];
    expect(Number(low)).toBeLessThanOrEqual(22);
    expect(Number(high)).toBeGreaterThan(24);
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('is multi-stage: production dependencies, then the bundle built from them, then only the bundle', () => {
    const deps = stage(dockerfile, 'deps');
    expect(args(deps, 'RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    // The build stage adds the bundler at the version package-lock.json locks, then bundles.
    expect(build.from).toBe('deps');
    const buildRuns = args(build, 'RUN').join('\n');
    expect(buildRuns).toContain("packages['node_modules/esbuild'].version");
    expect(buildRuns).toMatch(/node service\/build\.ts service$/);
    // The final stage holds the bundle, and neither node_modules nor the sources.
    expect(args(service, 'COPY')).toEqual([
      expect.stringMatching(/^--from=build .*\/app\/dist \.\/dist$/),
    ]);
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

  it('starts the bundle of service/src/main.ts (API and worker in one process), with source maps', () => {
    const cmd = JSON.parse(args(service, 'CMD')[0] ?? '[]') as string[];
    expect(cmd).toEqual(['node', '--enable-source-maps', 'dist/main.mjs']);
    // service/build.ts bundles main.ts into dist/main.mjs (tested by the bundle's integration test).
    expect(readFileSync(join(root, 'service/build.ts'), 'utf8')).toContain(
      "entryPoints: { main: 'service/src/main.ts' }",
    );
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

describe('the image bundles the code the tests run', () => {
  // The build stage starts from deps (package.json and the lockfile, copied there) and adds to it.
  const copied = [...args(stage(dockerfile, 'deps'), 'COPY'), ...args(build, 'COPY')]
    .filter((c) => !c.startsWith('--from'))
    .flatMap((c) =>
      c
        .split(/\s+/)
        .filter((p) => !p.startsWith('--'))
        .slice(0, -1),
    );
  // The Lambda handlers are packaged apart (lambda-bundle.ts), with their sources.
  const graph = importGraph([join(root, 'service/src/main.ts')]);

  it('every file main.ts loads is inside what the build stage copies', () => {
    expect(graph.files.size).toBeGreaterThan(10);
    for (const file of graph.files) {
      const path = relative(root, file);
      expect(
        copied.some((c) => path === c || path.startsWith(`${c}/`)),
        path,
      ).toBe(true);
    }
  });

  it('every package it loads at run time is a production dependency (all the build stage has)', () => {
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
