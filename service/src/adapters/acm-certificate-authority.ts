import {
  type ACMClient,
  DescribeCertificateCommand,
  ExportCertificateCommand,
} from '@aws-sdk/client-acm';
import { TerminalError } from '../domain/errors.ts';
import { certificateRegion } from '../domain/names.ts';
import { SecretValue } from '../domain/secret-value.ts';
import type {
  CertificateAuthority,
  CertificateDescription,
  ExportedBundle,
} from '../ports/certificate-authority.ts';
import { classify, withRetry } from './aws-errors.ts';
import type { RateLimiter } from './rate-limiter.ts';

const terminal = {
  ResourceNotFoundException: 'CertificateNotFound',
  InvalidArnException: 'InvalidCertificateArn',
  ValidationException: 'CertificateNotExportable',
  RequestInProgressException: 'CertificateNotIssued',
  InvalidParameterException: 'InvalidRequest',
};

/** ACM's clients and export pacing, per region (ACM's quotas are per account and region). */
export interface AcmRegions {
  client(region: string): ACMClient;
  exportLimiter(region: string): RateLimiter;
}

/**
 * ACM through the SDK, each certificate in its own region (the one its ARN names): ACM answers
 * only for the certificates of the region it is called in. ExportCertificate is paced by the
 * region's limiter (quota: 5 per second per account and region).
 */
export class AcmCertificateAuthority implements CertificateAuthority {
  readonly #regions: AcmRegions;
  readonly #home: string;

  /** `home`: the region of an ARN that names none (never the case for a valid ARN). */
  constructor(regions: AcmRegions, home: string) {
    this.#regions = regions;
    this.#home = home;
  }

  #regionOf(arn: string): string {
    return certificateRegion(arn) ?? this.#home;
  }

  async describe(certificateArn: string): Promise<CertificateDescription> {
    const out = await withRetry(async () => {
      try {
        return await this.#regions
          .client(this.#regionOf(certificateArn))
          .send(new DescribeCertificateCommand({ CertificateArn: certificateArn }));
      } catch (error) {
        throw classify(error, terminal, (name) => describeError(name, certificateArn));
      }
    });
    const c = out.Certificate;
    if (c === undefined) {
      throw new TerminalError('CertificateNotFound', `certificate ${certificateArn} was not found`);
    }
    const type = c.Type ?? 'UNKNOWN';
    return {
      arn: c.CertificateArn ?? certificateArn,
      status: c.Status ?? 'UNKNOWN',
      type,
      exportable:
        type === 'PRIVATE' || (type === 'AMAZON_ISSUED' && c.Options?.Export === 'ENABLED'),
      ...(c.DomainName === undefined ? {} : { domainName: c.DomainName }),
      ...(c.Serial === undefined ? {} : { serial: c.Serial }),
      ...(c.NotBefore === undefined ? {} : { notBefore: c.NotBefore }),
      ...(c.NotAfter === undefined ? {} : { notAfter: c.NotAfter }),
    };
  }

  async export(certificateArn: string, passphrase: SecretValue): Promise<ExportedBundle> {
    const out = await withRetry(async () => {
      const region = this.#regionOf(certificateArn);
      await this.#regions.exportLimiter(region).take();
      try {
        return await this.#regions.client(region).send(
          new ExportCertificateCommand({
            CertificateArn: certificateArn,
            Passphrase: new TextEncoder().encode(passphrase.reveal()),
          }),
        );
      } catch (error) {
        throw classify(error, terminal, (name) => describeError(name, certificateArn));
      }
    });
    if (out.Certificate === undefined || out.PrivateKey === undefined) {
      throw new TerminalError(
        'ExportIncomplete',
        `ACM returned no certificate or key for ${certificateArn}`,
      );
    }
    return {
      certificate: out.Certificate,
      chain: out.CertificateChain ?? '',
      encryptedPrivateKey: new SecretValue(out.PrivateKey),
    };
  }
}

function describeError(name: string, arn: string): string {
  switch (name) {
    case 'ResourceNotFoundException':
      return `certificate ${arn} does not exist in this account (looked up in its own region, ${certificateRegion(arn) ?? 'unknown'})`;
    case 'InvalidArnException':
      return `${arn} is not a valid ACM certificate ARN`;
    case 'ValidationException':
      return `ACM refused to export ${arn}: only private certificates and public certificates requested with export enabled can be exported`;
    case 'RequestInProgressException':
      return `certificate ${arn} is not issued yet`;
    default:
      return `ACM ${name} for ${arn}`;
  }
}
