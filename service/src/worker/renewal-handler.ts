import type { AcmEventEnvelope } from '../messages/acm-event.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import { renewalJobId } from './job-ids.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * `ACM Certificate Available` / `RENEWAL`: one deploy job per mapping of the certificate, found
 * through the certificate-ARN index. Job ids derive from the event id, so a duplicate event (or
 * a redelivery after a partial fan-out) makes the same jobs, which the deploy handler dedupes.
 * Other ACM events are acknowledged and logged as ignored.
 */
export async function handleAcmEvent(
  event: AcmEventEnvelope,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const certificateArn = event.resources[0] ?? '';
  const log = deps.logger.child({
    eventId: event.id,
    certificateArn,
    detailType: event['detail-type'],
  });
  if (event['detail-type'] !== 'ACM Certificate Available' || event.detail.Action !== 'RENEWAL') {
    log.info(
      { action: event.detail.Action },
      'ACM event ignored: only ACM Certificate Available with Action RENEWAL starts deployments',
    );
    return ack;
  }
  try {
    const mappings = await deps.mappings.listByCertificate(certificateArn);
    if (mappings.length === 0) {
      log.info('renewal ignored: no mapping for this certificate');
      return ack;
    }
    for (const m of mappings) {
      const key = { target: m.target, certificateArn: m.certificateArn, certName: m.certName };
      const message: DeployMessage = {
        type: 'deploy',
        version: 1,
        jobId: renewalJobId(event.id, key),
        certificateArn: m.certificateArn,
        certName: m.certName,
        target: m.target,
        ...(Object.keys(m.install).length > 0 ? { install: m.install } : {}),
        requester: `${event.source}:${event['detail-type']}`,
        trigger: 'renewal',
        eventId: event.id,
      };
      await deps.queue.send(message);
      log.info(
        { jobId: message.jobId, target: `${m.target.key}=${m.target.value}` },
        'renewal deployment queued',
      );
    }
    return ack;
  } catch (error) {
    // Renewal messages are never kept in flight on purpose, so the receive count is a failure count.
    if (ctx.receiveCount >= deps.settings.maxFailures) {
      return deadLetter(
        `renewal fan-out failed ${ctx.receiveCount} times: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
    log.warn({ err: error }, 'renewal fan-out failed; will retry');
    return later(2 ** ctx.receiveCount, 'renewal fan-out failed');
  }
}
