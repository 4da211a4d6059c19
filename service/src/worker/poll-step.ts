import type { Deployment, ServerResult } from '../domain/deployment.ts';
import { revise } from '../domain/deployment-record.ts';
import { formatTarget } from '../domain/target.ts';
import type { CommandProgress } from '../ports/command-runner.ts';
import { canaryVerdict } from './canary.ts';
import { cancelledBy } from './cancel-step.ts';
import { nextLookInMs } from './command-watcher.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import { errorTail, parseInstallSummary } from './install-summary.ts';
import {
  cancelledVerdict,
  describeServer,
  isCommandTerminal,
  type JobVerdict,
  pollDelaySeconds,
  verdict,
  verifyVerdict,
} from './outcome-policy.ts';
import { progressKey } from './remembered-progress.ts';
import type { WorkerDeps } from './worker-deps.ts';

export type PollResult =
  | {
      readonly kind: 'finished';
      readonly deployment: Deployment;
      readonly verdict: JobVerdict;
      /** Every server's result, recorded by the finish step as items of their own. */
      readonly servers: readonly ServerResult[];
    }
  | { readonly kind: 'waiting'; readonly deployment: Deployment; readonly outcome: HandlerOutcome }
  /** Every canary server succeeded: the job goes on to the rest (worker/canary.ts). */
  | { readonly kind: 'canary-passed'; readonly deployment: Deployment };

function serverResults(progress: CommandProgress, now: Date): ServerResult[] {
  return progress.invocations.map((inv) => {
    const summary = parseInstallSummary(inv.output);
    const error = inv.status === 'Success' ? undefined : errorTail(inv.output);
    return {
      instanceId: inv.instanceId,
      status: inv.status,
      statusDetails: inv.statusDetails,
      ...(inv.responseCode === undefined ? {} : { responseCode: inv.responseCode }),
      ...(summary === undefined ? {} : { summary }),
      ...(error === undefined ? {} : { error }),
      updatedAt: now.toISOString(),
    };
  });
}

type Counts = NonNullable<Deployment['counts']>;

function sameCounts(a: Counts | undefined, b: Counts): boolean {
  return (
    a !== undefined && a.target === b.target && a.completed === b.completed && a.errors === b.errors
  );
}

/**
 * Running: looks at the command once, and decides once it ended (the per-server results are
 * listed then, once). A command sent in this very pickup is not looked at (it cannot have ended
 * yet). While it runs, the job waits without a consumer: the outcome carries `watch` for the
 * process's command watcher (worker/command-watcher.ts), which resumes the job when Run Command's
 * status-change event or a look says the command ended; a worker without one hands the message
 * back to SQS with an adaptive delay. An empty invocation list is "not yet".
 */
export async function pollStep(
  d: Deployment,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
  pickupStartedAt: number,
  signal: AbortSignal,
): Promise<PollResult> {
  const { settings, clock } = deps;
  let current = d;
  const commandId = current.commandId ?? '';
  const dispatchedAt = Date.parse(current.dispatchedAt ?? current.updatedAt);
  const sentNow = dispatchedAt > pickupStartedAt && current.cancelRequest === undefined;
  const progress = sentNow ? undefined : await deps.commands.progress(commandId);
  const now = clock.now();
  if (progress !== undefined && isCommandTerminal(progress)) {
    const counts = {
      target: progress.targetCount,
      completed: progress.completedCount,
      errors: progress.errorCount,
    };
    const servers = serverResults(progress, now);
    // A canary that ended while a cancel was asked for: the rest is not started.
    const stopped =
      current.commandCancelledAt !== undefined ||
      (current.phase === 'canary' && current.cancelRequest !== undefined);
    if (current.phase === 'canary' && !stopped) {
      return canaryOutcome({ ...current, counts }, servers, deps);
    }
    return {
      kind: 'finished',
      deployment: { ...current, counts },
      verdict: stopped
        ? cancelledVerdict(
            servers,
            current.phase === 'canary'
              ? `${cancelledBy(current)} during its canary, so the other servers were never attempted`
              : cancelledBy(current),
          )
        : tooLate(
            current,
            afterCanary(
              current,
              (current.job.mode === 'verify' ? verifyVerdict : verdict)(
                progress,
                servers,
                formatTarget(current.job.target),
              ),
            ),
          ),
      servers,
    };
  }
  if (current.cancelRequest !== undefined && current.commandCancelledAt === undefined) {
    // Asked to cancel while the command runs: cancel it once, then wait for it to end so that
    // each server's result says where the cancel found it.
    await deps.commands.cancel(commandId);
    current = await save(revise(current, { commandCancelledAt: now.toISOString() }, now));
    deps.logger.info(
      { jobId: current.job.jobId, commandId },
      'cancel requested: command cancelled',
    );
  }
  const runningFor = (now.getTime() - dispatchedAt) / 1000;
  if (runningFor > settings.jobTimeoutSeconds) {
    return timedOut(current, commandId, progress, deps);
  }
  if (progress !== undefined) {
    const counts = {
      target: progress.targetCount,
      completed: progress.completedCount,
      errors: progress.errorCount,
    };
    if (!sameCounts(current.counts, counts)) {
      current = await save(revise(current, { counts }, now));
    }
  }
  const delay = signal.aborted
    ? 0
    : pollDelaySeconds(runningFor, settings.pollInitialSeconds, settings.pollMaxSeconds);
  const waiting =
    progress === undefined
      ? 'just sent'
      : progress.targetCount === 0
        ? 'no server has reported yet'
        : `${progress.completedCount} of ${progress.targetCount} servers done`;
  return {
    kind: 'waiting',
    deployment: current,
    outcome: later(delay, `command ${commandId} running: ${waiting}`, {
      commandId,
      jobId: current.job.jobId,
      deadline: dispatchedAt + settings.jobTimeoutSeconds * 1000 + 1000,
      firstLookAt:
        now.getTime() +
        nextLookInMs(now.getTime() - dispatchedAt, settings.commandLookSeconds * 1000),
      sentAt: dispatchedAt,
      progress: progressKey(current.counts),
    }),
  };
}

