import type { InstallOptions } from './install-options.ts';
import type { TargetTag } from './target.ts';

/** What started a job. */
export type JobTrigger = 'api' | 'queue' | 'renewal';

/** One deployment of one certificate to the servers of one target tag. */
export interface DeployJob {
  readonly jobId: string;
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: TargetTag;
  readonly install: InstallOptions;
  readonly requester?: string;
  readonly trigger: JobTrigger;
  /** EventBridge event id for renewals. */
  readonly eventId?: string;
}
