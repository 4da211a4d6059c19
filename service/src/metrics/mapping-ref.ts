import { formatTarget } from '../domain/target.ts';
import type { MappingKey } from '../ports/mapping-store.ts';
import type { MappingRef } from '../ports/metrics.ts';

/** A mapping as the metrics name it (labels certificate_arn, cert_name, target). */
export function mappingRef(key: MappingKey): MappingRef {
  return {
    certificateArn: key.certificateArn,
    certName: key.certName,
    target: formatTarget(key.target),
  };
}
