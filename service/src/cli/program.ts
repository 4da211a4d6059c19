import { Command, CommanderError } from 'commander';
import { version } from '../version.ts';
import { addCancelCommand } from './cancel-command.ts';
import { Cli, type CliEnvironment } from './cli-context.ts';
import { addCompletionCommand } from './completion-command.ts';
import { addDashboardCommand } from './dashboard-command.ts';
import { addDeployCommand } from './deploy-command.ts';
import { addDescribeCommand } from './describe-command.ts';
import { CliError, exitCodes, exitCodesHelp } from './errors.ts';
import { addHistoryCommand } from './history-command.ts';
import { addListCommand } from './list-command.ts';
import { addReconcileCommand } from './reconcile-command.ts';
import { addRenewCommand } from './renew-command.ts';
import { addStatusCommand } from './status-command.ts';
import { addStopManagingCommand } from './stop-managing-command.ts';
import { addTokenCommand } from './token-command.ts';

export type { CliEnvironment } from './cli-context.ts';

/**
 * Builds the command tree: the global options, then each command from its own module with one
 * line (`addXCommand(program, cli, …)`); `runCli` parses and executes it.
 */
function buildProgram(environment: CliEnvironment, setExit: (code: number) => void): Command {
  const program = new Command('acm-cert-export');
  const cli = new Cli(environment, program);
  program
    .description('Deploy ACM certificates to servers, follow jobs, and list managed certificates.')
    .version(version, '-V, --version', 'print the version')
    .option('--endpoint <url>', 'API base URL (env ACM_CERT_EXPORT_URL)')
    .option(
      '--auth <mode>',
      'token: AcmCertExport tokens (the container behind an ALB, default); sigv4: sign each request for API Gateway (Lambda mode) (env ACM_CERT_EXPORT_AUTH)',
    )
    .option('--audience <value>', 'the service’s AUTH_AUDIENCE (env ACM_CERT_EXPORT_AUDIENCE)')
    .option('--region <region>', 'AWS region (env AWS_REGION, or the shared config)')
    .option(
      '--sts-endpoint <url>',
      'STS endpoint to sign for; must be the service’s AUTH_STS_ENDPOINT (env ACM_CERT_EXPORT_STS_ENDPOINT; default: regional, or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL)',
    )
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => environment.out(s.replace(/\n$/, '')),
      writeErr: (s) => environment.err(s.replace(/\n$/, '')),
    })
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .exitOverride();

  addDeployCommand(program, cli, setExit);
  addStatusCommand(program, cli, setExit);
  addListCommand(program, cli);
  addHistoryCommand(program, cli);
  addDescribeCommand(program, cli);
  addStopManagingCommand(program, cli);
  addReconcileCommand(program, cli);
  addCancelCommand(program, cli, setExit);
  addCompletionCommand(program, cli);
  addTokenCommand(program, cli);
  addRenewCommand(program, cli);
  addDashboardCommand(program, cli);

  return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  environment: CliEnvironment,
): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildProgram(environment, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
    }
    if (error instanceof CliError) {
      environment.err(`acm-cert-export: ${error.message}`);
      return error.exitCode;
    }
    environment.err(`acm-cert-export: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.error;
  }
}
