/**
 * The SSM operations of hybrid (on-premises, `mi-…`) managed nodes, answered by the stand-in:
 * CreateActivation, DescribeActivations, DeleteActivation, DeregisterManagedInstance, the agent's
 * RegisterManagedInstance, and AddTagsToResource, RemoveTagsFromResource and
 * ListTagsForResource for ResourceType `ManagedInstance` (every other resource type goes to moto
 * as before). The state and where each rule comes from: hybrid-nodes.ts.
 *
 * Recorded AWS answers copied here:
 * - CreateActivation with a role that does not exist, or whose trust policy does not name the
 *   service principal ssm.amazonaws.com: `ValidationException: Nonexistent role or missing ssm
 *   service principal in trust policy` (hashicorp/terraform-provider-aws#27952, #30441); the
 *   role's ARN after it as in the older message `Not existing role: arn:aws:iam::…:role/…`
 *   (aws/aws-cli#4232; not verified for the current message).
 * - A ManagedInstance tag operation on an id that is not `mi-` + 17 hexadecimal digits (an EC2
 *   instance id): `ValidationException: resourceId i-0edbbb6e54088396a should be in format
 *   mi-[0-9a-f]{17} for resource type ManagedInstance` (aws/aws-tools-for-powershell#204,
 *   boto/boto3#4265).
 * Taken from the API model without a recorded message: InvalidResourceId (its documentation as
 * the message) for a well-formed id that is no registered node, TooManyTagsError beyond 50 tags,
 * InvalidInstanceId from DeregisterManagedInstance for a node that is not registered (message as
 * the agent logs it for an unknown node, aws/amazon-ssm-agent#381), InvalidActivationId and
 * InvalidFilter; the limits and patterns of each member. Not verified: the error code for an
 * ExpirationDate in the past or more than 30 days ahead (ValidationException here).
 */
import { GetRoleCommand, type GetRoleCommandOutput, type IAMClient } from '@aws-sdk/client-iam';
import {
  type Activation,
  activationLifetime,
  hybridIdPattern,
  maxNodeTags,
  type Tag,
} from './hybrid-nodes.ts';
import { isAgentVersion, isBehaviour, isReloadBehaviour } from './managed-nodes.ts';
import type { Operation, OperationContext } from './operations.ts';
import { page } from './paging.ts';
import { emulatorAccountId } from './targets.ts';
import {
  epochSeconds,
  forwardToEmulator,
  optionalNumber,
  optionalString,
  requiredString,
  SsmApiError,
} from './wire.ts';

type Input = Record<string, unknown>;

function validation(message: string): SsmApiError {
  return new SsmApiError('ValidationException', `1 validation error detected: ${message}`);
}

function tooLong(value: string, where: string, max: number): SsmApiError {
  return validation(
    `Value '${value}' at '${where}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
  );
}

/** The pattern of TagKey, TagValue and DefaultInstanceName in the API model. */
const namePattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const namePatternText = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';
const activationIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const managedInstanceIdPattern =
  /(^mi-[0-9a-f]{17}$)|(^eks_c:[0-9A-Za-z][A-Za-z0-9\-_]{0,99}_\w{17}$)/;

function readTags(input: Input, name: string, required: boolean, max: number): Tag[] {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required) throw validation(`${name} is required`);
    return [];
  }
  const at = name.charAt(0).toLowerCase() + name.slice(1);
  if (!Array.isArray(value)) throw validation(`Value at '${at}' must be a list`);
  if (value.length > max) {
    throw validation(
      `Value at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return value.map((entry: unknown, index) => {
    const { Key, Value } = (entry ?? {}) as { Key?: unknown; Value?: unknown };
    const where = `${at}.${index + 1}.member`;
    if (typeof Key !== 'string' || Key.length < 1 || Key.length > 128 || !namePattern.test(Key)) {
      throw validation(
        `Value '${String(Key)}' at '${where}.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: ${namePatternText}`,
      );
    }
    if (typeof Value !== 'string' || Value.length > 256 || !namePattern.test(Value)) {
      throw validation(
        `Value '${String(Value)}' at '${where}.value' failed to satisfy constraint: Member must not be null, have length less than or equal to 256 and satisfy regular expression pattern: ${namePatternText}`,
      );
    }
    return { Key, Value };
  });
}

/** ExpirationDate (epoch seconds on the wire) as epoch ms, or the 24 hours default. */
function expirationOf(input: Input, now: number): number {
  const value = input.ExpirationDate;
  if (value === undefined || value === null) return now + activationLifetime.defaultMs;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SsmApiError('SerializationException', 'ExpirationDate must be a timestamp');
  }
  const at = Math.round(value * 1000);
  if (at <= now || at > now + activationLifetime.maxMs) {
    throw new SsmApiError(
      'ValidationException',
      `ExpirationDate ${new Date(at).toISOString()} must be in the future and at most 30 days ahead`,
    );
  }
  return at;
}

