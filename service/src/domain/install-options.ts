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
  reloadCommand: '^[A-Za-z0-9 ._/:@=,+-]{0,256}$',
} as const;
