import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ACMClient,
  DescribeCertificateCommand,
  RequestCertificateCommand,
  type RequestCertificateCommandInput,
} from '@aws-sdk/client-acm';

export interface CertificateOverrides {
  domainName?: string;
  subjectAlternativeNames?: string[];
  tags?: Record<string, string>;
  /** false: request without the export option (a certificate ACM will not export). */
  exportable?: boolean;
  /** Wait until ISSUED (the default); false returns right after the request. */
  waitForIssued?: boolean;
}

async function request(
  acm: ACMClient,
  input: RequestCertificateCommandInput,
  waitForIssued: boolean,
): Promise<string> {
  const { CertificateArn: arn } = await acm.send(new RequestCertificateCommand(input));
  if (arn === undefined) throw new Error('RequestCertificate returned no ARN');
  if (!waitForIssued) return arn;
  for (let i = 0; i < 50; i++) {
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    if (Certificate?.Status === 'ISSUED') return arn;
    await sleep(100);
  }
  throw new Error(`certificate ${arn} was not ISSUED in time: is MOTO_ACM_VALIDATION_WAIT=0 set?`);
}

function tagList(tags: Record<string, string> | undefined) {
  return tags === undefined
    ? undefined
    : Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** A public certificate requested with `Options.Export = ENABLED`, issued at once by the emulator. */
export async function anExportableCertificate(
  acm: ACMClient,
  overrides: CertificateOverrides = {},
): Promise<string> {
  const domainName = overrides.domainName ?? `app-${randomUUID().slice(0, 8)}.example.com`;
  return request(
    acm,
    {
      DomainName: domainName,
      ValidationMethod: 'DNS',
      SubjectAlternativeNames: overrides.subjectAlternativeNames,
      Options: { Export: overrides.exportable === false ? 'DISABLED' : 'ENABLED' },
      Tags: tagList(overrides.tags),
      IdempotencyToken: randomUUID().replaceAll('-', '').slice(0, 32),
    },
    overrides.waitForIssued ?? true,
  );
}

/** A private certificate (issued by an AWS Private CA ARN): always exportable. */
export async function aPrivateCertificate(
  acm: ACMClient,
  overrides: CertificateOverrides & { certificateAuthorityArn?: string } = {},
): Promise<string> {
  const domainName = overrides.domainName ?? `internal-${randomUUID().slice(0, 8)}.corp.example`;
  return request(
    acm,
    {
      DomainName: domainName,
      SubjectAlternativeNames: overrides.subjectAlternativeNames,
      CertificateAuthorityArn:
        overrides.certificateAuthorityArn ??
        'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555',
      Tags: tagList(overrides.tags),
    },
    overrides.waitForIssued ?? true,
  );
}
