import { randomUUID } from 'node:crypto';

/** The `detail-type` values ACM publishes to EventBridge. */
export type AcmDetailType =
  | 'ACM Certificate Available'
  | 'ACM Certificate Approaching Expiration'
  | 'ACM Certificate Expired'
  | 'ACM Certificate Revoked';

export type AcmAction = 'ISSUANCE' | 'RENEWAL' | 'IMPORT' | 'REIMPORT';

/** An EventBridge envelope as delivered to an SQS target (field names as AWS sends them). */
export interface AcmEventEnvelope {
  version: '0';
  id: string;
  'detail-type': AcmDetailType;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface AcmEventOverrides {
  id?: string;
  certificateArn?: string;
  source?: string;
  account?: string;
  region?: string;
  time?: Date;
  commonName?: string;
  daysToExpiry?: number;
  detail?: Record<string, unknown>;
}

const defaultArn =
  'arn:aws:acm:us-east-1:123456789012:certificate/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

function envelope(
  detailType: AcmDetailType,
  detail: Record<string, unknown>,
  o: AcmEventOverrides,
): AcmEventEnvelope {
  const time = o.time ?? new Date('2026-11-27T00:00:00Z');
  return {
    version: '0',
    id: o.id ?? randomUUID(),
    'detail-type': detailType,
    source: o.source ?? 'aws.acm',
    account: o.account ?? '123456789012',
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: o.region ?? 'us-east-1',
    resources: [o.certificateArn ?? defaultArn],
    detail: { ...detail, ...o.detail },
  };
}

/** `ACM Certificate Available` with the given Action (RENEWAL by default). */
export function aCertificateAvailableEvent(
  o: AcmEventOverrides & { action?: AcmAction; certificateType?: string } = {},
): AcmEventEnvelope {
  const created = o.time ?? new Date('2026-11-27T00:00:00Z');
  const days = o.daysToExpiry ?? 395;
  const expires = new Date(created.getTime() + days * 86_400_000);
  return envelope(
    'ACM Certificate Available',
    {
      Action: o.action ?? 'RENEWAL',
      CertificateType: o.certificateType ?? 'AMAZON_ISSUED',
      CommonName: o.commonName ?? 'app.example.com',
      DomainValidationMethod: 'DNS',
      CertificateCreatedDate: created.toISOString(),
      CertificateExpirationDate: expires.toISOString(),
      DaysToExpiry: days,
      InUse: false,
      Exported: true,
    },
    o,
  );
}

export function anApproachingExpirationEvent(o: AcmEventOverrides = {}): AcmEventEnvelope {
  return envelope(
    'ACM Certificate Approaching Expiration',
    { DaysToExpiry: o.daysToExpiry ?? 30, CommonName: o.commonName ?? 'app.example.com' },
    o,
  );
}

export function anExpiredEvent(o: AcmEventOverrides = {}): AcmEventEnvelope {
  return envelope(
    'ACM Certificate Expired',
    { DaysToExpiry: 0, CommonName: o.commonName ?? 'app.example.com' },
    o,
  );
}

export function aRevokedEvent(o: AcmEventOverrides = {}): AcmEventEnvelope {
  return envelope(
    'ACM Certificate Revoked',
    { CommonName: o.commonName ?? 'app.example.com', Exported: true },
    o,
  );
}

/** `EC2 Instance State-change Notification`, as EventBridge delivers it to an SQS target. */
export function anInstanceStateEvent(o: {
  instanceId: string;
  state?: string;
  id?: string;
  source?: string;
}) {
  return {
    version: '0',
    id: o.id ?? randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: o.source ?? 'aws.ec2',
    account: '123456789012',
    time: '2026-11-27T00:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${o.instanceId}`],
    detail: { 'instance-id': o.instanceId, state: o.state ?? 'running' },
  };
}
