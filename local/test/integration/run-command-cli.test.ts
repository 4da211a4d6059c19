import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import { installParameters } from '../../../ssm/test/support/install-script.ts';
import { aLeaf } from '../../../ssm/test/support/pki.ts';
import { repoRoot } from '../../paths.ts';
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
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
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
        inject('motoEndpoint'),
        '--state-dir',
        stateDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
    const endpoint = await endpointOf(child);

    const { ssm, ec2 } = testClients(testAwsConfig({ AWS_ENDPOINT_URL_SSM: endpoint }));
    await createInstallDocument(ssm);
    const server = await anInstance(ec2);
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const parameters = installParameters(leaf, fx.secret, { ReloadCommand: 'sleep 43' });
    await ssm.send(
      new SendCommandCommand({
        DocumentName: documentName,
        InstanceIds: [server],
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
      }),
    );
    const ps = () => execFileSync('ps', ['-eo', 'args']).toString();
    await pollUntil(
      async () => ps(),
      (text) => text.includes('sleep 43'),
    );

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(ps()).not.toContain('sleep 43');
    ssm.destroy();
  });
});
