/**
 * The shapes of names that end up in file paths, tags, and SSM parameters. One definition, used
 * by the HTTP schema, the queue message schema and (mirrored) the SSM document's allowedPattern.
 */

/** Certificate name: becomes `<CertName>-fullchain.pem` under root-owned directories. */
export const certNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/**
 * EC2 tag key we accept as a target. EC2 allows more; we refuse what could confuse a path or
 * shell, and `+`, which EC2 and Secrets Manager tag keys allow but a Run Command tag target
 * (`tag:<key>`, pattern `^[\p{L}\p{Z}\p{N}_.:/=\-@]*$`) cannot express.
 */
export const tagKeyPattern = '^[A-Za-z0-9][A-Za-z0-9 _.:/=@-]{0,127}$';

/** EC2 tag value we accept as a target. */
export const tagValuePattern = '^[A-Za-z0-9 _.:/=+@-]{1,256}$';

/** An ACM certificate ARN in any partition. */
export const certificateArnPattern =
  '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/[A-Za-z0-9-]{1,128}$';

/** The region of an ACM certificate ARN (its fourth field). */
export function certificateRegion(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}

/** Caller-supplied job id (and idempotency key). */
export const jobIdPattern = '^[A-Za-z0-9][A-Za-z0-9_-]{7,127}$';

const certName = new RegExp(certNamePattern);

/** Tag keys AWS reserves for itself (`aws:` in any case): nobody can set them on a server. */
export function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:');
}

/** True when the name is safe to use in file names on the target servers. */
export function isSafeCertName(name: string): boolean {
  return certName.test(name) && name !== '.' && name !== '..' && !name.includes('..');
}
