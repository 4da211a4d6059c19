/**
 * Managed nodes as Systems Manager sees them: EC2 instances (here) and on-premises servers
 * registered with a hybrid activation (`mi-…`, hybrid-nodes.ts), both as a `ManagedNode`.
 *
 * An EC2 instance becomes a managed node only when its SSM Agent registers, some time after
 * launch; until then Run Command does not know it. A registered node is listed while its
 * instance runs: `Online`, or `ConnectionLost` when its agent does not answer
 * (`standin:behaviour=unreachable`). Stopped and terminated instances are not listed (SSM API
 * reference, DescribeInstanceInformation: "does not return information for nodes that are either
 * Stopped or Terminated"; aws/amazon-ssm-agent#407).
 *
 * Tags set how a stand-in server behaves: `standin:behaviour`, `standin:agent-version`,
 * `standin:agent-registers-after-ms`, `standin:reload`, `standin:run-ms` and `standin:container`
 * (the server is a container: container-script.ts). A malformed value of the last five
 * is refused with a ValidationException naming the instance and the tag, so that a typo in a
 * test never silently selects the default. On a hybrid node the same tags (set on the node with
 * AddTagsToResource, or by its activation) override what its agent said when it registered.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import { SsmApiError } from './wire.ts';

export const standInTags = {
  behaviour: 'standin:behaviour',
  agentVersion: 'standin:agent-version',
  registersAfterMs: 'standin:agent-registers-after-ms',
  reload: 'standin:reload',
  runMs: 'standin:run-ms',
  container: 'standin:container',
} as const;

/** `standin:behaviour` values; anything else (or no tag) is `normal`. */
export type Behaviour = 'normal' | 'slow' | 'fail' | 'hang' | 'unreachable' | 'instant';

/** `standin:reload`: what the server's allowed reload commands do when the script runs one. */
export type ReloadBehaviour = 'record' | 'fail' | 'slow';

export type PingStatus = 'Online' | 'ConnectionLost';

/** InstanceInformation's ResourceType (the SSM API model's enum). */
export type NodeResourceType = 'EC2Instance' | 'ManagedInstance';

/** What a hybrid activation gave the node (DescribeInstanceInformation shows it). */
export interface HybridRegistration {
  readonly activationId: string;
  /** The activation's IamRole: the role the node's credentials are for. */
  readonly iamRole: string;
  /** The activation's DefaultInstanceName, if it had one (InstanceInformation.Name). */
  readonly name?: string;
}

export interface ManagedNode {
  readonly instanceId: string;
  readonly resourceType: NodeResourceType;
  /** What AWS reports as InstanceName and ComputerName (the node's host name). */
  readonly instanceName: string;
  readonly ipAddress: string;
  /**
   * The EC2 instance state (running, stopped, terminated…); `running` for a hybrid node, which
   * is a managed node from its registration until it is deregistered.
   */
  readonly state: string;
  /**
   * When the agent registers, epoch ms: LaunchTime plus the registration delay (EC2), the
   * registration itself (hybrid; InstanceInformation.RegistrationDate).
   */
  readonly registeredAt: number;
  readonly behaviour: Behaviour;
  readonly agentVersion: string;
  readonly reload: ReloadBehaviour;
  /**
   * Tag `standin:run-ms`: how long an `instant` server takes before it answers (a server that
   * takes time without costing this machine any work: the benchmarks' 3-s and 120-s servers).
   */
  readonly runMs: number;
  /**
   * Tag `standin:container`: the server is this container (named as its engine names it), and
   * its scripts run inside it as root with real paths (container-script.ts); without the tag
   * they run on this machine under the server's root directory.
   */
  readonly container?: string;
  readonly tags: ReadonlyMap<string, string>;
  /** Hybrid (`mi-…`) nodes only. */
  readonly hybrid?: HybridRegistration;
}

/**
 * The agent a stand-in server runs unless tagged otherwise: release 3.3.4364.0 (2026-05-05,
 * aws/amazon-ssm-agent releases), the latest known here, so IsLatestVersion is true for it.
 */
export const currentAgentVersion = '3.3.4364.0';

/**
 * The first agent that passes `interpolationType: ENV_VAR` parameters as `SSM_<Name>`
 * variables; older agents leave them unset ("AWS Systems Manager Run Command now supports
 * interpolating parameters into environment variables", AWS Cloud Operations blog; "Troubleshooting
 * parameter handling issues" in the Systems Manager user guide).
 */
export const envVarInterpolationAgentVersion = '3.3.2746.0';

/** The AgentVersion pattern of the SSM API model. */
const agentVersionPattern = /^[0-9]{1,6}(\.[0-9]{1,6}){2,3}$/;

const behaviours: readonly Behaviour[] = ['slow', 'fail', 'hang', 'unreachable', 'instant'];
const reloadBehaviours: readonly ReloadBehaviour[] = ['fail', 'slow'];

