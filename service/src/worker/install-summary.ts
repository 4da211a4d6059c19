import type { InstallSummary } from '../domain/deployment.ts';

/**
 * Reads the install script's JSON summary: the last line of its standard output that is a JSON
 * object with an `outcome`. SSM returns stdout, then `----------ERROR-------` and stderr.
 */
export function parseInstallSummary(output: string | undefined): InstallSummary | undefined {
  if (output === undefined) return undefined;
  const stdout = output.split(/\n?-{5,}ERROR-{5,}\n?/)[0] ?? '';
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const value = JSON.parse(lines[i] ?? '') as Record<string, unknown>;
      if (typeof value.outcome !== 'string') continue;
      const str = (k: string) => (typeof value[k] === 'string' ? (value[k] as string) : null);
      return {
        outcome: value.outcome,
        serial: str('serial'),
        notBefore: str('notBefore'),
        notAfter: str('notAfter'),
        sha256: str('sha256'),
        files: Array.isArray(value.files)
          ? value.files.filter((f): f is string => typeof f === 'string')
          : [],
        reloaded: value.reloaded === true,
        ...(typeof value.message === 'string' ? { message: value.message.slice(0, 500) } : {}),
        ...(Array.isArray(value.problems)
          ? {
              problems: value.problems
                .filter((p): p is string => typeof p === 'string' && /^[a-z0-9-]{1,40}$/.test(p))
                .slice(0, 20),
            }
          : {}),
      };
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}

/** The last few lines of the stderr part of an SSM output, for a failed server's record. */
export function errorTail(output: string | undefined, maxChars = 500): string | undefined {
  if (output === undefined) return undefined;
  const parts = output.split(/\n?-{5,}ERROR-{5,}\n?/);
  const stderr = (parts[1] ?? '').trim();
  return stderr === '' ? undefined : stderr.slice(-maxChars);
}
