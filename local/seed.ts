/**
 * The one-shot seeding step of `docker compose up` (and of the no-Docker local run):
 * provisions the emulator like the CDK stack (local/provision.ts), then adds the demo data —
 * an exportable certificate, two running EC2 instances tagged env=dev (the two stand-in
 * servers) and the IAM user `demo` whose access key signs the demo CLI's requests.
 * Idempotent: a second run reuses the certificate and the instances and rotates the key.
 *
 * `node local/seed.ts [--state-dir DIR] [--server-containers NAME1,NAME2]` with AWS_ENDPOINT_URL
 * pointing at moto (`--server-containers`: the demo servers that are containers, in order; an
 * empty name leaves that one a directory of this machine). Writes
 * DIR/demo.json (what was seeded) and DIR/demo-user.env (the demo user's credentials).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ACMClient,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  EntityAlreadyExistsException,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientOptions } from '../service/src/aws/clients.ts';
import { type AwsConfig, readAwsConfig } from '../service/src/config/aws-config.ts';
import { stateDir as defaultStateDir } from './paths.ts';
import { provision } from './provision.ts';
import { demoTarget, demoUserName } from './stack-env.ts';

export const demoDomain = 'demo.acm-cert-export.test';
/** What the demo deployment reloads where its servers are containers running nginx. */
export const nginxReloadCommand = '/usr/sbin/nginx -s reload';
/** Marks the seeded instances, so a second run finds them. */
const seedTag = 'acm-cert-export:demo-server';

async function demoCertificate(acm: ACMClient): Promise<string> {
  const { CertificateSummaryList = [] } = await acm.send(new ListCertificatesCommand({}));
  const existing = CertificateSummaryList.find((c) => c.DomainName === demoDomain)?.CertificateArn;
  const arn =
    existing ??
    (
      await acm.send(
        new RequestCertificateCommand({
          DomainName: demoDomain,
          ValidationMethod: 'DNS',
          Options: { Export: 'ENABLED' },
          Tags: [{ Key: demoTarget.key, Value: demoTarget.value }],
        }),
      )
    ).CertificateArn;
  if (arn === undefined) throw new Error('RequestCertificate returned no ARN');
  for (let i = 0; i < 100; i++) {
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    if (Certificate?.Status === 'ISSUED') return arn;
    await sleep(100);
  }
  throw new Error(`${arn} was not issued: start moto with MOTO_ACM_VALIDATION_WAIT=0`);
}

/**
 * Tags the demo servers that are containers (`standin:container=<name>`, in order: the first
 * name for server 1…; an empty name leaves that server on this machine): the Run Command
 * stand-in then runs their scripts inside those containers (local/run-command/container-script.ts).
 */
async function tagServerContainers(
  ec2: EC2Client,
  instanceIds: readonly string[],
  containers: readonly string[],
): Promise<void> {
  for (const [index, name] of containers.entries()) {
    const id = instanceIds[index];
    if (name === '' || id === undefined) continue;
    await ec2.send(
      new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'standin:container', Value: name }] }),
    );
  }
}

async function demoServers(ec2: EC2Client): Promise<string[]> {
  const { Reservations = [] } = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: `tag:${seedTag}`, Values: ['1', '2'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    }),
  );
  const byNumber = new Map<string, string>();
  for (const instance of Reservations.flatMap((r) => r.Instances ?? [])) {
    const n = instance.Tags?.find((t) => t.Key === seedTag)?.Value;
    if (n !== undefined && instance.InstanceId !== undefined) byNumber.set(n, instance.InstanceId);
  }
  for (const n of ['1', '2']) {
    if (byNumber.has(n)) continue;
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: demoTarget.key, Value: demoTarget.value },
              { Key: 'Name', Value: `standin-${n}` },
              { Key: seedTag, Value: n },
            ],
          },
        ],
      }),
    );
    const id = out.Instances?.[0]?.InstanceId;
    if (id === undefined) throw new Error('RunInstances returned no instance');
    byNumber.set(n, id);
  }
  return ['1', '2'].map((n) => byNumber.get(n) as string);
}