/** Compares dotted versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function passesEnvVarParameters(agentVersion: string): boolean {
  return compareVersions(agentVersion, envVarInterpolationAgentVersion) >= 0;
}

function badTag(instanceId: string, tag: string, value: string, expected: string): SsmApiError {
  return new SsmApiError(
    'ValidationException',
    `stand-in: instance ${instanceId} has ${tag}=${JSON.stringify(value)}; expected ${expected}`,
  );
}

function milliseconds(
  instanceId: string,
  tag: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!/^[0-9]{1,10}$/.test(value) || !Number.isSafeInteger(ms)) {
    throw badTag(instanceId, tag, value, 'a whole number of milliseconds');
  }
  return ms;
}

function registrationDelay(instanceId: string, value: string | undefined, fallback: number) {
  return milliseconds(instanceId, standInTags.registersAfterMs, value, fallback);
}

function agentVersionOf(
  instanceId: string,
  value: string | undefined,
  fallback = currentAgentVersion,
): string {
  if (value === undefined) return fallback;
  if (!isAgentVersion(value)) {
    throw badTag(instanceId, standInTags.agentVersion, value, 'a version such as 3.3.2746.0');
  }
  return value;
}

function reloadOf(
  instanceId: string,
  value: string | undefined,
  fallback: ReloadBehaviour = 'record',
): ReloadBehaviour {
  if (value === undefined) return fallback;
  const reload = reloadBehaviours.find((r) => r === value);
  if (reload === undefined) {
    throw badTag(instanceId, standInTags.reload, value, 'fail or slow (or no tag)');
  }
  return reload;
}

/** A container's name or id as engines accept it (Docker's rule). */
const containerNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function containerOf(instanceId: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!containerNamePattern.test(value)) {
    throw badTag(instanceId, standInTags.container, value, 'a container name such as web-1');
  }
  return value;
}

/** A `standin:behaviour` value; anything else (or none) is `fallback`, as on EC2 instances. */
function behaviourOf(value: string | undefined, fallback: Behaviour = 'normal'): Behaviour {
  return behaviours.find((b) => b === value) ?? fallback;
}

export function isAgentVersion(value: string): boolean {
  return agentVersionPattern.test(value);
}

export function isBehaviour(value: string): value is Behaviour {
  return value === 'normal' || behaviours.some((b) => b === value);
}

export function isReloadBehaviour(value: string): value is ReloadBehaviour {
  return value === 'record' || reloadBehaviours.some((r) => r === value);
}

/** What a hybrid node's agent said about its server when it registered (hybrid-nodes.ts). */
export interface HybridServer {
  readonly instanceId: string;
  readonly computerName: string;
  readonly ipAddress: string;
  readonly registeredAt: number;
  readonly behaviour: Behaviour;
  readonly agentVersion: string;
  readonly reload: ReloadBehaviour;
  readonly registration: HybridRegistration;
}

function optionalContainer(instanceId: string, tags: ReadonlyMap<string, string>) {
  const container = containerOf(instanceId, tags.get(standInTags.container));
  return container === undefined ? {} : { container };
}

/**
 * The managed node a registered hybrid server is: what its agent registered with, overridden by
 * the `standin:*` tags of the node (malformed ones refused as on EC2 instances).
 */
export function hybridManagedNodeOf(
  server: HybridServer,
  tags: ReadonlyMap<string, string>,
): ManagedNode {
  const id = server.instanceId;
  return {
    instanceId: id,
    resourceType: 'ManagedInstance',
    instanceName: server.computerName,
    ipAddress: server.ipAddress,
    state: 'running',
    registeredAt: server.registeredAt,
    behaviour: behaviourOf(tags.get(standInTags.behaviour), server.behaviour),
    agentVersion: agentVersionOf(id, tags.get(standInTags.agentVersion), server.agentVersion),
    reload: reloadOf(id, tags.get(standInTags.reload), server.reload),
    runMs: milliseconds(id, standInTags.runMs, tags.get(standInTags.runMs), 0),
    ...optionalContainer(id, tags),
    tags: new Map(tags),
    hybrid: server.registration,
  };
}

/**
 * The managed node an EC2 instance (as moto's DescribeInstances returns it) is or will be;
 * `registrationMs` is the default delay between LaunchTime and the agent's registration.
 */
export function managedNodeOf(instance: Instance, registrationMs: number): ManagedNode {
  const instanceId = instance.InstanceId ?? '';
  const tags = new Map<string, string>();
  for (const tag of instance.Tags ?? []) {
    if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? '');
  }
  const launchedAt = instance.LaunchTime?.getTime() ?? 0;
  return {
    instanceId,
    resourceType: 'EC2Instance',
    instanceName: instance.PrivateDnsName ?? '',
    ipAddress: instance.PrivateIpAddress ?? '',
    state: instance.State?.Name ?? 'unknown',
    registeredAt:
      launchedAt +
      registrationDelay(instanceId, tags.get(standInTags.registersAfterMs), registrationMs),
    behaviour: behaviourOf(tags.get(standInTags.behaviour)),
    agentVersion: agentVersionOf(instanceId, tags.get(standInTags.agentVersion)),
    reload: reloadOf(instanceId, tags.get(standInTags.reload)),
    runMs: milliseconds(instanceId, standInTags.runMs, tags.get(standInTags.runMs), 0),
    ...optionalContainer(instanceId, tags),
    tags,
  };
}

export function isRegistered(node: ManagedNode, now: number): boolean {
  return now >= node.registeredAt;
}

/** A managed node Run Command can send to now: registered, and its instance running. */
export function isTargetable(node: ManagedNode, now: number): boolean {
  return node.state === 'running' && isRegistered(node, now);
}

export function pingStatus(node: ManagedNode): PingStatus {
  return node.behaviour === 'unreachable' ? 'ConnectionLost' : 'Online';
}
