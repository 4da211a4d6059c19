/**
 * Principal ARNs as the service matches them.
 *
 * STS reports a role session as `arn:aws:sts::ACCT:assumed-role/NAME/SESSION`. The session name
 * is chosen by the caller, and the role's path is not reported at all, so a session is matched
 * as its role: `arn:aws:iam::ACCT:role/NAME`. Role names are unique in an account whatever
 * their path, so the path-less role ARN names exactly one role.
 */

const assumedRole = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/** Canonical form of a caller ARN: assumed-role sessions become their role ARN. */
export function canonicalPrincipal(arn: string): string {
  const m = assumedRole.exec(arn);
  if (m === null) return arn;
  return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
}

export class PrincipalPatternError extends Error {
  override readonly name = 'PrincipalPatternError';
}

const rolePattern = /^(arn:aws[a-z-]*:iam::[^:]*:role\/)(.+)$/;

/**
 * Canonical form of a configured principal pattern, so that it can match canonical caller ARNs:
 * - `role/PATH/NAME` becomes `role/NAME` (STS does not report paths). Only allowed when the
 *   pattern has no `*`: a wildcard under a path would silently match roles outside that path.
 * - `assumed-role/...` patterns are refused: session names are caller-controlled; name the role.
 */
export function canonicalPattern(pattern: string): string {
  if (/:sts::[^:]*:assumed-role\//.test(pattern)) {
    throw new PrincipalPatternError(
      `principal pattern ${pattern} names a role session; session names are chosen by the caller, so name the role instead (arn:aws:iam::ACCOUNT:role/NAME)`,
    );
  }
  const m = rolePattern.exec(pattern);
  if (m === null) return pattern;
  const rest = m[2] ?? '';
  const slash = rest.lastIndexOf('/');
  if (slash === -1) return pattern;
  if (rest.includes('*')) {
    throw new PrincipalPatternError(
      `principal pattern ${pattern} has a role path and a wildcard; STS does not report role paths, so this cannot be enforced: drop the path or name the role exactly`,
    );
  }
  return `${m[1]}${rest.slice(slash + 1)}`;
}

/** An anchored matcher for a pattern where `*` matches any run of characters (also none). */
export function wildcardMatcher(pattern: string): (value: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}
