import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  audienceHeader,
  callerIdentityBody,
  encodeToken,
  type SignedRequestParts,
} from './token.ts';

/** AWS credentials, or a provider of them (e.g. `fromNodeProviderChain()`). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialsInput = AwsCredentials | (() => Promise<AwsCredentials>);

/**
 * Client side of container-mode authentication, shared by the CLI and the tests: signs an
 * sts:GetCallerIdentity request for the service's STS endpoint and audience, and encodes it
 * as the `Authorization` header value.
 */
export interface TokenRequest {
  readonly credentials: CredentialsInput;
  /** Must be the endpoint the service is configured with (AUTH_STS_ENDPOINT). */
  readonly stsEndpoint: string;
  /** Signing region; derived from a `sts.<region>.amazonaws.com` endpoint when omitted. */
  readonly region?: string;
  /** The service's AUTH_AUDIENCE. */
  readonly audience: string;
  readonly signingDate?: Date;
}

/** Variations the tests use to build tokens the service must refuse. */
export interface TokenTamper {
  /** Request body to sign instead of GetCallerIdentity. */
  readonly body?: string;
  /** false: leave the audience header out entirely. */
  readonly includeAudience?: boolean;
  /** false: send the audience header but keep it out of SignedHeaders. */
  readonly signAudience?: boolean;
  /** Host header to sign instead of the endpoint's. */
  readonly host?: string;
}

/** The standard regional endpoint, unless an endpoint is configured the SDK way. */
export function defaultStsEndpoint(
  region: string,
  env: Readonly<Record<string, string | undefined>> = {},
): string {
  const configured = env.AWS_ENDPOINT_URL_STS?.trim() || env.AWS_ENDPOINT_URL?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}`;
}

/** The region a `sts.<region>.amazonaws.com[.cn]` host signs for; undefined otherwise. */
export function regionOfStsEndpoint(endpoint: string): string | undefined {
  const host = new URL(endpoint).hostname;
  if (host === 'sts.amazonaws.com') return 'us-east-1';
  return /^sts(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
}

/** Signs the request and returns its parts (tests tamper with them before encoding). */
export async function signCallerIdentity(
  request: TokenRequest,
  tamper: TokenTamper = {},
): Promise<SignedRequestParts> {
  const url = new URL(request.stsEndpoint);
  const region = request.region ?? regionOfStsEndpoint(request.stsEndpoint);
  if (region === undefined) {
    throw new Error(`cannot tell the signing region of ${request.stsEndpoint}: pass a region`);
  }
  const body = tamper.body ?? callerIdentityBody;
  const headers: Record<string, string> = {
    host: tamper.host ?? url.host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  };
  if (tamper.includeAudience !== false) headers[audienceHeader] = request.audience;
  const signer = new SignatureV4({
    credentials: request.credentials,
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname === '' ? '/' : url.pathname,
      query: {},
      headers,
      body,
    },
    {
      ...(request.signingDate === undefined ? {} : { signingDate: request.signingDate }),
      ...(tamper.signAudience === false ? { unsignableHeaders: new Set([audienceHeader]) } : {}),
    },
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) out[name.toLowerCase()] = value;
  return { method: 'POST', headers: out, body };
}

/** The `Authorization` header value: `AcmCertExport <base64url token>`. */
export async function createAuthToken(request: TokenRequest): Promise<string> {
  return encodeToken(await signCallerIdentity(request));
}
