import { isAgentTooOld, minimumAgentVersion } from '../domain/agent-version.ts';
import { TerminalError } from '../domain/errors.ts';
import type { ApiPorts } from './dependencies.ts';
import type { DeploymentRequest } from './submit.ts';

export interface PlannedServer {
  readonly instanceId: string;
  /** Online, ConnectionLost or Inactive (Run Command sends only to Online nodes). */
  readonly pingStatus: string;
  readonly agentVersion?: string;
  /** False when the agent is older than the install document needs (it would fail there). */
  readonly agentSupported: boolean;
  /** The serial this server holds, as the last job of the mapping that reached it recorded. */
  readonly installedSerial?: string;
  readonly wouldInstall: boolean;
}

export interface DeploymentPlan {
  readonly dryRun: true;
  readonly certificate: {
    readonly arn: string;
    readonly status: string;
    readonly type: string;
    readonly exportable: boolean;
    readonly serial?: string;
    readonly notAfter?: string;
  };
  readonly target: { readonly key: string; readonly value: string };
  readonly certName: string;
  /** The export and install would go ahead (the certificate is issued and exportable). */
  readonly wouldDeploy: boolean;
  readonly servers: PlannedServer[];
  /** Why it would not deploy, or where it would fail: for people. */
  readonly problems: string[];
}

type PlanPorts = Pick<ApiPorts, 'certificates' | 'commands' | 'servers'>;

/**
 * What a deployment would do, read-only: the certificate as ACM describes it now, the managed
 * nodes the target tag reaches with their agents, and the serial each holds according to the
 * servers' per-server items. Exports nothing, records nothing, queues nothing.
 */
export async function planDeployment(
  ports: PlanPorts,
  request: DeploymentRequest,
): Promise<DeploymentPlan> {
  const [described, nodes, installedServers] = await Promise.all([
    ports.certificates.describe(request.certificateArn).then(
      (description) => ({ description }),
      (error: unknown) => {
        // Not found, not a valid ARN, access denied: the plan says so; anything else is a 503.
        if (error instanceof TerminalError) return { refused: error.message };
        throw error;
      },
    ),
    ports.commands.managedNodesTagged(request.target),
    ports.servers.installed({
      target: request.target,
      certificateArn: request.certificateArn,
      certName: request.certName,
    }),
  ]);
  const installed = new Map(
    installedServers.flatMap((s) =>
      s.serial === undefined ? [] : [[s.instanceId, s.serial] as const],
    ),
  );
  const problems: string[] = [];
  const certificate =
    'description' in described
      ? described.description
      : { arn: request.certificateArn, status: 'UNKNOWN', type: 'UNKNOWN', exportable: false };
  if ('refused' in described) {
    problems.push(described.refused);
  } else if (!certificate.exportable) {
    problems.push(
      `the certificate is ${certificate.type} and ACM will not export it (only private certificates and public ones requested with export enabled)`,
    );
  }
  if ('description' in described && certificate.status !== 'ISSUED') {
    problems.push(`the certificate is ${certificate.status}, not ISSUED`);
  }
  const wouldDeploy = problems.length === 0;
  const servers = nodes
    .map((n): PlannedServer => {
      const agentSupported = !isAgentTooOld(n.agentVersion);
      const serial = installed.get(n.instanceId);
      return {
        instanceId: n.instanceId,
        pingStatus: n.pingStatus,
        ...(n.agentVersion === undefined ? {} : { agentVersion: n.agentVersion }),
        agentSupported,
        ...(serial === undefined ? {} : { installedSerial: serial }),
        wouldInstall: wouldDeploy && n.pingStatus === 'Online' && agentSupported,
      };
    })
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  if (servers.length === 0) {
    problems.push(
      `no managed node carries ${request.target.key}=${request.target.value}: the deployment would end NoTargets`,
    );
  }
  for (const s of servers) {
    if (!s.agentSupported) {
      problems.push(
        `${s.instanceId}: SSM Agent ${s.agentVersion} is older than ${minimumAgentVersion}, which the install document needs`,
      );
    } else if (s.pingStatus !== 'Online') {
      problems.push(
        `${s.instanceId}: its agent is ${s.pingStatus}; Run Command would not reach it`,
      );
    }
  }
  return {
    dryRun: true,
    certificate: {
      arn: certificate.arn,
      status: certificate.status,
      type: certificate.type,
      exportable: certificate.exportable,
      ...(certificate.serial === undefined ? {} : { serial: certificate.serial }),
      ...(certificate.notAfter === undefined
        ? {}
        : { notAfter: certificate.notAfter.toISOString() }),
    },
    target: request.target,
    certName: request.certName,
    wouldDeploy,
    servers,
    problems,
  };
}
