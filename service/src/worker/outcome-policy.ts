import { minimumAgentVersion } from '../domain/agent-version.ts';
import type { DeploymentStatus, ServerResult } from '../domain/deployment.ts';
import { displaySerial } from '../domain/serial.ts';
import type { CommandProgress } from '../ports/command-runner.ts';

const terminalCommandStatuses = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** Run Command's invocation statuses after which nothing changes. */
export const terminalInvocationStatuses: ReadonlySet<string> = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
]);

/** Exit codes of ssm/install-acm-certificate.sh and what they mean to an operator. */
export const scriptExitCodes: Readonly<Record<number, string>> = {
  10: 'bad parameters',
  11: "the server cannot read the job's secret (check the ABAC tag on its role)",
  12: 'the certificate failed validation on the server',
  13: 'refused to replace a newer installed certificate (use Force to override)',
  14: 'the reload command failed; the previous files were restored',
  15: 'writing the files failed; nothing was changed',
  16: 'the reload command failed and restoring the previous files failed too',
  17: `the SSM Agent is older than ${minimumAgentVersion} and passed no parameters (ENV_VAR); update the agent`,
  18: "the reload command is not in the server's allow-list /etc/acm-cert-export/reload-commands",
};

export interface JobVerdict {
  readonly status: DeploymentStatus;
  readonly reason: string;
  /** A machine-readable cause where one matters later (e.g. `CanaryFailed`). */
  readonly code?: string;
}

/** One server's result in a sentence: id, status, exit code and what it means, the detail. */
export function describeServer(s: ServerResult): string {
  const code =
    s.responseCode === undefined
      ? ''
      : ` (exit ${s.responseCode}${scriptExitCodes[s.responseCode] === undefined ? '' : `: ${scriptExitCodes[s.responseCode]}`})`;
  const detail = s.summary?.message ?? s.error ?? s.statusDetails;
  return `${s.instanceId} ${s.statusDetails}${code}${detail !== s.statusDetails ? ` - ${detail}` : ''}`;
}

/** The parts of a command's progress the decisions read. */
export type ProgressView = Pick<
  CommandProgress,
  'status' | 'statusDetails' | 'targetCount' | 'invocations'
>;

/**
 * The terminal "tag matched nothing" detail. The AWS guide writes `No Instances In Tag`; recorded
 * API answers show `NoInstancesInTag`: both are accepted.
 */
export function isNoInstancesInTag(statusDetails: string): boolean {
  return statusDetails.replace(/\s+/g, '').toLowerCase() === 'noinstancesintag';
}

export function isCommandTerminal(progress: ProgressView): boolean {
  if (isNoInstancesInTag(progress.statusDetails)) return true;
  if (!terminalCommandStatuses.has(progress.status)) return false;
  // Eventual consistency: the command can read as finished before its invocations are listed.
  if (progress.invocations.length < progress.targetCount) return false;
  // A terminal command with invocations still running is not finished from our side.
  return progress.invocations.every((i) => terminalInvocationStatuses.has(i.status));
}

/**
 * Decides the job's outcome from a terminal command and the per-server results. Pure.
 */
export function verdict(
  progress: ProgressView,
  servers: readonly ServerResult[],
  target: string,
): JobVerdict {
  if (
    isNoInstancesInTag(progress.statusDetails) ||
    (servers.length === 0 && progress.targetCount === 0)
  ) {
    return {
      status: 'NoTargets',
      reason: `no managed node carries the tag ${target}: tag the servers (and check that their SSM agent is online), then deploy again`,
    };
  }
  const ok = servers.filter((s) => s.status === 'Success');
  const skipped = servers.filter(neverAttempted);
  const failed = servers.filter((s) => s.status !== 'Success' && !neverAttempted(s));
  const total = servers.length;
  if (failed.length === 0 && skipped.length === 0 && total > 0) {
    const serial = ok[0]?.summary?.serial;
    return {
      status: 'Succeeded',
      reason: `installed on ${total} of ${total} servers${serial ? ` (serial ${displaySerial(serial)})` : ''}`,
    };
  }
  const list = listed(failed, describeServer);
  const halted = skipped.length === 0 ? '' : `; ${haltedPart(skipped)}`;
  const timedOut = failed.every(
    (s) => s.status === 'TimedOut' || /Timed ?Out/i.test(s.statusDetails),
  );
  if (ok.length > 0) {
    return {
      status: 'PartiallyFailed',
      reason: `installed on ${ok.length} of ${total} servers; failed: ${list}${halted}`,
    };
  }
  if (timedOut && total > 0 && skipped.length === 0) {
    return { status: 'TimedOut', reason: `no server finished in time: ${list}` };
  }
  if (total === 0) {
    return {
      status: 'Failed',
      reason: `the command ended ${progress.status} (${progress.statusDetails}) without any server result`,
    };
  }
  if (skipped.length > 0) {
    return {
      status: 'Failed',
      reason: `installed on 0 of ${total} servers; failed: ${list}${halted}`,
    };
  }
  return { status: 'Failed', reason: `failed on all ${total} servers: ${list}` };
}

