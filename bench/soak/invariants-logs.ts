/**
 * Invariant 7: no secret in any log line. `collectSecrets` gathers the secrets the run made
 * (called by the soak now and then, and before a mapping is stop-managed: a secret scheduled for
 * deletion refuses reads); `noSecretInLogs` reads every log file line by line and looks for
 * them, for PEM private-key markers, and for base64 fragments of keys.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type InvariantLine, invariantLine } from './invariants-model.ts';
import { readSecretVersions } from './invariants-read.ts';

/** What the run's secrets are, gathered as it goes. Holds secrets: never print it. */
export interface SecretHarvest {
  /** Passphrases, PKCS#12 passwords, and private keys' base64 bodies (no line breaks). */
  readonly values: Set<string>;
  /** Secret versions already read (`<secret name> <version id>`): read once. */
  readonly versionsRead: Set<string>;
  /** Versions that could not be read (scheduled for deletion before they were collected). */
  readonly unreadable: Set<string>;
}

export function newSecretHarvest(): SecretHarvest {
  return { values: new Set(), versionsRead: new Set(), unreadable: new Set() };
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g;

/** The secrets of one export secret version's text (worker/export-secret.ts's layout). */
export function secretsOfVersion(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(?:passphrase|pkcs12-password): (\S+)\s*$/.exec(line);
    if (m?.[1] !== undefined) found.push(m[1]);
  }
  return [...found, ...privateKeyBodies(text)];
}

/** The base64 bodies of the PEM private keys in a text, without line breaks. */
export function privateKeyBodies(text: string): string[] {
  return [...text.matchAll(pemBlock)].map((m) => (m[2] ?? '').replace(/\s+/g, ''));
}

/**
 * Adds every version of every passphrase secret (`prefix`, e.g. `acm-passphrase/`) not read yet,
 * and the private keys on stand-in servers running the real install script
 * (`<standInStateDir>/servers/<id>/etc/ssl/private/*`).
 */
export async function collectSecrets(
  bed: {
    readonly clients: { readonly secrets: SecretsManagerClient };
    readonly standInStateDir: string;
    readonly secretPrefix?: string;
  },
  harvest: SecretHarvest,
): Promise<void> {
  const prefix = bed.secretPrefix ?? 'acm-passphrase/';
  for (const { name, versionIds } of await readSecretVersions(bed.clients.secrets, prefix)) {
    for (const versionId of versionIds) {
      const key = `${name} ${versionId}`;
      if (harvest.versionsRead.has(key)) continue;
      try {
        const out = await bed.clients.secrets.send(
          new GetSecretValueCommand({ SecretId: name, VersionId: versionId }),
        );
        for (const s of secretsOfVersion(out.SecretString ?? '')) harvest.values.add(s);
        harvest.versionsRead.add(key);
        harvest.unreadable.delete(key);
      } catch {
        // Scheduled for deletion before it was collected: reported by `unreadable`.
        harvest.unreadable.add(key);
      }
    }
  }
  const servers = join(bed.standInStateDir, 'servers');
  for (const id of await entries(servers)) {
    const dir = join(servers, id, 'etc/ssl/private');
    for (const file of await entries(dir)) {
      const text = await readFile(join(dir, file), 'utf8').catch(() => '');
      for (const body of privateKeyBodies(text)) harvest.values.add(body);
    }
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Length of the base64 windows looked for: a fragment of 47 characters or more is found. */
const window = 32;
const step = 16;
/**
 * A key's first line is its algorithm identifiers (the same in every key, and some of it in
 * certificates): fragments are taken after it.
 */
const keyHeader = 64;
const base64Run = /[A-Za-z0-9+/]{32,}/g;
const privateKeyMarker = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** What a log line is searched for: base64 windows of the secrets, and short secrets whole. */
export interface Needles {
  readonly windows: ReadonlySet<string>;
  readonly whole: readonly string[];
}

export function secretNeedles(values: Iterable<string>): Needles {
  const windows = new Set<string>();
  const whole: string[] = [];
  for (const v of values) {
    for (const run of v.match(base64Run) ?? []) {
      const from = run.length > keyHeader + window ? keyHeader : 0;
      for (let i = from; i + window <= run.length; i += step) windows.add(run.slice(i, i + window));
      windows.add(run.slice(run.length - window));
    }
    if ((v.match(base64Run) ?? []).length === 0 && v.length >= 8) whole.push(v);
  }
  return { windows, whole };
}

/** Why a log line leaks, or undefined: never the secret itself. */
export function leakIn(line: string, needles: Needles): string | undefined {
  if (privateKeyMarker.test(line)) return 'a PEM private key marker';
  for (const run of line.match(base64Run) ?? []) {
    for (let i = 0; i + window <= run.length; i++) {
      if (needles.windows.has(run.slice(i, i + window))) return 'a secret or key fragment';
    }
  }
  return needles.whole.some((w) => line.includes(w)) ? 'a secret' : undefined;
}

/** Invariant 7: no line of the log files holds a secret (`count`: lines read). */
export async function noSecretInLogs(
  logFiles: readonly string[],
  secrets: Iterable<string>,
): Promise<InvariantLine> {
  const needles = secretNeedles(secrets);
  const problems: string[] = [];
  let lines = 0;
  for (const file of logFiles) {
    const input = createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const text of input) {
      n++;
      const leak = leakIn(text, needles);
      if (leak !== undefined) problems.push(`${basename(file)} line ${n}: ${leak}`);
    }
    lines += n;
  }
  const note = `${needles.windows.size + needles.whole.length} fragments of the run's secrets looked for`;
  return invariantLine('no secret in any log line', lines, problems, note);
}
