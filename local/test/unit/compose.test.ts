import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { args, parseDockerfile, stage } from '../../../infra/test/unit/support/dockerfile.ts';
import { importGraph } from '../../../infra/test/unit/support/imports.ts';
import { repoRoot } from '../../paths.ts';
import { emulatorClientEnvironment, localServiceEnvironment } from '../../stack-env.ts';

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  ports?: string[];
  healthcheck?: { test: string[] };
  read_only?: boolean;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** The compose-spec JSON schema, as shipped by the dclint package (MIT; the schema is compose-spec's). */
function composeSchema(): Record<string, unknown> {
  const dclint = dirname(createRequire(import.meta.url).resolve('dclint/package.json'));
  const schema = JSON.parse(readFileSync(join(dclint, 'schemas/compose.schema.json'), 'utf8'));
  // Draft-07 is Ajv's default; its "$schema" URL spelling is one Ajv does not know by that name.
  delete schema.$schema;
  return schema;
}

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec schema', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(composeSchema());
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('fails the schema check for a mistake compose would refuse (so the check is not vacuous)', () => {
    const validate = new Ajv({ strict: false }).compile(composeSchema());
    const broken = structuredClone(compose) as {
      services: Record<string, Record<string, unknown>>;
    };
    (broken.services.service as Record<string, unknown>).depends_on = {
      seed: { condition: 'finished' },
    };
    expect(validate(broken)).toBe(false);
    expect(validate({ ...compose, servics: {} })).toBe(false);
  });

  it('runs the emulator, the seeding step, the Run Command stand-in and the service', () => {
    expect(Object.keys(services).sort()).toEqual(['moto', 'run-command', 'seed', 'service']);
    // The emulator as the tests run it (pinned moto + the ACM patch), not the stock image.
    expect(services.moto?.build).toEqual({ context: '.', target: 'moto' });
    expect(services.moto?.environment).toEqual({ MOTO_ACM_VALIDATION_WAIT: '0' });
  });

  it('gives the service exactly the environment local/stack-env.ts builds for these hosts', () => {
    const env = localServiceEnvironment({
      moto: 'http://moto:5000',
      // The stand-in listens on the compose network (--host 0.0.0.0), like an SSM endpoint.
      runCommand: 'http://run-command:5001',
      port: 8080,
    });
    expect(services.service?.environment).toEqual(env);
    // A network namespace of its own, as an ECS task has (a shared one also made podman refuse
    // `docker compose down`: the stand-in's container had a dependent).
    expect(services.service?.network_mode).toBeUndefined();
    expect(services['run-command']?.command).toEqual(
      expect.arrayContaining(['--host', '0.0.0.0', '--port', '5001']),
    );
    expect(services.seed?.environment).toEqual(emulatorClientEnvironment('http://moto:5000'));
    // Plus the API's address, for the demo CLI run in that container (README.md).
    expect(services['run-command']?.environment).toEqual({
      ...emulatorClientEnvironment('http://moto:5000'),
      ACM_CERT_EXPORT_URL: 'http://service:8080',
    });
  });

  it('runs the service as the ECS task does: read-only root filesystem, 30 s to stop', () => {
    expect(services.service?.read_only).toBe(true);
    expect(services.service?.stop_grace_period).toBe('30s');
  });

  it('publishes only the API, on loopback: the host never calls moto or the stand-in', () => {
    const published = Object.entries(services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published).toEqual(['service 127.0.0.1:8080:8080']);
  });

  it('has no healthcheck argument with whitespace (podman splits them: containers/podman#26519)', () => {
    const tests = Object.values(services).flatMap((service) => service.healthcheck?.test ?? []);
    expect(tests.length).toBeGreaterThan(0);
    expect(tests.filter((arg) => /\s/.test(arg))).toEqual([]);
  });

  it('starts the service only after the seeding step succeeded', () => {
    expect(services.service?.depends_on?.seed).toEqual({
      condition: 'service_completed_successfully',
    });
    expect(services.seed?.depends_on?.moto).toEqual({ condition: 'service_healthy' });
    expect(services['run-command']?.depends_on?.moto).toEqual({ condition: 'service_healthy' });
  });

  it('builds only targets the Dockerfile has, the service from the image ECS runs', () => {
    const dockerfile = parseDockerfile(join(repoRoot, 'Dockerfile'));
    const targets = dockerfile.stages.map((s) => s.name);
    for (const [name, service] of Object.entries(services)) {
      if (service.build === undefined) continue;
      expect(service.build.context, name).toBe('.');
      expect(targets, name).toContain(service.build.target);
    }
    expect(services.service?.build?.target).toBe('service');
  });

  it('gives the stand-in image an executable entrypoint that is copied into it', () => {
    const standin = stage(parseDockerfile(join(repoRoot, 'Dockerfile')), 'standin');
    const [entrypoint] = args(standin, 'ENTRYPOINT').map((a) => JSON.parse(a) as string[]);
    const file = relative('/app', entrypoint?.[0] ?? '');
    expect(file).toBe('local/containers/as-state-owner.sh');
    expect(statSync(join(repoRoot, file)).mode & 0o111).toBe(0o111);
    expect(args(standin, 'COPY')).toContain('local ./local');
  });

  it('runs `node <file>` commands whose files, and everything they import, are in their image', () => {
    const dockerfile = parseDockerfile(join(repoRoot, 'Dockerfile'));
    for (const [name, service] of Object.entries(services)) {
      const command = service.command ?? [];
      if (command[0] !== 'node') continue;
      const entry = join(repoRoot, command[1] ?? '');
      expect(existsSync(entry), `${name}: ${command[1]}`).toBe(true);
      const copied = args(stage(dockerfile, service.build?.target ?? ''), 'COPY')
        .filter((c) => !c.startsWith('--from'))
        .flatMap((c) =>
          c
            .split(/\s+/)
            .filter((p) => !p.startsWith('--'))
            .slice(0, -1),
        );
      for (const file of importGraph([entry]).files) {
        const path = relative(repoRoot, file);
        expect(
          copied.some((c) => path === c || path.startsWith(c.endsWith('/') ? c : `${c}/`)),
          `${name}: ${path} is not copied into the ${service.build?.target} image`,
        ).toBe(true);
      }
    }
  });
});

