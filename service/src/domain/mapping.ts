import type { InstallOptions } from './install-options.ts';
import type { TargetTag } from './target.ts';

/**
 * A `CertTagMapping` item: this certificate is installed under this name on the servers of this
 * target tag, and is re-exported and re-installed on every renewal. Holds no secret.
 */
export interface Mapping {
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: TargetTag;
  readonly install: InstallOptions;
  /**
   * The Secrets Manager secret holding this mapping's exports (one per mapping), recorded as soon
   * as a job stores its first version: stop-managing schedules its deletion even when no
   * deployment ever succeeded.
   */
  readonly secretArn?: string;
  /** The secret version of the export last installed (`serial`): servers that start later get it. */
  readonly secretVersionId?: string;
  readonly serial?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly lastExportedAt?: string;
  readonly lastJobId?: string;
  readonly lastOutcome?: string;
  readonly lastOutcomeAt?: string;
  /**
   * Why the reconciliation sweep leaves this mapping alone: its last rollout was cancelled or its
   * canary failed, and rolling the rest out on its own would undo that decision. Set by such a
   * job's end, emptied by the end of the next deployment asked for (request, queue, renewal).
   */
  readonly rolloutHalted?: string;
  /**
   * How many servers the last command to the whole tag reached (recorded at its end): the next
   * deployment's MaxErrors rate control uses it instead of counting the tag's managed nodes.
   */
  readonly serverCount?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The deployment lock, while a job holds it (`until`: when its lease ends at the latest). */
  readonly lock?: { readonly jobId: string; readonly until: string };
}
