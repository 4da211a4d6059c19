import { isAgentTooOld, minimumAgentVersion } from '../domain/agent-version.ts';
import type { Deployment } from '../domain/deployment.ts';
import { revise, withCondition } from '../domain/deployment-record.ts';
import { TerminalError } from '../domain/errors.ts';
import { type HandlerOutcome, later } from './handler-outcome.ts';
import type { WorkerDeps, WorkerSettings } from './worker-deps.ts';

/** Shortest and longest pause between two looks at an agent that is not online yet. */
const minLookSeconds = 2;
const maxLookSeconds = 30;

/** When a job on named servers stops waiting for their agents (epoch ms). */
export function agentWaitDeadline(d: Deployment, settings: WorkerSettings): number {
  return Date.parse(d.createdAt) + settings.agentWaitSeconds * 1000;
}

function list(ids: readonly string[]): string {
  return ids.join(', ');
}

/** EC2 states from which an instance's agent will not come online without another start. */
const goneStates = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

/**
 * The waiting EC2 servers that EC2 says are stopping, stopped or terminated (`i-… (terminated)`):
 * their agents will not come online, so waiting AGENT_WAIT_SECONDS for them only holds the job
 * (seen in the soak: servers replaced before their start event's job ran). An instance EC2 does
 * not know yet (its eventual consistency just after launch) and on-premises `mi-` nodes are
 * waited for as before.
 */
async function serversGone(waiting: readonly string[], deps: WorkerDeps): Promise<string[]> {
  const ec2 = waiting.filter((id) => id.startsWith('i-'));
  const described = await Promise.all(ec2.map((id) => deps.instances.describe(id)));
  return described.flatMap((info) =>
    info !== undefined && goneStates.has(info.state) ? [`${info.instanceId} (${info.state})`] : [],
  );
}

/**
 * Before a job on named servers (a server that just started) takes the mapping's lock: are their
 * SSM agents online? A just-started instance is not a managed node until its agent registers
 * (often more than a minute), and one started again shows ConnectionLost until its agent is back;
 * a command sent then would wait for delivery and fail. So the job waits, without holding the
 * lock, up to AGENT_WAIT_SECONDS from its creation, then fails naming the servers. An agent too old
 * for the document fails the job at once, naming the version it needs.
 *
 * Returns undefined to go on, or the outcome that hands the message back for a later look.
 */
export async function waitForAgents(
  d: Deployment,
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<HandlerOutcome | undefined> {
  const ids = d.job.instanceIds;
  if (ids === undefined) return undefined;
  const nodes = new Map(
    (await deps.commands.managedNodes(ids)).map((n) => [n.instanceId, n] as const),
  );
  const tooOld = ids.filter((id) => isAgentTooOld(nodes.get(id)?.agentVersion));
  if (tooOld.length > 0) {
    const versions = tooOld.map((id) => `${id} (${nodes.get(id)?.agentVersion})`);
    throw new TerminalError(
      'AgentTooOld',
      `the SSM Agent on ${list(versions)} is older than ${minimumAgentVersion}, which Install-ACMCertificate needs (its parameters reach the script as environment variables): update the agent, then deploy again`,
    );
  }
  const waiting = ids.filter((id) => nodes.get(id)?.pingStatus !== 'Online');
  if (waiting.length === 0) return undefined;
  const gone = await serversGone(waiting, deps);
  if (gone.length > 0) {
    throw new TerminalError(
      'InstanceNotRunning',
      `${list(gone)} no longer running: nothing to install on (a server that starts again gets the certificate from its start event)`,
    );
  }
  const state = waiting
    .map((id) => `${id}: ${nodes.get(id)?.pingStatus ?? 'not registered yet'}`)
    .join(', ');
  const now = deps.clock.now();
  const left = agentWaitDeadline(d, deps.settings) - now.getTime();
  if (left <= 0) {
    throw new TerminalError(
      'AgentNotOnline',
      `the SSM Agent on ${list(waiting)} did not come online within ${deps.settings.agentWaitSeconds} s (${state}): check that the agent runs and that the instance's role allows Systems Manager`,
    );
  }
  const message = `waiting for the SSM Agent on ${list(waiting)} to come online (${state})`;
  const shown = d.conditions.find((c) => c.type === 'Dispatched');
  if (shown?.reason !== 'WaitingForAgent' || shown.message !== message) {
    await save(
      revise(
        d,
        {
          conditions: withCondition(
            d.conditions,
            'Dispatched',
            'False',
            'WaitingForAgent',
            message,
            now,
          ),
        },
        now,
      ),
    );
  }
  // Often at first (agents usually register within a minute or two), then less often.
  const waited = (now.getTime() - Date.parse(d.createdAt)) / 1000;
  const pause = Math.min(maxLookSeconds, Math.max(minLookSeconds, Math.ceil(waited / 4)));
  return later(Math.min(pause, Math.ceil(left / 1000)), message);
}
