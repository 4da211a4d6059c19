/**
 * Counts the service's AWS requests by SDK middleware, as a plugin given to every client the
 * composition root builds (service/src/aws/clients.ts `ClientPlugin`): by operation, named as
 * the test bed's counting proxy names them (`X-Amz-Target`, or `Query:<Action>` for the query
 * protocol), so the two can be compared. Each attempt counts (retries are requests); an attempt
 * answered with a throttling error counts under `throttled` instead, as the proxy counts it.
 * It also records what each DynamoDB call wrote or read (table, key, item or the attributes an
 * update sets), which the cost model prices with the tables' indexes (cost-model.ts).
 */
import { isThrottling } from '../service/src/aws/call-observer.ts';
import type { ClientPlugin } from '../service/src/aws/clients.ts';
import type { DynamoCall, WireItem } from './cost-model.ts';

interface HttpRequestLike {
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

type Next = (args: { request?: unknown }) => Promise<{ output?: unknown }>;

interface StackLike {
  add(
    middleware: (next: Next) => (args: { request?: unknown }) => Promise<{ output?: unknown }>,
    options: { step: 'finalizeRequest'; priority: 'low'; name: string },
  ): void;
}

/** A request body as text: the SDK carries a string or bytes. */
export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return '';
}

/** The operation of a signed request, as local/aws-proxy names it. */
export function operationOf(request: HttpRequestLike): string {
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const target = headers['x-amz-target'];
  if (target !== undefined) return target;
  const body = bodyText(request.body);
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1];
  return action === undefined ? 'unknown' : `Query:${action}`;
}

// The same test of a throttled answer as the service's metrics (one list of AWS's error names).
export { isThrottling } from '../service/src/aws/call-observer.ts';

/**
 * The top-level attributes an UpdateExpression writes (SET, REMOVE, ADD, DELETE), with `#names`
 * resolved: what decides whether an index projecting them is written too.
 */
export function updatedAttributes(
  expression: string,
  names: Readonly<Record<string, string>> = {},
): string[] {
  const out = new Set<string>();
  const clauses = expression.split(/\b(SET|REMOVE|ADD|DELETE)\b/i);
  for (let i = 1; i < clauses.length; i += 2) {
    const keyword = (clauses[i] ?? '').toUpperCase();
    const body = clauses[i + 1] ?? '';
    // Split on commas outside parentheses (if_not_exists(a, :v), list_append(a, :b)).
    const parts: string[] = [];
    let depth = 0;
    let current = '';
    for (const ch of body) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === ',' && depth === 0) {
        parts.push(current);
        current = '';
      } else current += ch;
    }
    parts.push(current);
    for (const part of parts) {
      const path = (keyword === 'SET' ? part.split('=')[0] : part.trim().split(/\s+/)[0]) ?? '';
      const first = path.trim().split(/[.[]/)[0] ?? '';
      if (first === '') continue;
      out.add(first.startsWith('#') ? (names[first] ?? first) : first);
    }
  }
  return [...out];
}

interface DynamoInput {
  TableName?: string;
  Key?: WireItem;
  Item?: WireItem;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ConsistentRead?: boolean;
  RequestItems?: Record<
    string,
    { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } }[]
  >;
}

/** What one DynamoDB request wrote or read, from its wire-format body and its answer. */
export function dynamoCallsOf(operation: string, body: string, output: unknown): DynamoCall[] {
  const op = operation.replace(/^DynamoDB_\d+\./, '');
  let input: DynamoInput;
  try {
    input = JSON.parse(body) as DynamoInput;
  } catch {
    return [];
  }
  const table = input.TableName ?? '';
  switch (op) {
    case 'PutItem':
      return input.Item === undefined ? [] : [{ kind: 'put', table, item: input.Item }];
    case 'UpdateItem':
      return input.Key === undefined
        ? []
        : [
            {
              kind: 'update',
              table,
              key: input.Key,
              updated: updatedAttributes(
                input.UpdateExpression ?? '',
                input.ExpressionAttributeNames ?? {},
              ),
            },
          ];
    case 'DeleteItem':
      return input.Key === undefined ? [] : [{ kind: 'delete', table, key: input.Key }];
    case 'BatchWriteItem':
      return Object.entries(input.RequestItems ?? {}).flatMap(([name, requests]) =>
        requests.flatMap((r): DynamoCall[] =>
          r.PutRequest !== undefined
            ? [{ kind: 'put', table: name, item: r.PutRequest.Item }]
            : r.DeleteRequest !== undefined
              ? [{ kind: 'delete', table: name, key: r.DeleteRequest.Key }]
              : [],
        ),
      );
    case 'GetItem':
      return input.Key === undefined
        ? []
        : [{ kind: 'get', table, key: input.Key, consistent: input.ConsistentRead === true }];
    case 'Query':
    case 'Scan': {
      const count = Number((output as { Count?: number } | undefined)?.Count ?? 0);
      return [{ kind: 'query', table, items: count, consistent: input.ConsistentRead === true }];
    }
    default:
      return [];
  }
}