interface TrustStatement {
  Effect?: unknown;
  Action?: unknown;
  Principal?: unknown;
}

const listOf = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Does the trust policy let ssm.amazonaws.com assume the role? */
function trustsSystemsManager(document: string | undefined): boolean {
  if (document === undefined) return false;
  let parsed: { Statement?: unknown };
  try {
    parsed = JSON.parse(document.startsWith('%') ? decodeURIComponent(document) : document);
  } catch {
    try {
      parsed = JSON.parse(decodeURIComponent(document));
    } catch {
      return false;
    }
  }
  return listOf(parsed.Statement).some((entry) => {
    const statement = (entry ?? {}) as TrustStatement;
    const actions = listOf(statement.Action);
    const service = listOf((statement.Principal as { Service?: unknown } | undefined)?.Service);
    return (
      statement.Effect === 'Allow' &&
      actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*') &&
      service.includes('ssm.amazonaws.com')
    );
  });
}

/**
 * The activation's IamRole must exist (in moto's IAM) and trust Systems Manager, as CreateActivation
 * checks on AWS. `service-role/Name` names a role with a path.
 */
async function checkServiceRole(iam: IAMClient, iamRole: string): Promise<void> {
  const refused = () =>
    new SsmApiError(
      'ValidationException',
      `Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::${emulatorAccountId}:role/${iamRole}`,
    );
  const segments = iamRole.split('/');
  const name = segments.at(-1) ?? '';
  const path = segments.length > 1 ? `/${segments.slice(0, -1).join('/')}/` : undefined;
  let role: GetRoleCommandOutput['Role'];
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (error) {
    const code = (error as { name?: string }).name ?? '';
    if (['NoSuchEntity', 'NoSuchEntityException', 'ValidationError'].includes(code)) {
      throw refused();
    }
    throw error;
  }
  if (role === undefined || (path !== undefined && role.Path !== path)) throw refused();
  if (!trustsSystemsManager(role.AssumeRolePolicyDocument)) throw refused();
}

const createActivation: Operation = async (input, context) => {
  const iamRole = requiredString(input, 'IamRole');
  if (iamRole.length > 64) throw tooLong(iamRole, 'iamRole', 64);
  const description = optionalString(input, 'Description') ?? '';
  if (description.length > 256) throw tooLong(description, 'description', 256);
  const defaultInstanceName = optionalString(input, 'DefaultInstanceName');
  if (defaultInstanceName !== undefined) {
    if (defaultInstanceName.length > 256) {
      throw tooLong(defaultInstanceName, 'defaultInstanceName', 256);
    }
    if (!namePattern.test(defaultInstanceName)) {
      throw validation(
        `Value '${defaultInstanceName}' at 'defaultInstanceName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${namePatternText}`,
      );
    }
  }
  const registrationLimit = optionalNumber(input, 'RegistrationLimit') ?? 1;
  if (registrationLimit < 1 || registrationLimit > 1000) {
    throw validation(
      `Value '${registrationLimit}' at 'registrationLimit' failed to satisfy constraint: Member must have value between 1 and 1000`,
    );
  }
  const now = context.now();
  const expiresAt = expirationOf(input, now);
  const tags = readTags(input, 'Tags', false, 1000);
  await checkServiceRole(context.iam, iamRole);
  const activation = context.hybrid.createActivation({
    description,
    ...(defaultInstanceName === undefined ? {} : { defaultInstanceName }),
    iamRole,
    registrationLimit,
    expiresAt,
    tags,
    now,
  });
  context.log(
    `CreateActivation ${activation.activationId}: role ${iamRole}, ${registrationLimit} registrations`,
  );
  return { ActivationId: activation.activationId, ActivationCode: activation.activationCode };
};

