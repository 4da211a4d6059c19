/**
 * What the worker waker reads and changes: the job queue's work and the worker's ECS service.
 * Only the scale-to-zero deployment (minTasks=0) has a waker.
 */

/** The queue's messages by state, as SQS approximates them. */
export interface QueueWork {
  /** Waiting for a consumer. */
  readonly visible: number;
  /** Received and not yet deleted: a job in hand, or one polled through a visibility delay. */
  readonly inFlight: number;
  /** Sent with a delay that has not passed yet. */
  readonly delayed: number;
}

export interface QueueDepth {
  work(): Promise<QueueWork>;
}

/** The worker's ECS service as the waker sees it. */
export interface WorkerServiceState {
  /** ACTIVE, DRAINING or INACTIVE (ECS's service status). */
  readonly status: string;
  readonly desiredCount: number;
}

export interface WorkerService {
  /** Undefined when ECS does not know the service (deleted, or never created). */
  state(): Promise<WorkerServiceState | undefined>;
  setDesiredCount(count: number): Promise<void>;
}
