import { createHash, randomInt } from 'node:crypto';
import { SecretValue } from '../domain/secret-value.ts';
import type { MappingKey } from '../ports/mapping-store.ts';

// ACM: 4-128 bytes of ASCII except #, $ and %. Letters and digits only: safe in every shell,
// file and CLI the passphrase passes through, and 40 of them carry about 238 bits.
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh random export passphrase (CSPRNG, uniform over the alphabet). */
export function generatePassphrase(length = 40): SecretValue {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return new SecretValue(out);
}

/**
 * The secret holding a mapping's exports (key and passphrase): one per (target tag, certificate,
 * name), so two targets of one certificate never share a secret (and ABAC can tell them apart).
 */
export function exportSecretName(prefix: string, key: MappingKey): string {
  const id = createHash('sha256')
    .update([key.target.key, key.target.value, key.certificateArn, key.certName].join('\u0000'))
    .digest('hex')
    .slice(0, 20);
  return `${prefix}${key.certName}-${id}`;
}

/** Tags on the secret: the target tag itself (the ABAC rule compares it with the server's role tag). */
export function exportSecretTags(key: MappingKey): Record<string, string> {
  return {
    [key.target.key]: key.target.value,
    'acm-cert-export:certificate-arn': key.certificateArn,
    'acm-cert-export:cert-name': key.certName,
  };
}
