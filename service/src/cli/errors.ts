/**
 * Exit codes of `acm-cert-export`:
 * - 0: done (a job that succeeded, or was queued / is in progress when not waiting);
 * - 1: usage or other error (bad arguments, credentials, HTTP errors, network);
 * - 2: the job ended unsuccessfully (PartiallyFailed, Failed, TimedOut, NoTargets, Cancelled);
 * - 3: `--wait` gave up (`--timeout`) while the job was still running.
 */
export const exitCodes = { ok: 0, error: 1, jobFailed: 2, waitTimedOut: 3 } as const;

/** What each exit code means, as `--help` lists them (generated from here, never copied). */
export const exitCodeMeanings: Readonly<Record<keyof typeof exitCodes, string>> = {
  ok: 'done (a job that succeeded, or was queued / is in progress when not waiting)',
  error: 'usage or other error (bad arguments, credentials, HTTP errors, network)',
  jobFailed:
    'the job ended unsuccessfully (PartiallyFailed, Failed, TimedOut, NoTargets, Cancelled); deploy --dry-run: not every server would get it',
  waitTimedOut: '--wait gave up (--timeout) while the job was still running',
};

/** The "Exit codes:" block of `--help`. */
export function exitCodesHelp(): string {
  const lines = (Object.keys(exitCodes) as (keyof typeof exitCodes)[])
    .map((name) => [exitCodes[name], exitCodeMeanings[name]] as const)
    .sort(([a], [b]) => a - b)
    .map(([code, meaning]) => `  ${code}  ${meaning}`);
  return ['Exit codes:', ...lines].join('\n');
}

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /** The API's error code, when the error came from the API. */
  readonly code?: string;

  constructor(message: string, options: { exitCode?: number; code?: string } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? exitCodes.error;
    if (options.code !== undefined) this.code = options.code;
  }
}
