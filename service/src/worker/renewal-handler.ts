import type { AcmEventEnvelope } from '../messages/acm-event.ts';
import { fanOut, mappingJob } from './fan-out.ts';
import type { HandlerOutcome, MessageContext } from './handler-outcome.ts';
import { renewalJobId } from './job-ids.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * `ACM Certificate Available` / `RENEWAL`: one deploy job per mapping of the certificate, found
 * through the certificate-ARN index. Other ACM events are acknowledged and logged as ignored.
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
  return fanOut('renewal', ctx, deps, log, async () => {
    if (event['detail-type'] !== 'ACM Certificate Available' || event.detail.Action !== 'RENEWAL') {
      return {
        ignored: `only ACM Certificate Available with Action RENEWAL starts deployments (got ${event.detail.Action ?? event['detail-type']})`,
      };
    }
    const mappings = await deps.mappings.listByCertificate(certificateArn);
    if (mappings.length === 0) return { ignored: 'no mapping for this certificate' };
    return {
      jobs: mappings.map((m) =>
        mappingJob(m, {
          jobId: renewalJobId(event.id, {
            target: m.target,
            certificateArn: m.certificateArn,
            certName: m.certName,
          }),
          requester: `${event.source}:${event['detail-type']}`,
          trigger: 'renewal',
          eventId: event.id,
        }),
      ),
    };
  });
}
