import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CredentialsInput } from '../auth/token-client.ts';
import type { OutgoingRequest } from './api-client.ts';

/**
 * Signs a request for API Gateway with AWS_IAM authorization (the service in Lambda mode):
 * returns the headers to add (`authorization`, `x-amz-date`, `x-amz-security-token`, …).
 */
export async function signForApiGateway(
  request: OutgoingRequest,
  options: { credentials: CredentialsInput; region: string; signingDate?: Date },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'execute-api',
    sha256: Sha256,
  });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of request.url.searchParams) {
    const existing = query[name];
    query[name] = existing === undefined ? value : [existing, value].flat();
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port === '' ? {} : { port: Number(request.url.port) }),
      path: request.url.pathname,
      query,
      headers: { ...request.headers, host: request.url.host },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  );
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'host' && request.headers[lower] === undefined) added[lower] = value;
  }
  return added;
}
