/**
 * `node local/dev/check-local-run.ts [--owner-pid PID] [--port N] [--state-dir DIR]`: local/up.sh
 * runs this first, before setting up or touching any state. Exit 0: the local run may start (with
 * --owner-pid, the state directory is claimed for that process: up.sh's own pid, which run-local.ts
 * keeps as up.sh execs it); 3: its port is taken or another local run uses its state directory
 * (the message says by what); 2: bad options.
 */
import { claimStateDir, localRunOptions, UsageError, whyNotStart } from './local-run-guard.ts';

try {
  const args = process.argv.slice(2);
  let owner: number | undefined;
  if (args[0] === '--owner-pid') {
    owner = Number(args[1]);
    if (!Number.isInteger(owner) || owner <= 0) throw new UsageError('--owner-pid must be a pid');
    args.splice(0, 2);
  }
  const options = localRunOptions(args, process.env);
  const why = await whyNotStart(options);
  if (why !== undefined) {
    console.error(`local run not started: ${why}`);
    process.exit(3);
  }
  if (owner !== undefined) claimStateDir(options.stateDir, owner);
} catch (error) {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error((error as Error).message);
    process.exit(2);
  }
  throw error;
}
