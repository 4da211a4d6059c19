import { isAllowedCertificate } from '../domain/allowed-certificates.ts';
import type { Deployment } from '../domain/deployment.ts';
import { moveTo, withCondition } from '../domain/deployment-record.ts';
import { TerminalError } from '../domain/errors.ts';
import { wantsPkcs12 } from '../domain/install-options.ts';
import type { Mapping } from '../domain/mapping.ts';
import { displaySerial } from '../domain/serial.ts';
import type { CertificateDescription, ExportedBundle } from '../ports/certificate-authority.ts';
import { certificateInfo, sameSerial } from './certificate-info.ts';
import { effectiveInstall } from './document-parameters.ts';
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

/** Refuses a certificate outside ALLOWED_CERTIFICATE_ARNS (no call: the list is local). */
function checkAllowed(d: Deployment, deps: WorkerDeps): void {
  const arn = d.job.certificateArn;
  if (!isAllowedCertificate(arn, deps.settings.allowedCertificateArns)) {
    throw new TerminalError(
      'CertificateNotAllowed',
      `${arn} is not in this service's ALLOWED_CERTIFICATE_ARNS`,
    );
  }
}

/** Throws the TerminalError that says why ACM's certificate cannot be exported, if it cannot. */
function checkDescription(arn: string, description: CertificateDescription): void {
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

/** Checks the certificate and that this job may export it; throws TerminalError when not. */
export async function checkExportable(
  d: Deployment,
  deps: WorkerDeps,
): Promise<CertificateDescription> {
  checkAllowed(d, deps);
  const description = await deps.certificates.describe(d.job.certificateArn);
  checkDescription(d.job.certificateArn, description);
  return description;
}

/** Reads an export back from its secret version (never exporting again). */
export async function readExport(
  secretId: string,
  versionId: string,
  deps: WorkerDeps,
): Promise<{ bundle: ExportedBundle; secretArn: string; hasPkcs12Password: boolean }> {
  const got = await deps.secrets.getVersion(secretId, versionId);
  const secret = decodeExportSecret(got.value, `version ${versionId} of ${secretId}`);
  return {
    bundle: secret.bundle,
    secretArn: got.secretArn,
    hasPkcs12Password: secret.pkcs12Password !== undefined,
  };
}

/** Whether this job's servers write a `.p12` file (the mapping's formats, or the job's own). */
function jobWantsPkcs12(d: Deployment, mapping: Mapping | undefined): boolean {
  return wantsPkcs12(effectiveInstall(d.job, mapping?.install));
}

/**
 * The PKCS#12 password for a new version: the one of the mapping's last version, so that a
 * keystore password configured on the servers (Tomcat, Spring Boot) survives renewals; a new
 * one when there is none to carry over (first PKCS#12 export, or that version is gone).
 */
async function pkcs12Password(mapping: Mapping | undefined, deps: WorkerDeps) {
  if (mapping?.secretArn !== undefined && mapping.secretVersionId !== undefined) {
    try {
      const got = await deps.secrets.getVersion(mapping.secretArn, mapping.secretVersionId);
      const earlier = decodeExportSecret(got.value, `version ${mapping.secretVersionId}`);
      if (earlier.pkcs12Password !== undefined) return earlier.pkcs12Password;
    } catch (error) {
      if (!(error instanceof TerminalError)) throw error;
    }
  }
  return generatePassphrase();
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

/** Triggers whose job may reuse the export the mapping last installed. */
function mayReuse(d: Deployment): boolean {
  return d.job.trigger === 'instance' || d.job.trigger === 'reconcile' || d.job.mode === 'verify';
}

/**
 * A server that just started, or one the reconciliation sweep found behind, needs what its peers
 * already have: when ACM's certificate is still the one the mapping last installed, the job
 * reuses that export and secret version. An Auto Scaling burst (or a sweep) then creates no
 * secret version (AWS keeps at most about 100 versions younger than 24 hours) and no export. A
 * verify job always checks against that export. `mapping` is the one the job's lock returned.
 */
async function reusable(
  d: Deployment,
  description: CertificateDescription,
  mapping: Mapping | undefined,
  deps: WorkerDeps,
) {
  if (d.job.trigger !== 'instance' && d.job.trigger !== 'reconcile') return undefined;
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
    // A version written before the mapping asked for a .p12 file lacks its password (an
    // install needs it; Verify reads no secret).
    if (d.job.mode !== 'verify' && jobWantsPkcs12(d, mapping) && !found.hasPkcs12Password) {
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
 * ExportCertificate, with no DescribeCertificate before it: when ACM refuses (not issued, not
 * exportable, not found), DescribeCertificate then names the precise reason; an export that is
 * already past its end (an expired certificate) is refused the same way. `described`: the
 * description a reuse decision already read.
 */
async function exportChecked(
  d: Deployment,
  passphrase: ReturnType<typeof generatePassphrase>,
  described: CertificateDescription | undefined,
  deps: WorkerDeps,
): Promise<ExportedBundle> {
  const arn = d.job.certificateArn;
  let bundle: ExportedBundle;
  try {
    bundle = await deps.certificates.export(arn, passphrase);
  } catch (error) {
    if (error instanceof TerminalError && described === undefined) {
      checkDescription(arn, await deps.certificates.describe(arn));
    }
    throw error;
  }
  const info = certificateInfo(bundle.certificate);
  if (Date.parse(info.notAfter) <= deps.clock.now().getTime()) {
    checkDescription(arn, described ?? (await deps.certificates.describe(arn)));
    throw new TerminalError(
      'CertificateNotIssued',
      `certificate ${arn} expired at ${info.notAfter}; ACM exports only ISSUED certificates`,
    );
  }
  return bundle;
}

/**
 * Exports now with a fresh passphrase and stores key and passphrase as a new version of the
 * mapping's secret, under the job's token (a replay stores nothing new). A mapping that records
 * no secret yet has its secret created in the same call.
 */
async function exportNow(
  d: Deployment,
  name: string,
  described: CertificateDescription | undefined,
  mapping: Mapping | undefined,
  deps: WorkerDeps,
) {
  const passphrase = generatePassphrase();
  const p12 = jobWantsPkcs12(d, mapping) ? await pkcs12Password(mapping, deps) : undefined;
  const bundle = await exportChecked(d, passphrase, described, deps);
  const stored = await deps.secrets.putNewVersion({
    name,
    tags: exportSecretTags(mappingKeyOf(d.job)),
    value: encodeExportSecret({
      passphrase,
      bundle,
      ...(p12 === undefined ? {} : { pkcs12Password: p12 }),
    }),
    token: secretVersionToken(d.job.jobId),
    likelyMissing: mapping !== undefined && mapping.secretArn === undefined,
  });
  return { bundle: canonicalBundle(bundle), ...stored, source: 'exported' as const };
}

/**
 * This job's export: resumed, reused, or exported and stored now. `mapping`: as the job's lock
 * returned it (read when not given). ACM is described only when a reuse decision needs its
 * current serial, or when the export is refused.
 */
export async function obtainExport(
  d: Deployment,
  deps: WorkerDeps,
  lockedMapping?: Mapping,
): Promise<StoredExport> {
  checkAllowed(d, deps);
  const key = mappingKeyOf(d.job);
  const name = exportSecretName(deps.settings.secretPrefix, key);
  // Only an earlier pickup of this job can have stored a version under its token.
  const earlier = d.attempts > 1 ? await resumed(d, name, deps) : undefined;
  if (earlier !== undefined) return earlier;
  const mapping = lockedMapping ?? (await deps.mappings.get(key));
  const description = mayReuse(d) ? await checkExportable(d, deps) : undefined;
  const reused =
    description === undefined ? undefined : await reusable(d, description, mapping, deps);
  if (d.job.mode === 'verify') {
    if (reused === undefined) {
      throw new TerminalError(
        'NothingToVerify',
        `no export of ACM's current serial ${description?.serial ?? '?'} is recorded for this mapping: deploy it before verifying`,
      );
    }
    return reused;
  }
  return reused ?? (await exportNow(d, name, description, mapping, deps));
}

const conditionReasons: Record<StoredExport['source'], string> = {
  exported: 'Exported',
  resumed: 'Exported',
  reused: 'ReusedExport',
};

/**
 * Exporting → Dispatching: the export (the job's own, the mapping's latest, or a new one), then
 * one write of what was exported, the secret version, and that dispatch is starting. The mapping
 * learns its secret when the job ends (finish-step); stop-managing derives the secret's name when
 * a job never got there.
 */
export async function exportStep(
  d: Deployment,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
  mapping?: Mapping,
): Promise<{ deployment: Deployment; bundle: ExportedBundle }> {
  const found = await obtainExport(d, deps, mapping);
  const info = certificateInfo(found.bundle.certificate);
  const now = deps.clock.now();
  const what =
    found.source === 'reused'
      ? `reused the export of serial ${displaySerial(info.serial)} installed before (secret version ${found.versionId})`
      : `exported serial ${displaySerial(info.serial)}`;
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
