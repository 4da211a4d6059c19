/** What the worker needs to know about one server. */
export interface InstanceInfo {
  readonly instanceId: string;
  /** EC2 state name: pending, running, stopping, stopped, ... */
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** EC2 (DescribeInstances). Errors: TerminalError for access denied; anything else is retryable. */
export interface InstanceDirectory {
  /** The instance, or undefined when EC2 does not know it (terminated long ago, another region). */
  describe(instanceId: string): Promise<InstanceInfo | undefined>;
}
