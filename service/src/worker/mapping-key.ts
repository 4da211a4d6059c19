import type { DeployJob } from '../domain/deploy-job.ts';
import type { MappingKey } from '../ports/mapping-store.ts';

export { mappingRef } from '../metrics/mapping-ref.ts';

export function mappingKeyOf(job: DeployJob): MappingKey {
  return { target: job.target, certificateArn: job.certificateArn, certName: job.certName };
}