describe('docker-compose.nginx.yml (the demo lands in a real nginx)', () => {
  const override = parse(readFileSync(join(repoRoot, 'docker-compose.nginx.yml'), 'utf8')) as {
    services: Record<string, ComposeService & { container_name?: string; volumes?: string[] }>;
  };
  const web = override.services.web;

  it('is valid against the compose-spec schema', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(composeSchema());
    expect(validate(override), JSON.stringify(validate.errors)).toBe(true);
  });

  it('adds a web server the seeding step tags as a demo server and the stand-in reaches through the engine', () => {
    expect(Object.keys(override.services).sort()).toEqual(['run-command', 'seed', 'web']);
    expect(web?.container_name).toBeDefined();
    // The base file's commands, each with only its one addition: they cannot drift apart.
    expect(override.services.seed?.command).toEqual([
      ...(services.seed?.command ?? []),
      '--server-containers',
      web?.container_name,
    ]);
    expect(override.services['run-command']?.command).toEqual([
      ...(services['run-command']?.command ?? []),
      '--container-engine',
      'unix:///var/run/docker.sock',
    ]);
    expect(override.services['run-command']?.volumes).toEqual(
      expect.arrayContaining([`\${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock`]),
    );
    // nginx on loopback only, with the script that sets it up mounted from the checkout.
    expect(web?.ports).toEqual(['127.0.0.1:8443:8443']);
    const [mount] = web?.volumes ?? [];
    expect(existsSync(join(repoRoot, (mount ?? '').split(':')[0] ?? ''))).toBe(true);
    expect(web?.command?.[1]).toBe((mount ?? '').split(':')[1]);
  });
});