function activationView(activation: Activation, now: number) {
  return {
    ActivationId: activation.activationId,
    Description: activation.description,
    ...(activation.defaultInstanceName === undefined
      ? {}
      : { DefaultInstanceName: activation.defaultInstanceName }),
    IamRole: activation.iamRole,
    RegistrationLimit: activation.registrationLimit,
    RegistrationsCount: activation.registrationsCount,
    ExpirationDate: epochSeconds(new Date(activation.expiresAt)),
    Expired: now >= activation.expiresAt,
    CreatedDate: epochSeconds(new Date(activation.createdAt)),
    Tags: activation.tags,
  };
}

/** DescribeActivations' filter keys (DescribeActivationsFilterKeys in the model). */
const activationFilterKeys = ['ActivationIds', 'DefaultInstanceName', 'IamRole'] as const;

const describeActivations: Operation = async (input, context) => {
  const raw = input.Filters;
  const filters = (raw === undefined || raw === null ? [] : listOf(raw)).map((entry) => {
    const { FilterKey, FilterValues } = (entry ?? {}) as {
      FilterKey?: unknown;
      FilterValues?: unknown;
    };
    if (
      !activationFilterKeys.some((k) => k === FilterKey) ||
      !Array.isArray(FilterValues) ||
      FilterValues.some((v) => typeof v !== 'string')
    ) {
      throw new SsmApiError('InvalidFilter', `The filter ${String(FilterKey)} is not valid`);
    }
    return { key: FilterKey as string, values: FilterValues as string[] };
  });
  const now = context.now();
  const matching = context.hybrid.activations().filter((activation) =>
    filters.every(({ key, values }) => {
      const value =
        key === 'ActivationIds'
          ? activation.activationId
          : key === 'IamRole'
            ? activation.iamRole
            : activation.defaultInstanceName;
      return value !== undefined && values.includes(value);
    }),
  );
  const { slice, ...rest } = page(matching, input, { min: 1, max: 50, default: 50 });
  return { ActivationList: slice.map((a) => activationView(a, now)), ...rest };
};

const deleteActivation: Operation = async (input, context) => {
  const activationId = requiredString(input, 'ActivationId');
  if (!activationIdPattern.test(activationId)) {
    throw validation(
      `Value '${activationId}' at 'activationId' failed to satisfy constraint: Member must satisfy regular expression pattern: ${activationIdPattern.source}`,
    );
  }
  if (!context.hybrid.deleteActivation(activationId)) {
    throw new SsmApiError(
      'InvalidActivationId',
      "The activation ID isn't valid. Verify that you entered the correct ActivationId or ActivationCode and try again.",
    );
  }
  return {};
};

/** The stand-in's part of RegisterManagedInstance: what the server is (test beds only). */
function readServer(input: Input) {
  const value = input.StandInServer;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SsmApiError('ValidationException', 'StandInServer must be an object');
  }
  const server = value as Input;
  const computerName = optionalString(server, 'ComputerName');
  const ipAddress = optionalString(server, 'IPAddress');
  const agentVersion = optionalString(server, 'AgentVersion');
  const behaviour = optionalString(server, 'Behaviour');
  const reload = optionalString(server, 'Reload');
  if (agentVersion !== undefined && !isAgentVersion(agentVersion)) {
    throw new SsmApiError(
      'ValidationException',
      `stand-in: AgentVersion ${JSON.stringify(agentVersion)}; expected a version such as 3.3.2746.0`,
    );
  }
  if (behaviour !== undefined && !isBehaviour(behaviour)) {
    throw new SsmApiError(
      'ValidationException',
      `stand-in: Behaviour ${JSON.stringify(behaviour)}; expected normal, slow, fail, hang, unreachable or instant`,
    );
  }
  if (reload !== undefined && !isReloadBehaviour(reload)) {
    throw new SsmApiError(
      'ValidationException',
      `stand-in: Reload ${JSON.stringify(reload)}; expected record, fail or slow`,
    );
  }
  return {
    ...(computerName === undefined ? {} : { computerName }),
    ...(ipAddress === undefined ? {} : { ipAddress }),
    ...(agentVersion === undefined ? {} : { agentVersion }),
    ...(behaviour === undefined ? {} : { behaviour }),
    ...(reload === undefined ? {} : { reload }),
  };
}

