/**
 * The SSM Agent version the install document needs: its parameters use
 * `interpolationType: ENV_VAR`, which older agents ignore (they pass no `SSM_<Name>` variable).
 */
export const minimumAgentVersion = '3.3.2746.0';

function parts(version: string): number[] | undefined {
  if (!/^\d+(\.\d+){0,3}$/.test(version)) return undefined;
  return version.split('.').map(Number);
}

/** True when the version is known and older than `minimumAgentVersion`. */
export function isAgentTooOld(version: string | undefined): boolean {
  if (version === undefined) return false;
  const have = parts(version);
  const need = parts(minimumAgentVersion) as number[];
  if (have === undefined) return false;
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}
