/**
 * The SSM wire protocol (AWS JSON 1.1): `X-Amz-Target: AmazonSSM.<Operation>`, JSON bodies,
 * timestamps as epoch seconds, errors as HTTP 400 with `{"__type": …, "message": …}`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const contentType = 'application/x-amz-json-1.1';
export const targetPrefix = 'AmazonSSM.';

/**
 * What an operation returns to have the request forwarded to moto after all (e.g. the tag
 * operations for resource types other than ManagedInstance).
 */
export const forwardToEmulator: unique symbol = Symbol('forward to the emulator');

/** An error AWS would return to the caller, with its error code as `__type`. */
export class SsmApiError extends Error {
  override readonly name = 'SsmApiError';
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The operation named by `X-Amz-Target`, or undefined when it is not an SSM call. */
export function ssmOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(targetPrefix)) return undefined;
  return target.slice(targetPrefix.length);
}

export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SsmApiError('SerializationException', 'The request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SsmApiError('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(body);
}

export function sendResult(res: ServerResponse, payload: unknown): void {
  send(res, 200, payload);
}

export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof SsmApiError) {
    send(res, error.status, { __type: error.code, message: error.message }, error.code);
    return;
  }
  // Never leak internals in a 5xx, like AWS.
  send(res, 500, { __type: 'InternalServerError', message: 'Internal error in the stand-in' });
}

/** AWS JSON timestamps: seconds since the epoch, with milliseconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

// Input readers: the shapes the SDK sends; anything else is a ValidationException like AWS.

export function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new SsmApiError('ValidationException', `${name} must be a string`);
  }
  return value;
}

export function requiredString(input: Record<string, unknown>, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') {
    throw new SsmApiError(
      'ValidationException',
      `1 validation error detected: ${name} is required`,
    );
  }
  return value;
}

export function optionalNumber(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new SsmApiError('ValidationException', `${name} must be an integer`);
  }
  return value;
}

export function optionalStringList(
  input: Record<string, unknown>,
  name: string,
): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new SsmApiError('ValidationException', `${name} must be a list of strings`);
  }
  return value as string[];
}
