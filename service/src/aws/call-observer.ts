/**
 * Sees every request an SDK client sends, as a plugin (clients.ts `ClientPlugin`) whose
 * middleware sits in the finalizeRequest step below the retry middleware: each attempt is seen,
 * retries included, and how it ended. The service's metrics count AWS calls with it
 * (metrics/aws-call-metrics.ts); the benchmark's request counter uses its throttling test.
 */
import type { ClientPlugin } from './clients.ts';

/** The error names AWS services answer a throttled request with. */
export const throttlingErrorNames: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
]);

export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; Code?: string } | null;
  return throttlingErrorNames.has(e?.name ?? '') || throttlingErrorNames.has(e?.Code ?? '');
}

export type CallErrorKind = 'throttled' | 'client' | 'server' | 'network';

/** How a failed attempt failed: throttled, refused (4xx), AWS's fault (5xx), or no answer at all. */
export function callErrorKind(error: unknown): CallErrorKind {
  if (isThrottling(error)) return 'throttled';
  const e = error as { $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined) return 'network';
  if (e?.$fault === 'server' || status >= 500) return 'server';
  return 'client';
}

export interface ObservedCall {
  /** The client's service: `DynamoDB`, `SQS`, `ACM`, `SecretsManager`, `SSM`, `EC2`, `SNS`. */
  readonly service: string;
  /** The operation: `PutItem`, `ReceiveMessage`, … */
  readonly operation: string;
  /** The request as sent (headers and body), for observers that read it. */
  readonly request: { readonly headers?: Record<string, string>; readonly body?: unknown };
  /** The answer's output, when it succeeded. */
  readonly output?: unknown;
  /** The error, when it failed. */
  readonly error?: unknown;
}

interface MiddlewareContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

type Next = (args: { request?: unknown }) => Promise<{ output?: unknown }>;

interface StackLike {
  add(
    middleware: (
      next: Next,
      context: MiddlewareContext,
    ) => (args: { request?: unknown }) => Promise<{ output?: unknown }>,
    options: { step: 'finalizeRequest'; priority: 'low'; name: string },
  ): void;
}

/** The operation named by the request itself, when the context names none (X-Amz-Target or Action). */
function operationOfRequest(request: ObservedCall['request']): string {
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const target = headers['x-amz-target'];
  if (target !== undefined) return target.slice(target.lastIndexOf('.') + 1);
  const body = typeof request.body === 'string' ? request.body : '';
  return /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ?? 'unknown';
}

/**
 * A plugin calling `observe` once per attempt, after its answer (or its failure). `observe` must
 * not throw; whatever it does, the request's result is returned (or its error thrown) unchanged.
 */
export function callObserverPlugin(
  observe: (call: ObservedCall) => void,
  name = 'callObserver',
): ClientPlugin {
  const middleware =
    (next: Next, context: MiddlewareContext) =>
    async (args: { request?: unknown }): Promise<{ output?: unknown }> => {
      const request = (args.request ?? {}) as ObservedCall['request'];
      const service = (context.clientName ?? 'unknown').replace(/Client$/, '');
      const operation = context.commandName?.replace(/Command$/, '') ?? operationOfRequest(request);
      let result: { output?: unknown };
      try {
        result = await next(args);
      } catch (error) {
        safely(() => observe({ service, operation, request, error }));
        throw error;
      }
      safely(() => observe({ service, operation, request, output: result.output }));
      return result;
    };
  return {
    applyToStack(stack: unknown) {
      (stack as StackLike).add(middleware, { step: 'finalizeRequest', priority: 'low', name });
    },
  };
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    // an observer's bug never fails a request
  }
}
