import Type, { type Static } from 'typebox';
import { CertificateArn, CertName, Target } from './deploy-request.ts';

export const reconcileType = 'reconcile';
export const reconcileMappingType = 'reconcile-mapping';

const SweepId = Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' });

/**
 * A reconciliation sweep of every mapping: `{"type":"reconcile","version":1}`, put on the job
 * queue hourly by the stack's EventBridge Scheduler schedule (which fills `scheduledTime`), daily
 * with `verify` (the servers' files are checked too), or by `POST /v1/reconcile`. The worker
 * reads one page of mappings, queues one `reconcile-mapping` message each, and queues the rest
 * of the walk as the same message with `cursor`: a crash repeats at most one page.
 */
export const ReconcileMessageV1 = Type.Object(
  {
    type: Type.Literal(reconcileType),
    version: Type.Literal(1),
    /** Names the sweep in job ids and logs; derived from scheduledTime or the message id when absent. */
    sweepId: Type.Optional(SweepId),
    scheduledTime: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Also run the install document's Verify mode on the servers that look converged. */
    verify: Type.Optional(Type.Boolean()),
    /** Where the walk of the mappings goes on (set by the worker on its continuation). */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type ReconcileMessage = Static<typeof ReconcileMessageV1>;

/** One mapping's reconciliation, queued by a sweep (or by `POST /v1/reconcile` for one mapping). */
export const ReconcileMappingMessageV1 = Type.Object(
  {
    type: Type.Literal(reconcileMappingType),
    version: Type.Literal(1),
    sweepId: SweepId,
    certificateArn: CertificateArn,
    certName: CertName,
    target: Target,
    verify: Type.Optional(Type.Boolean()),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type ReconcileMappingMessage = Static<typeof ReconcileMappingMessageV1>;
