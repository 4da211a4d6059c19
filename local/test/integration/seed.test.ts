import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeCertificateCommand, ExportCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { jobQueue } from '../../../infra/lib/resource-definitions.ts';
import { clientOptions } from '../../../service/src/aws/clients.ts';
import { testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { repoRoot } from '../../paths.ts';
import { demoDomain, seed } from '../../seed.ts';
import { demoPrincipal, emulatorQueueUrl } from '../../stack-env.ts';

const config = testAwsConfig();
const { acm, ec2 } = testClients(config);

describe('seeding the emulator for the demo', () => {
  it('provisions, adds an exportable certificate, two env=dev servers and the demo user; twice', async () => {
    const first = await seed(config);
    const { Certificate } = await acm.send(
      new DescribeCertificateCommand({ CertificateArn: first.certificateArn }),
    );
    expect(Certificate).toMatchObject({ DomainName: demoDomain, Status: 'ISSUED' });
    const exported = await acm.send(
      new ExportCertificateCommand({
        CertificateArn: first.certificateArn,
        Passphrase: Buffer.from('passphrase'),
      }),
    );
    expect(exported.PrivateKey).toContain('ENCRYPTED PRIVATE KEY');

    const { Reservations = [] } = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:env', Values: ['dev'] }] }),
    );
    const ids = Reservations.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    expect(ids.sort()).toEqual([...first.instanceIds].sort());
    expect(first.instanceIds).toHaveLength(2);

    const sts = new STSClient({ ...clientOptions(config, 'sts'), credentials: first.demoUser });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(demoPrincipal);

    // The queue URL compose and the local run write down without asking moto.
    expect(first.queueUrl).toBe(emulatorQueueUrl(motoEndpoint(), jobQueue.defaultName));

    const second = await seed(config);
    expect(second.certificateArn).toBe(first.certificateArn);
    expect(second.instanceIds).toEqual(first.instanceIds);
    expect(second.demoUser.accessKeyId).not.toBe(first.demoUser.accessKeyId);
  });

  it('runs as `node local/seed.ts`, writing demo.json and demo-user.env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-'));
    const run = spawnSync(process.execPath, [join(repoRoot, 'local/seed.ts'), '--state-dir', dir], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: motoEndpoint(),
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      'Seeded: certificate arn:aws:acm:us-east-1:123456789012:certificate/',
    );
    expect(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).instanceIds).toHaveLength(2);
    expect(readFileSync(join(dir, 'demo-user.env'), 'utf8')).toMatch(/^AWS_ACCESS_KEY_ID=\S+$/m);
  });
});
