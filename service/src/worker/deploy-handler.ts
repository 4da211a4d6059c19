import type { DeployJob } from '../domain/deploy-job.ts';
import { type Deployment, isTerminal } from '../domain/deployment.ts';
import { policyProblems } from '../domain/deployment-policy.ts';
import { newDeployment, revise } from '../domain/deployment-record.ts';
import { ConflictError, TerminalError } from '../domain/errors.ts';
import type { Mapping } from '../domain/mapping.ts';
import { formatTarget } from '../domain/target.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import type { JobStep } from '../metrics/definitions.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';
import { waitForAgents } from './agent-readiness.ts';
import { restPhase } from './canary.ts';
import { cancelBeforeRunning } from './cancel-step.ts';
import { dispatchStep, running } from './dispatch-step.ts';
import { exportStep } from './export-step.ts';
import { finishStep } from './finish-step.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import { queueJobId } from './job-ids.ts';
import { mappingKeyOf } from './mapping-key.ts';
import { failureBackoffSeconds } from './outcome-policy.ts';
import { pollStep } from './poll-step.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** The job a deploy message asks for; a message without a job id gets one from its MessageId. */
export function jobFromMessage(
  m: DeployMessage,
  ctx: Pick<MessageContext, 'messageId'>,
): DeployJob {
  return {
    jobId: m.jobId ?? queueJobId(ctx.messageId),
    certificateArn: m.certificateArn,
    certName: m.certName,
    target: m.target,
    install: m.install ?? {},
    trigger: m.trigger ?? 'queue',
    ...(m.requester === undefined ? {} : { requester: m.requester }),
    ...(m.eventId === undefined ? {} : { eventId: m.eventId }),
    ...(m.instanceIds === undefined ? {} : { instanceIds: m.instanceIds }),
    ...(m.mode === undefined || m.mode === 'install' ? {} : { mode: m.mode }),
    ...(m.rollout?.canary === undefined ? {} : { canary: m.rollout.canary }),
  };
}

const crashedMidStep = 'the worker stopped during a step (crash, kill or timeout)';

/** A short, secret-free description of an unexpected error for the record and the logs. */
function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return 'unknown error';
}

/**
 * Carries one deploy job forward from its recorded state: Queued → Exporting → Dispatching →
 * Running → terminal. Each pickup does what it can, then acknowledges (terminal), or hands the
 * message back with a delay (waiting), or dead-letters it (failed too often).
 */
