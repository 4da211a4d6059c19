import { type Command, Option } from 'commander';
import { CliError } from './errors.ts';

/** An option parser that accepts a positive number only. */
export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`${name} must be a positive number`);
    return n;
  };
}

/** `--wait`, `--timeout` and `--interval`: the same on every command that can follow a job. */
export function addWaitOptions(command: Command): Command {
  return command
    .option('--wait', 'follow the job, showing progress per server, until it ends')
    .addOption(
      new Option('--timeout <seconds>', 'with --wait: give up after this long (exit 3)')
        .default(3600)
        .argParser(positiveNumber('--timeout')),
    )
    .addOption(
      new Option('--interval <seconds>', 'with --wait: seconds between checks')
        .default(2)
        .argParser(positiveNumber('--interval')),
    );
}
