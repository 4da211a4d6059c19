import Type, { type Static, type TSchema } from 'typebox';
import {
  CertificateArn,
  CertName,
  InstallOptionsSchema,
  JobId,
  RolloutSchema,
  TagKey,
  TagValue,
  Target,
} from '../messages/deploy-request.ts';

/**
 * Response and parameter schemas of the HTTP API. Request bodies are the shared message schemas
 * (`LegacyDeployBody`, `DeployRequestV1` in messages/deploy-request.ts).
 */

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable error code (see docs/api.md)' }),
    message: Type.String({ description: 'What went wrong, for people' }),
    reason: Type.Optional(
      Type.String({ description: 'For UNAUTHENTICATED: why the caller was not identified' }),
    ),
    details: Type.Optional(
      Type.Array(
        Type.Object({
          in: Type.String({ description: 'body, query, params or headers' }),
          field: Type.String({ description: 'JSON pointer to the field' }),
          problem: Type.String(),
        }),
      ),
    ),
    requestId: Type.Optional(Type.String({ description: 'Quote this when reporting a 5xx' })),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const DeploymentStatus = Type.Union(
  [
    Type.Literal('Queued'),
    Type.Literal('Exporting'),
    Type.Literal('Dispatching'),
    Type.Literal('Running'),
    Type.Literal('Succeeded'),
    Type.Literal('PartiallyFailed'),
    Type.Literal('Failed'),
    Type.Literal('TimedOut'),
    Type.Literal('NoTargets'),
    Type.Literal('Cancelled'),
  ],
  { description: 'The last six are terminal' },
);

export const JobAccepted = Type.Object({
  jobId: Type.String(),
  status: DeploymentStatus,
  statusUrl: Type.String({ description: 'Where to GET the deployment' }),
});
export type JobAccepted = Static<typeof JobAccepted>;

export const DeploymentPlanView = Type.Object({
  dryRun: Type.Literal(true),
  certificate: Type.Object({
    arn: Type.String(),
    status: Type.String({ description: 'ACM status; UNKNOWN when ACM did not describe it' }),
    type: Type.String(),
    exportable: Type.Boolean(),
    serial: Type.Optional(Type.String()),
    notAfter: Type.Optional(Type.String()),
  }),
  target: Target,
  certName: CertName,
  wouldDeploy: Type.Boolean({
    description: 'The certificate is issued and exportable: a deployment would export it',
  }),
  servers: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      pingStatus: Type.String({ description: 'Online, ConnectionLost or Inactive' }),
      agentVersion: Type.Optional(Type.String()),
      agentSupported: Type.Boolean({
        description: 'The SSM Agent is recent enough for the install document (3.3.2746.0)',
      }),
      installedSerial: Type.Optional(
        Type.String({
          description:
            'The serial this server holds, as the mapping’s last job to reach it recorded',
        }),
      ),
      wouldInstall: Type.Boolean(),
    }),
  ),
  problems: Type.Array(Type.String(), {
    description: 'Why it would not deploy, or where it would fail',
  }),
});
export type DeploymentPlanView = Static<typeof DeploymentPlanView>;

const NullableString = Type.Union([Type.String(), Type.Null()]);

const Condition = Type.Object({
  type: Type.String(),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  reason: Type.String(),
  message: Type.String(),
  lastTransitionTime: Type.String(),
});

const ServerResult = Type.Object({
  instanceId: Type.String(),
  status: Type.String(),
  statusDetails: Type.String(),
  responseCode: Type.Optional(Type.Integer()),
  summary: Type.Optional(
    Type.Object({
      outcome: Type.String(),
      serial: NullableString,
      notBefore: NullableString,
      notAfter: NullableString,
      sha256: NullableString,
      files: Type.Array(Type.String()),
      reloaded: Type.Boolean(),
      message: Type.Optional(Type.String()),
      problems: Type.Optional(
        Type.Array(Type.String(), { description: 'Verify runs: what differs on the server' }),
      ),
    }),
  ),
  error: Type.Optional(Type.String()),
  updatedAt: Type.String(),
});

