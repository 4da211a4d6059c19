import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { baseContext } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** Runs infra/bin/app.ts with plain Node, as `cdk synth` would (context and outdir by env). */
function runApp(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const result = spawnSync(process.execPath, [join(defaultRepoRoot, 'infra/bin/app.ts')], {
    cwd: defaultRepoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return { ...result, outdir };
}

describe('synth without the CDK CLI (node infra/bin/app.ts)', () => {
  it('runs offline and writes the template', () => {
    const run = runApp(baseContext);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const template = JSON.parse(
      readFileSync(join(run.outdir, 'AcmCertExport.template.json'), 'utf8'),
    );
    expect(template.Resources).toBeDefined();
  });

  it('reads infra/cdk.json and -c key=value arguments when run without the CLI', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    const context = Object.entries(baseContext)
      .filter(([key]) => !key.startsWith('aws:'))
      .flatMap(([key, value]) => ['-c', `${key}=${String(value)}`]);
    const result = spawnSync(
      process.execPath,
      [join(defaultRepoRoot, 'infra/bin/app.ts'), ...context, '-c', 'queueName=from-argv'],
      {
        cwd: defaultRepoRoot,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          CDK_OUTDIR: outdir,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    expect(result.stderr).toContain('synthesized to');
    expect(result.status).toBe(0);
    const template = readFileSync(
      join(defaultRepoRoot, 'infra/cdk.out/AcmCertExport.template.json'),
      'utf8',
    );
    expect(template).toContain('"QueueName": "from-argv"');
  });

  it('exits 2 asking for the zones when neither the setting nor a cached lookup gives them', () => {
    const context = Object.entries({ ...baseContext, availabilityZones: '' })
      .filter(([key]) => !key.startsWith('aws:'))
      .flatMap(([key, value]) => ['-c', `${key}=${String(value)}`]);
    const result = spawnSync(
      process.execPath,
      [join(defaultRepoRoot, 'infra/bin/app.ts'), ...context],
      {
        cwd: defaultRepoRoot,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('the availability zones are not known');
    expect(result.stderr).toContain('-c availabilityZones=');
  });

  it('exits 2 naming the missing context key', () => {
    const { albCertificateArn: _, ...withoutCertificate } = baseContext;
    const run = runApp(withoutCertificate);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('albCertificateArn is required');
  });
});
