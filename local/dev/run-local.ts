/**
 * The local run without Docker (`bash local/up.sh`): moto, the Run Command stand-in with two
 * stand-in servers, provisioning and seeding, and the service itself as its own process — the
 * same pieces docker-compose.yml starts. Prints where the API listens and the command that
 * deploys the demo certificate; Ctrl-C stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAwsConfig } from '../../service/src/config/aws-config.ts';
import { recordedEndpoint } from '../iam/bed-hooks.ts';
import { startMoto } from '../moto/moto-server.ts';
import { repoRoot } from '../paths.ts';
import { startRunCommandServer } from '../run-command/run-command-server.ts';
import { nginxReloadCommand, seed } from '../seed.ts';
import {
  demoTarget,
  emulatorClientEnvironment,
  localServiceEnvironment,
  useEmulatorCredentials,
} from '../stack-env.ts';
import { type DemoServerContainers, startDemoServerContainers } from './demo-server-containers.ts';
import { type LocalRunOptions, localRunOptions, pidFile, whyNotStart } from './local-run-guard.ts';

let options: LocalRunOptions;
try {
  options = localRunOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const { port, stateDir: dir, servers } = options;
// Before anything is touched: a second local run on the same port or state stops here.
const busy = await whyNotStart(options);
if (busy !== undefined) {
  console.error(`local run not started: ${busy}`);
  process.exit(3);
}
// Each run starts clean: the emulator keeps nothing across runs, so neither do the servers.
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(pidFile(dir), `${process.pid}\n`);

// Everything this process calls is the emulator: never pick up real AWS credentials or profiles.
useEmulatorCredentials();

const stops: (() => Promise<void>)[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\nStopping…');
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(pidFile(dir), { force: true });
    console.log('Stopped.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const moto = await startMoto();
  stops.push(() => moto.stop());
  console.log(`emulator (moto)      ${moto.endpoint}`);

  // --servers containers: the demo servers are containers running nginx (on the host's network:
  // they reach moto on loopback), and the stand-in runs their scripts inside them.
  let containers: DemoServerContainers | undefined;
  if (servers === 'containers') {
    console.log('demo servers         containers of the bookworm server image (nginx)…');
    containers = await startDemoServerContainers(dir, port);
    stops.push(() => (containers as DemoServerContainers).stop());
    for (const { name, port: tls } of containers.servers) {
      console.log(`                     ${name}: nginx TLS on 127.0.0.1:${tls}`);
    }
  }

  // Its servers name themselves: their reads of the demo's secret are evaluated (ABAC) in tests.
  const standIn = await startRunCommandServer({
    motoEndpoint: moto.endpoint,
    stateDir: dir,
    nameServers: true,
    ...(containers === undefined ? {} : { containerEngine: containers.dockerHost }),
  });
  stops.push(() => standIn.stop());
  console.log(`Run Command stand-in ${standIn.endpoint}`);

  const seeded = await seed(readAwsConfig(emulatorClientEnvironment(moto.endpoint)), {
    serverContainers: containers?.servers.map((server) => server.name) ?? [],
  });
  const userEnv = join(dir, 'demo-user.env');
  writeFileSync(
    userEnv,
    `AWS_ACCESS_KEY_ID=${seeded.demoUser.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${seeded.demoUser.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  const apiUrl = `http://127.0.0.1:${port}`;
  const demo = {
    apiUrl,
    motoEndpoint: moto.endpoint,
    runCommandEndpoint: standIn.endpoint,
    certificateArn: seeded.certificateArn,
    instanceIds: seeded.instanceIds,
    queueUrl: seeded.queueUrl,
    stateDir: dir,
    ...(containers === undefined
      ? {}
      : {
          // The demo deployment reloads the containers' nginx (local/dev/demo.ts).
          reloadCommand: nginxReloadCommand,
          nginx: containers.servers.map((server, i) => ({
            instanceId: seeded.instanceIds[i],
            container: server.name,
            port: server.port,
          })),
        }),
  };
  writeFileSync(join(dir, 'demo.json'), `${JSON.stringify(demo, null, 2)}\n`);
  console.log(`seeded               certificate ${seeded.certificateArn}`);
  console.log(
    `                     servers ${seeded.instanceIds.join(', ')} tagged ${demoTarget.key}=${demoTarget.value}`,
  );

  // When the integration tests run this, the service's requests go through the IAM recorder's
  // fronts (local/iam) and are evaluated against the stack's policies; otherwise these are no-ops.
  const recordedMoto = await recordedEndpoint(moto.endpoint, {
    via: 'local run',
    emulator: moto.endpoint,
  });
  stops.push(recordedMoto.stop);
  const recordedStandIn = await recordedEndpoint(standIn.endpoint, {
    via: 'local run stand-in',
    emulator: moto.endpoint,
    runCommand: true,
  });
  stops.push(recordedStandIn.stop);

  const log = createWriteStream(join(dir, 'service.log'));
  const service: ChildProcess = spawn(process.execPath, ['service/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...localServiceEnvironment({
        moto: recordedMoto.endpoint,
        runCommand: recordedStandIn.endpoint,
        port,
      }),
      // Callers sign their tokens for the emulator's own address (the printed command, demo.ts):
      // the service replays them there, not through the recorder's front.
      AUTH_STS_ENDPOINT: moto.endpoint,
      HOST: '127.0.0.1',
      // The metrics listener too: on this machine only, not on every interface.
      METRICS_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout?.pipe(log);
  service.stderr?.pipe(process.stderr);
  stops.push(async () => {
    if (service.exitCode !== null) return;
    service.kill('SIGTERM');
    await Promise.race([once(service, 'exit'), sleep(30_000)]);
  });
  service.once('exit', (code) => {
    if (!stopping) {
      console.error(`the service exited (code ${code}); see ${join(dir, 'service.log')}`);
      void stopAll(1);
    }
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${apiUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150)
      throw new Error(
        `the service did not answer on ${apiUrl}/healthz; see ${join(dir, 'service.log')}`,
      );
    await sleep(200);
  }

  console.log(`
acm-cert-export is running: API ${apiUrl} (logs: ${join(dir, 'service.log')})

Deploy the demo certificate to the two servers tagged ${demoTarget.key}=${demoTarget.value}, in another terminal:

  npm run demo

or by hand, as the demo IAM user:

  set -a; . ${userEnv}; set +a
  export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=${moto.endpoint} ACM_CERT_EXPORT_URL=${apiUrl}
  npm run cli -- deploy --cert-arn ${seeded.certificateArn} --name demo --target ${demoTarget.key}=${demoTarget.value} --wait${containers === undefined ? '' : ` --reload-command '${nginxReloadCommand}'`}

${
  containers === undefined
    ? `The installed files appear under ${join(dir, 'servers')}/<instance-id>/etc/ssl/.`
    : `The servers are containers running nginx; watch them serve the demo certificate after the deploy
(a self-signed placeholder, CN placeholder.demo, before it):

${containers.servers
  .map(
    (server) =>
      `  openssl s_client -connect 127.0.0.1:${server.port} </dev/null 2>/dev/null | openssl x509 -noout -serial -subject`,
  )
  .join('\n')}

The installed files are in the containers' /etc/ssl/ (${containers.servers.map((server) => server.name).join(', ')}).`
}
Ctrl-C stops everything.`);
} catch (error) {
  console.error(`local run failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}
