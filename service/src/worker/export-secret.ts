import { TerminalError } from '../domain/errors.ts';
import { SecretValue } from '../domain/secret-value.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';

/**
 * The text of one export's secret version: what ExportCertificate returned and the passphrase
 * the key is encrypted with. The servers read the first two parts (ssm/install-acm-certificate.sh
 * parses exactly this layout); the worker reads it all back when it resumes a job, or reuses an
 * export for a server that just started, without exporting again.
 *
 *     acm-cert-export-secret v1
 *     passphrase: <passphrase>
 *     pkcs12-password: <password>             (only for mappings with a PKCS#12 format)
 *     -----BEGIN ENCRYPTED PRIVATE KEY-----   (the key, as ACM exported it)
 *     -----BEGIN CERTIFICATE-----             (the certificate)
 *     -----BEGIN CERTIFICATE-----             (the chain, one or more)
 *
 * Line-based so that a server needs no JSON parser. The PKCS#12 password is not the passphrase:
 * that one is new for every export, while a Java server's keystore password stays in its
 * configuration, so the worker carries the password over from the mapping's previous version.
 * Servers that predate it skip the line (they read line 2 and the key's PEM block).
 */
export const exportSecretFormat = 'acm-cert-export-secret v1';

export interface ExportSecret {
  readonly passphrase: SecretValue;
  readonly bundle: ExportedBundle;
  /** The `.p12` files' password, the same in every version of the mapping's secret. */
  readonly pkcs12Password?: SecretValue;
}

/** One line of letters and digits (what `generatePassphrase` makes), or it is refused. */
function oneLine(value: SecretValue, what: string): string {
  const text = value.reveal();
  if (/[\r\n]/.test(text)) throw new Error(`a ${what} must be one line`);
  return text;
}

const pemBlock = /-----BEGIN ([A-Z ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

export function encodeExportSecret(secret: ExportSecret): SecretValue {
  const passphrase = oneLine(secret.passphrase, 'passphrase');
  const pkcs12 = secret.pkcs12Password;
  return new SecretValue(
    [
      exportSecretFormat,
      `passphrase: ${passphrase}`,
      ...(pkcs12 === undefined ? [] : [`pkcs12-password: ${oneLine(pkcs12, 'PKCS#12 password')}`]),
      secret.bundle.encryptedPrivateKey.reveal().trim(),
      secret.bundle.certificate.trim(),
      secret.bundle.chain.trim(),
      '',
    ].join('\n'),
  );
}

/**
 * The bundle as its secret version reads back: each PEM block ending in one newline, the chain's
 * blocks one after another. Jobs send the servers this form whether the export is in memory or
 * read back, so the files a Verify run expects are byte for byte those an install wrote.
 */
export function canonicalBundle(bundle: ExportedBundle): ExportedBundle {
  const blocks = (pem: string) => [...pem.matchAll(pemBlock)].map((m) => `${m[0]}\n`);
  const [certificate] = blocks(bundle.certificate);
  const chain = blocks(bundle.chain);
  if (certificate === undefined || chain.length === 0) return bundle;
  return { ...bundle, certificate, chain: chain.join('') };
}

/** Reads a version written by `encodeExportSecret`; TerminalError when it is something else. */
export function decodeExportSecret(value: SecretValue, where: string): ExportSecret {
  const text = value.reveal();
  const invalid = (what: string) =>
    new TerminalError('InvalidExportSecret', `${where} is not an acm-cert-export secret: ${what}`);
  const lines = text.split('\n');
  if (lines[0]?.trim() !== exportSecretFormat) throw invalid(`no "${exportSecretFormat}" line`);
  const passphrase = /^passphrase: (.+)$/.exec(lines[1]?.replace(/\r$/, '') ?? '')?.[1];
  if (passphrase === undefined) throw invalid('no passphrase line');
  const firstBlock = text.search(/^-----BEGIN /m);
  const pkcs12Password = (firstBlock < 0 ? text : text.slice(0, firstBlock))
    .split('\n')
    .map((l) => /^pkcs12-password: (.+)$/.exec(l.replace(/\r$/, ''))?.[1])
    .find((p) => p !== undefined);
  const blocks = [...text.matchAll(pemBlock)].map((m) => ({ type: m[1], pem: `${m[0]}\n` }));
  const keys = blocks.filter((b) => b.type === 'ENCRYPTED PRIVATE KEY');
  const certificates = blocks.filter((b) => b.type === 'CERTIFICATE');
  const [key] = keys;
  const [certificate, ...chain] = certificates;
  if (keys.length !== 1 || key === undefined) throw invalid('not exactly one encrypted key');
  if (certificate === undefined || chain.length === 0) throw invalid('no certificate and chain');
  return {
    passphrase: new SecretValue(passphrase),
    bundle: {
      certificate: certificate.pem,
      chain: chain.map((c) => c.pem).join(''),
      encryptedPrivateKey: new SecretValue(key.pem),
    },
    ...(pkcs12Password === undefined ? {} : { pkcs12Password: new SecretValue(pkcs12Password) }),
  };
}
