import Type, { type Static } from 'typebox';
import { CertificateArn } from './deploy-request.ts';

/**
 * The EventBridge envelope ACM publishes, as an SQS target receives it. Only the fields the
 * worker relies on are required; everything else AWS adds is allowed.
 */
export const AcmEventEnvelope = Type.Object({
  version: Type.String(),
  id: Type.String({ minLength: 1, maxLength: 128 }),
  'detail-type': Type.String({ minLength: 1 }),
  source: Type.String({ minLength: 1 }),
  time: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  account: Type.Optional(Type.String()),
  resources: Type.Array(CertificateArn, { minItems: 1 }),
  detail: Type.Object({
    Action: Type.Optional(Type.String()),
  }),
});
export type AcmEventEnvelope = Static<typeof AcmEventEnvelope>;

export function isEventBridgeEnvelope(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'detail-type' in value &&
    'source' in value &&
    'detail' in value
  );
}
