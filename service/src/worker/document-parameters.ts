import type { DeployJob } from '../domain/deploy-job.ts';
import {
  canonicalFormats,
  hasInstallOptions,
  type InstallOptions,
} from '../domain/install-options.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * Parameters of the Install-ACMCertificate document (ssm/): the public certificate and chain, and
 * where the servers read the rest (secret ARN and version id). Never the key, encrypted or not,
 * nor the passphrase: Run Command keeps a command's parameters in its history for anyone allowed
 * to list commands.
 */
export function documentParameters(
  job: DeployJob,
  install: InstallOptions,
  bundle: ExportedBundle,
  secretArn: string,
  secretVersionId: string,
): Record<string, string> {
  const optional: Record<string, string | undefined> = {
    CertDir: install.certDir,
    KeyDir: install.keyDir,
    Owner: install.owner,
    Group: install.group,
    KeyMode: install.keyMode,
    ReloadCommand: install.reloadCommand,
    // Only a few fixed words: the password is in the secret, never a parameter.
    Formats: canonicalFormats(install.formats ?? []).join(','),
  };
  return {
    CertName: job.certName,
    Certificate: b64(bundle.certificate),
    CertificateChain: b64(bundle.chain),
    SecretId: secretArn,
    SecretVersionId: secretVersionId,
    // Absent for installs: the document's default, as for every caller before Verify existed.
    ...(job.mode === 'verify' ? { Mode: 'Verify' } : {}),
    ...Object.fromEntries(
      Object.entries(optional).filter(
        (e): e is [string, string] => e[1] !== undefined && e[1] !== '',
      ),
    ),
  };
}

/** The install options a job uses: its own, else those recorded on the mapping (renewals). */
export function effectiveInstall(
  job: DeployJob,
  mappingInstall: InstallOptions | undefined,
): InstallOptions {
  return hasInstallOptions(job.install) ? job.install : (mappingInstall ?? {});
}