export const DeploymentView = Type.Object({
  jobId: Type.String(),
  status: DeploymentStatus,
  reason: Type.Optional(Type.String()),
  certificateArn: Type.String(),
  certName: Type.String(),
  target: Target,
  install: InstallOptionsSchema,
  requester: Type.Optional(Type.String()),
  trigger: Type.String({
    description:
      'api, queue, renewal, instance (a server that started) or reconcile (the reconciliation sweep)',
  }),
  mode: Type.Optional(
    Type.String({ description: 'verify: a check of the servers’ files (changes nothing)' }),
  ),
  eventId: Type.Optional(Type.String()),
  instanceIds: Type.Optional(
    Type.Array(Type.String(), { description: 'only these servers of the target, when set' }),
  ),
  conditions: Type.Array(Condition),
  certificate: Type.Optional(
    Type.Object({ serial: Type.String(), notBefore: Type.String(), notAfter: Type.String() }),
  ),
  commandId: Type.Optional(Type.String()),
  rollout: Type.Optional(RolloutSchema),
  canaryServers: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'With a canary: the servers of the first batch (commandId is the rest’s once they all succeeded)',
    }),
  ),
  canaryCommandId: Type.Optional(
    Type.String({ description: 'With a canary that succeeded: the first batch’s command' }),
  ),
  cancelRequest: Type.Optional(
    Type.Object(
      { at: Type.String(), by: Type.String() },
      { description: 'Who asked to cancel the job, and when (the worker ends it Cancelled)' },
    ),
  ),
  servers: Type.Optional(
    Type.Array(ServerResult, {
      description:
        'Per-server results once the job ended: the first page of them, by instance id (GET /v1/deployments/{id}/servers pages on from serversNextCursor). Absent in lists.',
    }),
  ),
  serversNextCursor: Type.Optional(
    Type.String({
      description: 'More servers: pass as cursor to GET /v1/deployments/{id}/servers',
    }),
  ),
  counts: Type.Optional(
    Type.Object({
      target: Type.Integer(),
      completed: Type.Integer(),
      errors: Type.Integer(),
      succeeded: Type.Optional(Type.Integer()),
      failed: Type.Optional(Type.Integer()),
    }),
  ),
  attempts: Type.Integer(),
  failures: Type.Integer(),
  lastError: Type.Optional(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
});
export type DeploymentView = Static<typeof DeploymentView>;

export const CertificateItem = Type.Object({
  certificateArn: Type.String(),
  certName: Type.String(),
  target: Target,
  install: InstallOptionsSchema,
  serial: Type.Optional(Type.String()),
  notBefore: Type.Optional(Type.String()),
  notAfter: Type.Optional(Type.String()),
  daysToExpiry: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Whole days until notAfter (negative once expired); null when not yet exported',
  }),
  lastExportedAt: Type.Optional(Type.String()),
  lastJobId: Type.Optional(Type.String()),
  lastOutcome: Type.Optional(Type.String()),
  lastOutcomeAt: Type.Optional(Type.String()),
  rolloutHalted: Type.Optional(
    Type.String({
      description:
        'Why the reconciliation sweep leaves this mapping alone (its last rollout was cancelled or its canary failed) until a deployment is asked for again',
    }),
  ),
  servers: Type.Optional(
    Type.Object(
      {
        converged: Type.Integer({
          description:
            'Servers holding the current serial whose last job succeeded and whose files showed no drift',
        }),
        total: Type.Integer({ description: 'Every server a job of this mapping reached' }),
      },
      { description: 'Servers converged out of the servers this mapping’s jobs reached' },
    ),
  ),
});
export type CertificateItem = Static<typeof CertificateItem>;

const nextCursor = Type.Optional(
  Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' }),
);

export const CertificatePage = Type.Object({ items: Type.Array(CertificateItem), nextCursor });

/** What one server of a mapping holds, as the last job that reached it recorded. */
export const InstalledServerView = Type.Object({
  instanceId: Type.String(),
  serial: Type.Optional(
    Type.String({
      description: 'The serial the server holds, as its install script reported it (openssl’s hex)',
    }),
  ),
  notAfter: Type.Optional(Type.String()),
  lastStatus: Type.String({ description: 'Run Command’s status in the last job that reached it' }),
  lastOutcome: Type.Optional(
    Type.String({ description: 'The install script’s outcome (installed, unchanged, …)' }),
  ),
  problems: Type.Optional(
    Type.Array(Type.String(), { description: 'Drift the last verify found on its files' }),
  ),
  lastJobId: Type.String(),
  updatedAt: Type.String(),
  verifiedAt: Type.Optional(Type.String()),
  converged: Type.Boolean({
    description:
      'It holds the mapping’s serial, its last job there succeeded and no verify found drift',
  }),
});
export type InstalledServerView = Static<typeof InstalledServerView>;

