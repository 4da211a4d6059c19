import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  type UpdateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingTable } from '../../../../infra/lib/resource-definitions.ts';
import { repoRoot } from '../../../../local/paths.ts';
import { provision } from '../../../../local/provision.ts';
import {
  DynamoDbMappingStore,
  sampleExpiry,
} from '../../../src/adapters/dynamodb-mapping-store.ts';
import { testClients } from '../../support/aws.ts';

// Coexisting with the original sample (aws-samples/sample-acm-export-cert-automation): its
// CertTagMapping items, written by its Lambda (updtDBstrtSSMdoc.py), must read as mappings, so
// that importing its table keeps its certificates renewed (docs/deploy.md).

const c = testClients();
const t0 = new Date('2026-11-27T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

/** An item exactly as the sample writes it: its attributes only, its date format. */
function aSampleItem(certificateArn: string, certName: string, tagValue: string) {
  return {
    TagKeyValue: `env#${tagValue}`,
    'CertificateArn#CertName': `${certificateArn}#${certName}`,
    CertificateArn: certificateArn,
    CertName: certName,
    TargetTagKey: 'env',
    TargetTagValue: tagValue,
    PassphraseSecretName: `acm-passphrase/${certName}`,
    // datetime.isoformat() of ACM's aware NotAfter, plus "Z"
    CertExpiryDate: '2027-03-01T12:00:00+00:00Z',
    LastExportedDate: '2026-03-01T12:00:05.123456Z',
  };
}

describe('items in the original sample’s shape, in the stack’s table', () => {
  const table = mappingTable.defaultName;
  const mappings = new DynamoDbMappingStore(c.dynamodb, table);
  const arn = `arn:aws:acm:us-east-1:123456789012:certificate/${randomUUID()}`;
  const tagValue = `sample-${randomUUID().slice(0, 8)}`;
  const key = { target: { key: 'env', value: tagValue }, certificateArn: arn, certName: 'web' };

  beforeAll(async () => {
    await provision({
      dynamodb: c.dynamodbRaw,
      sqs: c.sqs,
      eventbridge: c.eventbridge,
      ssm: c.ssm,
    });
    await c.dynamodb.send(
      new PutCommand({ TableName: table, Item: aSampleItem(arn, 'web', tagValue) }),
    );
  });

  it('read as mappings: by key, by certificate (renewals), by target (servers that start) and in the listing', async () => {
    const expected = {
      certificateArn: arn,
      certName: 'web',
      target: { key: 'env', value: tagValue },
      install: {},
      notAfter: '2027-03-01T12:00:00.000Z',
      lastExportedAt: '2026-03-01T12:00:05.123456Z',
    };
    expect(await mappings.get(key)).toMatchObject(expected);
    expect(await mappings.listByCertificate(arn)).toEqual([expect.objectContaining(expected)]);
    expect(await mappings.listByTarget(key.target)).toEqual([expect.objectContaining(expected)]);
    let cursor: string | undefined;
    const listed = [];
    do {
      const page = await mappings.list(100, cursor);
      listed.push(...page.items.filter((m) => m.certificateArn === arn));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(listed).toEqual([expect.objectContaining(expected)]);
  });

  it('keep the sample’s attributes when a deployment of ours locks and records them', async () => {
    expect(await mappings.acquireLock(key, 'job-s', at(600), at(0))).toMatchObject({
      acquired: true,
    });
    expect(
      await mappings.releaseLock(key, 'job-s', {
        lastOutcome: 'Succeeded',
        serial: 'cc',
        notAfter: '2027-04-01T00:00:00.000Z',
      }),
    ).toBe(true);
    const { Item } = await c.dynamodb.send(
      new GetCommand({
        TableName: table,
        Key: { TagKeyValue: `env#${tagValue}`, 'CertificateArn#CertName': `${arn}#web` },
      }),
    );
    // The sample, still running beside it (or rolled back to), reads what it wrote and the expiry.
    expect(Item).toMatchObject({
      PassphraseSecretName: 'acm-passphrase/web',
      TargetTagKey: 'env',
      CertExpiryDate: '2027-04-01T00:00:00.000Z',
      Serial: 'cc',
    });
  });

  it('are never abandoned as a first deployment that failed: the sample installed them', async () => {
    const other = { ...key, certName: 'api' };
    await c.dynamodb.send(
      new PutCommand({ TableName: table, Item: aSampleItem(arn, 'api', tagValue) }),
    );
    await mappings.acquireLock(other, 'job-f', at(600), at(0));
    expect(await mappings.abandon(other, 'job-f')).toBe(false);
    expect(await mappings.get(other)).toBeDefined();
  });

  it('read the sample’s date format, and nothing else, as the installed copy’s expiry', () => {
    expect(sampleExpiry('2027-03-01T12:00:00+00:00Z')).toBe('2027-03-01T12:00:00.000Z');
    expect(sampleExpiry('2027-03-01T12:00:00.250000+00:00Z')).toBe('2027-03-01T12:00:00.250Z');
    expect(sampleExpiry('2027-03-01T12:00:00Z')).toBe('2027-03-01T12:00:00.000Z');
    expect(sampleExpiry('next spring')).toBeUndefined();
    expect(sampleExpiry(undefined)).toBeUndefined();
  });
});

/** The `update-table` of docs/deploy.md that gives the sample's table the certificate index. */
function documentedIndexUpdate(tableName: string): UpdateTableCommandInput {
  const doc = readFileSync(join(repoRoot, 'docs', 'deploy.md'), 'utf8');
  const block = /```sh\n(aws dynamodb update-table[^`]*)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/deploy.md has no aws dynamodb update-table block');
  const json = (flag: string) => {
    const m = new RegExp(`--${flag} '([^']*)'`).exec(block);
    if (m?.[1] === undefined) throw new Error(`the update-table block has no --${flag}`);
    return JSON.parse(m[1]);
  };
  return {
    TableName: tableName,
    AttributeDefinitions: json('attribute-definitions'),
    GlobalSecondaryIndexUpdates: json('global-secondary-index-updates'),
  };
}