/**
 * How many SQS messages an answered request deleted: one for DeleteMessage, the entries that
 * succeeded for DeleteMessageBatch (the worker deletes a job's message and Run Command's event
 * in one batch), none for anything else.
 */
export function messagesDeletedBy(operation: string, output: unknown): number {
  if (operation === 'AmazonSQS.DeleteMessage' || operation === 'Query:DeleteMessage') return 1;
  if (operation === 'AmazonSQS.DeleteMessageBatch' || operation === 'Query:DeleteMessageBatch') {
    const successful = (output as { Successful?: unknown[] } | undefined)?.Successful;
    return Array.isArray(successful) ? successful.length : 0;
  }
  return 0;
}

export interface RequestCounter {
  /** Requests answered (not throttled), by operation. */
  readonly counts: Map<string, number>;
  /** Requests answered with a throttling error, by operation. */
  readonly throttled: Map<string, number>;
  /** What the DynamoDB requests wrote and read, in order (answered requests only). */
  readonly dynamo: DynamoCall[];
  /** `counts` and `throttled` since the counter was made: reset() leaves these. */
  readonly lifetime: {
    readonly counts: Map<string, number>;
    readonly throttled: Map<string, number>;
  };
  readonly plugin: ClientPlugin;
  /** SQS messages deleted since the last reset (messagesDeletedBy), by answered requests. */
  messagesDeleted(): number;
  /** Forgets everything counted so far; requests already on their way are not counted. */
  reset(): void;
}

const bump = (map: Map<string, number>, key: string, by = 1) =>
  map.set(key, (map.get(key) ?? 0) + by);

export function createRequestCounter(name = 'benchRequestCounter'): RequestCounter {
  const counts = new Map<string, number>();
  const throttled = new Map<string, number>();
  const dynamo: DynamoCall[] = [];
  const lifetime = { counts: new Map<string, number>(), throttled: new Map<string, number>() };
  let epoch = 0;
  let deleted = 0;
  const middleware =
    (next: Next) =>
    async (args: { request?: unknown }): Promise<{ output?: unknown }> => {
      const request = (args.request ?? {}) as HttpRequestLike;
      const operation = operationOf(request);
      const sentIn = epoch;
      // Counted when sent, as the proxy counts a request when it arrives.
      bump(counts, operation);
      bump(lifetime.counts, operation);
      try {
        const result = await next(args);
        if (sentIn === epoch && operation.startsWith('DynamoDB_')) {
          dynamo.push(...dynamoCallsOf(operation, bodyText(request.body), result.output));
        }
        if (sentIn === epoch) deleted += messagesDeletedBy(operation, result.output);
        return result;
      } catch (error) {
        if (isThrottling(error)) {
          bump(lifetime.counts, operation, -1);
          bump(lifetime.throttled, operation);
          if (sentIn === epoch) {
            bump(counts, operation, -1);
            bump(throttled, operation);
          }
        }
        throw error;
      }
    };
  return {
    counts,
    throttled,
    dynamo,
    lifetime,
    plugin: {
      applyToStack(stack: unknown) {
        (stack as StackLike).add(middleware, { step: 'finalizeRequest', priority: 'low', name });
      },
    },
    messagesDeleted: () => deleted,
    reset() {
      epoch++;
      deleted = 0;
      counts.clear();
      throttled.clear();
      dynamo.length = 0;
    },
  };
}

/** Counts as a plain object, without zero entries. */
export function countsOf(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...map].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