/** The demo user with exactly one fresh access key. */
async function demoUser(iam: IAMClient) {
  try {
    await iam.send(new CreateUserCommand({ UserName: demoUserName }));
  } catch (error) {
    if (!(error instanceof EntityAlreadyExistsException)) throw error;
  }
  const { AccessKeyMetadata = [] } = await iam.send(
    new ListAccessKeysCommand({ UserName: demoUserName }),
  );
  for (const key of AccessKeyMetadata) {
    await iam.send(
      new DeleteAccessKeyCommand({ UserName: demoUserName, AccessKeyId: key.AccessKeyId }),
    );
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: demoUserName }));
  if (AccessKey?.AccessKeyId === undefined || AccessKey.SecretAccessKey === undefined) {
    throw new Error('CreateAccessKey returned no key');
  }
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

export interface SeedResult {
  readonly certificateArn: string;
  readonly instanceIds: string[];
  readonly queueUrl: string;
  readonly demoUser: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface SeedOptions {
  /** Containers the demo servers are, in order (see tagServerContainers); none by default. */
  readonly serverContainers?: readonly string[];
}

/** Provisions and seeds the emulator that `config` points at. */
export async function seed(config: AwsConfig, options: SeedOptions = {}): Promise<SeedResult> {
  const clients = {
    dynamodb: new DynamoDBClient(clientOptions(config, 'dynamodb')),
    sqs: new SQSClient(clientOptions(config, 'sqs')),
    eventbridge: new EventBridgeClient(clientOptions(config, 'eventbridge')),
    ssm: new SSMClient(clientOptions(config, 'ssm')),
    sns: new SNSClient(clientOptions(config, 'sns')),
    acm: new ACMClient(clientOptions(config, 'acm')),
    ec2: new EC2Client(clientOptions(config, 'ec2')),
    iam: new IAMClient(clientOptions(config, 'iam')),
  };
  try {
    const [provisioned, certificateArn, instanceIds, user] = await Promise.all([
      provision(clients),
      demoCertificate(clients.acm),
      demoServers(clients.ec2),
      demoUser(clients.iam),
    ]);
    await tagServerContainers(clients.ec2, instanceIds, options.serverContainers ?? []);
    return { certificateArn, instanceIds, queueUrl: provisioned.queueUrl, demoUser: user };
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'state-dir': { type: 'string' }, 'server-containers': { type: 'string' } },
  });
  const dir = values['state-dir'] ?? defaultStateDir;
  const serverContainers = values['server-containers']?.split(',') ?? [];
  const result = await seed(readAwsConfig(process.env), { serverContainers });
  mkdirSync(dir, { recursive: true });
  const { demoUser: user, ...seeded } = result;
  // Servers that are containers run a real nginx: the demo deployment reloads it.
  const containers = serverContainers.flatMap((container, i) =>
    container === '' ? [] : [{ instanceId: seeded.instanceIds[i], container }],
  );
  const demo =
    containers.length > 0 ? { ...seeded, reloadCommand: nginxReloadCommand, containers } : seeded;
  writeFileSync(join(dir, 'demo.json'), `${JSON.stringify(demo, null, 2)}\n`);
  writeFileSync(
    join(dir, 'demo-user.env'),
    `# The demo caller (IAM user ${demoUserName} in the emulator): source this before the CLI.\nAWS_ACCESS_KEY_ID=${user.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${user.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  console.log(`Seeded: certificate ${seeded.certificateArn}`);
  console.log(
    `        servers ${seeded.instanceIds.join(', ')} (tagged ${demoTarget.key}=${demoTarget.value})`,
  );
  console.log(`        demo user ${demoUserName}: credentials in ${join(dir, 'demo-user.env')}`);
}
