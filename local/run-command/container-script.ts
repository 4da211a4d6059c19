/**
 * Runs one step's script inside a stand-in server that is a container (tag `standin:container`),
 * as the SSM Agent runs it on a real server: as root, in the container's own file system (no
 * fake root, no `ACM_CERT_EXPORT_ROOT`), the script written under
 * `/var/lib/amazon/ssm/<instance-id>/document/orchestration/<command-id>/<step>/_script.sh`.
 * Whatever the script runs (the allow-listed reload command: the container's real nginx) runs
 * there too.
 *
 * Timeouts and cancellation are as faithful as for a local script (script-process.ts): the
 * script runs under `setsid` in a process group of its own whose id it writes to `_script.pid`;
 * stopping it is a second exec that sends SIGTERM to that group, then SIGKILL after the grace
 * period. The script's text and environment go in the API's request body (never on a command
 * line of the host); in the container the text travels as one variable that the launcher
 * writes to the script file and unsets before the script starts.
 */
import type { ContainerEngine } from './container-engine.ts';
import { type ScriptOutcome, wait } from './script-process.ts';

export interface ContainerScriptJob {
  readonly engine: ContainerEngine;
  readonly container: string;
  readonly scriptText: string;
  /** The step's directory in the container (the script, its pid file, the working directory). */
  readonly scriptDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  /** Aborting it cancels the run. */
  readonly signal: AbortSignal;
}

/** The variable that carries the script's text into the container, unset before it runs. */
const scriptVariable = 'ACM_CERT_EXPORT_STANDIN_SCRIPT';

/**
 * Where the launcher puts the bed's `aws` shim, first on the scripts' PATH in a container
 * (run-command-server.ts). Debian's AWS CLI (2.9 in bookworm) predates AWS_ENDPOINT_URL (read
 * since 2.13) and would call AWS itself; the shim passes the emulator's endpoint as
 * `--endpoint-url`, which every version reads. A real server needs nothing of the kind: its
 * CLI calls AWS's endpoint.
 */
export const shimDir = '/run/acm-cert-export-standin/bin';

const awsShim = [
  '#!/bin/sh',
  '# Run Command stand-in: gives the AWS CLI the emulator endpoint (AWS_ENDPOINT_URL) as --endpoint-url.',
  `PATH=$(printf '%s' "$PATH" | sed 's#${shimDir}:##g')`,
  'export PATH',
  '[ -z "$AWS_ENDPOINT_URL" ] || exec aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"',
  'exec aws "$@"',
  '',
].join('\n');

/** The variable that carries the shim's text into the container, unset before the script runs. */
const shimVariable = 'ACM_CERT_EXPORT_STANDIN_AWS_SHIM';

/** `bash -c` text run as `standin DIR`: writes the script and runs it in its own session. */
const launcher = [
  'set -eu',
  // The shim only where the image has an AWS CLI (without one the script uses python3).
  `if [ ! -x ${shimDir}/aws ] && PATH=\${PATH#${shimDir}:} command -v aws >/dev/null; then`,
  `  mkdir -p ${shimDir}`,
  `  printf '%s' "$${shimVariable}" >${shimDir}/aws.$$`,
  `  chmod 755 ${shimDir}/aws.$$`,
  `  mv -f ${shimDir}/aws.$$ ${shimDir}/aws`,
  'fi',
  `unset ${shimVariable}`,
  'umask 077',
  'mkdir -p "$1"',
  'cd "$1"',
  `printf '%s\\n' "$${scriptVariable}" >_script.sh`,
  `unset ${scriptVariable}`,
  // setsid --wait: the script leads a new session and process group (its pid is the group's id,
  // written first), and setsid returns its exit status.
  `exec setsid --wait bash -c 'echo "$$" >_script.pid; exec bash _script.sh'`,
].join('\n');

/** `bash -c` text run as `standin PIDFILE SIGNAL`: signals the script's process group. */
const killer = [
  // A stop right after the start may come before the pid file: wait for it a little.
  'for _ in $(seq 50); do [ -s "$1" ] && break; sleep 0.1; done',
  '[ -s "$1" ] || exit 0',
  'kill -s "$2" -- "-$(cat "$1")" 2>/dev/null || true',
].join('\n');

/** setsid's own line when the script it waited for was killed by a signal (not the script's). */
const setsidNote = /^setsid: child \d+ did not exit normally[^\n]*\n?/m;

export async function runScriptInContainer(job: ContainerScriptJob): Promise<ScriptOutcome> {
  if (job.signal.aborted) return { kind: 'cancelled', exitCode: -1, stdout: '', stderr: '' };
  const pidFile = `${job.scriptDir}/_script.pid`;
  const signalGroup = async (signal: 'TERM' | 'KILL') => {
    try {
      await job.engine.exec({
        container: job.container,
        cmd: ['bash', '-c', killer, 'standin', pidFile, signal],
        env: {},
        user: 'root',
      });
    } catch {
      // the container is gone: so is the script
    }
  };
  let stopped: 'timed-out' | 'cancelled' | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timed-out' | 'cancelled') => {
    if (stopped !== undefined) return;
    stopped = reason;
    void signalGroup('TERM');
    graceTimer = setTimeout(() => void signalGroup('KILL'), job.killGraceMs);
  };
  const lifetime = new AbortController();
  void wait(job.timeoutMs, lifetime.signal).then((result) => {
    if (result === 'elapsed') stop('timed-out');
  });
  const onAbort = () => stop('cancelled');
  job.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await job.engine.exec({
      container: job.container,
      cmd: ['bash', '-c', launcher, 'standin', job.scriptDir],
      env: { ...job.env, [scriptVariable]: job.scriptText, [shimVariable]: awsShim },
      user: 'root',
    });
    if (stopped !== undefined) {
      await signalGroup('KILL');
      return {
        kind: stopped,
        exitCode: -1,
        stdout: result.stdout,
        stderr: result.stderr.replace(setsidNote, ''),
      };
    }
    return { kind: 'exited', ...result };
  } catch (error) {
    return {
      kind: 'exited',
      exitCode: 1,
      stdout: '',
      stderr: `stand-in: could not run the script in container ${job.container}: ${error instanceof Error ? error.message : String(error)}\n`,
    };
  } finally {
    lifetime.abort();
    clearTimeout(graceTimer);
    job.signal.removeEventListener('abort', onAbort);
  }
}
