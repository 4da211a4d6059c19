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
import { awsErrorName, awsHttpStatus, classify, withRetry } from './aws-errors.ts';
import type { RateLimiter } from './rate-limiter.ts';

const terminal = {
  ResourceNotFoundException: 'CertificateNotFound',
  InvalidArnException: 'InvalidCertificateArn',
  ValidationException: 'CertificateNotExportable',
  RequestInProgressException: 'CertificateNotIssued',
  InvalidParameterException: 'InvalidRequest',
};

/**
 * ACM's clients and export pacing, per region (ACM's quotas are per account and region): the
 * worker's limiter shares the region's quota with the other tasks (shared-export-quota.ts).
 */
export interface AcmRegions {
  client(region: string): ACMClient;
  exportLimiter(region: string): RateLimiter;
}

/**
 * ACM through the SDK, each certificate in its own region (the one its ARN names): ACM answers
 * only for the certificates of the region it is called in. ExportCertificate is paced by the
 * region's limiter (quota: 5 per second per account and region) — every attempt, the SDK's
 * retries included, and each throttled attempt is reported back to it. Throttling stays
 * retryable: the SDK retries it, then withRetry.
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
      const command = new ExportCertificateCommand({
        CertificateArn: certificateArn,
        Passphrase: new TextEncoder().encode(passphrase.reveal()),
      });
      pacedAttempts(command, this.#regions.exportLimiter(region));
      try {
        return await this.#regions.client(region).send(command);
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

/**
 * Paces each attempt of the command, inside the SDK's retry loop (just before signing, so a
 * signature is never older than its wait), and tells the limiter of each throttled attempt.
 */
function pacedAttempts(command: ExportCertificateCommand, limiter: RateLimiter): void {
  const pace =
    <A, R>(next: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      await limiter.take();
      try {
        return await next(args);
      } catch (error) {
        if (isThrottling(error)) limiter.throttled?.();
        throw error;
      }
    };
  command.middlewareStack.addRelativeTo(pace, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'exportQuotaPacing',
    override: true,
  });
}

/** ACM answers a call over its rate quota with ThrottlingException (HTTP 400). */
function isThrottling(error: unknown): boolean {
  const name = awsErrorName(error) ?? '';
  return /Throttl|TooManyRequests|RequestLimitExceeded/.test(name) || awsHttpStatus(error) === 429;
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
