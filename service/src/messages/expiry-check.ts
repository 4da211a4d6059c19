import Type, { type Static } from 'typebox';

/**
 * The daily expiry check: `{"type":"expiry-check","version":1}`, put on the job queue by the
 * stack's EventBridge Scheduler schedule (or by hand: `npm run expiry-check` in the local run).
 * Scheduler fills `scheduledTime` with the time the run was scheduled for.
 */
export const ExpiryCheckMessageV1 = Type.Object(
  {
    type: Type.Literal('expiry-check'),
    version: Type.Literal(1),
    scheduledTime: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type ExpiryCheckMessage = Static<typeof ExpiryCheckMessageV1>;

export const expiryCheckType = 'expiry-check';
