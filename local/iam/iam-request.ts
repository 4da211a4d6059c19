/** What IAM is asked for one AWS call: one or more (action, resource, context) triples. */

export type ContextValues = Readonly<Record<string, string | readonly string[]>>;

export interface IamRequest {
  /** `service:Action`, e.g. `secretsmanager:TagResource`. */
  readonly action: string;
  /** The resource ARN IAM evaluates, or `*` for actions that take no resource type. */
  readonly resource: string;
  /** Condition keys known at request time: request tags, resource tags, parameters. */
  readonly context: ContextValues;
}

/**
 * Where names become ARNs and resources show their tags (the emulator, at request time; hybrid
 * `mi-…` nodes from the Run Command stand-ins, which keep them).
 */
export interface ResourceLookup {
  /** A secret by name or ARN: its full ARN (random suffix included) and tags. */
  secret(secretId: string): Promise<{ arn: string; tags: Record<string, string> } | undefined>;
  /**
   * Running instances and registered hybrid nodes matching Run Command targets (tag:K, tag-key,
   * InstanceIds).
   */
  instancesTargeted(
    targets: readonly { key: string; values: readonly string[] }[],
  ): Promise<{ instanceId: string; tags: Record<string, string> }[]>;
  /** An instance's or a hybrid node's tags, or undefined when it does not exist. */
  instanceTags(instanceId: string): Promise<Record<string, string> | undefined>;
  /**
   * The role a hybrid (`mi-…`) node's credentials are for (its activation's IamRole) with the
   * role's IAM tags; undefined when no stand-in knows the node or IAM has no such role.
   */
  hybridNodeRole(
    instanceId: string,
  ): Promise<{ arn: string; tags: Record<string, string> } | undefined>;
}

/** Tags as IAM condition keys, e.g. `aws:ResourceTag/env`. */
export function tagContext(prefix: string, tags: Readonly<Record<string, string>>) {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}${k}`, v]));
}
