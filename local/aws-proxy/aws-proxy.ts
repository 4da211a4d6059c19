/**
 * A loopback HTTP proxy in front of the emulator (or the Run Command stand-in) for tests and
 * benchmarks: counts requests by operation, and answers some with ThrottlingException the way
 * AWS does — a fixed rate for chosen operations (ACM's ExportCertificate quota is 5 per second)
 * and/or a random share of all JSON-protocol calls. Everything else is forwarded untouched.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RateRule {
  /** `X-Amz-Target` of the operation, e.g. `CertificateManager.ExportCertificate`. */
  readonly operation: string;
  readonly perSecond: number;
}

export interface AwsProxyOptions {
  /** Where requests go, e.g. moto's endpoint. */
  readonly target: string;
  readonly rates?: readonly RateRule[];
  /** Share (0..1) of JSON-protocol requests answered with ThrottlingException at random. */
  readonly throttleShare?: number;
  /** Operations never throttled at random (e.g. the queue receive of the test itself). */
  readonly neverThrottle?: readonly string[];
  readonly random?: () => number;
}

export interface AwsProxy {
  readonly endpoint: string;
  /** Requests forwarded, by operation (`Service.Operation`, or `Query:Action` for query APIs). */
  readonly counts: Map<string, number>;
  /** Requests answered with ThrottlingException, by operation. */
  readonly throttled: Map<string, number>;
  /**
   * DynamoDB requests forwarded, by operation and table (`DynamoDB_20120810.GetItem Table`), and
   * for one-item requests also by its partition key (`… Table job-1`): what one job wrote.
   */
  readonly byTable: Map<string, number>;
  reset(): void;
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
  const random = options.random ?? Math.random;
  // Per-operation token buckets, like AWS's API rate quotas: refilled at the rate, holding at
  // most one second's worth (the burst).
  const buckets = new Map<string, { tokens: number; at: number }>();

  function shouldThrottle(operation: string, isJson: boolean): boolean {
    const rule = options.rates?.find((r) => r.operation === operation);
    if (rule !== undefined) {
      const now = performance.now();
      const b = buckets.get(operation) ?? { tokens: rule.perSecond, at: now };
      b.tokens = Math.min(rule.perSecond, b.tokens + ((now - b.at) / 1000) * rule.perSecond);
      b.at = now;
      buckets.set(operation, b);
      if (b.tokens < 1) return true;
      b.tokens -= 1;
    }
    if (
      !isJson ||
      options.throttleShare === undefined ||
      options.neverThrottle?.includes(operation)
    )
      return false;
    return random() < options.throttleShare;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const operation = operationOf(req, body);
      const isJson = typeof req.headers['x-amz-target'] === 'string';
      if (shouldThrottle(operation, isJson)) {
        bump(throttled, operation);
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'ThrottlingException',
        });
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
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
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
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
    reset() {
      counts.clear();
      throttled.clear();
      byTable.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
