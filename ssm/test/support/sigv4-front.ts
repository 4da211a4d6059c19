import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { listenOnLoopback } from './loopback-server.ts';

/** Credentials the front knows: a request signed with anything else is refused. */
export interface KnownCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A JSON error reply as AWS JSON services send it (`__type`, `message`). */
export interface ErrorReply {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/** What the front saw of one request. */
export interface FrontRequest {
  readonly target: string | undefined;
  readonly userAgent: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly sessionToken: string | undefined;
  readonly signedHeaders: string[];
  /** The signature matched the one recomputed with @smithy/signature-v4. */
  readonly signatureValid: boolean;
  /** The reply: "forwarded" to the emulator, or the error type answered. */
  readonly answer: string;
}

export interface SigV4Front {
  readonly endpoint: string;
  readonly requests: FrontRequest[];
  stop(): Promise<void>;
}

export interface SigV4FrontOptions {
  /** Where verified requests go (the emulator, through the IAM recording front). */
  readonly target: string;
  readonly credentials: KnownCredentials;
  /** An answer instead of forwarding, for the n-th request (0-based), e.g. an AccessDenied. */
  readonly answer?: (n: number) => ErrorReply | undefined;
}

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const authorization =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/**
 * The signature AWS would compute for this request with `credentials`: the headers the request
 * says it signed, its body, its date, signed again with @smithy/signature-v4 (the AWS SDK's
 * signer), which adds the session token header of `credentials` itself.
 */
async function expectedSignature(
  req: IncomingMessage,
  body: Buffer,
  credentials: KnownCredentials,
  scope: { region: string; service: string },
  signedHeaders: string[],
): Promise<string | undefined> {
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (date === null) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    const value = header(req.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const url = new URL(req.url ?? '/', `http://${header(req.headers, 'host') ?? 'localhost'}`);
  const signer = new SignatureV4({
    credentials,
    region: scope.region,
    service: scope.service,
    sha256: Sha256,
    // As AWS checks a JSON request: no x-amz-content-sha256 header added (S3 signs that one).
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    },
    { signingDate },
  );
  const value = signed.headers.authorization ?? signed.headers.Authorization ?? '';
  return /Signature=([0-9a-f]{64})/.exec(value)?.[1];
}

/**
 * A front between the install script and the emulator that checks each request's SigV4
 * signature as AWS would: it recomputes it with @smithy/signature-v4 from the request and the
 * known secret key, and answers 400 InvalidSignatureException (what Secrets Manager, a JSON
 * service, answers) when it differs, 400 UnrecognizedClientException for an unknown access key
 * or a wrong session token; else it forwards the request unchanged (the emulator, which checks
 * no signature, answers it).
 */
export async function startSigV4Front(options: SigV4FrontOptions): Promise<SigV4Front> {
  const target = new URL(options.target);
  const requests: FrontRequest[] = [];

  const reply = (res: ServerResponse, error: ErrorReply) => {
    res.writeHead(error.status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': error.type,
    });
    res.end(JSON.stringify({ __type: error.type, message: error.message }));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const auth = authorization.exec(header(req.headers, 'authorization') ?? '');
    const [, accessKeyId, , region, service, signed, signature] = auth ?? [];
    const signedHeaders = signed?.split(';') ?? [];
    const sessionToken = header(req.headers, 'x-amz-security-token');
    const known = options.credentials;
    let signatureValid = false;
    let error: ErrorReply | undefined;
    if (auth === null) {
      error = { status: 400, type: 'MissingAuthenticationTokenException', message: 'no SigV4' };
    } else if (accessKeyId !== known.accessKeyId || sessionToken !== known.sessionToken) {
      error = {
        status: 400,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
    } else {
      const expected = await expectedSignature(
        req,
        body,
        known,
        { region: region as string, service: service as string },
        signedHeaders,
      );
      signatureValid =
        expected === signature &&
        ['host', 'x-amz-date'].every((h) => signedHeaders.includes(h)) &&
        (sessionToken === undefined || signedHeaders.includes('x-amz-security-token'));
      if (!signatureValid) {
        error = {
          status: 400,
          type: 'InvalidSignatureException',
          message: 'The request signature we calculated does not match the signature you provided.',
        };
      }
    }
    error ??= options.answer?.(requests.length);
    requests.push({
      target: header(req.headers, 'x-amz-target'),
      userAgent: header(req.headers, 'user-agent'),
      accessKeyId,
      sessionToken,
      signedHeaders,
      signatureValid,
      answer: error?.type ?? 'forwarded',
    });
    if (error !== undefined) {
      reply(res, error);
      return;
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  return { ...(await listenOnLoopback(server)), requests };
}
