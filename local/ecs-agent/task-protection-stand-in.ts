/**
 * A stand-in of the ECS agent's task scale-in protection endpoint on loopback, as the agent serves
 * it (amazon-ecs-agent, ecs-agent/tmds/handlers/taskprotection/v1): `PUT|GET
 * /api/<endpoint-id>/task-protection/v1/state`, a strict JSON body (`ProtectionEnabled`
 * required, `ExpiresInMinutes` 1-2880, any other field refused), and the agent's three answers:
 * `{"protection":…}`, `{"failure":…}` (ECS refused, HTTP 200) and `{"error":…}` (HTTP 4xx/5xx).
 * Each endpoint id is one task; the stand-in keeps its protection, which expires like ECS's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProtectionRequest {
  readonly task: string;
  readonly at: number;
  readonly enabled: boolean;
  readonly expiresInMinutes?: number;
}

/** How the next requests are answered: normally, refused by ECS, or by an agent that timed out. */
export type AgentBehaviour = 'normal' | 'ecs-failure' | 'agent-timeout';

export interface TaskProtectionStandIn {
  /** The value of ECS_AGENT_URI for the task `task` (a new task per id). */
  agentUri(task: string): string;
  /** Every accepted PUT, in order. */
  readonly requests: readonly ProtectionRequest[];
  /** Whether ECS would consider the task protected now. */
  isProtected(task: string, now?: number): boolean;
  behave(behaviour: AgentBehaviour): void;
  stop(): Promise<void>;
}

const defaultMinutes = 120;
const region = 'us-east-1';

function taskArn(task: string): string {
  return `arn:aws:ecs:${region}:123456789012:task/acm-cert-export/${task}`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The request the agent accepts, or the reason it refuses it (its decoder has no leniency). */
function parse(text: string): { enabled: boolean; minutes?: number } | { refused: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { refused: 'UpdateTaskProtection: failed to decode request' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { refused: 'UpdateTaskProtection: failed to decode request' };
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter(
    (k) => k !== 'ProtectionEnabled' && k !== 'ExpiresInMinutes',
  );
  if (unknown.length > 0) return { refused: 'UpdateTaskProtection: failed to decode request' };
  const { ProtectionEnabled: enabled, ExpiresInMinutes: minutes } = fields;
  if (enabled === undefined || enabled === null) {
    return { refused: "Invalid request: does not contain 'ProtectionEnabled' field" };
  }
  if (typeof enabled !== 'boolean') {
    return { refused: 'UpdateTaskProtection: failed to decode request' };
  }
  if (minutes === undefined || minutes === null) return { enabled };
  if (typeof minutes !== 'number' || !Number.isInteger(minutes)) {
    return { refused: 'UpdateTaskProtection: failed to decode request' };
  }
  return { enabled, minutes };
}

export interface StandInOptions {
  /**
   * How long the agent's own call to ECS takes before a PUT is recorded and answered (the real
   * agent calls ECS UpdateTaskProtection: never instant). Default 0.
   */
  readonly latencyMs?: number;
}

export async function startTaskProtectionStandIn(
  options: StandInOptions = {},
): Promise<TaskProtectionStandIn> {
  const latencyMs = options.latencyMs ?? 0;
  const requests: ProtectionRequest[] = [];
  const expiries = new Map<string, number | undefined>();
  let behaviour: AgentBehaviour = 'normal';

  const protectedUntil = (task: string, now: number) => {
    const until = expiries.get(task);
    return until !== undefined && until > now ? until : undefined;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const match = /^\/api\/([^/]+)\/task-protection\/v1\/state$/.exec(req.url ?? '');
      if (match === null) {
        res.writeHead(404).end();
        return;
      }
      const task = decodeURIComponent(match[1] ?? '');
      const arn = taskArn(task);
      if (req.method === 'GET') {
        const until = protectedUntil(task, Date.now());
        send(res, 200, {
          protection: {
            ExpirationDate: until === undefined ? null : new Date(until).toISOString(),
            ProtectionEnabled: until !== undefined,
            TaskArn: arn,
          },
        });
        return;
      }
      if (req.method !== 'PUT') {
        res.writeHead(405).end();
        return;
      }
      const request = parse(await readBody(req));
      if ('refused' in request) {
        send(res, 400, {
          error: { Arn: arn, Code: 'InvalidParameterException', Message: request.refused },
        });
        return;
      }
      if (latencyMs > 0) await sleep(latencyMs);
      if (behaviour === 'agent-timeout') {
        send(res, 504, {
          error: {
            Arn: arn,
            Code: 'RequestCanceled',
            Message: 'Timed out calling ECS Task Protection API',
          },
        });
        return;
      }
      if (behaviour === 'ecs-failure') {
        send(res, 200, { failure: { Arn: arn, Detail: null, Reason: 'TASK_NOT_VALID' } });
        return;
      }
      const minutes = request.minutes ?? defaultMinutes;
      if (request.enabled && (minutes < 1 || minutes > 2880)) {
        send(res, 400, {
          requestID: 'stand-in',
          error: {
            Arn: arn,
            Code: 'InvalidParameterException',
            Message: 'expiresInMinutes must be between 1 and 2880',
          },
        });
        return;
      }
      const now = Date.now();
      requests.push({
        task,
        at: now,
        enabled: request.enabled,
        ...(request.minutes === undefined ? {} : { expiresInMinutes: request.minutes }),
      });
      const until = request.enabled ? now + minutes * 60_000 : undefined;
      expiries.set(task, until);
      send(res, 200, {
        protection: {
          ExpirationDate: until === undefined ? null : new Date(until).toISOString(),
          ProtectionEnabled: request.enabled,
          TaskArn: arn,
        },
      });
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    agentUri: (task) => `http://127.0.0.1:${port}/api/${encodeURIComponent(task)}`,
    requests,
    isProtected: (task, now = Date.now()) => protectedUntil(task, now) !== undefined,
    behave(next) {
      behaviour = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
