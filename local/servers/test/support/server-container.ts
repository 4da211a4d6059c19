import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../../paths.ts';

/**
 * A Debian server as a podman container of one of local/servers/images.sh's images, run as
 * root, sharing the host's network (it reaches the emulator's front on loopback). Commands run
 * in it with `podman exec`; whatever is secret goes in through stdin or an environment file of
 * mode 600, never on a command line.
 */

const exec = promisify(execFile);

export type Codename = 'bullseye' | 'bookworm' | 'trixie';

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The image of `codename`, built by images.sh unless cached (waits while another build runs). */
export async function serverImage(codename: Codename): Promise<string> {
  try {
    const { stdout } = await exec('bash', [join(repoRoot, 'local/servers/images.sh'), codename], {
      maxBuffer: 1 << 20,
    });
    return stdout.trim().split('\n').at(-1) as string;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(
      `local/servers/images.sh ${codename} failed: ${stderr.trim()}` +
        ' (bash local/test.sh builds the images in the background: .state/servers/images.log)',
    );
  }
}

/** A prefix naming this run's containers: `acm-servers-<pid>-<random>`. */
export const runPrefix = `acm-servers-${process.pid}-${randomBytes(3).toString('hex')}`;

export class ServerContainer {
  readonly name: string;
  private readonly scratch: string;

  private constructor(name: string, scratch: string) {
    this.name = name;
    this.scratch = scratch;
  }

  /** Starts a container of `image` named `<runPrefix>-<suffix>`, with extra `podman run` options. */
  static async start(image: string, suffix: string, options: string[] = []) {
    const name = `${runPrefix}-${suffix}`;
    const scratch = await mkdtemp(join(tmpdir(), `${name}-`));
    try {
      await exec('podman', [
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        '--label',
        'org.acm-cert-export.test=servers',
        ...options,
        image,
        'sleep',
        'infinity',
      ]);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      await exec('podman', ['rm', '--force', name]).catch(() => undefined);
      throw error;
    }
    return new ServerContainer(name, scratch);
  }

  /**
   * Runs `argv` in the container as root; `stdin` is written to its standard input; `env` goes
   * through a file of mode 600 (`--env-file`), so no value is on a command line.
   */
  async exec(
    argv: string[],
    options: { stdin?: string; env?: Record<string, string>; workdir?: string } = {},
  ): Promise<Exec> {
    const args = ['exec', '--interactive'];
    if (options.workdir !== undefined) args.push('--workdir', options.workdir);
    let envFile: string | undefined;
    if (options.env !== undefined) {
      envFile = join(this.scratch, `env-${randomBytes(6).toString('hex')}`);
      const lines = Object.entries(options.env).map(([name, value]) => {
        if (/[\n\r]/.test(value)) throw new Error(`${name}: a value with a line break`);
        return `${name}=${value}\n`;
      });
      await writeFile(envFile, lines.join(''), { mode: 0o600 });
      args.push('--env-file', envFile);
    }
    args.push(this.name, ...argv);
    try {
      return await new Promise<Exec>((resolveExec, reject) => {
        const child = spawn('podman', args, { stdio: 'pipe' });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
        });
        child.stderr.setEncoding('utf8').on('data', (c: string) => {
          stderr += c;
        });
        child.once('error', reject);
        child.once('close', (code) => resolveExec({ code, stdout, stderr }));
        child.stdin.end(options.stdin ?? '');
      });
    } finally {
      if (envFile !== undefined) await rm(envFile, { force: true });
    }
  }

  /**
   * `sh -c script sh args…` in the container (the script reads `$1`…); throws with its output
   * when it exits non-zero.
   */
  async sh(script: string, args: string[] = [], stdin?: string): Promise<string> {
    const out = await this.exec(
      ['sh', '-c', script, 'sh', ...args],
      stdin === undefined ? {} : { stdin },
    );
    if (out.code !== 0) {
      throw new Error(
        `${this.name}: sh -c ${JSON.stringify(script)} exited ${out.code}:\n${out.stderr}`,
      );
    }
    return out.stdout;
  }

  /** Writes `content` to `path` in the container (parents made), with `mode`, owned by root. */
  async writeFile(path: string, content: string, mode: number): Promise<void> {
    await this.sh(
      'set -e; mkdir -p "$(dirname "$1")"; cat >"$1.tmp"; chmod "$2" "$1.tmp"; mv -f "$1.tmp" "$1"',
      [path, mode.toString(8)],
      content,
    );
  }

  /**
   * `stat -c format` of each path in the container, by path; by default `owner:group mode`, e.g.
   * `root:root 644`.
   */
  async stat(paths: readonly string[], format = '%U:%G %a'): Promise<Record<string, string>> {
    const out = await this.exec(['stat', '-c', `%n|${format}`, '--', ...paths]);
    if (out.code !== 0) throw new Error(`stat ${paths.join(' ')}: ${out.stderr}`);
    const entries = out.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('|') as [string, string]);
    return Object.fromEntries(entries);
  }

  /** Removes the container (and its scratch directory on this machine). Safe to call twice. */
  async remove(): Promise<void> {
    await exec('podman', ['rm', '--force', '--time', '0', this.name]).catch(() => undefined);
    await rm(this.scratch, { recursive: true, force: true });
  }
}
