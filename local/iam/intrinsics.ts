/**
 * CloudFormation intrinsics of a synthesized template resolved to the test bed's values: the
 * pseudo parameters, `Ref` and `Fn::GetAtt … Arn` of the resources the service's policies name
 * (tables, queues, log groups, roles, keys), and `Fn::Join`. The stack names its tables and
 * queues (the default names the bed provisions), so their ARNs are the bed's ARNs.
 */

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Readonly<Record<string, TemplateResource>>;
}

export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
}

export class UnresolvableIntrinsicError extends Error {
  override readonly name = 'UnresolvableIntrinsicError';
}

function named(id: string, resource: TemplateResource, property: string): string {
  const value = resource.Properties?.[property];
  if (typeof value !== 'string') {
    throw new UnresolvableIntrinsicError(
      `${id} (${resource.Type}) has no literal ${property}: the bed cannot know its ARN`,
    );
  }
  return value;
}

/** `Fn::GetAtt [id, Arn]`: the ARN the resource would have in the bed's account and region. */
function arnOf(template: Template, env: Environment, id: string): string {
  const resource = template.Resources[id];
  if (resource === undefined) throw new UnresolvableIntrinsicError(`no resource ${id}`);
  const { account, region } = env;
  // Names not set literally (CDK-generated) get the logical id: such resources are never in the
  // bed, and the service never calls them (their grants are named in the coverage review list).
  const nameOr = (property: string) => {
    const value = resource.Properties?.[property];
    return typeof value === 'string' ? value : id;
  };
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${account}:table/${named(id, resource, 'TableName')}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${account}:${named(id, resource, 'QueueName')}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${nameOr('LogGroupName')}:*`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${nameOr('RoleName')}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${region}:${account}:rule/${nameOr('Name')}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${id}`;
    default:
      throw new UnresolvableIntrinsicError(`Fn::GetAtt ${id}.Arn of a ${resource.Type}`);
  }
}

function refOf(template: Template, env: Environment, id: string): string {
  switch (id) {
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::Region':
      return env.region;
    case 'AWS::AccountId':
      return env.account;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return env.stackName;
  }
  const resource = template.Resources[id];
  if (resource === undefined) throw new UnresolvableIntrinsicError(`Ref to unknown ${id}`);
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return named(id, resource, 'TableName');
    case 'AWS::SQS::Queue':
      return `https://sqs.${env.region}.amazonaws.com/${env.account}/${named(id, resource, 'QueueName')}`;
    case 'AWS::SSM::Document':
      return named(id, resource, 'Name');
    case 'AWS::IAM::Role':
      return typeof resource.Properties?.RoleName === 'string' ? resource.Properties.RoleName : id;
    case 'AWS::ECS::Cluster':
      // Named by CloudFormation when the template does not; the logical id stands in (only the
      // task role's scale-in protection names it, a call the ECS agent makes, not the service).
      return typeof resource.Properties?.ClusterName === 'string'
        ? resource.Properties.ClusterName
        : id;
    case 'AWS::ECS::Service': {
      // A service's Ref is its ARN (the long format, service/<cluster>/<name>); a name
      // CloudFormation generates gets the logical id, as for clusters.
      const cluster = resolveIntrinsics(resource.Properties?.Cluster, template, env);
      const name = resource.Properties?.ServiceName;
      return `arn:aws:ecs:${env.region}:${env.account}:service/${String(cluster)}/${typeof name === 'string' ? name : id}`;
    }
    case 'AWS::SNS::Topic': {
      // A topic's Ref is its ARN; CDK-generated names get the logical id, as in arnOf.
      const name = resource.Properties?.TopicName;
      return `arn:aws:sns:${env.region}:${env.account}:${typeof name === 'string' ? name : id}`;
    }
    default:
      throw new UnresolvableIntrinsicError(`Ref ${id} of a ${resource.Type}`);
  }
}

/** Resolves every intrinsic in `value` (a policy document, a statement, a string…). */
export function resolveIntrinsics(value: unknown, template: Template, env: Environment): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, template, env));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first !== undefined) {
    const [key, arg] = first;
    if (key === 'Ref') return refOf(template, env, String(arg));
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = arg as [string, string];
      if (attribute !== 'Arn') {
        throw new UnresolvableIntrinsicError(`Fn::GetAtt ${id}.${attribute}`);
      }
      return arnOf(template, env, id);
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolveIntrinsics(p, template, env))).join(separator);
    }
    if (key.startsWith('Fn::')) throw new UnresolvableIntrinsicError(`${key} is not modelled`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, template, env)]));
}