/**
 * The job's timeout passed: the command must not go on installing behind its recorded outcome.
 * A failed cancel is logged and the outcome recorded all the same (SSM's own timeouts still end
 * the command).
 */
async function timedOut(
  current: Deployment,
  commandId: string,
  progress: CommandProgress | undefined,
  deps: WorkerDeps,
): Promise<PollResult> {
  const { settings, clock } = deps;
  try {
    await deps.commands.cancel(commandId);
  } catch (error) {
    deps.logger.warn(
      { commandId, err: error instanceof Error ? error.message : String(error) },
      'could not cancel the timed-out command; it ends at its own timeout',
    );
  }
  const final = await deps.commands.progress(commandId, { invocations: true });
  const servers = serverResults(final, clock.now());
  const done = servers.filter((s) => s.status === 'Success').length;
  const counts = {
    target: final.targetCount,
    completed: final.completedCount,
    errors: final.errorCount,
  };
  return {
    kind: 'finished',
    deployment: { ...current, counts },
    servers,
    verdict:
      current.cancelRequest !== undefined
        ? cancelledVerdict(servers, cancelledBy(current))
        : {
            status: 'TimedOut',
            reason: `command ${commandId} did not finish within ${settings.jobTimeoutSeconds} s (${done} of ${Math.max(progress?.targetCount ?? 0, final.targetCount, servers.length)} servers done) and was cancelled on the rest; check the servers' SSM agents`,
          },
  };
}

/** A cancel that came after the command had ended stops nothing: the outcome stands, noted. */
function tooLate(d: Deployment, outcome: JobVerdict): JobVerdict {
  if (d.cancelRequest === undefined) return outcome;
  return {
    ...outcome,
    reason: `${outcome.reason} (${cancelledBy(d)}, after the command had ended: nothing was stopped)`,
  };
}

/**
 * The canary's command ended: on to the rest when every canary server succeeded; otherwise the
 * job ends, naming the tag's other servers as never attempted.
 */
async function canaryOutcome(
  d: Deployment,
  servers: readonly ServerResult[],
  deps: WorkerDeps,
): Promise<PollResult> {
  if (servers.length > 0 && servers.every((s) => s.status === 'Success')) {
    return { kind: 'canary-passed', deployment: d };
  }
  const canary = new Set(d.canaryServers);
  const rest = (await deps.commands.managedNodesTagged(d.job.target))
    .map((n) => n.instanceId)
    .filter((id) => !canary.has(id))
    .sort();
  return {
    kind: 'finished',
    deployment: d,
    servers,
    verdict: tooLate(d, canaryVerdict(servers, rest, describeServer)),
  };
}

/** The rest's outcome says that a canary went first. */
function afterCanary(d: Deployment, outcome: JobVerdict): JobVerdict {
  if (d.phase !== 'rest' || d.canaryServers === undefined) return outcome;
  return {
    ...outcome,
    reason: `after a canary (${d.canaryServers.join(', ')}): ${outcome.reason}`,
  };
}
