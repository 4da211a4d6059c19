/**
 * The identity policies of the roles that run the service's code, taken from a synthesized
 * template with its intrinsics resolved to the bed: the ECS task role (the task definition's
 * TaskRoleArn), in apigateway mode the API function's role, and the worker waker function's role
 * where the worker scales to zero. Also the servers' passphrase
 * policy (ServerAccess), evaluated on its own.
 */
import type { ApiMode, ServiceRole } from './app-ids.ts';
import { type Environment, resolveIntrinsics, type Template } from './intrinsics.ts';

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: PolicyStatement[];
}

export interface NamedPolicy {
  /** Logical id of the policy resource (or role/inline name) in the template. */
  readonly name: string;
  readonly policy: PolicyDocument;
}

export interface RolePolicies {
  readonly role: ServiceRole;
  readonly logicalId: string;
  readonly policies: NamedPolicy[];
}

/** What the evaluation needs from one synthesized template. */
export interface ModePolicies {
  readonly mode: ApiMode;
  readonly roles: Partial<Record<ServiceRole, RolePolicies>>;
  /** The managed policy servers' roles get (ABAC read of passphrases). */
  readonly serverPolicy: NamedPolicy;
  /** Resource policies by the ARN of their resource (the queues' and the alarm topic's). */
  readonly resourcePolicies: Readonly<Record<string, NamedPolicy>>;
}

export class TemplatePolicyError extends Error {
  override readonly name = 'TemplatePolicyError';
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function onlyOfType(template: Template, type: string): [string, Record<string, unknown>] {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  if (found.length !== 1 || found[0] === undefined) {
    throw new TemplatePolicyError(`expected one ${type} in the template, found ${found.length}`);
  }
  return [found[0][0], found[0][1].Properties ?? {}];
}

/** The handlers of the stack's functions (infra/lib/lambda-bundle.ts). */
const apiFunctionHandler = 'index.handler';
const wakerFunctionHandler = 'waker.handler';

function functionsWithHandler(
  template: Template,
  handler: string,
): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === handler)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

function onlyFunction(template: Template, handler: string): [string, Record<string, unknown>] {
  const found = functionsWithHandler(template, handler);
  if (found.length !== 1 || found[0] === undefined) {
    throw new TemplatePolicyError(
      `expected one Lambda function with handler ${handler} in the template, found ${found.length}`,
    );
  }
  return found[0];
}

function roleIdOf(value: unknown, where: string): string {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (getAtt === undefined) throw new TemplatePolicyError(`${where} is not a Fn::GetAtt of a role`);
  return getAtt[0];
}

const refersTo = (roleId: string) => (ref: unknown) =>
  (ref as { Ref?: string } | undefined)?.Ref === roleId;

/** Every identity policy attached to the role, resolved; throws for what the bed cannot model. */
export function policiesOfRole(
  template: Template,
  env: Environment,
  roleId: string,
): NamedPolicy[] {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new TemplatePolicyError(`${roleId} is not a role`);
  const props = role.Properties ?? {};
  if (props.PermissionsBoundary !== undefined) {
    throw new TemplatePolicyError(`${roleId} has a permissions boundary: not modelled by the bed`);
  }
  const documents: { name: string; document: unknown }[] = [];
  for (const p of list(props.Policies as { PolicyName: string; PolicyDocument: unknown }[])) {
    documents.push({ name: `${roleId}/${p.PolicyName}`, document: p.PolicyDocument });
  }
  const managedIds = new Set<string>();
  for (const arn of list(props.ManagedPolicyArns as unknown[])) {
    const ref = (arn as { Ref?: string }).Ref;
    if (ref === undefined || template.Resources[ref]?.Type !== 'AWS::IAM::ManagedPolicy') {
      throw new TemplatePolicyError(
        `${roleId} has a managed policy the template does not define (${JSON.stringify(arn)}): not modelled by the bed`,
      );
    }
    managedIds.add(ref);
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    const attachedByRoles = list(resource.Properties?.Roles as unknown[]).some(refersTo(roleId));
    if (resource.Type === 'AWS::IAM::Policy' && attachedByRoles) {
      documents.push({ name: id, document: resource.Properties?.PolicyDocument });
    }
    if (resource.Type === 'AWS::IAM::ManagedPolicy' && (attachedByRoles || managedIds.has(id))) {
      documents.push({ name: id, document: resource.Properties?.PolicyDocument });
    }
  }
  return documents.map(({ name, document }) => ({
    name,
    policy: resolveIntrinsics(document, template, env) as PolicyDocument,
  }));
}

