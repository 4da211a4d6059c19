/**
 * Optional per-mapping settings for the target-side install (the SSM document's optional
 * parameters). Stored on the mapping so that renewals install the same way.
 */
export interface InstallOptions {
  readonly certDir?: string;
  readonly keyDir?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly keyMode?: string;
  readonly reloadCommand?: string;
}

export const installOptionPatterns = {
  certDir: '^/[A-Za-z0-9._/-]{0,255}$',
  keyDir: '^/[A-Za-z0-9._/-]{0,255}$',
  owner: '^[a-z_][a-z0-9_-]{0,31}$',
  group: '^[a-z_][a-z0-9_-]{0,31}$',
  keyMode: '^0?(600|640|400|440)$',
  /** An absolute path and arguments; also on the service's and the server's allow-lists. */
  reloadCommand: '^(/[A-Za-z0-9 ._/:@=,+-]{0,255})?$',
} as const;

/** The install option fields, as they are named in a request (`/install/<field>`). */
export const installOptionFields = [
  'certDir',
  'keyDir',
  'owner',
  'group',
  'keyMode',
  'reloadCommand',
] as const satisfies readonly (keyof InstallOptions)[];

/** A reload command as the servers compare it: its words joined by one space. */
export function normalReloadCommand(command: string): string {
  return command.trim().split(/\s+/).join(' ');
}

/** Whether the command is on the operator's allow-list (compared word by word). */
export function isAllowedReloadCommand(command: string, allowed: readonly string[]): boolean {
  const wanted = normalReloadCommand(command);
  return allowed.some((a) => normalReloadCommand(a) === wanted);
}

/** Whether any option is set (no options: the mapping's, or the defaults). */
export function hasInstallOptions(install: InstallOptions): boolean {
  return installOptionFields.some((f) => install[f] !== undefined && install[f] !== '');
}