/**
 * The SSM Agent's registration (`amazon-ssm-agent -register -code … -id … -region …` sends it,
 * unsigned): not part of the public API, so no SDK has it; the test bed sends it with
 * `registerHybridNode` (local/test/support/stand-in.ts). PublicKey, PublicKeyType and
 * Fingerprint (the agent's key pair, for its later credentials) are accepted and ignored. The
 * stand-in's own member `StandInServer` says what the server is: ComputerName, IPAddress,
 * AgentVersion (the real agent reports these afterwards, in UpdateInstanceInformation),
 * Behaviour and Reload (`standin:behaviour` / `standin:reload`).
 */
const registerManagedInstance: Operation = async (input, context) => {
  const activationId = requiredString(input, 'ActivationId');
  const code = requiredString(input, 'ActivationCode');
  const node = context.hybrid.register(activationId, code, readServer(input), context.now());
  context.log(`RegisterManagedInstance ${node.instanceId} with activation ${activationId}`);
  return { InstanceId: node.instanceId };
};

const deregisterManagedInstance: Operation = async (input, context) => {
  const instanceId = requiredString(input, 'InstanceId');
  if (
    instanceId.length < 20 ||
    instanceId.length > 124 ||
    !managedInstanceIdPattern.test(instanceId)
  ) {
    throw validation(
      `Value '${instanceId}' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: ${managedInstanceIdPattern.source}`,
    );
  }
  if (!context.hybrid.deregister(instanceId)) {
    throw new SsmApiError('InvalidInstanceId', `Not existing InstanceId ${instanceId}`);
  }
  context.log(`DeregisterManagedInstance ${instanceId}`);
  return {};
};

/** The tags of the ManagedInstance the request names; throws as AWS does for a bad id. */
function nodeTags(input: Input, context: OperationContext): Map<string, string> {
  const resourceId = requiredString(input, 'ResourceId');
  if (!hybridIdPattern.test(resourceId)) {
    throw new SsmApiError(
      'ValidationException',
      `resourceId ${resourceId} should be in format mi-[0-9a-f]{17} for resource type ManagedInstance`,
    );
  }
  const tags = context.hybrid.tagsOf(resourceId);
  if (tags === undefined) {
    throw new SsmApiError(
      'InvalidResourceId',
      "The resource ID isn't valid. Verify that you entered the correct ID and try again.",
    );
  }
  return tags;
}

const isManagedInstance = (input: Input) => input.ResourceType === 'ManagedInstance';

const addTagsToResource: Operation = async (input, context) => {
  if (!isManagedInstance(input)) return forwardToEmulator;
  const tags = nodeTags(input, context);
  const added = readTags(input, 'Tags', true, 1000);
  const keys = new Set([...tags.keys(), ...added.map((t) => t.Key)]);
  if (keys.size > maxNodeTags) {
    throw new SsmApiError(
      'TooManyTagsError',
      `A managed node can have at most ${maxNodeTags} tags; this would make ${keys.size}`,
    );
  }
  for (const tag of added) tags.set(tag.Key, tag.Value);
  return {};
};

const removeTagsFromResource: Operation = async (input, context) => {
  if (!isManagedInstance(input)) return forwardToEmulator;
  const tags = nodeTags(input, context);
  const keys = input.TagKeys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
    throw validation('TagKeys is required and must be a list of strings');
  }
  for (const key of keys as string[]) tags.delete(key);
  return {};
};

const listTagsForResource: Operation = async (input, context) => {
  if (!isManagedInstance(input)) return forwardToEmulator;
  const tags = nodeTags(input, context);
  return { TagList: [...tags].map(([Key, Value]) => ({ Key, Value })) };
};

export const hybridOperations: Readonly<Record<string, Operation>> = {
  CreateActivation: createActivation,
  DescribeActivations: describeActivations,
  DeleteActivation: deleteActivation,
  RegisterManagedInstance: registerManagedInstance,
  DeregisterManagedInstance: deregisterManagedInstance,
  AddTagsToResource: addTagsToResource,
  RemoveTagsFromResource: removeTagsFromResource,
  ListTagsForResource: listTagsForResource,
};
