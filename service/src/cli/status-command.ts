import type { Command } from 'commander';
import type { DeploymentView } from '../api/schemas.ts';
import { isTerminal } from '../domain/deployment.ts';
import type { ApiClient } from './api-client.ts';
import type { FollowOptions } from './cli-context.ts';
import type { TimeFormat } from './display.ts';
import { exitCodes } from './errors.ts';
import { formatDeployment } from './format.ts';
import { addWaitOptions } from './options.ts';

/** What the command needs of the CLI: an API client, stdout, and following a job. */
export interface StatusContext {
  client(): ApiClient;
  out(text: string): void;
  follow(client: ApiClient, jobId: string, options: FollowOptions): Promise<number>;
  time(): TimeFormat;
  jobIds(client: ApiClient): {
    resolve(argument: string): Promise<string>;
    remember(ids: readonly string[]): Promise<void>;
  };
}

interface StatusOptions {
  readonly json?: boolean;
  readonly wait?: boolean;
  readonly timeout: number;
  readonly interval: number;
}

/** `acm-cert-export status <job-id> [--wait]`: GET /v1/deployments/{id}. */
export function addStatusCommand(
  program: Command,
  cli: StatusContext,
  setExit: (code: number) => void,
): void {
  addWaitOptions(
    program
      .command('status')
      .description('Show a job: status, conditions and per-server results')
      .argument('<job-id>', 'the job id, or its first 6 or more characters')
      .option('--json', 'print JSON'),
  ).action(async (argument: string, o: StatusOptions) => {
    const client = cli.client();
    const ids = cli.jobIds(client);
    const jobId = await ids.resolve(argument);
    await ids.remember([jobId]);
    if (o.wait) {
      setExit(
        await cli.follow(client, jobId, {
          json: o.json === true,
          timeoutSeconds: o.timeout,
          intervalSeconds: o.interval,
        }),
      );
      return;
    }
    const { body } = await client.request<DeploymentView>(
      'GET',
      `/v1/deployments/${encodeURIComponent(jobId)}`,
    );
    cli.out(o.json ? JSON.stringify(body, null, 2) : formatDeployment(body, cli.time()));
    if (isTerminal(body.status) && body.status !== 'Succeeded') setExit(exitCodes.jobFailed);
  });
}
