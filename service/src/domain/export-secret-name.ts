import { createHash } from 'node:crypto';
import type { TargetTag } from './target.ts';

/**
 * The secret holding a mapping's exports (key and passphrase): one per (target tag, certificate,
 * name), so two targets of one certificate never share a secret (and ABAC can tell them apart).
 * Derived from the mapping alone: stop-managing finds the secret even when no job recorded it.
 */
export function exportSecretName(
  prefix: string,
  key: { readonly target: TargetTag; readonly certificateArn: string; readonly certName: string },
): string {
  const id = createHash('sha256')
    .update([key.target.key, key.target.value, key.certificateArn, key.certName].join('\u0000'))
    .digest('hex')
    .slice(0, 20);
  return `${prefix}${key.certName}-${id}`;
}
