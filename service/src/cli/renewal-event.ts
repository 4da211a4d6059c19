import { randomUUID } from 'node:crypto';
import { certificateArnPattern } from '../domain/names.ts';
import { CliError } from './errors.ts';

/**
 * An `ACM Certificate Available` / `RENEWAL` event as EventBridge delivers it to an SQS target,
 * for putting a renewal straight on the queue in tests and drills. ACM never sends such events
 * in the emulator, and only AWS may publish `source: aws.acm` to EventBridge.
 */
export function renewalEvent(
  certificateArn: string,
  options: { now: Date; id?: string; source?: string },
): Record<string, unknown> {
  if (!new RegExp(certificateArnPattern).test(certificateArn)) {
    throw new CliError(`--cert-arn must be an ACM certificate ARN, got "${certificateArn}"`);
  }
  const [, , , region, account] = certificateArn.split(':');
  const time = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': 'ACM Certificate Available',
    source: options.source ?? 'aws.acm',
    account,
    time,
    region,
    resources: [certificateArn],
    detail: {
      Action: 'RENEWAL',
      CertificateCreatedDate: time,
      InUse: false,
      Exported: true,
    },
  };
}
