import type { Deployment } from '../domain/deployment.ts';
import type { Page } from './mapping-store.ts';

/** The deployments table: one record per job. */
export interface DeploymentStore {
  /** Creates the record unless one with the same job id exists; returns what is stored. */
  create(deployment: Deployment): Promise<{ created: boolean; deployment: Deployment }>;
  get(jobId: string): Promise<Deployment | undefined>;
  /**
   * Writes `next` if the stored version is still `next.version - 1`; throws ConflictError
   * when another worker wrote first. `previous`, the stored version `next` revises: only the
   * fields that changed are written (without it, the whole record).
   */
  save(next: Deployment, previous?: Deployment): Promise<Deployment>;
  /** Newest first, through the certificate-ARN index. */
  listByCertificate(
    certificateArn: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<Deployment>>;
}