describe('the sample’s own table, imported as docs/deploy.md says', () => {
  // The table the sample's CloudFormation creates: its keys, no index.
  const table = `CertTagMapping-sample-${randomUUID().slice(0, 8)}`;
  const mappings = new DynamoDbMappingStore(c.dynamodb, table);
  const arn = `arn:aws:acm:us-east-1:123456789012:certificate/${randomUUID()}`;

  beforeAll(async () => {
    await c.dynamodbRaw.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'TagKeyValue', AttributeType: 'S' },
          { AttributeName: 'CertificateArn#CertName', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'TagKeyValue', KeyType: 'HASH' },
          { AttributeName: 'CertificateArn#CertName', KeyType: 'RANGE' },
        ],
      }),
    );
    for (const value of ['dev', 'prod']) {
      await c.dynamodb.send(
        new PutCommand({ TableName: table, Item: aSampleItem(arn, 'web', value) }),
      );
    }
  });

  afterAll(async () => {
    await c.dynamodbRaw.send(new DeleteTableCommand({ TableName: table }));
  });

  it('cannot serve renewals before the certificate index exists (the Query names it)', async () => {
    await expect(mappings.listByCertificate(arn)).rejects.toThrow();
  });

  it('serves renewals of its existing items once the documented update-table added the index', async () => {
    await c.dynamodbRaw.send(new UpdateTableCommand(documentedIndexUpdate(table)));
    const { Table } = await c.dynamodbRaw.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([
      mappingTable.certificateIndex.name,
    ]);
    const found = await mappings.listByCertificate(arn);
    expect(found.map((m) => m.target.value).sort()).toEqual(['dev', 'prod']);
  });
});
