import type { Template } from 'aws-cdk-lib/assertions';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

export interface FoundStatement {
  /** Logical id of the resource holding the policy, and the kind of resource. */
  readonly owner: string;
  readonly type: string;
  readonly statement: Statement;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export const actionsOf = (s: Statement): string[] => list(s.Action);
export const resourcesOf = (s: Statement): unknown[] => list(s.Resource as unknown);

/** Every statement of every identity policy: AWS::IAM::Policy, ManagedPolicy, Role inline policies. */
export function identityStatements(template: Template): FoundStatement[] {
  const found: FoundStatement[] = [];
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  for (const [id, resource] of Object.entries(resources)) {
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push(resource.Properties?.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const p of list(resource.Properties?.Policies as { PolicyDocument: unknown }[])) {
        documents.push(p.PolicyDocument);
      }
    }
    for (const document of documents) {
      for (const statement of list((document as { Statement: Statement[] }).Statement)) {
        found.push({ owner: id, type: resource.Type, statement });
      }
    }
  }
  return found;
}

/** Statements of the identity policies attached to a role (its default policy or others). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        list(r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
        ),
    )
    .flatMap((r) => list((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement));
}

/** Logical id of the single resource of `type` whose properties match. */
export function logicalIdOf(template: Template, type: string, props: object = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

/** The single resource of `type` in the template (throws when there is not exactly one). */
export function onlyResource(
  template: Template,
  type: string,
): { Properties: Record<string, unknown> } {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1 || found[0] === undefined) {
    throw new Error(`expected one ${type}, found ${found.length}`);
  }
  return found[0] as { Properties: Record<string, unknown> };
}
