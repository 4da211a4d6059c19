/**
 * A loopback HTTP proxy in front of the emulator or the Run Command stand-in that records, for
 * every request carrying one of the service's app ids, the IAM requests AWS would authorize for
 * it. Everything is forwarded untouched, plus a marker header so that a recording front further
 * down (the stand-in forwards what it does not answer to the emulator's front) does not record
 * the same request twice.
 */
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppId, appIdOf, serverInstanceOf } from './app-ids.ts';
import { readAwsCall } from './aws-wire.ts';
import type { IamRequest, ResourceLookup } from './iam-request.ts';
import { iamRequestsOf, type MappedCall } from './operation-map.ts';

/** Set on every forwarded request of the service: already recorded upstream. */
export const recordedMarker = 'x-acm-cert-export-iam-recorded';

export interface RecordedCall {
  readonly appId: AppId;
  /** `service:Operation` as sent, e.g. `secretsmanager:CreateSecret`. */
  readonly operation: string;
  readonly requests: readonly IamRequest[];
  /** Why the call could not be turned into IAM requests (an unknown operation…): a failure. */
  readonly problem?: string;
  /** Which front saw it: `emulator`, `run-command`… */
  readonly via: string;
}

/** A stand-in server's own call (the install script's AWS CLI), named by its instance. */
export interface ServerCall {
  readonly instanceId: string;
  /**
   * The role the server's credentials are for, when the bed knows it: a hybrid (`mi-…`) node's
   * activation IamRole. An EC2 stand-in server has none (its instance's tags stand for it).
   */
  readonly roleArn?: string;
  /**
   * The role's tags (aws:PrincipalTag): a hybrid node's role's IAM tags; for an EC2 instance its
   * tags when it called, standing for its role's (on AWS the role carries the target tag,
   * ServerAccess's example roles, not the instance).
   */
  readonly roleTags: Readonly<Record<string, string>>;
  readonly operation: string;
  readonly requests: readonly IamRequest[];
  readonly problem?: string;
  readonly via: string;
}

export interface RecordingFrontOptions {
  readonly target: string;
  readonly lookup: ResourceLookup;
  /** The account of the bed's ARNs (moto's default). */
  readonly account: string;
  readonly via: string;
  /** Called when the request arrives; the promise settles once its IAM requests are known. */
  readonly record: (call: Promise<RecordedCall>) => void;
  /** Called for a stand-in server's own call (see serverInstanceOf), when set. */
  readonly recordServer?: (call: Promise<ServerCall>) => void;
}

export interface RecordingFront {
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function withResourceFromAnswer(mapped: MappedCall, answer: Buffer): IamRequest[] {
  if (mapped.resourceFromAnswer === undefined) return mapped.requests;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.toString('utf8'));
  } catch {
    return mapped.requests;
  }
  if (typeof parsed !== 'object' || parsed === null) return mapped.requests;
  const arn = mapped.resourceFromAnswer(parsed as Record<string, unknown>);
  return arn === undefined
    ? mapped.requests
    : mapped.requests.map((r) => ({ ...r, resource: arn }));
}

export async function startRecordingFront(options: RecordingFrontOptions): Promise<RecordingFront> {
  const target = new URL(options.target);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A client that goes away mid-request (a killed process) ends this request, never the runner.
    forward(req, res).catch(() => res.destroy());
  });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const fresh = req.headers[recordedMarker] === undefined;
    const appId = fresh ? appIdOf(req.headers['user-agent']) : undefined;
    const serverId = fresh ? serverInstanceOf(req.headers['user-agent']) : undefined;
    if (serverId !== undefined && options.recordServer !== undefined) {
      const { operation, mapped, problem } = await mapCall(serverId, req, body);
      const identity = await serverIdentity(serverId);
      const base = { instanceId: serverId, ...identity, operation, via: options.via };
      const unknown = identity.problem;
      options.recordServer(
        Promise.resolve(
          mapped === undefined || unknown !== undefined
            ? { ...base, requests: [], problem: unknown ?? problem ?? '' }
            : { ...base, requests: mapped.requests },
        ),
      );
    }
    let answered: ((answer: Buffer) => void) | undefined;
    if (appId !== undefined) {
      // Resolved before forwarding: tags and targets as they are when AWS would authorize.
      const { operation, mapped, problem } = await mapCall(appId, req, body);
      const answer = new Promise<Buffer>((resolve) => {
        answered = resolve;
      });
      const base = { appId, operation, via: options.via };
      options.record(
        (async (): Promise<RecordedCall> => {
          if (mapped === undefined) return { ...base, requests: [], problem: problem ?? '' };
          if (mapped.resourceFromAnswer === undefined)
            return { ...base, requests: mapped.requests };
          return { ...base, requests: withResourceFromAnswer(mapped, await answer) };
        })(),
      );
    }
    // Headers as signed (Host included): the emulator checks signatures when a test asks it to.
    const headers: OutgoingHttpHeaders = { ...req.headers };
    if (appId !== undefined || serverId !== undefined) headers[recordedMarker] = '1';
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        const chunks: Buffer[] = [];
        up.on('data', (chunk: Buffer) => {
          if (answered !== undefined) chunks.push(chunk);
          res.write(chunk);
        });
        up.on('end', () => {
          answered?.(Buffer.concat(chunks));
          res.end();
        });
        up.on('error', () => {
          answered?.(Buffer.alloc(0));
          res.destroy();
        });
        // Cut short: whatever arrived is the answer (a record never waits forever).
        up.on('close', () => answered?.(Buffer.concat(chunks)));
      },
    );
    upstream.on('error', () => {
      answered?.(Buffer.alloc(0));
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // The client gone (a long poll of a stopped worker): no reason to keep the upstream call.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  /**
   * Who a stand-in server is to IAM: a hybrid node is its activation's role, with that role's
   * tags; an EC2 stand-in server has its instance's tags as its role's.
   */
  async function serverIdentity(
    serverId: string,
  ): Promise<{ roleArn?: string; roleTags: Record<string, string>; problem?: string }> {
    if (!serverId.startsWith('mi-')) {
      return { roleTags: (await options.lookup.instanceTags(serverId)) ?? {} };
    }
    try {
      const role = await options.lookup.hybridNodeRole(serverId);
      if (role !== undefined) return { roleArn: role.arn, roleTags: role.tags };
      return {
        roleTags: {},
        problem: `managed node ${serverId}: no Run Command stand-in knows it (deregistered?), or the emulator's IAM has no role of its activation's IamRole`,
      };
    } catch (error) {
      return {
        roleTags: {},
        problem: `managed node ${serverId}: its role could not be looked up: ${(error as Error).message}`,
      };
    }
  }

  async function mapCall(
    who: string,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ operation: string; mapped?: MappedCall; problem?: string }> {
    let operation = `${req.method} ${req.url ?? ''}`;
    try {
      const call = readAwsCall(req.headers, body);
      operation = `${call.service}:${call.operation}`;
      const mapped = await iamRequestsOf(call, {
        account: options.account,
        lookup: options.lookup,
      });
      return { operation, mapped };
    } catch (error) {
      return { operation, problem: `${who}: ${(error as Error).message}` };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
