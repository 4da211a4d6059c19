/**
 * What an AWS SDK request asks for, read off the wire: the service (from the SigV4 credential
 * scope), the operation and its parameters, for the two protocols the service's clients speak —
 * JSON (`X-Amz-Target`: ACM, Secrets Manager, DynamoDB, SSM, SQS) and query (form-encoded
 * `Action=`: EC2, STS, SNS).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface AwsCall {
  /** The SigV4 signing name: acm, secretsmanager, dynamodb, ssm, sqs, ec2, sts… */
  readonly service: string;
  /** The signing region, which is the region of every ARN the call touches. */
  readonly region: string;
  readonly operation: string;
  readonly params: CallParams;
}

/** Parameters of either protocol, read by name. */
export interface CallParams {
  /** A top-level string parameter (JSON member or query parameter). */
  string(name: string): string | undefined;
  /** The JSON body (JSON protocol only; empty for query calls). */
  readonly json: Readonly<Record<string, unknown>>;
  /** Query parameters (query protocol only). */
  readonly query: URLSearchParams;
}

export class UnreadableCallError extends Error {
  override readonly name = 'UnreadableCallError';
}

const credentialScope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses one request; throws UnreadableCallError naming what it could not read. */
export function readAwsCall(headers: IncomingHttpHeaders, body: Buffer): AwsCall {
  const scope = credentialScope.exec(header(headers, 'authorization') ?? '');
  if (scope === null) throw new UnreadableCallError('the request is not SigV4-signed');
  const [, region, service] = scope as unknown as [string, string, string];
  const target = header(headers, 'x-amz-target');
  const text = body.toString('utf8');
  if (target !== undefined) {
    const operation = target.slice(target.lastIndexOf('.') + 1);
    let json: Record<string, unknown> = {};
    if (text.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          json = parsed as Record<string, unknown>;
        } else {
          throw new Error('not an object');
        }
      } catch {
        // Never the parser's message: it quotes the body, which may hold a secret.
        throw new UnreadableCallError(`${service} ${operation}: the body is not a JSON object`);
      }
    }
    return { service, region, operation, params: jsonParams(json) };
  }
  const contentType = header(headers, 'content-type') ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const query = new URLSearchParams(text);
    const operation = query.get('Action');
    if (operation === null)
      throw new UnreadableCallError(`${service}: a query call without Action`);
    return { service, region, operation, params: queryParams(query) };
  }
  throw new UnreadableCallError(
    `${service}: neither X-Amz-Target nor a form-encoded Action (content-type "${contentType}")`,
  );
}

function jsonParams(json: Record<string, unknown>): CallParams {
  return {
    json,
    query: new URLSearchParams(),
    string(name) {
      const value = json[name];
      return typeof value === 'string' ? value : undefined;
    },
  };
}

function queryParams(query: URLSearchParams): CallParams {
  return {
    json: {},
    query,
    string: (name) => query.get(name) ?? undefined,
  };
}

/** Query-protocol lists: `InstanceId.1`, `InstanceId.2`, … in order. */
export function queryList(query: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; query.has(`${prefix}.${i}`); i++) values.push(query.get(`${prefix}.${i}`) ?? '');
  return values;
}
