/**
 * Runs the Run Command stand-in for manual use and for the local run:
 * `node local/run-command/run.ts --moto http://127.0.0.1:5000 [--port 5001] [--host 127.0.0.1]
 * [--state-dir DIR] [--agent-registration-ms MS] [--container-engine unix:///PATH]`.
 * `--container-engine` (default: DOCKER_HOST, if set): the Docker Engine API socket through
 * which servers tagged `standin:container=<name>` run their scripts inside that container.
 * Prints the endpoint; Ctrl-C or SIGTERM cancels running scripts and stops it.
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stateDir as defaultStateDir } from '../paths.ts';
import { startRunCommandServer } from './run-command-server.ts';

const { values } = parseArgs({
  options: {
    moto: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'state-dir': { type: 'string' },
    region: { type: 'string' },
    'agent-registration-ms': { type: 'string' },
    'container-engine': { type: 'string' },
  },
});
const motoEndpoint = values.moto ?? process.env.AWS_ENDPOINT_URL;
if (motoEndpoint === undefined) {
  console.error('--moto <url> (or AWS_ENDPOINT_URL) is required: the moto endpoint to use');
  process.exit(2);
}
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`--port must be a TCP port number, got "${values.port}"`);
  process.exit(2);
}
const registration = values['agent-registration-ms'];
const agentRegistrationMs = registration === undefined ? undefined : Number(registration);
if (
  registration !== undefined &&
  !(/^[0-9]+$/.test(registration) && Number.isSafeInteger(agentRegistrationMs))
) {
  console.error(
    `--agent-registration-ms must be a whole number of milliseconds, got "${registration}"`,
  );
  process.exit(2);
}
const stateDir = values['state-dir'] ?? join(defaultStateDir, 'run-command');
const containerEngine = values['container-engine'] ?? (process.env.DOCKER_HOST || undefined);
const server = await startRunCommandServer({
  motoEndpoint,
  stateDir,
  ...(port === undefined ? {} : { port }),
  ...(values.host === undefined ? {} : { host: values.host }),
  ...(values.region === undefined ? {} : { region: values.region }),
  ...(agentRegistrationMs === undefined ? {} : { timing: { agentRegistrationMs } }),
  ...(containerEngine === undefined ? {} : { containerEngine }),
  log: (line) => console.log(line),
});
console.log(
  `Run Command stand-in listening on ${values.host ?? '127.0.0.1'}:${new URL(server.endpoint).port}, reached here at ${server.endpoint} (moto ${motoEndpoint})`,
);
console.log(`  stand-in servers live under ${join(stateDir, 'servers')}`);
if (containerEngine !== undefined) {
  console.log(
    `  servers tagged standin:container run their scripts there (engine ${containerEngine})`,
  );
}
console.log(`  export AWS_ENDPOINT_URL_SSM=${server.endpoint}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
