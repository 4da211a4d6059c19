import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { WorkerService, WorkerServiceState } from '../ports/worker-capacity.ts';

/** The worker's ECS service: DescribeServices and UpdateService's desiredCount, nothing else. */
export class EcsWorkerService implements WorkerService {
  readonly #ecs: ECSClient;
  readonly #cluster: string;
  readonly #service: string;

  constructor(ecs: ECSClient, target: { readonly cluster: string; readonly service: string }) {
    this.#ecs = ecs;
    this.#cluster = target.cluster;
    this.#service = target.service;
  }

  async state(): Promise<WorkerServiceState | undefined> {
    const answer = await this.#ecs.send(
      new DescribeServicesCommand({ cluster: this.#cluster, services: [this.#service] }),
    );
    const service = answer.services?.[0];
    if (service === undefined) return undefined;
    return { status: service.status ?? 'UNKNOWN', desiredCount: service.desiredCount ?? 0 };
  }

  async setDesiredCount(count: number): Promise<void> {
    await this.#ecs.send(
      new UpdateServiceCommand({
        cluster: this.#cluster,
        service: this.#service,
        desiredCount: count,
      }),
    );
  }
}
