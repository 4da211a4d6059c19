import type { Deployment } from '../domain/deployment.ts';
import { sentBefore } from './dispatch-step.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import { cancelledVerdict, type JobVerdict } from './outcome-policy.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** What a cancel request does to a job that is not Running yet. */
export type CancelResult =
  | { readonly kind: 'finished'; readonly verdict: JobVerdict }
  | { readonly kind: 'sent'; readonly commandId: string }
  | { readonly kind: 'waiting'; readonly outcome: HandlerOutcome };

/** "cancelled by <principal> at <time>", for the job's reason. */
export function cancelledBy(d: Deployment): string {
  const r = d.cancelRequest;
  return r === undefined ? 'cancelled' : `cancelled by ${r.by} at ${r.at}`;
}

/**
 * A job asked to cancel before it reached Running (Queued, Exporting, Dispatching) ends without
 * sending anything. Only a job whose dispatch had begun (`dispatchStartedAt`, written
 * conditionally before SendCommand) can have a command out: it is looked for by its comment,
 * for as long as Run Command may not list it yet, and handed to the poll step to cancel if found.
 */
export async function cancelBeforeRunning(d: Deployment, deps: WorkerDeps): Promise<CancelResult> {
  const nothingSent = { kind: 'finished', verdict: nothingSentVerdict(d) } as const;
  if (d.status !== 'Dispatching' || d.dispatchStartedAt === undefined) return nothingSent;
  const before = await sentBefore(d, d.dispatchStartedAt, deps);
  if (typeof before === 'object') return { kind: 'sent', commandId: before.commandId };
  if (before === 'settling') {
    return {
      kind: 'waiting',
      outcome: later(10, 'cancelled while its command was being sent: looking for the command'),
    };
  }
  return nothingSent;
}

/** Nothing was sent since the request; a canary that passed before keeps what it installed. */
function nothingSentVerdict(d: Deployment): JobVerdict {
  if (d.phase !== 'rest' || d.canaryServers === undefined)
    return cancelledVerdict([], cancelledBy(d));
  return {
    status: 'Cancelled',
    reason: `${cancelledBy(d)} after its canary succeeded on ${d.canaryServers.join(', ')} (command ${d.canaryCommandId ?? '?'}): those servers keep the certificate; no command was sent to the others`,
  };
}
