/**
 * The test side of the IAM evaluation: what test files, test helpers and processes they spawn
 * call to reach the recorder in the runner's main process (iam-recorder.ts). The per-file setup
 * puts the recorder's control URL in ACM_CERT_EXPORT_IAM_RECORDER, which spawned processes
 * inherit; where it is unset (a local run by hand, the benchmarks) every helper here is a no-op.
 */

export const recorderControlVariable = 'ACM_CERT_EXPORT_IAM_RECORDER';

function controlUrl(): string | undefined {
  const value = process.env[recorderControlVariable];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

async function post(control: string, path: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${control}${path}`, {
    method: 'POST',
    // A connection per call: one pooled since the file started can be closed by the recorder's
    // keep-alive timeout just as a late call reuses it (a busy machine: "other side closed").
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`IAM recorder ${path}: ${String(answer.error)}`);
  return answer;
}

/** Requests from now on belong to `file`. */
export async function startFile(control: string, file: string): Promise<void> {
  await post(control, '/files/start', { file });
}

/**
 * Evaluates `file`'s requests not checked yet (they count as checked afterwards): the refusals,
 * if any, and how many evaluations ran. The per-file setup calls it after the file; a test that
 * means to provoke a refusal calls it itself, and its afterAll then sees nothing left.
 */
export async function checkFile(
  control: string,
  file: string,
): Promise<{ report?: string; evaluated: number }> {
  const { report, evaluated } = await post(control, '/files/check', { file });
  if (typeof evaluated !== 'number') throw new Error('IAM recorder: no evaluation count');
  return typeof report === 'string' ? { report, evaluated } : { evaluated };
}

export interface RecordedEndpoint {
  /** Where the service should send its requests: a recording front, or `target` itself. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * A recording front before `target` (a Run Command stand-in, or a local run's own emulator),
 * when a recorder runs; `emulator` is where names and tags are looked up (the run's emulator by
 * default). `runCommand`: the target is a Run Command stand-in, which the recorder then asks
 * about its hybrid (`mi-…`) nodes (their tags, their activation's role) while the front is open.
 * Without a recorder, `target` itself.
 */
export async function recordedEndpoint(
  target: string,
  options: { via: string; emulator?: string; runCommand?: boolean },
): Promise<RecordedEndpoint> {
  const control = controlUrl();
  if (control === undefined) return { endpoint: target, stop: async () => {} };
  const { endpoint } = await post(control, '/fronts', {
    target,
    via: options.via,
    ...(options.emulator === undefined ? {} : { emulator: options.emulator }),
    ...(options.runCommand === true ? { runCommand: true } : {}),
  });
  if (typeof endpoint !== 'string') throw new Error('IAM recorder: no endpoint for the front');
  return {
    endpoint,
    stop: async () => {
      await post(control, '/fronts/stop', { endpoint });
    },
  };
}
