import type { Deployment, ServerResult } from '../domain/deployment.ts';
import { revise } from '../domain/deployment-record.ts';
import { formatTarget } from '../domain/target.ts';
import type { CommandProgress } from '../ports/command-runner.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import { errorTail, parseInstallSummary } from './install-summary.ts';
import { isCommandTerminal, type JobVerdict, pollDelaySeconds, verdict } from './outcome-policy.ts';
import type { WorkerDeps } from './worker-deps.ts';

export type PollResult =
  | { readonly kind: 'finished'; readonly deployment: Deployment; readonly verdict: JobVerdict }
  | { readonly kind: 'waiting'; readonly deployment: Deployment; readonly outcome: HandlerOutcome };

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

function sameServers(a: readonly ServerResult[], b: readonly ServerResult[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (s, i) =>
      s.instanceId === b[i]?.instanceId &&
      s.status === b[i]?.status &&
      s.statusDetails === b[i]?.statusDetails,
  );
}

/**
 * Running: looks at the command, records each server's status, and decides. Polls in-process
 * every `inlinePollIntervalMs` until `inlinePollSeconds` after the pickup began, then hands the
 * message back to SQS with an adaptive delay. An empty invocation list is "not yet".
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
  for (;;) {
    const progress = await deps.commands.progress(commandId);
    const now = clock.now();
    const servers = serverResults(progress, now);
    const counts = {
      target: progress.targetCount,
      completed: progress.completedCount,
      errors: progress.errorCount,
    };
    if (isCommandTerminal(progress)) {
      return {
        kind: 'finished',
        deployment: { ...current, servers, counts },
        verdict: verdict(progress, servers, formatTarget(current.job.target)),
      };
    }
    const runningFor = (now.getTime() - dispatchedAt) / 1000;
    if (runningFor > settings.jobTimeoutSeconds) {
      const done = servers.filter((s) => s.status === 'Success').length;
      // The job ends here: the command must not go on installing behind its recorded outcome.
      // A failed cancel is logged and the outcome recorded all the same (SSM's own timeouts still
      // end the command).
      try {
        await deps.commands.cancel(commandId);
      } catch (error) {
        deps.logger.warn(
          { commandId, err: error instanceof Error ? error.message : String(error) },
          'could not cancel the timed-out command; it ends at its own timeout',
        );
      }
      return {
        kind: 'finished',
        deployment: { ...current, servers, counts },
        verdict: {
          status: 'TimedOut',
          reason: `command ${commandId} did not finish within ${settings.jobTimeoutSeconds} s (${done} of ${Math.max(progress.targetCount, servers.length)} servers done) and was cancelled on the rest; check the servers' SSM agents`,
        },
      };
    }
    if (!sameServers(servers, current.servers)) {
      current = await save(revise(current, { servers, counts }, now));
    }
    const inlineLeft = pickupStartedAt + settings.inlinePollSeconds * 1000 - now.getTime();
    if (inlineLeft > settings.inlinePollIntervalMs && !signal.aborted) {
      await deps.sleep(settings.inlinePollIntervalMs, signal);
      if (!signal.aborted) continue;
    }
    const delay = signal.aborted
      ? 0
      : pollDelaySeconds(runningFor, settings.pollInitialSeconds, settings.pollMaxSeconds);
    const waiting =
      progress.invocations.length === 0
        ? 'no server has reported yet'
        : `${servers.filter((s) => s.status === 'Success').length} of ${servers.length} servers done`;
    return {
      kind: 'waiting',
      deployment: current,
      outcome: later(delay, `command ${commandId} running: ${waiting}`),
    };
  }
}
