/**
 * A loopback HTTP proxy in front of the emulator (or the Run Command stand-in) for tests,
 * benchmarks and the soak: counts requests by operation, answers some with a throttling error the
 * way AWS does — a fixed rate for chosen operations (ACM's ExportCertificate quota is 5 per
 * second) and/or a random share — and injects faults, each a share of requests that can be
 * changed while it runs (`setFaults`): throttling, server errors (500 InternalFailure, 503
 * ServiceUnavailable), added latency, and dropped connections (the client's socket destroyed
 * with no answer, before forwarding or after the target answered). Errors are answered in the
 * request's protocol: JSON 1.0/1.1 (`X-Amz-Target`, as DynamoDB, SQS, ACM, SSM… send), the query
 * protocol (SNS, IAM, STS) or EC2's. Everything else is forwarded untouched.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateRule {
  /** `X-Amz-Target` of the operation, e.g. `CertificateManager.ExportCertificate`. */
  readonly operation: string;
  readonly perSecond: number;
}

/** Added latency: `share` (0..1) of requests wait between `minMs` and `maxMs` first. */
export interface LatencyFault {
  readonly share: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Faults injected at random, each a share (0..1) of the requests not exempted (`neverFault`;
 * `neverThrottle` for throttling). Drawn in this order: latency (then the request goes on), then
 * at most one of throttle, server error, drop.
 */
export interface AwsFaults {
  /**
   * Answered with the service's throttling error, in the request's protocol (JSON:
   * ThrottlingException 400; query: Throttling 400; EC2: RequestLimitExceeded 503). Every
   * protocol, unlike the older `throttleShare`.
   */
  readonly throttle?: number;
  /** Answered 500 InternalFailure and 503 ServiceUnavailable in turn (EC2: InternalError). */
  readonly serverError?: number;
  readonly latency?: LatencyFault;
  /**
   * The client's connection destroyed with no answer, in turn: before forwarding (the target
   * never saw the request) and after the target answered (it acted; the answer is lost).
   */
  readonly drop?: number;
}

/** How a fault is counted in `faults` and `faultTotals`. */
export type FaultKind =
  | 'throttle'
  | 'internal-failure'
  | 'service-unavailable'
  | 'latency'
  | 'drop-before'
  | 'drop-after';

export interface AwsProxyOptions {
  /** Where requests go, e.g. moto's endpoint. */
  readonly target: string;
  readonly rates?: readonly RateRule[];
  /**
   * Share (0..1) of JSON-protocol requests answered with ThrottlingException at random, while
   * `faults.throttle` is not set (which, when set, applies to every protocol).
   */
  readonly throttleShare?: number;
  /** Operations never throttled at random (e.g. the queue receive of the test itself). */
  readonly neverThrottle?: readonly string[];
  /** Faults from the start (see `setFaults`). */
  readonly faults?: AwsFaults;
  /** Operations no fault is injected into (rate rules still apply). */
  readonly neverFault?: readonly string[];
  readonly random?: () => number;
}

export interface AwsProxy {
  readonly endpoint: string;
  /** Requests forwarded, by operation (`Service.Operation`, or `Query:Action` for query APIs). */
  readonly counts: Map<string, number>;
  /** Requests answered with a throttling error (rate rules and random), by operation. */
  readonly throttled: Map<string, number>;
  /** Faults injected, by kind and operation (`drop-after DynamoDB_20120810.PutItem`). */
  readonly faults: Map<string, number>;
  /** Faults injected, by kind. */
  readonly faultTotals: Map<FaultKind, number>;
  /** Clears every count (and starts the server-error and drop turns again). */
  reset(): void;
  /** Replaces the faults injected from now on (`{}`: none). */
  setFaults(faults: AwsFaults): void;
  /**
   * DynamoDB requests forwarded, by operation and table (`DynamoDB_20120810.GetItem Table`), and
   * for one-item requests also by its partition key (`… Table job-1`): what one job wrote.
   */
  readonly byTable: Map<string, number>;
  stop(): Promise<void>;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function operationOf(req: IncomingMessage, body: Buffer): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target;
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('utf8'))?.[1];
  return action === undefined ? `${req.method} ${req.url?.split('?')[0] ?? ''}` : `Query:${action}`;
}