/** The service's roles and the server policy of one template. */
export function modePolicies(mode: ApiMode, template: Template, env: Environment): ModePolicies {
  const roles: Partial<Record<ServiceRole, RolePolicies>> = {};
  const [taskDefinitionId, taskDefinition] = onlyOfType(template, 'AWS::ECS::TaskDefinition');
  const taskRole = roleIdOf(taskDefinition.TaskRoleArn, `${taskDefinitionId}.TaskRoleArn`);
  roles.taskRole = {
    role: 'taskRole',
    logicalId: taskRole,
    policies: policiesOfRole(template, env, taskRole),
  };
  if (mode === 'apigateway') {
    const [functionId, fn] = onlyFunction(template, apiFunctionHandler);
    const apiRole = roleIdOf(fn.Role, `${functionId}.Role`);
    roles.apiFunctionRole = {
      role: 'apiFunctionRole',
      logicalId: apiRole,
      policies: policiesOfRole(template, env, apiRole),
    };
  }
  const wakers = functionsWithHandler(template, wakerFunctionHandler);
  if (wakers.length > 0) {
    const [wakerId, waker] = onlyFunction(template, wakerFunctionHandler);
    const wakerRole = roleIdOf(waker.Role, `${wakerId}.Role`);
    roles.wakerFunctionRole = {
      role: 'wakerFunctionRole',
      logicalId: wakerRole,
      policies: policiesOfRole(template, env, wakerRole),
    };
  }
  const serverPolicies = Object.entries(template.Resources).filter(
    ([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.startsWith('ServerAccess'),
  );
  const [server] = serverPolicies;
  if (serverPolicies.length !== 1 || server === undefined) {
    throw new TemplatePolicyError(
      `expected one ServerAccess managed policy, found ${serverPolicies.length}`,
    );
  }
  return {
    mode,
    roles,
    resourcePolicies: { ...queuePolicies(template, env), ...topicPolicies(template, env) },
    serverPolicy: {
      name: server[0],
      policy: resolveIntrinsics(
        server[1].Properties?.PolicyDocument,
        template,
        env,
      ) as PolicyDocument,
    },
  };
}

/**
 * The queues' resource policies (CDK writes one for enforceSSL and for EventBridge targets), by
 * queue ARN. Same-account requests are allowed by the identity policy alone, but an explicit
 * Deny here refuses them.
 */
function queuePolicies(template: Template, env: Environment): Record<string, NamedPolicy> {
  const found: Record<string, NamedPolicy> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SQS::QueuePolicy') continue;
    const policy = resolveIntrinsics(resource.Properties?.PolicyDocument, template, env);
    for (const queue of list(resource.Properties?.Queues as unknown[])) {
      const ref = (queue as { Ref?: string }).Ref;
      if (ref === undefined)
        throw new TemplatePolicyError(`${id} names a queue by something else than Ref`);
      const arn = resolveIntrinsics({ 'Fn::GetAtt': [ref, 'Arn'] }, template, env) as string;
      if (found[arn] !== undefined) throw new TemplatePolicyError(`two policies for ${arn}`);
      found[arn] = { name: id, policy: policy as PolicyDocument };
    }
  }
  return found;
}

/**
 * The topics' resource policies (CDK writes one for enforceSSL; the alarm topic's also lets this
 * stack's alarms publish), by topic ARN: the worker publishes its notifications to that topic.
 */
function topicPolicies(template: Template, env: Environment): Record<string, NamedPolicy> {
  const found: Record<string, NamedPolicy> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SNS::TopicPolicy') continue;
    const policy = resolveIntrinsics(resource.Properties?.PolicyDocument, template, env);
    for (const topic of list(resource.Properties?.Topics as unknown[])) {
      if ((topic as { Ref?: string }).Ref === undefined)
        throw new TemplatePolicyError(`${id} names a topic by something else than Ref`);
      const arn = resolveIntrinsics(topic, template, env) as string;
      if (found[arn] !== undefined) throw new TemplatePolicyError(`two policies for ${arn}`);
      found[arn] = { name: id, policy: policy as PolicyDocument };
    }
  }
  return found;
}

/** Every (statement, action) a role grants, for the coverage check. */
export function grantsOf(role: RolePolicies): { sid: string; action: string }[] {
  return role.policies.flatMap(({ name, policy }) =>
    policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s, i) =>
      list(s.Action).map((action) => ({ sid: s.Sid ?? `${name}#${i}`, action })),
    ),
  );
}
