/**
 * DescribeInstanceInformation's filters, checked the way AWS checks them before answering:
 * `Filters` (keys InstanceIds, PingStatus, AgentVersion, ResourceType, `tag:<key>`, `tag-key`…)
 * or the legacy `InstanceInformationFilterList` (never both), several filters AND, several
 * values OR.
 *
 * Sources: the SSM API model (botocore `ssm/2014-11-06/service-2.json`: the key list and the
 * values each key takes, the enum of legacy keys, 1 to 100 values per filter), the API
 * reference ("Tag filters can't be combined with other filter types"; "Attempting to use
 * InstanceInformationFilterList and Filters leads to an exception error"), recorded AWS
 * answers: `ResourceType filter may contain only one value.` and `ResourceType filter is
 * invalid, valid values are EC2Instance, ManagedInstance` (boto/boto3#3027),
 * `Cannot mix tag or inventory filter with any other filter.` (danmx/sigil#61). Not verified:
 * the messages for other keys (modelled on the ResourceType one) and the error code when both
 * filter lists are given (taken as ValidationException).
 */
import { type ManagedNode, pingStatus } from './managed-nodes.ts';
import { SsmApiError } from './wire.ts';

export interface NodeFilter {
  readonly key: string;
  readonly values: readonly string[];
}

/** Keys of the legacy InstanceInformationFilterList (an enum in the API model). */
const legacyKeys = [
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'ActivationIds',
  'IamRole',
  'ResourceType',
  'AssociationStatus',
] as const;

const stringKeys: readonly string[] = [...legacyKeys, 'SourceIds', 'SourceTypes'];

/** The values AWS accepts for keys that take a fixed set. */
const allowedValues: Readonly<Record<string, readonly string[]>> = {
  PingStatus: ['Online', 'ConnectionLost', 'Inactive'],
  PlatformTypes: ['Windows', 'Linux', 'MacOS'],
  ResourceType: ['EC2Instance', 'ManagedInstance'],
  AssociationStatus: ['Success', 'Pending', 'Failed'],
  SourceTypes: [
    'AWS::EC2::Instance',
    'AWS::IoT::Thing',
    'AWS::SSM::ManagedInstance',
    'Microsoft.Compute/virtualMachines',
    'compute.googleapis.com/Instance',
  ],
};

/** The InstanceId pattern of the SSM API model (EC2 instances and hybrid managed nodes). */
const instanceIdPattern = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;

export const isTagKey = (key: string) => key === 'tag-key' || key.startsWith('tag:');

function validation(message: string): SsmApiError {
  return new SsmApiError('ValidationException', `1 validation error detected: ${message}`);
}

function invalidValue(message: string): SsmApiError {
  return new SsmApiError('InvalidInstanceInformationFilterValue', message);
}

/** Reads one list of filters; `keyName`/`valuesName` are its wire member names. */
function readList(
  input: Record<string, unknown>,
  listName: string,
  keyName: string,
  valuesName: string,
): NodeFilter[] {
  const list = input[listName];
  if (list === undefined || list === null) return [];
  const at = `${listName.charAt(0).toLowerCase()}${listName.slice(1)}`;
  if (!Array.isArray(list)) throw validation(`Value at '${at}' must be a list`);
  return list.map((entry: unknown, index) => {
    const where = `${at}.${index + 1}.member`;
    const member = (entry ?? {}) as Record<string, unknown>;
    const key = member[keyName];
    const values = member[valuesName];
    if (typeof key !== 'string' || key === '') {
      throw validation(
        `Value at '${where}.${keyName}' failed to satisfy constraint: Member must not be null and must have length greater than or equal to 1`,
      );
    }
    if (
      !Array.isArray(values) ||
      values.length < 1 ||
      values.length > 100 ||
      values.some((v) => typeof v !== 'string' || v === '')
    ) {
      throw validation(
        `Value at '${where}.${valuesName}' failed to satisfy constraint: Member must hold 1 to 100 values of length greater than or equal to 1`,
      );
    }
    return { key, values: values as string[] };
  });
}