type Protocol = 'json' | 'query' | 'ec2';

/**
 * The request's protocol: JSON (`X-Amz-Target`), EC2's query protocol (signed for `ec2`), the
 * query protocol (a form with an `Action`); JSON for anything else.
 */
function protocolOf(req: IncomingMessage, operation: string): Protocol {
  if (!operation.startsWith('Query:')) return 'json';
  const scope = /Credential=[^/,]+\/\d{8}\/[^/,]+\/([^/,]+)\//.exec(
    req.headers.authorization ?? '',
  );
  return scope?.[1] === 'ec2' ? 'ec2' : 'query';
}

type ErrorKind = 'throttle' | 'internal-failure' | 'service-unavailable';

const errorCodes: Record<Protocol, Record<ErrorKind, { status: number; code: string }>> = {
  json: {
    throttle: { status: 400, code: 'ThrottlingException' },
    'internal-failure': { status: 500, code: 'InternalFailure' },
    'service-unavailable': { status: 503, code: 'ServiceUnavailable' },
  },
  query: {
    throttle: { status: 400, code: 'Throttling' },
    'internal-failure': { status: 500, code: 'InternalFailure' },
    'service-unavailable': { status: 503, code: 'ServiceUnavailable' },
  },
  ec2: {
    throttle: { status: 503, code: 'RequestLimitExceeded' },
    'internal-failure': { status: 500, code: 'InternalError' },
    'service-unavailable': { status: 503, code: 'ServiceUnavailable' },
  },
};

const errorMessages: Record<ErrorKind, string> = {
  throttle: 'Rate exceeded',
  'internal-failure': 'We encountered an internal error. Please try again.',
  'service-unavailable': 'Service is unavailable. Please try again.',
};

