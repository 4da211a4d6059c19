import { type Deployment, isTerminal } from '../domain/deployment.ts';
import { moveTo, revise, withCondition } from '../domain/deployment-record.ts';
import { ConflictError, TerminalError } from '../domain/errors.ts';
import type { Mapping } from '../domain/mapping.ts';
import { errorThreshold, serversWorthCounting } from '../domain/rate-control.ts';
import { formatTarget } from '../domain/target.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';
import { agentWaitDeadline } from './agent-readiness.ts';
import { canaryServers, phaseComment, wantsCanary } from './canary.ts';
import { documentParameters, effectiveInstall } from './document-parameters.ts';
import { readExport } from './export-step.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import { mappingKeyOf } from './mapping-key.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * How long after a dispatch began, or a send failed without an answer, a command may still be
 * unlisted by ListCommands (eventual consistency, or a request still being processed when its
 * connection dropped).
 */
export const dispatchSettleMs = 30_000;

/**
 * What became of the send a dispatch began at `dispatchStartedAt`: the command, found by the
 * phase's comment; else `settling` while one sent then may still be unlisted (`dispatchSettleMs`
 * after the dispatch began, or after a send last failed: `dispatchFailedAt`); else `none`.
 */
export async function sentBefore(
  d: Deployment,
  dispatchStartedAt: string,
  deps: Pick<WorkerDeps, 'commands' | 'settings' | 'clock'>,
): Promise<{ readonly commandId: string } | 'settling' | 'none'> {
  const startedAt = Date.parse(dispatchStartedAt);
  const found = await deps.commands.findByComment(
    deps.settings.documentName,
    phaseComment(d),
    new Date(startedAt - 60_000),
  );
  if (found !== undefined) return { commandId: found };
  const lastSend =
    d.dispatchFailedAt === undefined
      ? startedAt
      : Math.max(startedAt, Date.parse(d.dispatchFailedAt));
  return deps.clock.now().getTime() - lastSend < dispatchSettleMs ? 'settling' : 'none';
}

/** Delay before sending again to a server SSM did not know yet (InvalidInstanceId). */
const unknownInstanceRetrySeconds = 20;

/** What the dispatch step did: sent (or found) the command, or handed the message back. */
export type DispatchResult =
  | { readonly kind: 'sent'; readonly deployment: Deployment; readonly found: boolean }
  | { readonly kind: 'waiting'; readonly outcome: HandlerOutcome };

/**
 * Dispatching → Running: exactly one SendCommand per job and phase (a job with a canary has two:
 * worker/canary.ts). `dispatchStartedAt` is recorded (conditionally, so only one worker proceeds)
 * before the call — by the export step's write on the first pass; a job resumed after a crash
 * first looks for a command carrying its phase's comment, and sends only when there is none. The
 * bundle comes from the job's secret version when it is not in memory: a job is exported once.
 * `lockedMapping`: the mapping as this pickup's lock returned it (install options), if any.
 * `keep`: how the command sent is recorded (the handler keeps it for the pickup's next write).
 */
