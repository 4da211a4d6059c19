import type { InstalledServer } from './installed-server.ts';
import { sameSerial } from './serial.ts';

/**
 * Whether a server of a mapping is where the mapping wants it: it holds `serial`, its last job
 * there succeeded and no verify run found drift. The reconciliation sweep installs on the servers
 * that are not; the dashboard and `GET /v1/certificates` count the ones that are.
 */
export function isConverged(s: InstalledServer | undefined, serial: string): boolean {
  if (s === undefined || s.serial === undefined) return false;
  if (!sameSerial(s.serial, serial)) return false;
  if (s.lastStatus !== 'Success') return false;
  return (s.problems ?? []).length === 0;
}

/** Servers converged on the mapping's serial, out of every server a job of the mapping reached. */
export interface Convergence {
  readonly converged: number;
  readonly total: number;
}

export function convergence(
  serial: string | undefined,
  installed: readonly InstalledServer[],
): Convergence {
  const converged =
    serial === undefined ? 0 : installed.filter((s) => isConverged(s, serial)).length;
  return { converged, total: installed.length };
}
