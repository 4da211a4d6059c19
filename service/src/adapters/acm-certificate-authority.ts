import {
  type ACMClient,
  DescribeCertificateCommand,
  ExportCertificateCommand,
} from '@aws-sdk/client-acm';
import { TerminalError } from '../domain/errors.ts';
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

/** ACM through the SDK. ExportCertificate is paced by a limiter (account quota: 5 per second). */
export class AcmCertificateAuthority implements CertificateAuthority {
  readonly #acm: ACMClient;
  readonly #exportLimiter: RateLimiter;

  constructor(acm: ACMClient, exportLimiter: RateLimiter) {
    this.#acm = acm;
    this.#exportLimiter = exportLimiter;
  }

  async describe(certificateArn: string): Promise<CertificateDescription> {
    const out = await withRetry(async () => {
      try {
        return await this.#acm.send(
          new DescribeCertificateCommand({ CertificateArn: certificateArn }),
        );
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
      await this.#exportLimiter.take();
      try {
        return await this.#acm.send(
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
      return `certificate ${arn} does not exist in this account and region`;
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
