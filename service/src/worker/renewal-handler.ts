import type { Mapping } from '../domain/mapping.ts';
import type { AcmEventEnvelope } from '../messages/acm-event.ts';
import { sameSerial } from './certificate-info.ts';
import { fanOut, mappingJob } from './fan-out.ts';
import type { HandlerOutcome, MessageContext } from './handler-outcome.ts';
import { renewalJobId } from './job-ids.ts';
import type { WorkerDeps } from './worker-deps.ts';

export const approachingExpiration = 'ACM Certificate Approaching Expiration';

/** A mapping's renewal job for an ACM event: its id derives from the event and the mapping. */
function eventJob(event: AcmEventEnvelope, m: Mapping) {
  return mappingJob(m, {
    jobId: renewalJobId(event.id, {
      target: m.target,
      certificateArn: m.certificateArn,
      certName: m.certName,
    }),
    requester: `${event.source}:${event['detail-type']}`,
    trigger: 'renewal',
    eventId: event.id,
  });
}

/**
 * `ACM Certificate Available` / `RENEWAL`: one deploy job per mapping of the certificate, found
 * through the certificate-ARN index.
 *
 * `ACM Certificate Approaching Expiration` (daily from 45 days before expiry): a deploy job for
 * each mapping whose last installed serial is not the certificate's current one, that is, a
 * renewal whose event never arrived (ACM delivers events best effort) or whose deployment did
 * not succeed; mappings already holding the current serial need nothing (ACM has not renewed
 * yet; the InstalledCertificateExpiring alarm watches them). Other ACM events are acknowledged
 * and logged as ignored.
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
  if (event['detail-type'] === approachingExpiration) {
    return fanOut('expiry event', ctx, deps, log, async () => {
      const mappings = await deps.mappings.listByCertificate(certificateArn);
      if (mappings.length === 0) return { ignored: 'no mapping for this certificate' };
      const current = await deps.certificates.describe(certificateArn);
      // Serials compared as hex digits: ACM writes `0a:1b:…`, the install summary `0A1B…`.
      const behind = mappings.filter(
        (m) =>
          m.serial === undefined ||
          current.serial === undefined ||
          !sameSerial(m.serial, current.serial),
      );
      if (behind.length === 0) {
        return {
          ignored: `every mapping holds the current serial ${current.serial ?? '?'}; ACM has not renewed it yet`,
        };
      }
      return { jobs: behind.map((m) => eventJob(event, m)) };
    });
  }
  return fanOut('renewal', ctx, deps, log, async () => {
    if (event['detail-type'] !== 'ACM Certificate Available' || event.detail.Action !== 'RENEWAL') {
      return {
        ignored: `only ACM Certificate Available with Action RENEWAL starts deployments (got ${event.detail.Action ?? event['detail-type']})`,
      };
    }
    const mappings = await deps.mappings.listByCertificate(certificateArn);
    if (mappings.length === 0) return { ignored: 'no mapping for this certificate' };
    return { jobs: mappings.map((m) => eventJob(event, m)) };
  });
}
