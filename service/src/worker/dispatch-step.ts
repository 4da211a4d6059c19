import type { Deployment } from '../domain/deployment.ts';
import { moveTo, revise, withCondition } from '../domain/deployment-record.ts';
import { formatTarget } from '../domain/target.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';
import { certificateInfo } from './certificate-info.ts';
import { documentParameters, effectiveInstall } from './document-parameters.ts';
import { exportWithPassphrase } from './export-step.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import { commandComment } from './job-ids.ts';
import { mappingKeyOf } from './mapping-key.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** How long after a dispatch began a command may still be invisible to ListCommands. */
const dispatchSettleMs = 30_000;

/**
 * Dispatching → Running: exactly one SendCommand per job. `dispatchStartedAt` is recorded
 * (conditionally, so only one worker proceeds) before the call — by the export step's write on
 * the first pass; a job resumed after a crash first looks for a command carrying its comment,
 * and sends only when there is none.
 */
export async function dispatchStep(
  d: Deployment,
  bundleInMemory: ExportedBundle | undefined,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<Deployment | HandlerOutcome> {
  const { settings, clock } = deps;
  const comment = commandComment(d.job.jobId);
  let current = d;
  let bundle = bundleInMemory;
  if (bundle === undefined) {
    // Resumed (or a send failed): a command may have gone out before the last attempt stopped.
    if (current.dispatchStartedAt !== undefined) {
      const startedAt = Date.parse(current.dispatchStartedAt);
      const found = await deps.commands.findByComment(
        settings.documentName,
        comment,
        new Date(startedAt - 60_000),
      );
      if (found !== undefined) {
        return running(current, found, current.dispatchStartedAt, deps, save);
      }
      if (clock.now().getTime() - startedAt < dispatchSettleMs) {
        return later(
          10,
          'a command may have been sent just before the last attempt stopped; looking again',
        );
      }
    }
    current = await save(
      revise(current, { dispatchStartedAt: clock.now().toISOString() }, clock.now()),
    );
    // The bundle is never stored: export again with the job's recorded passphrase.
    const exported = await exportWithPassphrase(current, deps, save);
    current = exported.deployment;
    bundle = exported.bundle;
    const info = certificateInfo(bundle.certificate);
    if (info.serial !== current.certificate?.serial) {
      current = await save(revise(current, { certificate: info }, clock.now()));
    }
  }
  if (current.secretArn === undefined || current.secretVersionId === undefined) {
    throw new Error('dispatch without a recorded passphrase version');
  }
  const mapping = await deps.mappings.get(mappingKeyOf(current.job));
  const install = effectiveInstall(current.job, mapping?.install);
  const { commandId } = await deps.commands.send({
    documentName: settings.documentName,
    ...(settings.documentVersion === undefined
      ? {}
      : { documentVersion: settings.documentVersion }),
    target: current.job.target,
    ...(current.job.instanceIds === undefined ? {} : { instanceIds: current.job.instanceIds }),
    parameters: documentParameters(
      current.job,
      install,
      bundle,
      current.secretArn,
      current.secretVersionId,
    ),
    comment,
    maxConcurrency: settings.maxConcurrency,
    maxErrors: settings.maxErrors,
    timeoutSeconds: settings.commandTimeoutSeconds,
  });
  return running(current, commandId, clock.now().toISOString(), deps, save);
}

async function running(
  d: Deployment,
  commandId: string,
  dispatchedAt: string,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<Deployment> {
  const now = deps.clock.now();
  return save(
    moveTo(
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
          `command ${commandId} sent to servers tagged ${formatTarget(d.job.target)}`,
          now,
        ),
      },
      now,
    ),
  );
}
