import type { Deployment, ServerResult } from '../domain/deployment.ts';
import { moveTo, withCondition } from '../domain/deployment-record.ts';
import type { ManagedNode } from '../ports/command-runner.ts';
import { commandComment } from './job-ids.ts';
import type { JobVerdict } from './outcome-policy.ts';

/**
 * A canary rollout: a job with `canary: n` first installs on n of the tag's servers (a command by
 * instance ids), and only if every one of them succeeded on the whole tag (a second command; the
 * canary servers run it again and find their files as wanted). Each phase is recorded before its
 * command is sent and has its own comment, so a job resumed after a crash finds the command of
 * its phase and sends each of them once.
 */

/** Whether the job rolls out with a canary: an install on a tag (targeted jobs are small). */
export function wantsCanary(d: Deployment): boolean {
  return d.job.canary !== undefined && d.job.instanceIds === undefined && d.job.mode !== 'verify';
}

/** The comment of the command of the job's current phase (at most 100 characters). */
export function phaseComment(d: Deployment): string {
  return d.phase === 'canary'
    ? `acm-cert-export canary ${d.job.jobId}`.slice(0, 100)
    : commandComment(d.job.jobId);
}

/**
 * The first batch: `count` of the tagged servers, online ones first, then by instance id (so that
 * the choice is the same on a retry). None when the tag has no more servers than that: the job
 * then sends one command to all of them.
 */
export function canaryServers(nodes: readonly ManagedNode[], count: number): string[] | undefined {
  if (nodes.length <= count) return undefined;
  const online = (n: ManagedNode) => (n.pingStatus === 'Online' ? 0 : 1);
  return [...nodes]
    .sort((a, b) => online(a) - online(b) || a.instanceId.localeCompare(b.instanceId))
    .slice(0, count)
    .map((n) => n.instanceId);
}

/** The first ten of a list of ids, and how many more. */
function listed(ids: readonly string[]): string {
  const more = ids.length > 10 ? `; and ${ids.length - 10} more` : '';
  return `${ids.slice(0, 10).join(', ')}${more}`;
}

/**
 * A canary that did not succeed on every server ends the job: the rest of the tag's servers are
 * never attempted. PartiallyFailed when some canary server installed, Failed when none did. Pure.
 */
export function canaryVerdict(
  servers: readonly ServerResult[],
  rest: readonly string[],
  describe: (s: ServerResult) => string,
): JobVerdict {
  const ok = servers.filter((s) => s.status === 'Success');
  const failed = servers.filter((s) => s.status !== 'Success');
  const failures = failed.slice(0, 10).map(describe).join('; ');
  return {
    status: ok.length > 0 ? 'PartiallyFailed' : 'Failed',
    code: 'CanaryFailed',
    reason: `the canary failed: installed on ${ok.length} of ${servers.length} canary servers; failed: ${failures}${failed.length > 10 ? `; and ${failed.length - 10} more` : ''}; never attempted on the other ${rest.length} servers (the rollout stops after a failed canary): ${listed(rest)}`,
  };
}

/**
 * Every canary server succeeded: back to Dispatching for the rest, the canary's command kept
 * apart. The rest's dispatch claims its send with a write of its own (`dispatchStartedAt`).
 */
export function restPhase(d: Deployment, now: Date): Deployment {
  const canary = d.canaryServers ?? [];
  return moveTo(
    d,
    'Dispatching',
    {
      phase: 'rest',
      canaryCommandId: d.commandId,
      commandId: undefined,
      dispatchStartedAt: undefined,
      dispatchFailedAt: undefined,
      dispatchedAt: undefined,
      counts: undefined,
      conditions: withCondition(
        d.conditions,
        'Dispatched',
        'False',
        'CanaryPassed',
        `the canary succeeded on ${canary.length} of ${canary.length} servers (${canary.join(', ')}, command ${d.commandId}): installing on the rest`,
        now,
      ),
    },
    now,
  );
}
