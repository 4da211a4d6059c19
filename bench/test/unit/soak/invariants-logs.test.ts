import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  leakIn,
  noSecretInLogs,
  privateKeyBodies,
  secretNeedles,
  secretsOfVersion,
} from '../../../soak/invariants-logs.ts';

const pem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
const keyA = pem();
const keyB = pem();
const passphrase = 'Zq3xR8vKp2LmN7wT4yB6cH9dF1gJ5sA0eU8iO3kQ';
const version = [
  'acm-cert-export-secret v1',
  `passphrase: ${passphrase}`,
  'pkcs12-password: Pw0rdPw0rdPw0rdPw0rdPw0rdPw0rdPw0rdPw0rd',
  keyA.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY').trim(),
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----',
  '',
].join('\n');

describe('invariant 7: the secrets of an export', () => {
  it('are its passphrase, its PKCS#12 password and its key, never the certificate', () => {
    const found = secretsOfVersion(version);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe(passphrase);
    expect(found[2]).toBe(privateKeyBodies(keyA)[0]);
    expect(found[2]).not.toMatch(/\s/);
  });
});

describe('invariant 7: a log line leaks', () => {
  const needles = secretNeedles([passphrase, ...privateKeyBodies(keyA)]);
  const body = privateKeyBodies(keyA)[0] ?? '';

  it('when it holds a passphrase, or a PEM private key marker', () => {
    expect(leakIn(`{"msg":"exported","p":"${passphrase}"}`, needles)).toBe(
      'a secret or key fragment',
    );
    expect(leakIn('{"msg":"-----BEGIN ENCRYPTED PRIVATE KEY-----"}', needles)).toBe(
      'a PEM private key marker',
    );
  });

  it("when it holds 47 characters of a key's body anywhere, even across a JSON-escaped line break", () => {
    const lines = keyA.split('\n');
    expect(leakIn(`{"k":"${body.slice(300, 347)}"}`, needles)).toBe('a secret or key fragment');
    expect(leakIn(`{"k":"${lines.slice(3, 5).join('\\n')}"}`, needles)).toBe(
      'a secret or key fragment',
    );
  });

  it("not for other text: another key's body (same algorithm header), a short fragment, plain log lines", () => {
    expect(leakIn(`{"k":"${privateKeyBodies(keyB)[0]}"}`, needles)).toBeUndefined();
    expect(leakIn(`{"k":"${body.slice(300, 330)}"}`, needles)).toBeUndefined();
    expect(leakIn(`{"k":"${passphrase.slice(0, 20)}"}`, needles)).toBeUndefined();
    expect(
      leakIn(
        '{"level":30,"jobId":"q-3f0a9c1e4b7d2a6c8e0f1a2b3c4d5e6f","msg":"deployment Succeeded"}',
        needles,
      ),
    ).toBeUndefined();
  });
});

describe('invariant 7: no secret in any log line', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invariants-logs-'));
    await mkdir(dir, { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds for clean files, counting their lines, and names the file and line of a leak', async () => {
    const clean = join(dir, 'worker-1.log');
    const leaky = join(dir, 'worker-2.log');
    await writeFile(clean, '{"msg":"a"}\n{"msg":"b"}\n');
    await writeFile(leaky, `{"msg":"a"}\n{"msg":"oops ${passphrase}"}\n`);
    const ok = await noSecretInLogs([clean], [passphrase]);
    expect(ok).toMatchObject({ holds: true, count: 2 });
    const bad = await noSecretInLogs([clean, leaky], [passphrase]);
    expect(bad).toMatchObject({
      holds: false,
      count: 4,
      detail: 'worker-2.log line 2: a secret or key fragment',
    });
    expect(bad.detail).not.toContain(passphrase);
  });
});
