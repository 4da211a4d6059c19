/**
 * Files a server gets besides the PEM files (ssm/install-acm-certificate.sh, `Formats`), in the
 * key directory and installed like the key: `combined` is `<CertName>-combined.pem` (full chain
 * then key, for HAProxy); `pkcs12` is `<CertName>.p12` with AES-256-CBC, PBKDF2 and an
 * HMAC-SHA256 MAC, `pkcs12-legacy` the same file with 3DES and a SHA-1 MAC (Java before 8u301 /
 * 11.0.12, Windows before Server 2019), both protected by the secret's `pkcs12-password`.
 */
export const outputFormats = ['combined', 'pkcs12', 'pkcs12-legacy'] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** The formats that write the PKCS#12 file: at most one of them per mapping. */
export const pkcs12Formats: readonly OutputFormat[] = ['pkcs12', 'pkcs12-legacy'];

/** The formats in their one order (the document parameter and stored records use it). */
export function canonicalFormats(formats: readonly OutputFormat[]): OutputFormat[] {
  return outputFormats.filter((f) => formats.includes(f));
}

/** Whether the options ask for a PKCS#12 file (its password must then be in the secret). */
export function wantsPkcs12(install: InstallOptions): boolean {
  return (install.formats ?? []).some((f) => pkcs12Formats.includes(f));
}

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
  /** Extra files besides the PEM files; absent or empty: none (and any left are removed). */
  readonly formats?: OutputFormat[];
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
  'formats',
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

/**
 * Whether any option is set (no options: the mapping's, or the defaults). `formats: []` is set:
 * it asks for no extra files, as a request giving other options and no formats does.
 */
export function hasInstallOptions(install: InstallOptions): boolean {
  return installOptionFields.some((f) => install[f] !== undefined && install[f] !== '');
}
