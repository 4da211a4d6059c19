import Type, { type Static } from 'typebox';

/** An EC2 instance id, or an SSM managed (on-premises) node id. */
export const instanceIdPattern = '^(i|mi)-[0-9a-f]{8,17}$';

/**
 * `EC2 Instance State-change Notification` as EventBridge delivers it to an SQS target. The
 * rule sends `running` only; other states are acknowledged and ignored.
 */
export const InstanceEventEnvelope = Type.Object({
  version: Type.String(),
  id: Type.String({ minLength: 1, maxLength: 128 }),
  'detail-type': Type.Literal('EC2 Instance State-change Notification'),
  source: Type.String({ minLength: 1 }),
  time: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  account: Type.Optional(Type.String()),
  resources: Type.Optional(Type.Array(Type.String())),
  detail: Type.Object({
    'instance-id': Type.String({ pattern: instanceIdPattern }),
    state: Type.String({ minLength: 1, maxLength: 32 }),
  }),
});
export type InstanceEventEnvelope = Static<typeof InstanceEventEnvelope>;

export const instanceStateChange = 'EC2 Instance State-change Notification';