/** One certificate on one target, with each of its servers. */
export const CertificateTarget = Type.Object({
  ...CertificateItem.properties,
  installedServers: Type.Array(InstalledServerView, {
    description: 'Every server a job of this mapping reached, by instance id',
  }),
});
export type CertificateTarget = Static<typeof CertificateTarget>;
export const CertificateTargets = Type.Object({ items: Type.Array(CertificateTarget) });
export const DeploymentPage = Type.Object({ items: Type.Array(DeploymentView), nextCursor });
export const ServerResultPage = Type.Object({ items: Type.Array(ServerResult), nextCursor });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const DeploymentParams = Type.Object({ id: JobId });
export const CertificateParams = Type.Object({ arn: CertificateArn });
export const MappingParams = Type.Object({
  arn: CertificateArn,
  key: TagKey,
  value: TagValue,
  certName: CertName,
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[\\x21-\\x7E]{1,255}$',
      description:
        'Any 1-255 printable ASCII characters (a UUID is a good choice). Retries with the same key and body return the same job.',
    }),
  ),
});

export const StopManagingResult = Type.Object({
  certificateArn: Type.String(),
  certName: Type.String(),
  target: Target,
  secretArn: Type.Optional(Type.String()),
  secretDeletion: Type.Union([Type.Literal('scheduled'), Type.Literal('none')]),
  recoveryWindowDays: Type.Integer(),
});

/**
 * `POST /v1/reconcile`: `{}` (or only `verify`) sweeps every mapping; `certificateArn`,
 * `certName` and `target` together name one mapping. The route refuses some but not all three.
 */
export const ReconcileRequest = Type.Object(
  {
    certificateArn: Type.Optional(CertificateArn),
    certName: Type.Optional(CertName),
    target: Type.Optional(Target),
    verify: Type.Optional(
      Type.Boolean({
        description:
          'Also run the install document’s Verify mode on the servers that look converged (their files are checked; drift is repaired)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReconcileRequest = Static<typeof ReconcileRequest>;

export const ReconcileAccepted = Type.Object({
  sweepId: Type.String({
    description:
      'Names the reconciliation in the worker’s log lines and in the requester of the jobs it starts ("reconcile <sweepId>")',
  }),
  scope: Type.Union([Type.Literal('all'), Type.Literal('mapping')], {
    description: 'all: every mapping; mapping: the one named',
  }),
  verify: Type.Boolean(),
});
export type ReconcileAccepted = Static<typeof ReconcileAccepted>;

export const Health = Type.Object({ status: Type.Literal('ok') });
/**
 * A string of a few values as one `enum` rather than a union of literals: the response
 * serializer (fast-json-stringify) writes a string as it is, but builds a JSON-schema validator
 * (Ajv) to choose a branch of a union, which made the first answer of /readyz (what the
 * process's start is timed to) some 50 ms slower.
 */
function StringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

export const Ready = Type.Object({
  status: StringEnum(['ready', 'not-ready']),
  checks: Type.Record(Type.String(), StringEnum(['ok', 'failing'])),
});

export { JobId };

const errorDescriptions: Readonly<Record<number, string>> = {
  400: 'VALIDATION_FAILED, INVALID_JSON, INVALID_CURSOR or BAD_REQUEST',
  401: 'UNAUTHENTICATED (see error.reason)',
  403: 'FORBIDDEN or CERTIFICATE_NOT_ALLOWED',
  404: 'Not found',
  409: 'IDEMPOTENCY_KEY_REUSED, MAPPING_BUSY or DEPLOYMENT_FINISHED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'INTERNAL_ERROR (no detail; quote requestId)',
  503: 'QUEUE_UNAVAILABLE, DEPENDENCY_UNAVAILABLE or AUTH_UNAVAILABLE: retry',
};

/** Schemas registered once (`app.addSchema`) and referenced by id from routes. */
export const sharedSchemas = [{ ...ErrorBody, $id: 'Error' }];

/** Error responses of a route, for the OpenAPI document and the serializer. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of [...statuses, 500]) {
    out[status] = {
      description: errorDescriptions[status] ?? 'Error',
      ...Type.Ref('Error'),
    } as TSchema;
  }
  return out;
}
