import type { InstallOptions } from './install-options.ts';
import type { TargetTag } from './target.ts';

/** What started a job. */
export type JobTrigger = 'api' | 'queue' | 'renewal' | 'instance' | 'reconcile';

/** One deployment of one certificate to the servers of one target tag. */
export interface DeployJob {
  readonly jobId: string;
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: TargetTag;
  readonly install: InstallOptions;
  /** Only these servers (carrying the target tag), e.g. one that just started; all when absent. */
  readonly instanceIds?: readonly string[];
  readonly requester?: string;
  readonly trigger: JobTrigger;
  /** EventBridge event id for renewals. */
  readonly eventId?: string;
  /** `verify`: the install document's Verify mode on the servers, with the installed export. */
  readonly mode?: 'install' | 'verify';
  /**
   * Canary: install on this many of the tag's servers first (by instance id, online ones first),
   * and on the rest only if every one of them succeeded. Tag installs only (not targeted jobs).
   */
  readonly canary?: number;
}
