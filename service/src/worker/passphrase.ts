import { randomInt } from 'node:crypto';
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

export { exportSecretName } from '../domain/export-secret-name.ts';

/** Tags on the secret: the target tag itself (the ABAC rule compares it with the server's role tag). */
export function exportSecretTags(key: MappingKey): Record<string, string> {
  return {
    [key.target.key]: key.target.value,
    'acm-cert-export:certificate-arn': key.certificateArn,
    'acm-cert-export:cert-name': key.certName,
  };
}
