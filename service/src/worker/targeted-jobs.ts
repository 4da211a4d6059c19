import { createHash } from 'node:crypto';
import type { DeployJob } from '../domain/deploy-job.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import type { MappingKey } from '../ports/mapping-store.ts';

/** SendCommand takes at most 50 instance ids: a targeted job names at most this many servers. */
export const maxInstanceIdsPerJob = 50;

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Job id of one batch of a sweep's or a verify's follow-up: the same inputs make the same job. */
export function followUpJobId(
  kind: 'sweep' | 'verify' | 'repair',
  origin: string,
  key: MappingKey,
  batch: number,
): string {
  const letter = { sweep: 'c', verify: 'v', repair: 'p' }[kind];
  return `${letter}-${digest(kind, origin, key.target.key, key.target.value, key.certificateArn, key.certName, String(batch))}`;
}

export interface FollowUp {
  readonly kind: 'sweep' | 'verify' | 'repair';
  /** The sweep id or the job id this follow-up comes from. */
  readonly origin: string;
  readonly key: MappingKey;
  readonly install: DeployJob['install'];
  readonly requester: string;
  /** Servers to reach; none: every server with the tag (a job without instance ids). */
  readonly instanceIds?: readonly string[];
  readonly mode?: 'verify';
}

/**
 * The deploy messages of a follow-up: one job per batch of at most 50 servers (Run Command's
 * limit on InstanceIds), in instance-id order so that a repeated sweep makes the same batches.
 * Jobs of one mapping take its lock one after another.
 */
export function followUpJobs(f: FollowUp): DeployMessage[] {
  const base = {
    type: 'deploy' as const,
    version: 1 as const,
    certificateArn: f.key.certificateArn,
    certName: f.key.certName,
    target: f.key.target,
    ...(Object.keys(f.install).length > 0 ? { install: f.install } : {}),
    requester: f.requester,
    trigger: 'reconcile' as const,
    ...(f.mode === undefined ? {} : { mode: f.mode }),
  };
  if (f.instanceIds === undefined) {
    return [{ ...base, jobId: followUpJobId(f.kind, f.origin, f.key, 0) }];
  }
  const ids = [...f.instanceIds].sort();
  const jobs: DeployMessage[] = [];
  for (let i = 0; i < ids.length; i += maxInstanceIdsPerJob) {
    jobs.push({
      ...base,
      jobId: followUpJobId(f.kind, f.origin, f.key, i / maxInstanceIdsPerJob),
      instanceIds: ids.slice(i, i + maxInstanceIdsPerJob),
    });
  }
  return jobs;
}
