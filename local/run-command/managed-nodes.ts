/**
 * EC2 instances as Systems Manager sees them. An instance becomes a managed node only when its
 * SSM Agent registers, some time after launch; until then Run Command does not know it. A
 * registered node is listed while its instance runs: `Online`, or `ConnectionLost` when its
 * agent does not answer (`standin:behaviour=unreachable`). Stopped and terminated instances are
 * not listed (SSM API reference, DescribeInstanceInformation: "does not return information for
 * nodes that are either Stopped or Terminated"; aws/amazon-ssm-agent#407).
 *
 * Tags set how a stand-in server behaves: `standin:behaviour`, `standin:agent-version`,
 * `standin:agent-registers-after-ms` and `standin:reload`. A malformed value of the last three
 * is refused with a ValidationException naming the instance and the tag, so that a typo in a
 * test never silently selects the default.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import { SsmApiError } from './wire.ts';

export const standInTags = {
  behaviour: 'standin:behaviour',
  agentVersion: 'standin:agent-version',
  registersAfterMs: 'standin:agent-registers-after-ms',
  reload: 'standin:reload',
} as const;

/** `standin:behaviour` values; anything else (or no tag) is `normal`. */
export type Behaviour = 'normal' | 'slow' | 'fail' | 'hang' | 'unreachable' | 'instant';

/** `standin:reload`: what the server's allowed reload commands do when the script runs one. */
export type ReloadBehaviour = 'record' | 'fail' | 'slow';

export type PingStatus = 'Online' | 'ConnectionLost';

export interface ManagedNode {
  readonly instanceId: string;
  /** What AWS reports as InstanceName and ComputerName (the node's host name). */
  readonly instanceName: string;
  readonly ipAddress: string;
  /** The EC2 instance state (running, stopped, terminated…). */
  readonly state: string;
  /** When the agent registers, epoch ms: LaunchTime plus the registration delay. */
  readonly registeredAt: number;
  readonly behaviour: Behaviour;
  readonly agentVersion: string;
  readonly reload: ReloadBehaviour;
  readonly tags: ReadonlyMap<string, string>;
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

function registrationDelay(instanceId: string, value: string | undefined, fallback: number) {
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!/^[0-9]{1,10}$/.test(value) || !Number.isSafeInteger(ms)) {
    throw badTag(instanceId, standInTags.registersAfterMs, value, 'a whole number of milliseconds');
  }
  return ms;
}

function agentVersionOf(instanceId: string, value: string | undefined): string {
  if (value === undefined) return currentAgentVersion;
  if (!agentVersionPattern.test(value)) {
    throw badTag(instanceId, standInTags.agentVersion, value, 'a version such as 3.3.2746.0');
  }
  return value;
}

function reloadOf(instanceId: string, value: string | undefined): ReloadBehaviour {
  if (value === undefined) return 'record';
  const reload = reloadBehaviours.find((r) => r === value);
  if (reload === undefined) {
    throw badTag(instanceId, standInTags.reload, value, 'fail or slow (or no tag)');
  }
  return reload;
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
  const behaviourTag = tags.get(standInTags.behaviour);
  const launchedAt = instance.LaunchTime?.getTime() ?? 0;
  return {
    instanceId,
    instanceName: instance.PrivateDnsName ?? '',
    ipAddress: instance.PrivateIpAddress ?? '',
    state: instance.State?.Name ?? 'unknown',
    registeredAt:
      launchedAt +
      registrationDelay(instanceId, tags.get(standInTags.registersAfterMs), registrationMs),
    behaviour: behaviours.find((b) => b === behaviourTag) ?? 'normal',
    agentVersion: agentVersionOf(instanceId, tags.get(standInTags.agentVersion)),
    reload: reloadOf(instanceId, tags.get(standInTags.reload)),
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
