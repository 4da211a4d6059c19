import type { Command } from 'commander';
import type { DeploymentView } from '../api/schemas.ts';
import type { ApiClient } from './api-client.ts';
import { shortId, type TimeFormat } from './display.ts';
import { exitCodes } from './errors.ts';
import { addWaitOptions } from './options.ts';

/** What the command needs of the CLI: an API client, stdout, and following a job. */
export interface CancelContext {
  client(): ApiClient;
  out(text: string): void;
  follow(
    client: ApiClient,
    jobId: string,
    options: { json: boolean; timeoutSeconds: number; intervalSeconds: number },
  ): Promise<number>;
  time(): TimeFormat;
  jobIds(client: ApiClient): {
    resolve(argument: string): Promise<string>;
    remember(ids: readonly string[]): Promise<void>;
  };
}

interface CancelOptions {
  readonly wait?: boolean;
  readonly timeout: number;
  readonly interval: number;
  readonly json?: boolean;
}

/** One line saying what the request did. */
export function formatCancelRequested(d: DeploymentView, time: TimeFormat): string {
  const by =
    d.cancelRequest === undefined ? '' : ` by ${d.cancelRequest.by} at ${time(d.cancelRequest.at)}`;
  const id = shortId(d.jobId);
  return [
    `Cancel of job ${id} requested${by} (it was ${d.status})`,
    `  the worker ends it Cancelled at its next look, cancelling its command on the servers that have not finished`,
    `  follow: acm-cert-export status ${id} --wait`,
  ].join('\n');
}

/**
 * `acm-cert-export cancel <job-id> [--wait]`: POST /v1/deployments/{id}/cancel; --wait,
 * --timeout and --interval as deploy and status have them.
 */
export function addCancelCommand(
  program: Command,
  cli: CancelContext,
  setExit: (code: number) => void,
): void {
  addWaitOptions(
    program
      .command('cancel')
      .description('Cancel a job that has not ended: its command stops on the servers not done yet')
      .argument('<job-id>', 'the job id, or its first 6 or more characters')
      .option('--json', 'print JSON')
      .addHelpText(
        'after',
        [
          '',
          'Needs deploy on the job’s target. Servers that finished keep what they installed.',
          '',
          'Exit codes:',
          `  ${exitCodes.ok}  the cancel was recorded (with --wait: the job ended Succeeded after all: the command had finished)`,
          `  ${exitCodes.error}  the job had already ended (DEPLOYMENT_FINISHED), is unknown, or any other error`,
          `  ${exitCodes.jobFailed}  with --wait: the job ended Cancelled (or PartiallyFailed, Failed, TimedOut, NoTargets)`,
          `  ${exitCodes.waitTimedOut}  with --wait: still not ended after --timeout`,
          '',
          'Examples:',
          '  acm-cert-export cancel 6f1c2b9e',
          '  acm-cert-export cancel 6f1c2b9e --wait --timeout 300',
        ].join('\n'),
      ),
  ).action(async (argument: string, o: CancelOptions) => {
    const client = cli.client();
    const ids = cli.jobIds(client);
    const jobId = await ids.resolve(argument);
    await ids.remember([jobId]);
    const { body } = await client.request<DeploymentView>(
      'POST',
      `/v1/deployments/${encodeURIComponent(jobId)}/cancel`,
    );
    if (o.wait !== true) {
      cli.out(
        o.json === true ? JSON.stringify(body, null, 2) : formatCancelRequested(body, cli.time()),
      );
      setExit(exitCodes.ok);
      return;
    }
    if (o.json !== true) cli.out(formatCancelRequested(body, cli.time()));
    setExit(
      await cli.follow(client, jobId, {
        json: o.json === true,
        timeoutSeconds: o.timeout,
        intervalSeconds: o.interval,
      }),
    );
  });
}