function checkValues(filter: NodeFilter): void {
  const { key, values } = filter;
  if (key === 'ResourceType' && values.length > 1) {
    throw invalidValue('ResourceType filter may contain only one value.');
  }
  const allowed = allowedValues[key];
  if (allowed !== undefined && values.some((v) => !allowed.includes(v))) {
    throw invalidValue(`${key} filter is invalid, valid values are ${allowed.join(', ')}`);
  }
  if (key === 'InstanceIds') {
    const invalid = values.filter((v) => !instanceIdPattern.test(v));
    if (invalid.length > 0) {
      throw new SsmApiError('InvalidInstanceId', `Invalid instance ids: ${invalid.join(', ')}`);
    }
  }
}

/** The request's filters, checked; throws the error AWS would answer with. */
export function readInstanceFilters(input: Record<string, unknown>): NodeFilter[] {
  const filters = readList(input, 'Filters', 'Key', 'Values');
  const legacy = readList(input, 'InstanceInformationFilterList', 'key', 'valueSet');
  if (filters.length > 0 && legacy.length > 0) {
    throw new SsmApiError(
      'ValidationException',
      'InstanceInformationFilterList and Filters cannot be used together; use Filters',
    );
  }
  legacy.forEach((filter, index) => {
    if (!(legacyKeys as readonly string[]).includes(filter.key)) {
      throw validation(
        `Value '${filter.key}' at 'instanceInformationFilterList.${index + 1}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${legacyKeys.join(', ')}]`,
      );
    }
  });
  for (const filter of filters) {
    const tagKey = filter.key.startsWith('tag:') ? filter.key.slice(4) : undefined;
    if (!stringKeys.includes(filter.key) && filter.key !== 'tag-key' && !tagKey) {
      throw new SsmApiError('InvalidFilterKey', `The filter key ${filter.key} is not valid`);
    }
  }
  const chosen = filters.length > 0 ? filters : legacy;
  const tagFilters = chosen.filter((f) => isTagKey(f.key)).length;
  if (tagFilters > 0 && tagFilters < chosen.length) {
    throw new SsmApiError(
      'ValidationException',
      'Cannot mix tag or inventory filter with any other filter.',
    );
  }
  for (const filter of chosen) checkValues(filter);
  return chosen;
}

/** What a node shows for a filter key; a filter matches when one of them is among its values. */
function nodeValues(node: ManagedNode, key: string): readonly string[] {
  if (key.startsWith('tag:')) {
    const value = node.tags.get(key.slice(4));
    return value === undefined ? [] : [value];
  }
  switch (key) {
    case 'tag-key':
      return [...node.tags.keys()];
    case 'InstanceIds':
    case 'SourceIds':
      return [node.instanceId];
    case 'AgentVersion':
      return [node.agentVersion];
    case 'PingStatus':
      return [pingStatus(node)];
    case 'PlatformTypes':
      return ['Linux'];
    case 'ResourceType':
      return [node.resourceType];
    case 'SourceTypes':
      return [node.hybrid === undefined ? 'AWS::EC2::Instance' : 'AWS::SSM::ManagedInstance'];
    case 'ActivationIds':
      return node.hybrid === undefined ? [] : [node.hybrid.activationId];
    case 'IamRole':
      return node.hybrid === undefined ? [] : [node.hybrid.iamRole];
    default:
      // AssociationStatus (no stand-in node has associations); ActivationIds and IamRole on a
      // stand-in EC2 node (it has no activation, and no Quick Setup role is modelled).
      return [];
  }
}

export function matchesFilters(node: ManagedNode, filters: readonly NodeFilter[]): boolean {
  return filters.every((filter) =>
    nodeValues(node, filter.key).some((value) => filter.values.includes(value)),
  );
}
