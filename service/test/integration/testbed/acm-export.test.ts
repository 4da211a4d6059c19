import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeCertificateCommand, ExportCertificateCommand } from '@aws-sdk/client-acm';
import { describe, expect, it } from 'vitest';
import { testClients } from '../../support/aws.ts';
import {
  anExportableCertificate,
  aPrivateCertificate,
} from '../../support/builders/certificates.ts';

const { acm } = testClients();

describe('ACM export on the emulator', () => {
  it.each([
    ['an exportable public certificate', anExportableCertificate],
    ['a private-CA certificate', aPrivateCertificate],
  ])('round-trips %s: the key decrypts with the passphrase and matches', async (_, build) => {
    const arn = await build(acm);
    const { Certificate: described } = await acm.send(
      new DescribeCertificateCommand({ CertificateArn: arn }),
    );
    expect(described?.Status).toBe('ISSUED');

    const passphrase = 'correct horse battery staple';
    const out = await acm.send(
      new ExportCertificateCommand({
        CertificateArn: arn,
        Passphrase: new TextEncoder().encode(passphrase),
      }),
    );
    expect(out.PrivateKey).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    const cert = new X509Certificate(out.Certificate ?? '');
    const key = createPrivateKey({ key: out.PrivateKey ?? '', format: 'pem', passphrase });
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(() =>
      createPrivateKey({ key: out.PrivateKey ?? '', format: 'pem', passphrase: 'wrong' }),
    ).toThrow();
    expect(cert.serialNumber.length).toBeGreaterThan(0);

    // Like ACM, the emulator (patched by local/moto/acm_local_ca.py) returns a chain that
    // verifies the certificate, so the install script's chain check can pass locally.
    const dir = mkdtempSync(join(tmpdir(), 'chain-'));
    try {
      writeFileSync(join(dir, 'cert.pem'), out.Certificate ?? '');
      writeFileSync(join(dir, 'chain.pem'), out.CertificateChain ?? '');
      const verified = execFileSync(
        'openssl',
        [
          'verify',
          '-no-CApath',
          '-partial_chain',
          '-CAfile',
          join(dir, 'chain.pem'),
          join(dir, 'cert.pem'),
        ],
        { encoding: 'utf8' },
      );
      expect(verified).toMatch(/: OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requests a public certificate with Export ENABLED', async () => {
    const arn = await anExportableCertificate(acm);
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    expect(Certificate?.Options?.Export).toBe('ENABLED');
    expect(Certificate?.Type).toBe('AMAZON_ISSUED');
  });
});
