import { AuthenticationError, AuthUnavailableError } from './errors.ts';
import { callerIdentityBody } from './token.ts';

/** The identity STS returned for a replayed GetCallerIdentity. */
export interface CallerIdentity {
  /** As STS reports it, e.g. `arn:aws:sts::123456789012:assumed-role/ci/session-1`. */
  readonly arn: string;
  readonly account: string;
  readonly userId: string;
}

export interface StsReplayOptions {
  /** The configured endpoint; the only place a token is ever sent. */
  readonly endpoint: string;
  readonly timeoutMs?: number;
  /** Larger responses are refused (a real one is well under 1 KiB). */
  readonly maxResponseBytes?: number;
  /** Injected for tests and for counting calls; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export type StsReplay = (
  headers: Readonly<Record<string, string>>,
  accessKeyId: string,
) => Promise<CallerIdentity>;

const arnPattern = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):[A-Za-z0-9+=,.@_/-]{1,512}$/;

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AuthUnavailableError(`STS response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function single(xml: string, element: string): string | undefined {
  const matches = [...xml.matchAll(new RegExp(`<${element}>([^<]*)</${element}>`, 'g'))];
  return matches.length === 1 ? matches[0]?.[1] : undefined;
}

/** Strict reading of `<GetCallerIdentityResponse><GetCallerIdentityResult>…`. */
export function parseCallerIdentity(xml: string): CallerIdentity {
  const result = /<GetCallerIdentityResult>([\s\S]*?)<\/GetCallerIdentityResult>/.exec(xml);
  const matchesResult = [...xml.matchAll(/<GetCallerIdentityResult>/g)].length;
  if (
    result === null ||
    matchesResult !== 1 ||
    !/^\s*(<\?xml[^>]*\?>\s*)?<GetCallerIdentityResponse[\s>]/.test(xml)
  ) {
    throw new AuthUnavailableError('STS returned an unexpected response');
  }
  const body = result[1] ?? '';
  const arn = single(body, 'Arn');
  const account = single(body, 'Account');
  const userId = single(body, 'UserId');
  const arnMatch = arn === undefined ? null : arnPattern.exec(arn);
  if (arn === undefined || arnMatch === null || account === undefined || userId === undefined) {
    throw new AuthUnavailableError('STS returned an unexpected response');
  }
  if (arnMatch[2] !== account) {
    throw new AuthUnavailableError('STS returned an ARN of another account than it reported');
  }
  return { arn, account, userId };
}

function stsErrorCode(xml: string): string | undefined {
  return /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(xml)?.[1];
}

/** Replays signed GetCallerIdentity headers to the configured endpoint only. */
export function stsReplay(options: StsReplayOptions): StsReplay {
  const url = new URL(options.endpoint);
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const doFetch = options.fetch ?? fetch;
  return async (headers, accessKeyId) => {
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { ...headers },
        body: callerIdentityBody,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new AuthUnavailableError('STS could not be reached', { cause: error });
    }
    const text = await readCapped(response, maxBytes);
    if (response.status === 200) return parseCallerIdentity(text);
    const code = stsErrorCode(text);
    if (
      response.status >= 500 ||
      response.status === 429 ||
      code === 'Throttling' ||
      code === 'RequestLimitExceeded'
    ) {
      throw new AuthUnavailableError(`STS answered HTTP ${response.status} ${code ?? ''}`.trim());
    }
    if (response.status >= 300 && response.status < 400) {
      // Never followed: a redirect away from the configured endpoint would be an SSRF vector.
      throw new AuthUnavailableError(`STS answered with a redirect (HTTP ${response.status})`);
    }
    throw new AuthenticationError(
      'STS_REJECTED',
      `STS rejected the signed request${code === undefined ? '' : ` (${code})`}`,
      { accessKeyId },
    );
  };
}
