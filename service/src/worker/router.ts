import type { AcmEventEnvelope } from '../messages/acm-event.ts';
import type { CommandStatusEnvelope } from '../messages/command-status-event.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import type { ExpiryCheckMessage } from '../messages/expiry-check.ts';
import type { InstanceEventEnvelope } from '../messages/instance-event.ts';
import { parseMessage } from '../messages/parse-message.ts';
import type { ReconcileMappingMessage, ReconcileMessage } from '../messages/reconcile.ts';
import { handleDeploy } from './deploy-handler.ts';
import { handleExpiryCheck } from './expiry-check-handler.ts';
import { ack, deadLetter, type HandlerOutcome, type MessageContext } from './handler-outcome.ts';
import { handleInstanceEvent } from './instance-handler.ts';
import { handleReconcile, handleReconcileMapping } from './reconcile-handler.ts';
import { handleAcmEvent } from './renewal-handler.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * One handler per message kind. A new kind (the scheduled expiry check was one) is a schema + a
 * branch in parseMessage + an entry here.
 */
export interface Handlers {
  readonly deploy: (
    m: DeployMessage,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly 'acm-event': (
    e: AcmEventEnvelope,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly 'instance-event': (
    e: InstanceEventEnvelope,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly 'expiry-check': (
    m: ExpiryCheckMessage,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly reconcile: (
    m: ReconcileMessage,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly 'reconcile-mapping': (
    m: ReconcileMappingMessage,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
  readonly 'command-status': (
    e: CommandStatusEnvelope,
    ctx: MessageContext,
    deps: WorkerDeps,
  ) => Promise<HandlerOutcome>;
}

/**
 * Without a command watcher (a worker wired without one), a Run Command status-change event
 * has nothing to wake: the job's own looks find the end.
 */
async function ignoreCommandStatus(
  e: CommandStatusEnvelope,
  _ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  deps.logger.debug(
    { commandId: e.detail['command-id'], status: e.detail.status },
    'command status event: no watcher here',
  );
  return ack;
}

export const defaultHandlers: Handlers = {
  deploy: handleDeploy,
  'acm-event': handleAcmEvent,
  'instance-event': handleInstanceEvent,
  'expiry-check': handleExpiryCheck,
  reconcile: handleReconcile,
  'reconcile-mapping': handleReconcileMapping,
  'command-status': ignoreCommandStatus,
};

/** Routes a raw message body to its handler; anything unrecognised goes to the DLQ with the reason. */
export async function route(
  ctx: MessageContext,
  deps: WorkerDeps,
  handlers: Handlers = defaultHandlers,
): Promise<HandlerOutcome> {
  const parsed = parseMessage(ctx.body);
  switch (parsed.kind) {
    case 'invalid':
      deps.logger.warn(
        { messageId: ctx.messageId, reason: parsed.reason },
        'invalid message: moving it to the dead-letter queue',
      );
      return deadLetter(parsed.reason);
    case 'deploy':
      return handlers.deploy(parsed.message, ctx, deps);
    case 'acm-event':
      return handlers['acm-event'](parsed.event, ctx, deps);
    case 'instance-event':
      return handlers['instance-event'](parsed.event, ctx, deps);
    case 'expiry-check':
      return handlers['expiry-check'](parsed.message, ctx, deps);
    case 'reconcile':
      return handlers.reconcile(parsed.message, ctx, deps);
    case 'reconcile-mapping':
      return handlers['reconcile-mapping'](parsed.message, ctx, deps);
    case 'command-status':
      return handlers['command-status'](parsed.event, ctx, deps);
  }
}
