import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CertificateDetail,
  DescribeCertificateCommand,
  ExportCertificateCommand,
  ImportCertificateCommand,
  RenewCertificateCommand,
} from '@aws-sdk/client-acm';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../../../../local/provision.ts';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { testClients } from '../../support/aws.ts';
import {
  anExportableCertificate,
  aPrivateCertificate,
} from '../../support/builders/certificates.ts';

const c = testClients();
const { acm } = c;
const dayMs = 86_400_000;

async function describeCert(arn: string): Promise<CertificateDetail> {
  const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
  if (Certificate === undefined) throw new Error(`no description of ${arn}`);
  return Certificate;
}

async function exportCert(arn: string, passphrase: string) {
  const out = await acm.send(
    new ExportCertificateCommand({
      CertificateArn: arn,
      Passphrase: new TextEncoder().encode(passphrase),
    }),
  );
  const encryptedKey = out.PrivateKey ?? '';
  const key: KeyObject = createPrivateKey({ key: encryptedKey, format: 'pem', passphrase });
  return {
    cert: new X509Certificate(out.Certificate ?? ''),
    key,
    encryptedKey,
    chain: out.CertificateChain ?? '',
  };
}

function spki(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** DescribeCertificate's Serial (decimal in moto, colon-separated hex in AWS) as a number. */
function serialOf(described: string | undefined): bigint {
  const serial = described ?? '';
  return serial.includes(':') ? BigInt(`0x${serial.replaceAll(':', '')}`) : BigInt(serial);
}

function pemCount(pem: string): number {
  return pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

/** `openssl verify` of the certificate against the chain ACM returned with it. */
function verifiesWithChain(cert: X509Certificate, chain: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'renewal-chain-'));
  try {
    writeFileSync(join(dir, 'cert.pem'), cert.toString());
    writeFileSync(join(dir, 'chain.pem'), chain);
    const args = ['verify', '-no-CApath', '-partial_chain', '-CAfile', join(dir, 'chain.pem')];
    return /: OK/.test(
      execFileSync('openssl', [...args, join(dir, 'cert.pem')], { encoding: 'utf8' }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Certificate dates have whole seconds: renew only once the issuance second is over. */
async function afterTheSecondOf(moment: Date | undefined): Promise<void> {
  const next = (moment?.getTime() ?? 0) + 1000;
  while (Date.now() < next) await sleep(next - Date.now());
}

async function renew(arn: string): Promise<void> {
  await acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
}

describe('RenewCertificate on the emulator', () => {
  it('re-issues a private certificate under the same ARN: new key, serial and validity', async () => {
    const arn = await aPrivateCertificate(acm, { subjectAlternativeNames: ['alt.corp.example'] });
    const issued = await describeCert(arn);
    expect(issued.RenewalEligibility).toBe('INELIGIBLE');
    expect(issued.RenewalSummary).toBeUndefined();
    const before = await exportCert(arn, 'first passphrase');
    expect((await describeCert(arn)).RenewalEligibility).toBe('ELIGIBLE');

    await afterTheSecondOf(issued.NotBefore);
    const renewing = new Date();
    await renew(arn);

    const renewed = await describeCert(arn);
    expect(renewed).toMatchObject({
      CertificateArn: arn,
      Status: 'ISSUED',
      Type: 'PRIVATE',
      DomainName: issued.DomainName,
      SubjectAlternativeNames: issued.SubjectAlternativeNames,
      // Renewed, so not exported since: ineligible until the next export (as AWS shows it).
      RenewalEligibility: 'INELIGIBLE',
      RenewalSummary: { RenewalStatus: 'SUCCESS' },
    });
    expect(serialOf(renewed.Serial)).not.toBe(serialOf(issued.Serial));
    const notBefore = renewed.NotBefore?.getTime() ?? 0;
    expect(notBefore).toBeGreaterThan(issued.NotBefore?.getTime() ?? 0);
    expect(notBefore).toBeGreaterThanOrEqual(Math.floor(renewing.getTime() / 1000) * 1000);
    expect(renewed.NotAfter?.getTime()).toBeGreaterThan(issued.NotAfter?.getTime() ?? 0);
    expect((renewed.NotAfter?.getTime() ?? 0) - notBefore).toBe(
      (issued.NotAfter?.getTime() ?? 0) - (issued.NotBefore?.getTime() ?? 0),
    );
    expect(renewed.RenewalSummary?.UpdatedAt?.getTime()).toBeGreaterThanOrEqual(
      Math.floor(renewing.getTime() / 1000) * 1000,
    );

    const after = await exportCert(arn, 'second passphrase');
    expect(BigInt(`0x${after.cert.serialNumber}`)).toBe(serialOf(renewed.Serial));
    expect(after.cert.validToDate.getTime()).toBe(renewed.NotAfter?.getTime());
    expect(after.cert.validToDate.getTime()).toBeGreaterThan(before.cert.validToDate.getTime());
    expect(after.cert.subject).toBe(before.cert.subject);
    expect(after.cert.subjectAltName).toBe(before.cert.subjectAltName);
    // ACM renews with a new key pair; the export is encrypted with the passphrase given now.
    expect(after.cert.checkPrivateKey(after.key)).toBe(true);
    expect(spki(after.key)).not.toBe(spki(before.key));
    expect(after.encryptedKey).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(() =>
      createPrivateKey({ key: after.encryptedKey, format: 'pem', passphrase: 'first passphrase' }),
    ).toThrow();
    // Same chain shape as at issuance (local CA + root), and it verifies the new certificate.
    expect(after.chain).toBe(before.chain);
    expect(pemCount(after.chain)).toBe(2);
    expect(verifiesWithChain(after.cert, after.chain)).toBe(true);
  });

  it('re-issues a public certificate requested with the export option', async () => {
    const arn = await anExportableCertificate(acm);
    const issued = await describeCert(arn);
    await afterTheSecondOf(issued.NotBefore);
    await renew(arn);
    const renewed = await describeCert(arn);
    expect(serialOf(renewed.Serial)).not.toBe(serialOf(issued.Serial));
    expect(renewed.RenewalSummary?.RenewalStatus).toBe('SUCCESS');
    expect(renewed.RenewalSummary?.DomainValidationOptions?.[0]?.DomainName).toBe(
      issued.DomainName,
    );
    const { cert, chain } = await exportCert(arn, 'passphrase');
    expect(BigInt(`0x${cert.serialNumber}`)).toBe(serialOf(renewed.Serial));
    expect(verifiesWithChain(cert, chain)).toBe(true);
  });

  describe('refuses as the API reference lists', () => {
    it.each([
      [
        'an unknown certificate',
        'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
        'ResourceNotFoundException',
      ],
      [
        'an ARN that is no certificate ARN',
        'arn:aws:acm:us-east-1:123456789012:certificate',
        'InvalidArnException',
      ],
      ['a string that is no ARN', 'certificate-0000-0000-0000', 'ValidationException'],
    ])('%s', async (_, arn, name) => {
      await expect(renew(arn)).rejects.toMatchObject({ name });
    });

    it('a public certificate requested without the export option', async () => {
      const arn = await anExportableCertificate(acm, { exportable: false });
      await expect(renew(arn)).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('an imported certificate, which ACM never renews', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'imported-'));
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '30',
            '-subj',
            '/CN=imported.example.com',
            '-keyout',
            join(dir, 'key.pem'),
            '-out',
            join(dir, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
        const { CertificateArn } = await acm.send(
          new ImportCertificateCommand({
            Certificate: readFileSync(join(dir, 'cert.pem')),
            PrivateKey: readFileSync(join(dir, 'key.pem')),
          }),
        );
        await expect(renew(CertificateArn ?? '')).rejects.toMatchObject({
          name: 'ValidationException',
        });
        expect((await describeCert(CertificateArn ?? '')).RenewalSummary).toBeUndefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('the event ACM publishes for a renewal', () => {
  let queueUrl: string;
  beforeAll(async () => {
    ({ queueUrl } = await provision({
      dynamodb: c.dynamodbRaw,
      sqs: c.sqs,
      eventbridge: c.eventbridge,
      ssm: c.ssm,
    }));
  });

  /** The job queue's message about this certificate (others are taken off the queue). */
  async function eventFor(arn: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const { Messages = [] } = await c.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
        }),
      );
      for (const m of Messages) {
        await c.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
        const body = JSON.parse(m.Body ?? '{}');
        if (body.resources?.[0] === arn) return body;
      }
    }
    throw new Error(`no event about ${arn} reached the job queue`);
  }

  it('reaches the job queue through the provisioned rule with every field AWS sends', async () => {
    const arn = await aPrivateCertificate(acm);
    const issued = await describeCert(arn);
    await exportCert(arn, 'passphrase');
    await afterTheSecondOf(issued.NotBefore);
    const renewing = Math.floor(Date.now() / 1000) * 1000;
    await renew(arn);
    const renewed = await describeCert(arn);

    const event = await eventFor(arn);
    expect(Object.keys(event).sort()).toEqual([
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    expect(event).toMatchObject({
      version: '0',
      source: 'aws.acm',
      'detail-type': 'ACM Certificate Available',
      account: '123456789012',
      region: 'us-east-1',
      resources: [arn],
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    expect(event.time).toMatch(iso);
    expect(Date.parse(String(event.time))).toBeGreaterThanOrEqual(renewing);

    const detail = event.detail as Record<string, unknown>;
    const secondsIso = (d: Date | undefined) => d?.toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(detail).toEqual({
      Action: 'RENEWAL',
      CertificateType: 'PRIVATE',
      CommonName: issued.DomainName,
      CertificateCreatedDate: secondsIso(renewed.NotBefore),
      CertificateExpirationDate: secondsIso(renewed.NotAfter),
      DaysToExpiry: expect.any(Number),
      InUse: false,
      Exported: true,
    });
    const daysLeft = ((renewed.NotAfter?.getTime() ?? 0) - Date.parse(String(event.time))) / dayMs;
    expect(Number.isInteger(detail.DaysToExpiry)).toBe(true);
    expect(Math.abs(Number(detail.DaysToExpiry) - daysLeft)).toBeLessThan(1);

    // The worker takes it for what it is.
    expect(parseMessage(JSON.stringify(event)).kind).toBe('acm-event');
  });

  it('names DNS validation and a certificate not exported since issued, for a public one', async () => {
    const arn = await anExportableCertificate(acm);
    await afterTheSecondOf((await describeCert(arn)).NotBefore);
    await renew(arn);
    const detail = (await eventFor(arn)).detail;
    expect(detail).toMatchObject({
      Action: 'RENEWAL',
      CertificateType: 'AMAZON_ISSUED',
      DomainValidationMethod: 'DNS',
      Exported: false,
    });
  });
});
