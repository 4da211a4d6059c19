import type { TaskProtection } from '../ports/task-protection.ts';

/** The agent could not be reached, refused the request, or ECS did not record the protection. */
export class TaskProtectionError extends Error {
  override readonly name = 'TaskProtectionError';
}

/** What the agent answers (amazon-ecs-agent, ecs-agent/tmds/handlers/taskprotection/v1). */
interface AgentResponse {
  readonly protection?: {
    readonly ProtectionEnabled?: boolean;
    readonly ExpirationDate?: string | null;
    readonly TaskArn?: string;
  };
  readonly failure?: { readonly Arn?: string; readonly Reason?: string; readonly Detail?: string };
  readonly error?: { readonly Code?: string; readonly Message?: string };
  readonly requestID?: string;
}

/**
 * The ECS agent's task scale-in protection endpoint, `$ECS_AGENT_URI/task-protection/v1/state`:
 * a PUT of `{"ProtectionEnabled": …, "ExpiresInMinutes": …}` (the agent refuses any other field).
 * The agent calls ECS UpdateTaskProtection with the task role's credentials and answers with
 * `protection` (recorded), `failure` (ECS refused, HTTP 200) or `error` (HTTP 4xx/5xx).
 */
export class EcsAgentTaskProtection implements TaskProtection {
  readonly #stateUrl: string;
  readonly #timeoutMs: number;

  /** `agentUri`: the value of ECS_AGENT_URI, which the agent sets in every container. */
  constructor(agentUri: string, options: { readonly timeoutMs: number }) {
    this.#stateUrl = `${agentUri.replace(/\/+$/, '')}/task-protection/v1/state`;
    this.#timeoutMs = options.timeoutMs;
  }

  async protect(minutes: number): Promise<{ expiresAt?: Date }> {
    const protection = await this.#put({ ProtectionEnabled: true, ExpiresInMinutes: minutes });
    const expiresAt =
      typeof protection.ExpirationDate === 'string'
        ? new Date(protection.ExpirationDate)
        : undefined;
    return expiresAt === undefined || Number.isNaN(expiresAt.getTime()) ? {} : { expiresAt };
  }

  async release(): Promise<void> {
    await this.#put({ ProtectionEnabled: false });
  }

  async #put(body: { ProtectionEnabled: boolean; ExpiresInMinutes?: number }) {
    let response: Response;
    try {
      response = await fetch(this.#stateUrl, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new TaskProtectionError(`the ECS agent did not answer: ${describe(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let answer: AgentResponse;
    try {
      answer = JSON.parse(text) as AgentResponse;
    } catch {
      throw new TaskProtectionError(
        `the ECS agent answered ${response.status} with no JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!response.ok || answer.error !== undefined) {
      const { Code = 'unknown', Message = '' } = answer.error ?? {};
      throw new TaskProtectionError(
        `the ECS agent answered ${response.status}: ${Code} ${Message}`,
      );
    }
    if (answer.failure !== undefined) {
      const { Reason = 'unknown', Detail } = answer.failure;
      throw new TaskProtectionError(`ECS refused: ${Reason}${Detail ? ` (${Detail})` : ''}`);
    }
    if (answer.protection?.ProtectionEnabled !== body.ProtectionEnabled) {
      throw new TaskProtectionError(`unexpected answer from the ECS agent: ${text.slice(0, 200)}`);
    }
    return answer.protection;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause === undefined ? error.message : `${error.message} (${cause})`;
  }
  return String(error);
}
