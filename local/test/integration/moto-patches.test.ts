import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeLoopbackPort, startMoto } from '../../moto/moto-server.ts';
import { repoRoot, venvBin } from '../../paths.ts';

const motoDir = join(repoRoot, 'local/moto');

/** Runs Python in the .venv with local/moto importable; stdout and stderr are returned. */
function python(code: string) {
  const run = spawnSync(
    venvBin('python'),
    ['-c', `import sys\nsys.path.insert(0, ${JSON.stringify(motoDir)})\n${code}`],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the moto patches in local/moto', () => {
  // Each patch stops the start when moto lacks what it relies on, naming it: a moto upgrade
  // cannot drop a patch silently.
  it.each([
    {
      patch: 'acm_local_ca',
      when: 'CertBundle.generate_cert is gone',
      breakMoto: 'from moto.acm import models\ndel models.CertBundle.generate_cert',
      named: 'generate_cert',
    },
    {
      patch: 'acm_renewal',
      when: 'export_certificate is gone',
      breakMoto:
        'from moto.acm import models\ndel models.AWSCertificateManagerBackend.export_certificate',
      named: 'export_certificate',
    },
    {
      patch: 'acm_renewal',
      when: 'moto has its own renew_certificate',
      breakMoto:
        'from moto.acm import models\nmodels.AWSCertificateManagerBackend.renew_certificate = lambda self, arn: None',
      named: 'renew_certificate exists now',
    },
    {
      patch: 'acm_events',
      when: 'EventsBackend.put_events is gone',
      breakMoto: 'from moto.events import models\ndel models.EventsBackend.put_events',
      named: 'put_events',
    },
    {
      patch: 'events_envelope',
      when: 'the default input template changed',
      breakMoto:
        'from moto.events.utils import EventTemplateParser as P\nP.DEFAULT_EVENT_INPUT_TEMPLATE = "{}"',
      named: 'input template changed',
    },
    {
      patch: 'secretsmanager_deletion',
      when: 'put_secret_value is gone',
      breakMoto:
        'from moto.secretsmanager import models\ndel models.SecretsManagerBackend.put_secret_value',
      named: 'put_secret_value',
    },
    {
      patch: 'dynamodb_atomic',
      when: 'update_item is gone',
      breakMoto: 'from moto.dynamodb import models\ndel models.DynamoDBBackend.update_item',
      named: 'update_item',
    },
  ])('$patch refuses to load when $when', ({ patch, breakMoto, named }) => {
    const run = python(`${breakMoto}\nimport ${patch}`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('PatchTargetMissing');
    expect(run.stderr).toContain(named);
  });

  it('apply once however often they are imported', () => {
    const run = python(`
import importlib, launch
from moto.acm import models as acm
from moto.secretsmanager import models as sm
modules = [importlib.import_module(p) for p in launch.PATCHES]
for m in modules:
    importlib.reload(m)
def layers(f):
    n = 0
    while hasattr(f, "__wrapped__"):
        f, n = f.__wrapped__, n + 1
    return n
print(layers(sm.SecretsManagerBackend.get_secret_value), layers(acm.CertBundle.describe),
      layers(acm.CertBundle.generate_cert.__func__), layers(acm.AWSCertificateManagerBackend.export_certificate))
`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('1 1 1 1');
  });

  it('are all copied into the emulator image', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const modules = readdirSync(motoDir).filter((f) => f.endsWith('.py'));
    expect(modules).toContain('launch.py');
    for (const module of modules) expect(dockerfile).toContain(`local/moto/${module}`);
  });

  it('show in the error when moto cannot start', async () => {
    // A port taken by someone else: moto exits at once, and says why.
    const port = await freeLoopbackPort();
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      await expect(startMoto({ port, startTimeoutMs: 30_000 })).rejects.toThrow(
        /moto exited early[\s\S]*(in use|Address already)/i,
      );
    } finally {
      blocker.close();
    }
  });
});
