import type { ServerResult } from './deployment.ts';

/**
 * What one server of a mapping holds, as the last job (install or verify) that reached it
 * recorded. Holds no secret.
 */
export interface InstalledServer {
  readonly instanceId: string;
  /** Serial of the certificate the server holds (unknown before any success). */
  readonly serial?: string;
  readonly notAfter?: string;
  /** Run Command's status for the server in that job: Success, Failed, TimedOut, … */
  readonly lastStatus: string;
  /** The install script's outcome (installed, unchanged, reload-failed-rolled-back, …). */
  readonly lastOutcome?: string;
  /** Drift a verify run found (problem codes); absent or empty when the files were as wanted. */
  readonly problems?: readonly string[];
  readonly lastJobId: string;
  readonly updatedAt: string;
  /** When a verify run last checked the files the server holds (an install that succeeded replaced them). */
  readonly verifiedAt?: string;
}

/**
 * The servers' new state after a job: a success records the serial the server now holds; a
 * failure keeps the serial it held before (the script leaves a server unchanged when it fails)
 * and records the failure, so the next sweep tries it again. A verify's time stays until an
 * install replaces the files it checked: the state after a successful install never depends on
 * `before`.
 */
export function afterJob(
  before: ReadonlyMap<string, InstalledServer>,
  results: readonly ServerResult[],
  jobId: string,
  now: Date,
  mode: 'install' | 'verify' = 'install',
): InstalledServer[] {
  const at = now.toISOString();
  return results.map((r) => {
    const prior = before.get(r.instanceId);
    const summary = r.summary;
    const ok = r.status === 'Success';
    const holds =
      ok && summary?.serial != null
        ? {
            serial: summary.serial,
            ...(summary.notAfter == null ? {} : { notAfter: summary.notAfter }),
          }
        : {
            ...(prior?.serial === undefined ? {} : { serial: prior.serial }),
            ...(prior?.notAfter === undefined ? {} : { notAfter: prior.notAfter }),
          };
    const problems = mode === 'verify' ? (summary?.problems ?? []) : [];
    return {
      instanceId: r.instanceId,
      ...holds,
      lastStatus: r.status,
      ...(summary?.outcome === undefined ? {} : { lastOutcome: summary.outcome }),
      ...(problems.length > 0 ? { problems: [...problems] } : {}),
      lastJobId: jobId,
      updatedAt: at,
      ...(mode === 'verify' && ok
        ? { verifiedAt: at }
        : prior?.verifiedAt === undefined || (mode === 'install' && ok)
          ? {}
          : { verifiedAt: prior.verifiedAt }),
    };
  });
}
