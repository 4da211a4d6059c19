import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ExportCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anExportableCertificate } from '../../../service/test/support/builders/certificates.ts';
import { aScriptFixture, filesUnder, type ScriptFixture } from '../support/fixture.ts';
import {
  exportSecretText,
  installParameters,
  runInstallScript,
  scriptEnvironment,
} from '../support/install-script.ts';
import type { TestLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
let exported: TestLeaf;
beforeAll(async () => {
  fx = await aScriptFixture();
  const { acm } = testClients();
  const arn = await anExportableCertificate(acm);
  const out = await acm.send(
    new ExportCertificateCommand({
      CertificateArn: arn,
      Passphrase: new TextEncoder().encode(fx.passphrase),
    }),
  );
  exported = {
    certificate: out.Certificate ?? '',
    chain: out.CertificateChain ?? '',
    encryptedKey: out.PrivateKey ?? '',
    plainKey: '',
  };
});
afterAll(async () => {
  await fx.cleanup();
});

// The emulator's ACM export is real PKCS#8 PBES2, its key matches the certificate, and (with
// local/moto/acm_local_ca.py) its chain verifies the certificate, as ACM's does: the script
// installs it. Chain failures are tested with CAs made in the tests.
describe("the emulator's ACM export", () => {
  it('has a key that decrypts with the passphrase and matches (checked here with node)', () => {
    const key = createPrivateKey({ key: exported.encryptedKey, passphrase: fx.passphrase });
    expect(new X509Certificate(exported.certificate).checkPrivateKey(key)).toBe(true);
  });

  it('is installed by the script: decrypted key, fullchain and chain files (exit 0)', async () => {
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(exported, await fx.secretFor(exported))),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary.outcome).toBe('installed');
    expect(run.summary.serial).toBe(
      new X509Certificate(exported.certificate).serialNumber.toUpperCase(),
    );
    expect((await filesUnder(root)).length).toBe(3);
  });

  it('is refused with the decryption message when the passphrase is wrong', async () => {
    const root = await fx.newRoot();
    const wrong = await fx.secretFor(
      exported,
      exportSecretText(exported, 'not the export passphrase'),
    );
    const run = await runInstallScript(scriptEnvironment(root, installParameters(exported, wrong)));
    expect(run.code).toBe(12);
    expect(run.summary.message).toMatch(/cannot be decrypted/);
  });
});
