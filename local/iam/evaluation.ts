/**
 * Evaluates recorded IAM requests against the stack's policies with @cloud-copilot/iam-simulate
 * (conditions included), in both API modes, as the role that serves the request's app id there.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { type ApiMode, type AppId, apiModes, roleServing, type ServiceRole } from './app-ids.ts';
import type { ContextValues, IamRequest } from './iam-request.ts';
import { tagContext } from './iam-request.ts';
import type { RecordedCall, ServerCall } from './recording-front.ts';
import type { NamedPolicy, RolePolicies } from './role-policies.ts';
import type { StackPolicies } from './stack-policies.ts';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'NotEvaluable';

export interface Decided {
  readonly decision: Decision;
  /** Statement ids that allowed it (for the coverage check). */
  readonly allowedBy: readonly string[];
  /** Why it could not be evaluated (iam-simulate refused the request), if so. */
  readonly detail?: string;
}

export interface Verdict extends Decided {
  readonly mode: ApiMode;
  readonly role: ServiceRole;
  readonly appId: AppId;
  readonly operation: string;
  readonly request: IamRequest;
}

/** Policies that cap a principal's permissions instead of granting them. */
export interface Controls {
  /** The principal's permissions boundary. */
  readonly permissionsBoundary?: NamedPolicy;
  /** Service control policies of the account (the caller supplies FullAWSAccess if wanted). */
  readonly serviceControlPolicies?: readonly NamedPolicy[];
}

/** One simulation: a principal with these identity policies asks for one action on one resource. */
export async function simulate(
  principal: string,
  policies: readonly NamedPolicy[],
  request: IamRequest,
  account: string,
  resourcePolicy?: NamedPolicy,
  controls: Controls = {},
): Promise<Decided> {
  let response: Awaited<ReturnType<typeof runSimulation>>;
  try {
    response = await runSimulation(
      {
        request: {
          principal,
          action: request.action,
          resource: { resource: request.resource, accountId: account },
          contextVariables: request.context as Record<string, string | string[]>,
        },
        identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
        ...(resourcePolicy === undefined ? {} : { resourcePolicy: resourcePolicy.policy }),
        serviceControlPolicies:
          controls.serviceControlPolicies === undefined
            ? []
            : [
                {
                  orgIdentifier: account,
                  policies: controls.serviceControlPolicies.map((p) => ({
                    name: p.name,
                    policy: p.policy,
                  })),
                },
              ],
        resourceControlPolicies: [],
        ...(controls.permissionsBoundary === undefined
          ? {}
          : {
              permissionBoundaryPolicies: [
                {
                  name: controls.permissionsBoundary.name,
                  policy: controls.permissionsBoundary.policy,
                },
              ],
            }),
      },
      { simulationMode: 'Strict' },
    );
  } catch (error) {
    return { decision: 'NotEvaluable', allowedBy: [], detail: (error as Error).message };
  }
  if (response.resultType === 'error') {
    return { decision: 'NotEvaluable', allowedBy: [], detail: JSON.stringify(response.errors) };
  }
  if (response.resultType !== 'single') {
    return {
      decision: 'NotEvaluable',
      allowedBy: [],
      detail: `a wildcard resource (${request.resource}) for an action that takes a resource type`,
    };
  }
  const decision = response.overallResult as Decision;
  const allowedBy = (response.result.analysis.identityAnalysis?.allowStatements ?? []).map(
    (s) => s.statement.sid() ?? `${s.policyId}#${s.statement.index()}`,
  );
  return { decision, allowedBy };
}

function key(role: string, request: IamRequest): string {
  const context = Object.entries(request.context as ContextValues).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  return JSON.stringify([role, request.action, request.resource, context]);
}

export interface ServerVerdict extends Decided {
  readonly instanceId: string;
  /** The role it was evaluated as, when the bed knows it (a hybrid node's activation role). */
  readonly roleArn?: string;
  readonly roleTags: Readonly<Record<string, string>>;
  readonly operation: string;
  readonly request: IamRequest;
}

export class PolicyEvaluator {
  readonly #policies: StackPolicies;
  readonly #account: string;
  readonly #cache = new Map<string, Promise<Decided>>();

  constructor(policies: StackPolicies, account: string) {
    this.#policies = policies;
    this.#account = account;
  }

  roleIn(mode: ApiMode, role: ServiceRole): RolePolicies {
    const found = this.#policies[mode].roles[role];
    if (found === undefined) throw new Error(`the ${mode} template has no ${role}`);
    return found;
  }

  /**
   * A stand-in server's call, under the servers' passphrase policy (the same in both modes):
   * as its role with that role's tags (a hybrid node: its activation's IamRole), or, for an EC2
   * stand-in server, as a role of its own with its instance's tags as the role's tags.
   */
  async evaluateServer(call: ServerCall): Promise<ServerVerdict[]> {
    const policy = this.#policies.alb.serverPolicy;
    const principal =
      call.roleArn ?? `arn:aws:iam::${this.#account}:role/server-${call.instanceId}`;
    const verdicts: ServerVerdict[] = [];
    for (const request of call.requests) {
      const asked = {
        ...request,
        context: { ...request.context, ...tagContext('aws:PrincipalTag/', call.roleTags) },
      };
      const decided = await simulate(principal, [policy], asked, this.#account);
      verdicts.push({
        ...decided,
        instanceId: call.instanceId,
        ...(call.roleArn === undefined ? {} : { roleArn: call.roleArn }),
        roleTags: call.roleTags,
        operation: call.operation,
        request: asked,
      });
    }
    return verdicts;
  }

  /** The call's requests, in every mode where a role serves its app id. */
  async evaluate(call: RecordedCall): Promise<Verdict[]> {
    const verdicts: Verdict[] = [];
    for (const mode of apiModes) {
      const role = roleServing[mode][call.appId];
      if (role === undefined) continue;
      const policies = this.roleIn(mode, role);
      const principal = `arn:aws:iam::${this.#account}:role/${policies.logicalId}`;
      for (const request of call.requests) {
        const cacheKey = key(`${mode}/${role}`, request);
        let decided = this.#cache.get(cacheKey);
        if (decided === undefined) {
          decided = simulate(
            principal,
            policies.policies,
            // On AWS the service's SDK clients speak HTTPS (the queues deny anything else).
            { ...request, context: { 'aws:SecureTransport': 'true', ...request.context } },
            this.#account,
            this.#policies[mode].resourcePolicies[request.resource],
          );
          this.#cache.set(cacheKey, decided);
        }
        const outcome = await decided;
        // Not kept: a failure to evaluate may be passing (a file being reinstalled); say it once.
        if (outcome.decision === 'NotEvaluable') this.#cache.delete(cacheKey);
        verdicts.push({
          ...outcome,
          mode,
          role,
          appId: call.appId,
          operation: call.operation,
          request,
        });
      }
    }
    return verdicts;
  }
}