/**
 * A server Run Command never sent the command to, because the command had exceeded its error
 * threshold (MaxErrors) first: invocation StatusDetails `Terminated` (status Cancelled).
 */
export function neverAttempted(s: ServerResult): boolean {
  return [s.status, s.statusDetails].some(
    (v) => v.replace(/\s+/g, '').toLowerCase() === 'terminated',
  );
}

/** The first ten of a list of servers, and how many more. */
function listed(servers: readonly ServerResult[], describe: (s: ServerResult) => string): string {
  const more = servers.length > 10 ? `; and ${servers.length - 10} more` : '';
  return `${servers.slice(0, 10).map(describe).join('; ')}${more}`;
}

function haltedPart(skipped: readonly ServerResult[]): string {
  return `never attempted on ${skipped.length} (the rollout stopped at its error threshold, SSM_MAX_ERRORS): ${listed(skipped, (s) => s.instanceId)}`;
}

/**
 * A job ended by a cancel request: what each server got before the command stopped. Pure.
 * `requested` says who asked and when.
 */
export function cancelledVerdict(servers: readonly ServerResult[], requested: string): JobVerdict {
  if (servers.length === 0) {
    return { status: 'Cancelled', reason: `${requested}; no command was sent to any server` };
  }
  const ok = servers.filter((s) => s.status === 'Success');
  const stopped = servers.filter((s) => s.status === 'Cancelled' && !neverAttempted(s));
  const skipped = servers.filter(neverAttempted);
  const failed = servers.filter(
    (s) => s.status !== 'Success' && s.status !== 'Cancelled' && !neverAttempted(s),
  );
  const parts = [
    `${requested}; installed on ${ok.length} of ${servers.length} servers before the command stopped`,
    ...(stopped.length === 0
      ? []
      : [`cancelled on ${stopped.length}: ${listed(stopped, (s) => s.instanceId)}`]),
    ...(failed.length === 0 ? [] : [`failed: ${listed(failed, describeServer)}`]),
    ...(skipped.length === 0 ? [] : [haltedPart(skipped)]),
  ];
  return { status: 'Cancelled', reason: parts.join('; ') };
}

/** Servers whose Verify run found their files drifted (they get a repair install). */
export function drifted(servers: readonly ServerResult[]): ServerResult[] {
  return servers.filter(
    (s) =>
      s.status === 'Success' &&
      (s.summary?.outcome === 'drift' || (s.summary?.problems ?? []).length > 0),
  );
}

/**
 * A verify job's outcome: the check itself failed on some servers (PartiallyFailed, Failed), or
 * it ran everywhere (Succeeded), naming the servers whose files drifted and what drifted. Pure.
 */
export function verifyVerdict(
  progress: ProgressView,
  servers: readonly ServerResult[],
  target: string,
): JobVerdict {
  const checked = verdict(progress, servers, target);
  if (checked.status !== 'Succeeded') return checked;
  const drift = drifted(servers);
  if (drift.length === 0) {
    return {
      status: 'Succeeded',
      reason: `verified on ${servers.length} of ${servers.length} servers: no drift`,
    };
  }
  const list = drift
    .slice(0, 10)
    .map((s) => `${s.instanceId} (${(s.summary?.problems ?? ['drift']).join(', ')})`)
    .join('; ');
  const more = drift.length > 10 ? `; and ${drift.length - 10} more` : '';
  return {
    status: 'Succeeded',
    reason: `verified on ${servers.length} servers; files drifted on ${drift.length}, repair queued: ${list}${more}`,
  };
}

/**
 * Delay before the next look at a running command: a quarter of the time it has run so far,
 * between `min` and `max` seconds. Quick installs are seen quickly; long ones cost few requests.
 */
export function pollDelaySeconds(runningForSeconds: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.ceil(runningForSeconds / 4)));
}

/** Backoff after a failed attempt: 2^failures seconds with a cap. */
export function failureBackoffSeconds(failures: number, max = 300): number {
  return Math.min(max, 2 ** Math.max(1, failures));
}
