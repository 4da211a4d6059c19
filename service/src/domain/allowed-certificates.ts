/** Whether the ARN is on the allow-list (exact, or a prefix ending in `*`); empty list allows all. */
export function isAllowedCertificate(arn: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return allowed.some((p) => (p.endsWith('*') ? arn.startsWith(p.slice(0, -1)) : arn === p));
}
