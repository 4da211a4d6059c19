import { join } from 'node:path';
import { CliError } from './errors.ts';

/**
 * Short job ids. The deployments table is keyed by the whole job id, so the API cannot look a
 * prefix up without a Scan. The CLI resolves a prefix itself, cheaply: among the job ids it has
 * submitted or shown to this user (a small state file, the newest `maxRemembered`), and failing
 * that among each managed mapping's last job (one listing of GET /v1/certificates).
 *
 * Job ids are a UUID (the API, without an Idempotency-Key) or a kind and hex digits
 * (`idem-` + 64: the API with one, as the CLI always sends; `r-`, `i-`, `q-`, `c-`, `v-`, `p-` +
 * 32: renewals, new servers, queue messages, the sweep's, verify's and repair's jobs).
 */

/** Job ids the state file keeps, newest first; older ones fall off. */
export const maxRemembered = 200;
/** The shortest prefix accepted: fewer hex digits would match too many jobs to be useful. */
export const minPrefixDigits = 6;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const kindHex = /^(idem-[0-9a-f]{64}|[a-z]-[0-9a-f]{32})$/i;
/** A job id as the API accepts it (domain/names.ts). */
const anyJobId = /^[A-Za-z0-9][A-Za-z0-9_-]{7,127}$/;
/** Optional kind, then hex digits (and a UUID's hyphens). */
const prefixShape = /^(?:(idem|[a-z])-)?([0-9a-f][0-9a-f-]*)$/i;

/** Whether `id` is a whole job id of one of the forms the service makes. */
export function isWholeJobId(id: string): boolean {
  return uuid.test(id) || kindHex.test(id);
}

/** The id's hex digits after its kind (`idem-`, `r-`…), or the UUID itself. */
function body(id: string): string {
  const m = /^(?:idem|[a-z])-(?=[0-9a-f]{24})/i.exec(id);
  return m === null ? id : id.slice(m[0].length);
}

/** Whether a job id starts with what the user typed, with or without its kind. */
function matches(id: string, typed: string, withKind: boolean): boolean {
  const lower = id.toLowerCase();
  return withKind
    ? lower.startsWith(typed)
    : lower.startsWith(typed) || body(lower).startsWith(typed);
}

/** The file the CLI's state lives in: `$XDG_STATE_HOME/acm-cert-export/<name>` (or ~/.local/state). */
export function statePath(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  // The XDG spec ignores a relative XDG_STATE_HOME.
  const xdg = env.XDG_STATE_HOME;
  const home = env.HOME;
  const base = xdg?.startsWith('/')
    ? xdg
    : home === undefined || home === ''
      ? undefined
      : join(home, '.local', 'state');
  return base === undefined ? undefined : join(base, 'acm-cert-export', name);
}

/** Reads and writes one small state file (mode 600); absent or unreadable reads as undefined. */
export interface StateFile {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

function parse(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => anyJobId.test(line));
}

export class JobIds {
  readonly #file: StateFile;
  readonly #recent: () => Promise<readonly string[]>;

  /** `recent`: job ids the API lists cheaply (each mapping's last job), read only when needed. */
  constructor(file: StateFile, recent: () => Promise<readonly string[]>) {
    this.#file = file;
    this.#recent = recent;
  }

  /** Remembers ids this CLI submitted or showed (the first is the newest). Never fails the command. */
  async remember(ids: readonly string[]): Promise<void> {
    const fresh = ids.filter((id) => anyJobId.test(id));
    if (fresh.length === 0) return;
    try {
      const known = parse(await this.#file.read());
      const merged = [...new Set([...fresh, ...known])].slice(0, maxRemembered);
      if (merged.join('\n') === known.join('\n')) return;
      await this.#file.write(`${merged.join('\n')}\n`);
    } catch {
      // A state file that cannot be written only costs the short ids; the command goes on.
    }
  }

  /**
   * The whole job id an argument names: a whole id as it is; a prefix (with or without its
   * kind, at least `minPrefixDigits` hex digits) when exactly one known job starts with it.
   * Anything else goes to the API as it is (which answers 400 or 404).
   */
  async resolve(argument: string): Promise<string> {
    const shape = prefixShape.exec(argument);
    if (isWholeJobId(argument) || shape === null) return argument;
    const typed = argument.toLowerCase();
    const withKind = shape[1] !== undefined;
    const digits = (shape[2] ?? '').replace(/-/g, '').length;
    if (digits < minPrefixDigits) {
      throw new CliError(
        `job id "${argument}" is too short: give at least ${minPrefixDigits} hex digits, or the whole id`,
      );
    }
    let known: string[] = [];
    try {
      known = parse(await this.#file.read());
    } catch {
      known = [];
    }
    const local = known.filter((id) => matches(id, typed, withKind));
    if (local.length === 1 && local[0] !== undefined) return local[0];
    if (local.length > 1) throw ambiguous(argument, local);
    const recent = [...new Set(await this.#recent())];
    const found = recent.filter((id) => matches(id, typed, withKind));
    if (found.length === 1 && found[0] !== undefined) {
      await this.remember(found);
      return found[0];
    }
    if (found.length > 1) throw ambiguous(argument, found);
    throw new CliError(
      `no job starting with ${argument} among the ${known.length} this CLI has submitted or shown, nor among the ${recent.length} last jobs of the managed mappings; give the whole job id`,
    );
  }
}

function ambiguous(argument: string, ids: readonly string[]): CliError {
  return new CliError(
    `job id ${argument} is ambiguous: it starts ${ids.length} jobs (${ids.join(', ')}); give more of it`,
  );
}
