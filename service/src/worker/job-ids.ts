import { createHash } from 'node:crypto';
import type { MappingKey } from '../ports/mapping-store.ts';

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** Job id of a message put straight on the queue without one: stable across redeliveries. */
export function queueJobId(messageId: string): string {
  return `q-${digest('queue', messageId).slice(0, 32)}`;
}

/** Job id of one mapping's deployment for one renewal event: a duplicate event makes the same job. */
export function renewalJobId(eventId: string, key: MappingKey): string {
  return `r-${digest('renewal', eventId, key.target.key, key.target.value, key.certificateArn, key.certName).slice(0, 32)}`;
}

/** Job id of one mapping's install on one server that just started, for one EC2 event. */
export function instanceJobId(eventId: string, instanceId: string, key: MappingKey): string {
  return `i-${digest('instance', eventId, instanceId, key.target.key, key.target.value, key.certificateArn, key.certName).slice(0, 32)}`;
}

/**
 * The Secrets Manager ClientRequestToken (and so the VersionId) of a job's export secret: derived
 * from the job, so a resumed job finds the version it stored before a crash.
 */
export function secretVersionToken(jobId: string): string {
  const h = digest('passphrase-version', jobId);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** SSM command comment (≤ 100 chars) naming the job, to find a command sent before a crash. */
export function commandComment(jobId: string): string {
  return `acm-cert-export job ${jobId}`.slice(0, 100);
}
