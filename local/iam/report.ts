/** The failure messages of the IAM evaluation: what was asked, by whom, as which role, and why. */
import { roleLabels } from './app-ids.ts';
import type { ServerVerdict, Verdict } from './evaluation.ts';
import type { RecordedCall, ServerCall } from './recording-front.ts';

/** One line per distinct refusal, with how many requests it covers. */
export function formatRefusals(
  where: string,
  verdicts: readonly Verdict[],
  problems: readonly (RecordedCall | ServerCall)[],
  serverVerdicts: readonly ServerVerdict[] = [],
): string | undefined {
  const lines = new Map<string, number>();
  for (const v of serverVerdicts) {
    if (v.decision === 'Allowed') continue;
    const role = v.roleArn === undefined ? 'role tags' : `as ${v.roleArn}, role tags`;
    const line =
      `  - server ${v.instanceId} (${role} ${JSON.stringify(v.roleTags)}) under the servers' passphrase policy: ` +
      `${v.request.action} on ${v.request.resource} → ${v.decision}${v.detail === undefined ? '' : ` (${v.detail})`}; ` +
      `context ${JSON.stringify(v.request.context)}`;
    lines.set(line, (lines.get(line) ?? 0) + 1);
  }
  for (const v of verdicts) {
    if (v.decision === 'Allowed') continue;
    const context =
      Object.keys(v.request.context).length === 0 ? '{}' : JSON.stringify(v.request.context);
    const line =
      `  - [${v.mode}] app/${v.appId} as the ${roleLabels[v.role]}: ${v.request.action} on ${v.request.resource}` +
      ` → ${v.decision}${v.detail === undefined ? '' : ` (${v.detail})`}; context ${context}; call ${v.operation}`;
    lines.set(line, (lines.get(line) ?? 0) + 1);
  }
  for (const p of problems) {
    const who = 'appId' in p ? `app/${p.appId}` : `server ${p.instanceId}`;
    const line = `  - ${who} via ${p.via}: ${p.operation} could not be evaluated: ${p.problem}`;
    lines.set(line, (lines.get(line) ?? 0) + 1);
  }
  if (lines.size === 0) return undefined;
  return [
    `IAM: requests of the service that the stack's policies would refuse on AWS (${where}):`,
    ...[...lines].map(([line, n]) => (n === 1 ? line : `${line} (×${n})`)),
  ].join('\n');
}
