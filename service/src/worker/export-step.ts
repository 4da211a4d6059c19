import { isAllowedCertificate } from '../domain/allowed-certificates.ts';
import type { Deployment } from '../domain/deployment.ts';
import { moveTo, withCondition } from '../domain/deployment-record.ts';
import { TerminalError } from '../domain/errors.ts';
import type { CertificateDescription, ExportedBundle } from '../ports/certificate-authority.ts';
import { certificateInfo, sameSerial } from './certificate-info.ts';
import { canonicalBundle, decodeExportSecret, encodeExportSecret } from './export-secret.ts';
import { secretVersionToken } from './job-ids.ts';
import { mappingKeyOf } from './mapping-key.ts';
import { exportSecretName, exportSecretTags, generatePassphrase } from './passphrase.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** An export and the secret version that holds its key and passphrase. */
export interface StoredExport {
  readonly bundle: ExportedBundle;
  readonly secretArn: string;
  readonly versionId: string;
  /** How it was obtained: exported now, found under this job's token, or another job's reused. */
  readonly source: 'exported' | 'resumed' | 'reused';
}

/** Checks the certificate and that this job may export it; throws TerminalError when not. */
export async function checkExportable(
  d: Deployment,
  deps: WorkerDeps,
): Promise<CertificateDescription> {
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
  return description;
}

/** Reads an export back from its secret version (never exporting again). */
export async function readExport(
  secretId: string,
  versionId: string,
  deps: WorkerDeps,
): Promise<{ bundle: ExportedBundle; secretArn: string }> {
  const got = await deps.secrets.getVersion(secretId, versionId);
  const secret = decodeExportSecret(got.value, `version ${versionId} of ${secretId}`);
  return { bundle: secret.bundle, secretArn: got.secretArn };
}

/** The version this job stored before a crash, if any (its version id derives from the job). */
async function resumed(d: Deployment, name: string, deps: WorkerDeps) {
  const token = secretVersionToken(d.job.jobId);
  try {
    const found = await readExport(name, token, deps);
    return { ...found, versionId: token, source: 'resumed' as const };
  } catch (error) {
    if (error instanceof TerminalError && error.code === 'SecretVersionNotFound') return undefined;
    throw error;
  }
}

/**
 * A server that just started, or one the reconciliation sweep found behind, needs what its peers
 * already have: when ACM's certificate is still the one the mapping last installed, the job
 * reuses that export and secret version. An Auto Scaling burst (or a sweep) then creates no
 * secret version (AWS keeps at most about 100 versions younger than 24 hours) and no export. A
 * verify job always checks against that export.
 */
async function reusable(d: Deployment, description: CertificateDescription, deps: WorkerDeps) {
  if (d.job.trigger !== 'instance' && d.job.trigger !== 'reconcile') return undefined;
  const mapping = await deps.mappings.get(mappingKeyOf(d.job));
  if (
    mapping?.secretArn === undefined ||
    mapping.secretVersionId === undefined ||
    mapping.serial === undefined ||
    description.serial === undefined ||
    !sameSerial(mapping.serial, description.serial)
  ) {
    return undefined;
  }
  try {
    const found = await readExport(mapping.secretArn, mapping.secretVersionId, deps);
    if (!sameSerial(certificateInfo(found.bundle.certificate).serial, mapping.serial)) {
      return undefined;
    }
    return { ...found, versionId: mapping.secretVersionId, source: 'reused' as const };
  } catch (error) {
    // A version that is gone or unreadable is no reason to fail: export afresh.
    if (error instanceof TerminalError) return undefined;
    throw error;
  }
}

/**
 * Exports now with a fresh passphrase and stores key and passphrase as a new version of the
 * mapping's secret, under the job's token (a replay stores nothing new).
 */
async function exportNow(d: Deployment, name: string, deps: WorkerDeps) {
  const passphrase = generatePassphrase();
  const bundle = await deps.certificates.export(d.job.certificateArn, passphrase);
  const stored = await deps.secrets.putNewVersion({
    name,
    tags: exportSecretTags(mappingKeyOf(d.job)),
    value: encodeExportSecret({ passphrase, bundle }),
    token: secretVersionToken(d.job.jobId),
  });
  return { bundle: canonicalBundle(bundle), ...stored, source: 'exported' as const };
}

/** This job's export: resumed, reused, or exported and stored now. */
export async function obtainExport(
  d: Deployment,
  description: CertificateDescription,
  deps: WorkerDeps,
): Promise<StoredExport> {
  const name = exportSecretName(deps.settings.secretPrefix, mappingKeyOf(d.job));
  // Only an earlier pickup of this job can have stored a version under its token.
  const earlier = d.attempts > 1 ? await resumed(d, name, deps) : undefined;
  if (d.job.mode === 'verify') {
    const installed = earlier ?? (await reusable(d, description, deps));
    if (installed === undefined) {
      throw new TerminalError(
        'NothingToVerify',
        `no export of ACM's current serial ${description.serial ?? '?'} is recorded for this mapping: deploy it before verifying`,
      );
    }
    return installed;
  }
  return earlier ?? (await reusable(d, description, deps)) ?? (await exportNow(d, name, deps));
}

const conditionReasons: Record<StoredExport['source'], string> = {
  exported: 'Exported',
  resumed: 'Exported',
  reused: 'ReusedExport',
};

/**
 * Exporting → Dispatching: checks, export (or the job's own / the mapping's latest), the secret
 * on the mapping (so that stop-managing finds it even if no deployment ever succeeds), and one
 * write of what was exported, the secret version, and that dispatch is starting.
 */
export async function exportStep(
  d: Deployment,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<{ deployment: Deployment; bundle: ExportedBundle }> {
  const description = await checkExportable(d, deps);
  const found = await obtainExport(d, description, deps);
  const info = certificateInfo(found.bundle.certificate);
  const key = mappingKeyOf(d.job);
  if (found.source !== 'reused') {
    const mapping = await deps.mappings.get(key);
    if (mapping?.secretArn !== found.secretArn) {
      await deps.mappings.recordWhileLocked(key, d.job.jobId, { secretArn: found.secretArn });
    }
  }
  const now = deps.clock.now();
  const what =
    found.source === 'reused'
      ? `reused the export of serial ${info.serial} installed before (secret version ${found.versionId})`
      : `exported serial ${info.serial}`;
  const next = await save(
    moveTo(
      d,
      'Dispatching',
      {
        certificate: info,
        secretArn: found.secretArn,
        secretVersionId: found.versionId,
        dispatchStartedAt: now.toISOString(),
        conditions: withCondition(
          d.conditions,
          'Exported',
          'True',
          conditionReasons[found.source],
          `${what}, valid ${info.notBefore} to ${info.notAfter}`,
          now,
        ),
      },
      now,
    ),
  );
  return { deployment: next, bundle: found.bundle };
}
