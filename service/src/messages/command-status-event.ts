import Type, { type Static } from 'typebox';

export const commandStatusChange = 'EC2 Command Status-change Notification';

/**
 * `EC2 Command Status-change Notification` as EventBridge delivers it to an SQS target: Run
 * Command's command `command-id` reached `status`. The stack's rule sends the terminal statuses of
 * the install document only; the worker wakes the job following that command (worker/
 * command-watcher.ts). Only the fields the worker reads are checked; `parameters` and the rest
 * of the event are ignored.
 */
export const CommandStatusEnvelope = Type.Object({
  version: Type.String(),
  id: Type.String({ minLength: 1, maxLength: 128 }),
  'detail-type': Type.Literal(commandStatusChange),
  source: Type.String({ minLength: 1 }),
  time: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  detail: Type.Object({
    'command-id': Type.String({ pattern: '^[A-Za-z0-9-]{36}$' }),
    'document-name': Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.String({ minLength: 1, maxLength: 32 }),
  }),
});
export type CommandStatusEnvelope = Static<typeof CommandStatusEnvelope>;
