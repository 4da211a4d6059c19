/**
 * `node local/dev/check-local-run.ts [--port N] [--state-dir DIR]`: local/up.sh runs this first,
 * before setting up or touching any state. Exit 0: the local run may start; 3: its port is taken
 * or another local run uses its state directory (the message says by what); 2: bad options.
 */
import { localRunOptions, UsageError, whyNotStart } from './local-run-guard.ts';

try {
  const why = await whyNotStart(localRunOptions(process.argv.slice(2), process.env));
  if (why !== undefined) {
    console.error(`local run not started: ${why}`);
    process.exit(3);
  }
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
