import { isAllowedCertificate } from '../domain/allowed-certificates.ts';
import type { Deployment } from '../domain/deployment.ts';
import { moveTo, revise, withCondition } from '../domain/deployment-record.ts';
import { TerminalError } from '../domain/errors.ts';
import type { SecretValue } from '../domain/secret-value.ts';
import type { ExportedBundle } from '../ports/certificate-authority.ts';
import { certificateInfo } from './certificate-info.ts';
import { passphraseVersionToken } from './job-ids.ts';
import { mappingKeyOf } from './mapping-key.ts';
import { generatePassphrase, passphraseSecretName, passphraseSecretTags } from './passphrase.ts';
import type { WorkerDeps } from './worker-deps.ts';

export interface Passphrase {
  readonly value: SecretValue;
  readonly secretArn: string;
  readonly versionId: string;
}

/**
 * The job's passphrase: the version recorded on the job, else the version stored under the
 * job's token before a crash, else a new random one stored now (idempotent by that token).
 */
export async function obtainPassphrase(d: Deployment, deps: WorkerDeps): Promise<Passphrase> {
  if (d.secretArn !== undefined && d.secretVersionId !== undefined) {
    const got = await deps.passphrases.getVersion(d.secretArn, d.secretVersionId);
    return { value: got.value, secretArn: got.secretArn, versionId: d.secretVersionId };
  }
  const key = mappingKeyOf(d.job);
  const name = passphraseSecretName(deps.settings.secretPrefix, key);
  const token = passphraseVersionToken(d.job.jobId);
  try {
    const got = await deps.passphrases.getVersion(name, token);
    return { value: got.value, secretArn: got.secretArn, versionId: token };
  } catch (error) {
    if (!(error instanceof TerminalError && error.code === 'PassphraseNotFound')) throw error;
  }
  const value = generatePassphrase();
  const stored = await deps.passphrases.putNewVersion({
    name,
    tags: passphraseSecretTags(key),
    passphrase: value,
    token,
  });
  return { value, secretArn: stored.secretArn, versionId: stored.versionId };
}

/** Checks the certificate and that this job may export it; throws TerminalError when not. */
export async function checkExportable(d: Deployment, deps: WorkerDeps): Promise<void> {
  const arn = d.job.certificateArn;
  if (!isAllowedCertificate(arn, deps.settings.allowedCertificateArns)) {
    throw new TerminalError(
      'CertificateNotAllowed',
      `${arn} is not in this service's ALLOWED_CERTIFICATE_ARNS`,
    );
  }
  const description = await deps.certificates.describe(arn);
  if (description.status !== 'ISSUED') {
    throw new TerminalError(
      'CertificateNotIssued',
      `certificate ${arn} is ${description.status}; ACM exports only ISSUED certificates`,
    );
  }
  if (!description.exportable) {
    throw new TerminalError(
      'CertificateNotExportable',
      `certificate ${arn} (${description.type}) cannot be exported: only private certificates and public certificates requested with export enabled can`,
    );
  }
}

/**
 * Exports with the job's passphrase and returns the bundle. With `save`, a passphrase version
 * not yet on the record is recorded first; without it, the caller records it with the next state
 * (the version id derives from the job, so a crash in between loses nothing).
 */
export async function exportWithPassphrase(
  d: Deployment,
  deps: WorkerDeps,
  save: ((next: Deployment) => Promise<Deployment>) | undefined,
): Promise<{ deployment: Deployment; bundle: ExportedBundle; passphrase: Passphrase }> {
  const passphrase = await obtainPassphrase(d, deps);
  let current = d;
  if (
    save !== undefined &&
    (current.secretVersionId !== passphrase.versionId || current.secretArn !== passphrase.secretArn)
  ) {
    current = await save(
      revise(
        current,
        { secretArn: passphrase.secretArn, secretVersionId: passphrase.versionId },
        deps.clock.now(),
      ),
    );
  }
  const bundle = await deps.certificates.export(current.job.certificateArn, passphrase.value);
  return { deployment: current, bundle, passphrase };
}

/**
 * Exporting → Dispatching: checks, passphrase, export; records in one write what was exported,
 * the passphrase version, and that dispatch is starting (the next step sends the command).
 */
export async function exportStep(
  d: Deployment,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<{ deployment: Deployment; bundle: ExportedBundle }> {
  await checkExportable(d, deps);
  const exported = await exportWithPassphrase(d, deps, undefined);
  const info = certificateInfo(exported.bundle.certificate);
  const now = deps.clock.now();
  const next = await save(
    moveTo(
      exported.deployment,
      'Dispatching',
      {
        certificate: info,
        secretArn: exported.passphrase.secretArn,
        secretVersionId: exported.passphrase.versionId,
        dispatchStartedAt: now.toISOString(),
        conditions: withCondition(
          exported.deployment.conditions,
          'Exported',
          'True',
          'Exported',
          `exported serial ${info.serial}, valid ${info.notBefore} to ${info.notAfter}`,
          now,
        ),
      },
      now,
    ),
  );
  return { deployment: next, bundle: exported.bundle };
}
