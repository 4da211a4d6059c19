/**
 * The little of the Docker Engine API the stand-in needs to run a server's script inside a
 * container (container-script.ts): exec create, exec start (the multiplexed output stream) and
 * exec inspect (the exit code), over the engine's unix socket. One code path for every engine
 * that serves this API: Docker Engine and Docker Desktop (`/var/run/docker.sock`), and podman
 * (`podman system service unix://PATH`, which is what the tests and the local run start here).
 *
 * The environment of an exec goes in the request body, never on a command line: the script's
 * credentials are not visible in any process list on the host.
 */
import { request } from 'node:http';

/** The API version asked for: Docker Engine 20.10+ and podman 4's compatible API serve it. */
const apiVersion = 'v1.41';

/** The socket of an engine, from a DOCKER_HOST value (`unix:///path`) or a plain path. */
export function engineSocket(dockerHost: string | undefined): string {
  const value = dockerHost === undefined || dockerHost === '' ? '/var/run/docker.sock' : dockerHost;
  if (value.startsWith('unix://')) return value.slice('unix://'.length);
  if (value.startsWith('/')) return value;
  throw new Error(
    `DOCKER_HOST ${JSON.stringify(value)}: only a unix socket (unix:///path) is supported by the Run Command stand-in`,
  );
}

/** An engine call that failed: the HTTP status and the engine's message. */
export class EngineError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'EngineError';
  }
}

interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolveCall, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path: `/${apiVersion}${path}`,
        headers: {
          Host: 'docker',
          ...(payload === undefined
            ? {}
            : { 'Content-Type': 'application/json', 'Content-Length': payload.length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolveCall({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', (error) =>
      reject(new EngineError(0, `container engine at ${socketPath}: ${error.message}`)),
    );
    req.end(payload);
  });
}

function failure(what: string, answer: Answer): EngineError {
  let message = answer.body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: the text as it is
  }
  return new EngineError(answer.status, `${what}: ${answer.status} ${message.slice(0, 300)}`);
}

export interface ExecRequest {
  readonly container: string;
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly workingDir?: string;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Output kept per stream (callers cut it further, as Run Command does). */
const maxCapture = 1_000_000;

/**
 * Splits the engine's multiplexed stream (8-byte frame headers: stream 1 stdout, 2 stderr, then
 * the payload's length, big-endian) into the two streams.
 */
export function demultiplex(stream: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= stream.length) {
    const kind = stream[offset];
    const size = stream.readUInt32BE(offset + 4);
    const payload = stream.subarray(offset + 8, offset + 8 + size);
    if (kind === 2) err.push(payload);
    else out.push(payload);
    offset += 8 + size;
  }
  const text = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8').slice(0, maxCapture);
  return { stdout: text(out), stderr: text(err) };
}

export class ContainerEngine {
  readonly socketPath: string;
  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** Runs a command in a running container and waits for it; its output and exit code. */
  async exec(run: ExecRequest): Promise<ExecResult> {
    const created = await call(
      this.socketPath,
      'POST',
      `/containers/${encodeURIComponent(run.container)}/exec`,
      {
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Cmd: run.cmd,
        Env: Object.entries(run.env).map(([name, value]) => `${name}=${value}`),
        ...(run.user === undefined ? {} : { User: run.user }),
        ...(run.workingDir === undefined ? {} : { WorkingDir: run.workingDir }),
      },
    );
    if (created.status !== 201) throw failure(`exec in container ${run.container}`, created);
    const { Id: id } = JSON.parse(created.body.toString('utf8')) as { Id: string };
    const started = await call(this.socketPath, 'POST', `/exec/${id}/start`, {
      Detach: false,
      Tty: false,
    });
    if (started.status !== 200) throw failure(`exec start in container ${run.container}`, started);
    const output = demultiplex(started.body);
    // The stream ends when the process does; the engine may record its exit code a moment later.
    for (let attempt = 0; ; attempt++) {
      const inspected = await call(this.socketPath, 'GET', `/exec/${id}/json`);
      if (inspected.status !== 200) throw failure(`exec inspect in ${run.container}`, inspected);
      const state = JSON.parse(inspected.body.toString('utf8')) as {
        Running?: boolean;
        ExitCode?: number | null;
      };
      if (state.Running !== true && typeof state.ExitCode === 'number') {
        return { exitCode: state.ExitCode, ...output };
      }
      // Generous: a loaded machine's engine can take seconds to record it.
      if (attempt >= 300) {
        throw new EngineError(0, `exec in ${run.container}: no exit code 30 s after its end`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }

  /** True when the container exists and runs. */
  async isRunning(container: string): Promise<boolean> {
    const answer = await call(
      this.socketPath,
      'GET',
      `/containers/${encodeURIComponent(container)}/json`,
    );
    if (answer.status === 404) return false;
    if (answer.status !== 200) throw failure(`inspect container ${container}`, answer);
    const state = JSON.parse(answer.body.toString('utf8')) as { State?: { Running?: boolean } };
    return state.State?.Running === true;
  }
}
