import { createPrivateKey, X509Certificate } from 'node:crypto';
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
  });

  it('requests a public certificate with Export ENABLED', async () => {
    const arn = await anExportableCertificate(acm);
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    expect(Certificate?.Options?.Export).toBe('ENABLED');
    expect(Certificate?.Type).toBe('AMAZON_ISSUED');
  });
});