export async function handleDeploy(
  message: DeployMessage,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const job = jobFromMessage(message, ctx);
  const log = deps.logger.child({
    jobId: job.jobId,
    certificateArn: job.certificateArn,
    certName: job.certName,
    target: formatTarget(job.target),
  });
  const pickupStartedAt = deps.clock.now().getTime();
  /** Runs one step of this pickup, measured: its duration by step and result (metrics port). */
  const measured = async <T>(
    step: JobStep,
    run: () => Promise<T>,
    resultOf: (result: T) => 'done' | 'waiting' = () => 'done',
  ): Promise<T> => {
    const started = deps.clock.now().getTime();
    const seconds = () => (deps.clock.now().getTime() - started) / 1000;
    let result: T;
    try {
      result = await run();
    } catch (error) {
      deps.metrics.stepFinished(step, 'error', seconds());
      throw error;
    }
    deps.metrics.stepFinished(step, resultOf(result), seconds());
    return result;
  };
  const refused = policyProblems(job, deps.settings.policy);
  // The record as stored (undefined: not created yet) and as this pickup has it in memory.
  let stored: Deployment | undefined = await deps.deployments.get(job.jobId);
  if (refused.length > 0) {
    const reason = `refused by this service's policy: ${refused.map((p) => `${p.field} ${p.problem}`).join('; ')}`;
    log.warn({ refused }, 'job refused: moving its message to the dead-letter queue');
    if (stored !== undefined && !isTerminal(stored.status)) {
      const d = stored;
      await finishStep(
        d,
        { status: 'Failed', reason, code: 'Refused' },
        deps,
        (next) => deps.deployments.save(next, d),
        log,
      );
    }
    return deadLetter(reason);
  }
  if (stored !== undefined && isTerminal(stored.status)) {
    log.info({ status: stored.status }, 'job already finished: duplicate message acknowledged');
    return ack;
  }
  const read = stored ?? newDeployment(job, deps.clock.now());
  let current: Deployment = read;
  // Whether `current` holds changes not written yet (kept for the pickup's next write).
  let dirty = false;
  /**
   * Writes `next` now, with whatever this pickup kept for its next write: one conditional write
   * (the record's creation when it is not stored yet), only the fields that changed.
   */
  const save = async (next: Deployment): Promise<Deployment> => {
    const base = stored?.version ?? 0;
    const record = dirty && next.version > base + 1 ? { ...next, version: base + 1 } : next;
    if (stored === undefined) {
      const made = await deps.deployments.create(record);
      if (!made.created) throw new ConflictError(`deployment ${job.jobId} created meanwhile`);
    } else {
      await deps.deployments.save(record, stored);
    }
    stored = record;
    current = record;
    dirty = false;
    return record;
  };
  /**
   * Keeps `next` for the pickup's next write, for what nothing has to wait on: the record of the
   * command sent (a resumed job finds it by its comment), a condition shown while waiting, the
   * command's counts. The pickup's last write (its end, the job's end) carries it.
   */
  const keep = async (next: Deployment): Promise<Deployment> => {
    current = next;
    dirty = true;
    return next;
  };

  // Pickup bookkeeping: the same message back while our previous pickup never ended = a crash.
  const previous = read.activeAttempt;
  const crashed =
    previous !== undefined &&
    previous.messageId === ctx.messageId &&
    previous.receiveCount < ctx.receiveCount;
  const failures = read.failures + (crashed ? 1 : 0);
  const lastError = crashed ? crashedMidStep : read.lastError;
  const now = deps.clock.now();
  if (crashed) log.warn({ failures }, 'the previous attempt at this job stopped mid-step');
  if (failures >= deps.settings.maxFailures) {
    return giveUp(
      read,
      `gave up after ${failures} failed attempts; last: ${lastError ?? crashedMidStep}`,
      deps,
      save,
      log,
    );
  }
  const pickup = revise(
    read,
    {
      attempts: read.attempts + 1,
      failures,
      activeAttempt: {
        messageId: ctx.messageId,
        receiveCount: ctx.receiveCount,
        startedAt: now.toISOString(),
      },
      ...(lastError === undefined ? {} : { lastError }),
    },
    now,
  );
  if (stored === undefined || stored.status === 'Queued') {
    // Nothing is done before the lock but looks: the record's creation, this bookkeeping and
    // Queued → Exporting are one conditional write once the lock is held (or the pickup's end).
    await keep(pickup);
  } else {
    // A job under way: the bookkeeping is written first, so one worker goes on.
    try {
      await save(pickup);
    } catch (error) {
      if (error instanceof ConflictError) return later(1, 'another worker is updating this job');
      throw error;
    }
  }

  const endPickup = async (outcome: HandlerOutcome): Promise<HandlerOutcome> => {
    await save(revise(current, { activeAttempt: undefined, failures: 0 }, deps.clock.now()));
    return outcome;
  };

  // The mapping as this pickup's lock returned it: the steps read it from here, not the table.
  let lockedMapping: Mapping | undefined;
  try {
    let bundle: ExportedBundle | undefined;
    for (;;) {
      const d = current;
      if (d.cancelRequest !== undefined && d.status !== 'Running') {
        const cancelled = await cancelBeforeRunning(d, deps);
        if (cancelled.kind === 'waiting') return await endPickup(cancelled.outcome);
        if (cancelled.kind === 'finished') {
          await finishStep(d, cancelled.verdict, deps, save, log, [], lockedMapping);
          return ack;
        }
        // Its command went out before the cancel: Running, where the poll step cancels it.
        await running(d, cancelled.commandId, d.dispatchStartedAt ?? d.updatedAt, deps, save);
        continue;
      }
      switch (d.status) {
        case 'Queued': {
          // The agents' wait (named servers only) and the mapping's lock: the `lock` step.
          const locking = await measured(
            'lock',
            async () => {
              const notReady = await waitForAgents(d, deps, keep);
              if (notReady !== undefined) return { notReady } as const;
              const leaseMs = (deps.settings.jobTimeoutSeconds + 600) * 1000;
              const lock = await deps.mappings.acquireLock(
                mappingKeyOf(d.job),
                d.job.jobId,
                new Date(deps.clock.now().getTime() + leaseMs),
                deps.clock.now(),
                d.job.install,
              );
              if (lock.acquired) await save(revise(d, { status: 'Exporting' }, deps.clock.now()));
              return { lock } as const;
            },
            (r) => (r.notReady !== undefined || !r.lock.acquired ? 'waiting' : 'done'),
          );
          if (locking.notReady !== undefined) {
            const { notReady } = locking;
            log.info(notReady.kind === 'later' ? notReady.why : 'waiting for agents');
            return await endPickup(notReady);
          }
          const { lock } = locking;
          if (!lock.acquired) {
            log.info(
              { holder: lock.holder },
              'another job for this certificate and target is running: waiting',
            );
            return await endPickup(
              later(deps.settings.lockRetrySeconds, `waiting for job ${lock.holder}`),
            );
          }
          lockedMapping = lock.mapping;
          break;
        }
        case 'Exporting': {
          const exported = await measured('export', () => exportStep(d, deps, save, lockedMapping));
          bundle = exported.bundle;
          const reused = exported.deployment.conditions.some((c) => c.reason === 'ReusedExport');
          log.info(
            {
              serial: exported.deployment.certificate?.serial,
              secretVersionId: exported.deployment.secretVersionId,
            },
            reused ? 'reusing the export installed before' : 'certificate exported',
          );
          break;
        }
        case 'Dispatching': {
          const result = await measured(
            'dispatch',
            () => dispatchStep(d, bundle, deps, save, lockedMapping, keep),
            (r) => (r.kind === 'waiting' ? 'waiting' : 'done'),
          );
          if (result.kind === 'waiting') {
            log.info(result.outcome.kind === 'later' ? result.outcome.why : 'waiting');
            return await endPickup(result.outcome);
          }
          const { commandId } = result.deployment;
          if (result.found) {
            log.info(
              { commandId },
              'found the install command sent before the previous attempt stopped',
            );
          } else {
            log.info({ commandId }, 'install command sent');
          }
          break;
        }
        case 'Running': {
          const polled = await measured(
            'poll',
            () => pollStep(d, deps, keep, pickupStartedAt, ctx.signal),
            (r) => (r.kind === 'waiting' ? 'waiting' : 'done'),
          );
          if (polled.kind === 'waiting') {
            log.debug(
              { delaySeconds: polled.outcome.kind === 'later' ? polled.outcome.delaySeconds : 0 },
              'command still running',
            );
            return await endPickup(polled.outcome);
          }
          if (polled.kind === 'canary-passed') {
            log.info({ canary: d.canaryServers }, 'canary succeeded: installing on the rest');
            await save(restPhase(polled.deployment, deps.clock.now()));
            // The rest's dispatch must claim its send (dispatchStartedAt) before it: without the
            // bundle in memory it does, reading the export back from the job's secret version.
            bundle = undefined;
            break;
          }
          await measured('finish', () =>
            finishStep(
              polled.deployment,
              polled.verdict,
              deps,
              save,
              log,
              polled.servers,
              lockedMapping,
            ),
          );
          return ack;
        }
        default:
          return ack;
      }
    }
  } catch (error) {
    const d = current;
    if (error instanceof TerminalError) {
      await finishStep(
        d,
        { status: 'Failed', reason: error.message, code: error.code },
        deps,
        save,
        log,
        [],
        lockedMapping,
      );
      return ack;
    }
    if (error instanceof ConflictError) {
      log.info('another worker updated the job: looking again shortly');
      return later(1, 'another worker updated the job');
    }
    const failed = d.failures + 1;
    const description = describeError(error);
    log.warn({ err: error, failures: failed }, 'attempt failed; will retry');
    if (failed >= deps.settings.maxFailures) {
      return giveUp(
        d,
        `gave up after ${failed} failed attempts; last: ${description}`,
        deps,
        save,
        log,
      );
    }
    try {
      await save(
        revise(
          d,
          { failures: failed, lastError: description, activeAttempt: undefined },
          deps.clock.now(),
        ),
      );
    } catch {
      // The record could not be written either: SQS redelivers, the crash check counts it.
    }
    return later(failureBackoffSeconds(failed), description);
  }
}

async function giveUp(
  d: Deployment,
  reason: string,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
  log: WorkerDeps['logger'],
): Promise<HandlerOutcome> {
  log.error({ reason }, 'job failed too often: moving its message to the dead-letter queue');
  await finishStep(d, { status: 'Failed', reason }, deps, save, log);
  return deadLetter(reason);
}
