import { CliError } from './errors.ts';

export interface ApiClientOptions {
  /** e.g. `https://certs.example.com` (ACM_CERT_EXPORT_URL). */
  readonly baseUrl: string;
  /**
   * Headers that authenticate one request (an `AcmCertExport` token, or a SigV4 signature for
   * API Gateway). Called again with `fresh` after a 401 TOKEN_EXPIRED.
   */
  readonly authorize: (request: OutgoingRequest, fresh: boolean) => Promise<Record<string, string>>;
  readonly fetch: typeof fetch;
  /** Retries of 503 answers and network errors (requests are safe to retry: POSTs carry an Idempotency-Key). */
  readonly retries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
}

export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

interface ErrorPayload {
  error?: {
    code?: string;
    message?: string;
    reason?: string;
    requestId?: string;
    details?: { field?: string; problem?: string }[];
  };
}

/**
 * The id of the request in the API's logs, for a 5xx: the error body's `requestId`, or the
 * `x-request-id` header the API sets on every response; API Gateway's own id when the answer
 * came from API Gateway rather than the service.
 */
export function requestIdOf(headers: Headers, payload: unknown): string | undefined {
  return (
    (payload as ErrorPayload | undefined)?.error?.requestId ??
    headers.get('x-request-id') ??
    headers.get('x-amzn-requestid') ??
    headers.get('apigw-requestid') ??
    undefined
  );
}

function describe(status: number, payload: unknown, requestId: string | undefined): CliError {
  const error = (payload as ErrorPayload | undefined)?.error;
  const quote =
    status >= 500 && requestId !== undefined
      ? ` (request id ${requestId}: quote it when reporting this; the service logs it as reqId)`
      : '';
  if (error?.code === undefined) return new CliError(`the API answered HTTP ${status}${quote}`);
  const details = (error.details ?? [])
    .map((d) => `\n  ${d.field ?? ''} ${d.problem ?? ''}`.trimEnd())
    .join('');
  const reason = error.reason === undefined ? '' : ` [${error.reason}]`;
  return new CliError(`${error.code}${reason}: ${error.message ?? ''}${details}${quote}`, {
    code: error.code,
  });
}

/** A small client of the HTTP API: JSON in and out, signed with a fresh-enough token. */
export class ApiClient {
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = options;
  }

  async request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const retries = this.#options.retries ?? 2;
    const sleep = this.#options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    let freshToken = false;
    for (let attempt = 0; ; attempt++) {
      const url = new URL(`${this.#options.baseUrl.replace(/\/+$/, '')}${path}`);
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      };
      const outgoing = { method, url, headers, ...(body === undefined ? {} : { body }) };
      const auth = await this.#options.authorize(outgoing, freshToken);
      let response: Response;
      try {
        response = await this.#options.fetch(url, {
          method,
          headers: { ...headers, ...auth },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        if (attempt < retries) {
          await sleep(500 * 2 ** attempt);
          continue;
        }
        const why = error instanceof Error ? error.message : String(error);
        throw new CliError(`cannot reach ${this.#options.baseUrl}: ${why}`);
      }
      const text = await response.text();
      let payload: unknown;
      try {
        payload = text === '' ? undefined : JSON.parse(text);
      } catch {
        payload = undefined;
      }
      if (response.ok) return { status: response.status, body: payload as T };
      const error = describe(response.status, payload, requestIdOf(response.headers, payload));
      const reason = (payload as ErrorPayload | undefined)?.error?.reason;
      if (response.status === 401 && reason === 'TOKEN_EXPIRED' && !freshToken) {
        freshToken = true;
        continue;
      }
      if (response.status === 503 && attempt < retries) {
        await sleep(500 * 2 ** attempt);
        continue;
      }
      throw error;
    }
  }
}

/** Every item of a paginated GET (`?limit=100&cursor=…`), page by page. */
export async function* pages<T>(client: ApiClient, path: string): AsyncGenerator<T> {
  let cursor: string | undefined;
  const join = path.includes('?') ? '&' : '?';
  do {
    const query = `${join}limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const { body } = await client.request<{ items: T[]; nextCursor?: string }>(
      'GET',
      `${path}${query}`,
    );
    yield* body.items;
    cursor = body.nextCursor;
  } while (cursor !== undefined);
}
