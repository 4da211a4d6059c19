import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { TestLeaf } from './pki.ts';

/** What the checks need of a leaf: its certificate and chain. */
type Issued = Pick<TestLeaf, 'certificate' | 'chain'>;

/**
 * Checks of the files `Formats` adds (the combined PEM and the PKCS#12 file), with the openssl
 * CLI and, where a JDK is installed, keytool: the script's tests and the Run Command stand-in's.
 */

const exec = promisify(execFile);

/** keytool, where a JDK is installed: the check that Java opens the .p12 is skipped without it. */
export const keytool = [
  '/usr/bin/keytool',
  process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin/keytool'),
]
  .filter((p): p is string => typeof p === 'string' && p !== '')
  .find((p) => existsSync(p));

export const blocks = (pem: string, type: string) =>
  [
    ...pem.matchAll(new RegExp(`-----BEGIN ${type}-----[\\s\\S]*?-----END ${type}-----\\n?`, 'g')),
  ].map((m) => m[0]);

export const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** The DER of the public key of a certificate or a private key, to compare them. */
const publicKeyOf = (pem: string) =>
  (pem.includes('PRIVATE KEY')
    ? createPublicKey(createPrivateKey(pem))
    : new X509Certificate(pem).publicKey
  ).export({ type: 'spki', format: 'der' });

/**
 * Opens a .p12 with the password in `passwordFile`: its PEM (key and certificates, decrypted)
 * and openssl's -info lines (MAC and encryption algorithms). The files use AES-256 or 3DES, which
 * OpenSSL 3 opens without its legacy provider (and OpenSSL 1.1 has no providers); a failure is
 * retried with -legacy on OpenSSL 3 only so that the message says which it was.
 */
export async function openP12(
  path: string,
  passwordFile: string,
): Promise<{ pem: string; info: string }> {
  const args = ['pkcs12', '-in', path, '-passin', `file:${passwordFile}`, '-info', '-nodes'];
  try {
    const out = await exec('openssl', args);
    return { pem: out.stdout, info: out.stderr };
  } catch (error) {
    const version = (await exec('openssl', ['version'])).stdout;
    if (!version.startsWith('OpenSSL 3')) throw error;
    await exec('openssl', [...args, '-legacy']);
    throw new Error(`${path} opens only with OpenSSL 3's legacy provider`);
  }
}

/** The checks a .p12 of `leaf` passes: password, algorithms, friendly name, key and chain. */
export async function expectP12Of(
  path: string,
  passwordFile: string,
  leaf: Issued,
  profile: 'modern' | 'legacy',
  friendlyName = 'web',
) {
  const { pem, info } = await openP12(path, passwordFile);
  if (profile === 'modern') {
    expect(info).toMatch(/^MAC: ?sha256/m);
    expect(info).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
    expect(info).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
  } else {
    expect(info).toMatch(/^MAC: ?sha1/m);
    expect(info).toMatch(/Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
    expect(info).toMatch(/PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC/);
  }
  expect(pem).toContain(`friendlyName: ${friendlyName}`);
  const [key, ...more] = blocks(pem, 'PRIVATE KEY');
  expect(more).toEqual([]);
  expect(publicKeyOf(key as string)).toEqual(publicKeyOf(leaf.certificate));
  expect(blocks(pem, 'CERTIFICATE').map(fingerprint).sort()).toEqual(
    blocks(leaf.certificate + leaf.chain, 'CERTIFICATE')
      .map(fingerprint)
      .sort(),
  );
}

/** The combined file: the full chain in order (certificate, then issuers), then the key. */
export async function expectCombinedOf(path: string, leaf: Issued) {
  const text = await readFile(path, 'utf8');
  const certificates = blocks(text, 'CERTIFICATE');
  expect(certificates.map(fingerprint)).toEqual(
    blocks(leaf.certificate + leaf.chain, 'CERTIFICATE').map(fingerprint),
  );
  const [key] = blocks(text, 'PRIVATE KEY');
  expect(publicKeyOf(key as string)).toEqual(publicKeyOf(leaf.certificate));
  expect(text.indexOf('PRIVATE KEY')).toBeGreaterThan(text.lastIndexOf('END CERTIFICATE'));
  // openssl reads it as HAProxy does: the first certificate and the key from one file.
  const { stdout } = await exec('openssl', [
    'x509',
    '-in',
    path,
    '-noout',
    '-fingerprint',
    '-sha256',
  ]);
  expect(stdout).toContain(fingerprint(leaf.certificate));
  await exec('openssl', ['pkey', '-in', path, '-noout']);
}

/** `keytool -list -v` of a .p12: its text (the caller checks alias, entry type and chain). */
export async function keytoolList(path: string, passwordFile: string): Promise<string> {
  if (keytool === undefined) throw new Error('keytool is not installed');
  const { stdout } = await exec(keytool, [
    '-list',
    '-v',
    '-storetype',
    'PKCS12',
    '-keystore',
    path,
    '-storepass:file',
    passwordFile,
  ]);
  return stdout;
}
