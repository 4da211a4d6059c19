import type { SignedRequestParts } from '../../../src/auth/token.ts';
import { signCallerIdentity, type TokenTamper } from '../../../src/auth/token-client.ts';

export const stsEndpoint = 'https://sts.us-east-1.amazonaws.com';
export const audience = 'acm-cert-export';
export const now = new Date('2026-11-27T12:00:00.000Z');
export const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

export function signed(
  tamper: TokenTamper = {},
  options: { signingDate?: Date; audience?: string; endpoint?: string } = {},
): Promise<SignedRequestParts> {
  return signCallerIdentity(
    {
      credentials,
      stsEndpoint: options.endpoint ?? stsEndpoint,
      audience: options.audience ?? audience,
      signingDate: options.signingDate ?? now,
    },
    tamper,
  );
}

export function identityXml(arn: string, account = '123456789012'): string {
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>${arn}</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>${account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>0000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
}

export function errorXml(code: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>nope</Message></Error></ErrorResponse>`;
}

export interface FakeSts {
  readonly fetch: typeof fetch;
  readonly calls: { url: string; init: RequestInit }[];
  respond: (call: { url: string; init: RequestInit }) => Response | Promise<Response>;
}

/** A fetch standing in for STS: records every call, answers with `respond`. */
export function fakeSts(arn = 'arn:aws:iam::123456789012:user/alice'): FakeSts {
  const sts: FakeSts = {
    calls: [],
    respond: () => new Response(identityXml(arn), { status: 200 }),
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const call = { url: String(input), init: init ?? {} };
      sts.calls.push(call);
      return sts.respond(call);
    }) as typeof fetch,
  };
  return sts;
}
