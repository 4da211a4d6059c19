import type { FastifyInstance } from 'fastify';
import type { CliEnvironment } from '../../../src/cli/cli-context.ts';
import type { ManualClock } from '../../support/fakes/aws-fakes.ts';

/** A fetch that serves requests from an app in-process (`inject`) and records them. */
export function injectFetch(app: FastifyInstance) {
  const requests: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
  }[] = [];
  const fetchFn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = { ...(init.headers as Record<string, string>) };
    const body = typeof init.body === 'string' ? init.body : undefined;
    requests.push({
      method: init.method ?? 'GET',
      url: url.pathname + url.search,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    const answered = Object.entries(res.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, String(value)] as [string, string]],
    );
    return new Response(res.body === '' ? null : res.body, {
      status: res.statusCode,
      headers: [['content-type', 'application/json'], ...answered],
    });
  }) as typeof fetch;
  return { fetch: fetchFn, requests };
}

export interface FakeCliEnvironment extends CliEnvironment {
  readonly stdout: string[];
  readonly stderr: string[];
  readonly sent: { queueUrl: string; body: string; region: string }[];
  /** What `write` got (the live progress line on a terminal), in order. */
  readonly written: string[];
  /** The state files, by name. */
  readonly state: Map<string, string>;
  /** Runs at every sleep (a test moves the job along here). */
  onSleep: (() => void | Promise<void>) | undefined;
}

export function fakeCliEnvironment(options: {
  fetch: typeof fetch;
  clock: ManualClock;
  env?: Record<string, string | undefined>;
  /** Whether stdout is a terminal (default: not). */
  tty?: boolean;
  /** Time zone of human output (default UTC). */
  timeZone?: string;
}): FakeCliEnvironment {
  const environment: FakeCliEnvironment = {
    stdout: [],
    stderr: [],
    sent: [],
    written: [],
    state: new Map(),
    onSleep: undefined,
    env: {
      ACM_CERT_EXPORT_URL: 'http://api.test',
      AWS_REGION: 'us-east-1',
      ...options.env,
    },
    out: (text) => environment.stdout.push(text),
    err: (text) => environment.stderr.push(text),
    fetch: options.fetch,
    credentials: () => async () => ({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    }),
    configuredRegion: async () => undefined,
    sendMessage: async (input) => {
      environment.sent.push(input);
      return `msg-${environment.sent.length}`;
    },
    sleep: async (ms) => {
      options.clock.advance(ms);
      await environment.onSleep?.();
    },
    now: () => options.clock.now(),
    write: (text) => environment.written.push(text),
    stdoutIsTTY: options.tty ?? false,
    timeZone: options.timeZone ?? 'UTC',
    stateFile: (name) => ({
      read: async () => environment.state.get(name),
      write: async (text) => {
        environment.state.set(name, text);
      },
    }),
  };
  return environment;
}
