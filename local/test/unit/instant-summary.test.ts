import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instantSummary } from '../../run-command/instant-summary.ts';

const pem = readFileSync(
  new URL('../../../service/test/support/fixtures/cert-a.pem', import.meta.url),
  'utf8',
);
const sent = { Certificate: [Buffer.from(pem).toString('base64')], CertName: ['web'] };

describe('an instant stand-in server', () => {
  it('reports the certificate it was sent as installed, as the script would', () => {
    const summary = JSON.parse(instantSummary(sent));
    const cert = new X509Certificate(pem);
    expect(summary).toMatchObject({
      outcome: 'installed',
      serial: cert.serialNumber.toUpperCase(),
      notAfter: new Date(cert.validTo).toISOString(),
    });
    expect(summary.problems).toBeUndefined();
  });

  it('reports verified for Mode=Verify, and nulls for a certificate it cannot read', () => {
    expect(JSON.parse(instantSummary({ ...sent, Mode: ['Verify'] }))).toMatchObject({
      outcome: 'verified',
      problems: [],
    });
    expect(JSON.parse(instantSummary({ Certificate: ['bm90IGEgY2VydA=='] }))).toMatchObject({
      outcome: 'installed',
      serial: null,
    });
  });
});