/** Answers `kind` as AWS does in the request's protocol. */
function sendAwsError(
  req: IncomingMessage,
  res: ServerResponse,
  protocol: Protocol,
  kind: ErrorKind,
): void {
  const { status, code } = errorCodes[protocol][kind];
  const message = errorMessages[kind];
  const requestId = randomUUID();
  if (protocol === 'json') {
    const contentType = req.headers['content-type'];
    res.writeHead(status, {
      'content-type': contentType?.startsWith('application/x-amz-json')
        ? contentType
        : 'application/x-amz-json-1.1',
      'x-amzn-errortype': code,
      'x-amzn-requestid': requestId,
    });
    res.end(JSON.stringify({ __type: code, message }));
    return;
  }
  const body =
    protocol === 'ec2'
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
      : `<ErrorResponse><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(body);
}

/**
 * The table(s) a DynamoDB request names (a batch names each of its tables) and, for a one-item
 * request, the first string value of its key (or of the item put).
 */
function tablesOf(body: Buffer): { tables: string; key?: string } {
  try {
    const input = JSON.parse(body.toString('utf8')) as {
      TableName?: string;
      RequestItems?: Record<string, unknown>;
      Key?: Record<string, { S?: string }>;
      Item?: Record<string, { S?: string }>;
    };
    const tables =
      input.TableName ??
      Object.keys(input.RequestItems ?? {})
        .sort()
        .join('+');
    const key = input.Key ?? (input.TableName === undefined ? undefined : input.Item);
    const first = key === undefined ? undefined : Object.values(key)[0]?.S;
    return first === undefined ? { tables } : { tables, key: first };
  } catch {
    return { tables: '?' };
  }
}

export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const target = new URL(options.target);
  const counts = new Map<string, number>();
  const throttled = new Map<string, number>();
  const byTable = new Map<string, number>();
  const faults = new Map<string, number>();
  const faultTotals = new Map<FaultKind, number>();
  const random = options.random ?? Math.random;
  let injected: AwsFaults = { ...options.faults };
  // Each pair of server errors / drops is one of each kind.
  let serverErrors = 0;
  let drops = 0;
  // Per-operation token buckets, like AWS's API rate quotas: refilled at the rate, holding at
  // most one second's worth (the burst).
  const buckets = new Map<string, { tokens: number; at: number }>();

  const countFault = (kind: FaultKind, operation: string) => {
    bump(faults, `${kind} ${operation}`);
    faultTotals.set(kind, (faultTotals.get(kind) ?? 0) + 1);
  };
  const drawn = (share: number | undefined) => share !== undefined && share > 0 && random() < share;

  function overRate(operation: string): boolean {
    const rule = options.rates?.find((r) => r.operation === operation);
    if (rule === undefined) return false;
    const now = performance.now();
    const b = buckets.get(operation) ?? { tokens: rule.perSecond, at: now };
    b.tokens = Math.min(rule.perSecond, b.tokens + ((now - b.at) / 1000) * rule.perSecond);
    b.at = now;
    buckets.set(operation, b);
    if (b.tokens < 1) return true;
    b.tokens -= 1;
    return false;
  }

  /** The share of this request's kind thrown at random: `faults.throttle`, else the older option. */
  function throttleShareOf(operation: string, protocol: Protocol): number | undefined {
    if (options.neverThrottle?.includes(operation)) return undefined;
    if (injected.throttle !== undefined) return injected.throttle;
    return protocol === 'json' ? options.throttleShare : undefined;
  }

  /** What happens to one request: a fault decided at random, or `forward`. */
  async function decide(
    operation: string,
    protocol: Protocol,
  ): Promise<ErrorKind | 'drop-before' | 'drop-after' | 'forward'> {
    if (options.neverFault?.includes(operation)) return 'forward';
    const { latency } = injected;
    if (latency !== undefined && drawn(latency.share)) {
      countFault('latency', operation);
      await sleep(latency.minMs + random() * Math.max(0, latency.maxMs - latency.minMs));
    }
    if (drawn(throttleShareOf(operation, protocol))) return 'throttle';
    if (drawn(injected.serverError)) {
      serverErrors += 1;
      return serverErrors % 2 === 1 ? 'internal-failure' : 'service-unavailable';
    }
    if (drawn(injected.drop)) {
      drops += 1;
      return drops % 2 === 1 ? 'drop-before' : 'drop-after';
    }
    return 'forward';
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const operation = operationOf(req, body);
      const protocol = protocolOf(req, operation);
      if (overRate(operation)) {
        bump(throttled, operation);
        sendAwsError(req, res, protocol, 'throttle');
        return;
      }
      const fate = await decide(operation, protocol);
      if (fate === 'drop-before') {
        countFault(fate, operation);
        req.socket.destroy();
        return;
      }
      if (fate !== 'forward' && fate !== 'drop-after') {
        countFault(fate, operation);
        if (fate === 'throttle') bump(throttled, operation);
        sendAwsError(req, res, protocol, fate);
        return;
      }
      bump(counts, operation);
      if (operation.startsWith('DynamoDB_')) {
        const { tables, key } = tablesOf(body);
        bump(byTable, `${operation} ${tables}`);
        if (key !== undefined) bump(byTable, `${operation} ${tables} ${key}`);
      }
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (up) => {
          if (fate === 'drop-after') {
            // The target acted and answered; the answer never reaches the client.
            up.resume();
            up.on('end', () => {
              countFault(fate, operation);
              req.socket.destroy();
            });
            up.on('error', () => req.socket.destroy());
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (fate === 'drop-after') {
          req.socket.destroy();
          return;
        }
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    throttled,
    byTable,
    faults,
    faultTotals,
    setFaults(next: AwsFaults) {
      injected = { ...next };
    },
    reset() {
      counts.clear();
      throttled.clear();
      byTable.clear();
      faults.clear();
      faultTotals.clear();
      serverErrors = 0;
      drops = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
