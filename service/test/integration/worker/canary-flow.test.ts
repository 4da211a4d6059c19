import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { instances } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile } from './helpers.ts';

// A deployment with a canary on stand-in servers: the first server (by instance id) first, then
// the whole tag only if it succeeded; each phase is one SendCommand with its own comment.
let system: RunningSystem;
let arn: string;

beforeAll(async () => {
  system = await aRunningSystem();
  arn = await anExportableCertificate(system.clients.acm);
});

afterAll(async () => {
  await system?.stop();
});

const aJob = (jobId: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: 'web',
  target: { key: 'env', value },
  rollout: { canary: 1 },
});

async function commandsOf(jobId: string) {
  const { Commands } = await system.clients.ssm.send(new ListCommandsCommand({}));
  return (Commands ?? [])
    .filter((c) => c.Comment?.endsWith(jobId))
    .sort((a, b) => (a.RequestedDateTime?.getTime() ?? 0) - (b.RequestedDateTime?.getTime() ?? 0));
}

describe('a deployment with a canary', () => {
  it('installs on the canary, then on every server of the tag', async () => {
    const servers = (await instances(system.clients.ec2, 3, { tags: { env: 'canary-ok' } })).sort();
    await enqueue(system, aJob('it-canary-ok-01', 'canary-ok'));
    const d = await finished(system, 'it-canary-ok-01', 90_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.reason).toMatch(
      new RegExp(`^after a canary \\(${servers[0]}\\): installed on 3 of 3 servers \\(serial `),
    );
    expect(d.canaryServers).toEqual([servers[0]]);
    const commands = await commandsOf('it-canary-ok-01');
    expect(commands.map((c) => [c.Comment, c.InstanceIds, c.Targets?.[0]?.Values])).toEqual([
      ['acm-cert-export canary it-canary-ok-01', [servers[0]], undefined],
      ['acm-cert-export job it-canary-ok-01', [], ['canary-ok']],
    ]);
    expect(commands.map((c) => c.CommandId)).toEqual([d.canaryCommandId, d.commandId]);
    for (const id of servers) {
      expect((await installedFile(system, id, 'etc/ssl/certs/web-fullchain.pem')).text).toMatch(
        /^-----BEGIN CERTIFICATE-----/,
      );
    }
  }, 120_000);

  it('stops when the canary fails: the rest are never attempted, and named', async () => {
    const servers = (
      await instances(system.clients.ec2, 3, { tags: { env: 'canary-bad' } })
    ).sort();
    const [canary, ...rest] = servers as [string, ...string[]];
    await system.clients.ec2.send(
      new CreateTagsCommand({
        Resources: [canary],
        Tags: [{ Key: 'standin:behaviour', Value: 'fail' }],
      }),
    );
    await enqueue(system, aJob('it-canary-bad-1', 'canary-bad'));
    const d = await finished(system, 'it-canary-bad-1', 90_000);
    expect(d.status, d.reason).toBe('Failed');
    expect(d.reason).toMatch(
      new RegExp(
        `^the canary failed: installed on 0 of 1 canary servers; failed: ${canary} Failed \\(exit 1\\).*; never attempted on the other 2 servers \\(the rollout stops after a failed canary\\): ${rest.join(', ')}$`,
      ),
    );
    expect(await commandsOf('it-canary-bad-1')).toHaveLength(1);
    for (const id of rest) {
      await expect(installedFile(system, id, 'etc/ssl/certs/web-fullchain.pem')).rejects.toThrow(
        /ENOENT/,
      );
    }
  }, 120_000);
});
