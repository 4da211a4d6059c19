import Type, { type Static } from 'typebox';
import {
  CertificateArn,
  CertName,
  InstallOptionsSchema,
  JobId,
  RolloutSchema,
  Target,
} from './deploy-request.ts';
import { instanceIdPattern } from './instance-event.ts';

/** A job on the queue: `{"type":"deploy","version":1,...}`. */
export const DeployMessageV1 = Type.Object(
  {
    type: Type.Literal('deploy'),
    version: Type.Literal(1),
    jobId: Type.Optional(JobId),
    certificateArn: CertificateArn,
    certName: CertName,
    target: Target,
    install: Type.Optional(InstallOptionsSchema),
    /** Only these servers of the target (a server that just started), instead of every one. */
    instanceIds: Type.Optional(
      Type.Array(Type.String({ pattern: instanceIdPattern }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
      }),
    ),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    trigger: Type.Optional(
      Type.Union([
        Type.Literal('api'),
        Type.Literal('queue'),
        Type.Literal('renewal'),
        Type.Literal('instance'),
        Type.Literal('reconcile'),
      ]),
    ),
    /**
     * `verify` runs the install document's Verify mode with the mapping's installed export:
     * nothing is exported or changed; servers whose files drifted get a repair install.
     */
    mode: Type.Optional(Type.Union([Type.Literal('install'), Type.Literal('verify')])),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** A canary first (tag installs only): `{"canary": 2}`. */
    rollout: Type.Optional(RolloutSchema),
  },
  { additionalProperties: false },
);
export type DeployMessage = Static<typeof DeployMessageV1>;
