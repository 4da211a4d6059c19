import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import { installParameters } from '../../../ssm/test/support/install-script.ts';
import { aLeaf } from '../../../ssm/test/support/pki.ts';
import { repoRoot } from '../../paths.ts';
import { serverRoot } from '../../run-command/server-root.ts';
import { createInstallDocument, pollUntil } from '../support/stand-in.ts';

let fx: ScriptFixture;
let stateDir: string;
beforeAll(async () => {
  fx = await aScriptFixture();
  stateDir = await mkdtemp(join(tmpdir(), 'run-command-cli-'));
});
afterAll(async () => {
  await fx.cleanup();
  await rm(stateDir, { recursive: true, force: true });
});

function endpointOf(child: ChildProcess): Promise<string> {
  return new Promise((resolveEndpoint, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /reached here at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1] !== undefined) resolveEndpoint(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

describe('node local/run-command/run.ts', () => {
  it('starts from one command and, on SIGTERM, kills the scripts it runs and exits', async () => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'local/run-command/run.ts'),
        '--moto',
        motoEndpoint(),
        '--state-dir',
        stateDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
    const endpoint = await endpointOf(child);
    const { ssm, ec2 } = testClients(testAwsConfig({ AWS_ENDPOINT_URL_SSM: endpoint }));
    try {
      await createInstallDocument(ssm);
      // Its recorded reload runs long: the script is still running when the stand-in stops.
      const server = await anInstance(ec2, { tags: { 'standin:reload': 'slow' } });
      const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
      const parameters = installParameters(leaf, await fx.secretFor(leaf), {
        ReloadCommand: '/usr/sbin/nginx -s reload',
      });
      await ssm.send(
        new SendCommandCommand({
          DocumentName: documentName,
          InstanceIds: [server],
          Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
        }),
      );
      const root = serverRoot(stateDir, server);
      const running = (what: string) =>
        execFileSync('ps', ['-eo', 'args']).toString().includes(what);
      await pollUntil(
        async () => running(`stand-in-slow-reload ${root}`),
        (reloading) => reloading,
      );

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Nothing of the server is left running: neither the script nor its reload.
      expect(running(root)).toBe(false);
    } finally {
      // Never leave the stand-in running when the test failed half-way.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      ssm.destroy();
    }
  });
});