export async function dispatchStep(
  d: Deployment,
  bundleInMemory: ExportedBundle | undefined,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
  lockedMapping?: Mapping,
  keep: (next: Deployment) => Promise<Deployment> = save,
): Promise<DispatchResult> {
  const { settings, clock } = deps;
  let current = d;
  if (wantsCanary(current) && current.phase === undefined) {
    // Chosen and recorded before anything is sent: a resumed job looks for this phase's command.
    const chosen = canaryServers(
      await deps.commands.managedNodesTagged(current.job.target),
      current.job.canary ?? 0,
    );
    current = await save(
      revise(
        current,
        chosen === undefined ? { phase: 'rest' } : { phase: 'canary', canaryServers: chosen },
        clock.now(),
      ),
    );
  }
  const comment = phaseComment(current);
  const instanceIds = current.phase === 'canary' ? current.canaryServers : current.job.instanceIds;
  let bundle = bundleInMemory;
  if (current.secretArn === undefined || current.secretVersionId === undefined) {
    throw new Error('dispatch without a recorded secret version');
  }
  if (bundle === undefined) {
    // Resumed (or a send failed): a command may have gone out before the last attempt stopped.
    if (current.dispatchStartedAt !== undefined) {
      const before = await sentBefore(current, current.dispatchStartedAt, deps);
      if (typeof before === 'object') {
        const { commandId } = before;
        const deployment = await running(current, commandId, current.dispatchStartedAt, deps, save);
        return { kind: 'sent', deployment, found: true };
      }
      if (before === 'settling') {
        return {
          kind: 'waiting',
          outcome: later(
            10,
            'a command may have been sent just before the last attempt stopped; looking again',
          ),
        };
      }
    }
    current = await save(
      revise(current, { dispatchStartedAt: clock.now().toISOString() }, clock.now()),
    );
    bundle = (
      await readExport(current.secretArn as string, current.secretVersionId as string, deps)
    ).bundle;
  }
  // The mapping as the job's lock returned it in this pickup; read when resumed without it.
  const mapping = lockedMapping ?? (await deps.mappings.get(mappingKeyOf(current.job)));
  const install = effectiveInstall(current.job, mapping?.install);
  const maxErrors = errorThreshold(
    settings.maxErrors,
    instanceIds?.length ?? (await tagServerCount(current, mapping, deps)),
  );
  let commandId: string;
  try {
    ({ commandId } = await deps.commands.send({
      documentName: settings.documentName,
      ...(settings.documentVersion === undefined
        ? {}
        : { documentVersion: settings.documentVersion }),
      target: current.job.target,
      ...(instanceIds === undefined ? {} : { instanceIds }),
      parameters: documentParameters(
        current.job,
        install,
        bundle,
        current.secretArn as string,
        current.secretVersionId as string,
      ),
      comment,
      maxConcurrency: settings.maxConcurrency,
      maxErrors,
      timeoutSeconds: settings.commandTimeoutSeconds,
    }));
  } catch (error) {
    // A server that started a moment ago (or stopped and started again) can be unknown to Run
    // Command although its agent was online when the job looked: nothing was sent, so the
    // dispatch can start over until the job's wait for agents runs out.
    if (
      error instanceof TerminalError &&
      error.code === 'InvalidTarget' &&
      current.job.instanceIds !== undefined &&
      clock.now().getTime() < agentWaitDeadline(current, settings)
    ) {
      const { dispatchStartedAt: _sent, dispatchFailedAt: _failed, ...rest } = current;
      await save(revise(rest, {}, clock.now()));
      return {
        kind: 'waiting',
        outcome: later(
          unknownInstanceRetrySeconds,
          `Run Command does not know ${current.job.instanceIds.join(', ')} yet (InvalidInstanceId)`,
        ),
      };
    }
    if (!(error instanceof TerminalError)) {
      // The last attempt may have been taken with its answer lost (send() looked and did not
      // find it; after throttles alone nothing was taken, and waiting costs only the settle):
      // the next pickup waits dispatchSettleMs from now, not from the dispatch's start, before
      // it concludes nothing was sent. Should this write fail, the failure is still the error
      // to report.
      await save(
        revise(current, { dispatchFailedAt: clock.now().toISOString() }, clock.now()),
      ).catch(() => undefined);
    }
    throw error;
  }
  // Sent: recorded with the pickup's next write (`keep`). Should the worker stop before, the
  // recorded dispatchStartedAt makes the next pickup look for the command by its comment.
  const deployment = await running(current, commandId, clock.now().toISOString(), deps, keep);
  return { kind: 'sent', deployment, found: false };
}

/**
 * How many servers a command to the tag will reach, when the MaxErrors percentage needs to know
 * (a command to named servers counts them): as many as the mapping's last command to the tag
 * reached (recorded at its end), or else the managed nodes carrying the tag, counted up to the
 * number from which the percentage tolerates a failure by itself (one page of
 * DescribeInstanceInformation for 2% and more). Undefined when the setting does not depend on it.
 */
async function tagServerCount(
  d: Deployment,
  mapping: Mapping | undefined,
  deps: WorkerDeps,
): Promise<number | undefined> {
  const enough = serversWorthCounting(deps.settings.maxErrors);
  if (enough <= 1) return undefined;
  if (mapping?.serverCount !== undefined) return mapping.serverCount;
  return (await deps.commands.managedNodesTagged(d.job.target, { atMost: enough })).length;
}

/**
 * Records the command sent (or found): Dispatching → Running. When the record changed since the
 * job read it (a cancel request was recorded while the command went out), the command is
 * recorded on top of the new version, so it is never lost and the poll step cancels it; a record
 * that ended meanwhile gets the command cancelled at once.
 */
export async function running(
  d: Deployment,
  commandId: string,
  dispatchedAt: string,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<Deployment> {
  try {
    return await save(runningRecord(d, commandId, dispatchedAt, deps.clock.now()));
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const fresh = await deps.deployments.get(d.job.jobId);
    if (fresh?.status === 'Dispatching') {
      return save(runningRecord(fresh, commandId, dispatchedAt, deps.clock.now()));
    }
    if (fresh !== undefined && isTerminal(fresh.status)) {
      deps.logger.warn(
        { jobId: d.job.jobId, commandId, status: fresh.status },
        'the job ended while its command was being sent: cancelling the command',
      );
      await deps.commands.cancel(commandId);
    }
    throw error;
  }
}

function runningRecord(
  d: Deployment,
  commandId: string,
  dispatchedAt: string,
  now: Date,
): Deployment {
  const where =
    d.phase === 'canary'
      ? `the canary ${(d.canaryServers ?? []).join(', ')} (of the servers tagged ${formatTarget(d.job.target)})`
      : d.job.instanceIds === undefined
        ? `servers tagged ${formatTarget(d.job.target)}`
        : `${d.job.instanceIds.join(', ')} (tagged ${formatTarget(d.job.target)})`;
  return moveTo(
    d,
    'Running',
    {
      commandId,
      dispatchedAt,
      conditions: withCondition(
        d.conditions,
        'Dispatched',
        'True',
        'CommandSent',
        `command ${commandId} sent to ${where}`,
        now,
      ),
    },
    now,
  );
}
