/**
 * Runs moto for manual use: `npm run moto [-- --port 5000]`.
 * Prints the endpoint and the environment to export, and stops moto on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startMoto } from './moto-server.ts';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`--port must be a TCP port number, got "${values.port}"`);
  process.exit(2);
}
const moto = await startMoto({ log: 'inherit', ...(port === undefined ? {} : { port }) });
console.log(`moto is listening on ${moto.endpoint} (pid ${moto.pid}); Ctrl-C stops it.`);
console.log(`  export AWS_ENDPOINT_URL=${moto.endpoint} AWS_REGION=us-east-1`);
console.log('  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void moto.stop().then(() => process.exit(0));
  });
}
