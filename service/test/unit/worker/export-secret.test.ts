import { describe, expect, it } from 'vitest';
import { isAgentTooOld } from '../../../src/domain/agent-version.ts';
import { TerminalError } from '../../../src/domain/errors.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import {
  canonicalBundle,
  decodeExportSecret,
  encodeExportSecret,
  exportSecretFormat,
} from '../../../src/worker/export-secret.ts';
import { certA, certB, encryptedKey } from '../../support/worker-world.ts';

const secret = {
  passphrase: new SecretValue('Abcdefghij0123456789Abcdefghij0123456789'),
  bundle: {
    certificate: certA,
    chain: certB + certB,
    encryptedPrivateKey: new SecretValue(encryptedKey),
  },
};

describe('the export secret text', () => {
  it('reads back exactly the canonical bundle, whatever whitespace ACM returned', () => {
    // As ExportCertificate may return it: no final newline, a blank line between chain blocks.
    const messy = {
      ...secret,
      bundle: {
        ...secret.bundle,
        certificate: certA.trimEnd(),
        chain: `${certB.trimEnd()}\n\n${certB.trimEnd()}`,
      },
    };
    const back = decodeExportSecret(encodeExportSecret(messy), 'v1').bundle;
    const canonical = canonicalBundle(messy.bundle);
    expect(back.certificate).toBe(canonical.certificate);
    expect(back.chain).toBe(canonical.chain);
    expect(canonical.certificate).toBe(certA.endsWith('\n') ? certA : `${certA}\n`);
    expect(canonical.chain.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(canonical.chain).not.toMatch(/\n\n/);
  });

  it('round-trips: format line, passphrase line, key, certificate, chain', () => {
    const text = encodeExportSecret(secret).reveal();
    expect(text.split('\n').slice(0, 3)).toEqual([
      exportSecretFormat,
      'passphrase: Abcdefghij0123456789Abcdefghij0123456789',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----',
    ]);
    const back = decodeExportSecret(new SecretValue(text), 'v1');
    expect(back.passphrase.reveal()).toBe(secret.passphrase.reveal());
    expect(back.bundle.encryptedPrivateKey.reveal().trim()).toBe(encryptedKey.trim());
    expect(back.bundle.certificate.trim()).toBe(certA.trim());
    expect(back.bundle.chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('carries a PKCS#12 password on a line of its own, before the key; older versions have none', () => {
    const p12 = new SecretValue('Zyxwvutsrq0123456789Zyxwvutsrq0123456789');
    const text = encodeExportSecret({ ...secret, pkcs12Password: p12 }).reveal();
    expect(text.split('\n').slice(0, 4)).toEqual([
      exportSecretFormat,
      'passphrase: Abcdefghij0123456789Abcdefghij0123456789',
      `pkcs12-password: ${p12.reveal()}`,
      '-----BEGIN ENCRYPTED PRIVATE KEY-----',
    ]);
    const back = decodeExportSecret(new SecretValue(text), 'v1');
    expect(back.pkcs12Password?.reveal()).toBe(p12.reveal());
    expect(back.passphrase.reveal()).toBe(secret.passphrase.reveal());
    expect(decodeExportSecret(encodeExportSecret(secret), 'v1').pkcs12Password).toBeUndefined();
    expect(() =>
      encodeExportSecret({ ...secret, pkcs12Password: new SecretValue('two\nlines') }),
    ).toThrow(/one line/);
  });

  it('never prints what it holds', () => {
    expect(String(encodeExportSecret(secret))).toBe('[REDACTED]');
    expect(JSON.stringify(decodeExportSecret(encodeExportSecret(secret), 'v1'))).not.toContain(
      'MIIFAKE',
    );
  });

  it.each([
    ['a bare passphrase', 'just-a-passphrase'],
    [
      'no passphrase line',
      `${exportSecretFormat}\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n`,
    ],
    ['no key', `${exportSecretFormat}\npassphrase: x\n${certA}${certB}`],
    ['no chain', `${exportSecretFormat}\npassphrase: x\n${encryptedKey}${certA}`],
  ])('refuses %s with a TerminalError that names the version, never its content', (_, text) => {
    let error: unknown;
    try {
      decodeExportSecret(new SecretValue(text), 'version v9 of acm-passphrase/web');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as Error).message).toMatch(/^version v9 of acm-passphrase\/web is not/);
    expect((error as Error).message).not.toContain('passphrase: x');
  });

  it('refuses a passphrase of more than one line', () => {
    expect(() => encodeExportSecret({ ...secret, passphrase: new SecretValue('a\nb') })).toThrow(
      /one line/,
    );
  });
});

describe('serials and agent versions', () => {
  it.each([
    ['0a:1b:2c', '0A1B2C', true],
    ['00:ff', 'ff', true],
    ['0a:1b', '0a1c', false],
  ])('sameSerial(%s, %s) is %s', (a, b, same) => {
    expect(sameSerial(a, b)).toBe(same);
  });

  it.each([
    ['3.3.2746.0', false],
    ['3.3.2957.0', false],
    ['3.10.0.0', false],
    ['3.3.2745.9', true],
    ['3.2.582.0', true],
    ['2.3.1319.0', true],
    ['not a version', false],
  ])('agent %s is too old: %s', (version, old) => {
    expect(isAgentTooOld(version)).toBe(old);
  });
});
