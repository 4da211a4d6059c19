import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { hasInstallOptions, type InstallOptions } from '../domain/install-options.ts';
import type { Mapping } from '../domain/mapping.ts';
import { certificateArnCertName, type TargetTag, tagKeyValue } from '../domain/target.ts';
import type {
  DeleteResult,
  LockResult,
  MappingKey,
  MappingStore,
  MappingUpdate,
  Page,
} from '../ports/mapping-store.ts';
import { withRetry } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

const indexName = 'CertificateArnIndex';

function keyOf(key: MappingKey) {
  return {
    TagKeyValue: tagKeyValue(key.target),
    'CertificateArn#CertName': certificateArnCertName(key.certificateArn, key.certName),
  };
}

type Item = Record<string, unknown>;

function s(item: Item, name: string): string | undefined {
  const v = item[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The expiry of an item the original sample wrote: it records `CertExpiryDate` (never
 * `NotAfter`) as Python's isoformat() of an aware datetime plus "Z", `2027-01-01T00:00:00+00:00Z`.
 * Read as an ISO date; undefined when it is not one.
 */
export function sampleExpiry(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value.replace(/([+-]\d{2}:\d{2})Z$/, '$1'));
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

function toMapping(item: Item): Mapping {
  const opt = (name: string, attr: string) => {
    const v = s(item, attr);
    return v === undefined ? {} : { [name]: v };
  };
  const notAfter = s(item, 'NotAfter') ?? sampleExpiry(s(item, 'CertExpiryDate'));
  return {
    certificateArn: s(item, 'CertificateArn') ?? '',
    certName: s(item, 'CertName') ?? '',
    target: { key: s(item, 'TargetTagKey') ?? '', value: s(item, 'TargetTagValue') ?? '' },
    install: (item.Install as InstallOptions | undefined) ?? {},
    ...opt('secretArn', 'SecretArn'),
    ...opt('secretVersionId', 'SecretVersionId'),
    ...opt('serial', 'Serial'),
    ...opt('notBefore', 'NotBefore'),
    ...(notAfter === undefined ? {} : { notAfter }),
    ...opt('lastExportedAt', 'LastExportedDate'),
    ...opt('lastJobId', 'LastJobId'),
    ...opt('lastOutcome', 'LastOutcome'),
    ...opt('lastOutcomeAt', 'LastOutcomeAt'),
    ...(s(item, 'RolloutHalted') ? { rolloutHalted: s(item, 'RolloutHalted') } : {}),
    ...(typeof item.ServerCount === 'number' ? { serverCount: item.ServerCount } : {}),
    createdAt: s(item, 'CreatedAt') ?? '',
    updatedAt: s(item, 'UpdatedAt') ?? '',
    ...lockOf(item),
  };
}

function lockOf(item: Item): { lock?: { jobId: string; until: string } } {
  const jobId = s(item, 'LockJobId');
  return jobId === undefined ? {} : { lock: { jobId, until: s(item, 'LockUntil') ?? '' } };
}

/**
 * `CertTagMapping` in DynamoDB, with the original sample's keys and attribute names
 * (`LastExportedDate`, `CertExpiryDate`) plus ours. The deployment lock lives on the same item
 * (`LockJobId`, `LockUntil`) so that taking it and reading the mapping is one item. An item the
 * sample wrote (its attributes only) reads as a mapping: no install options, its last export and
 * expiry from `LastExportedDate` and `CertExpiryDate`; our writes keep its attributes.
 */
export class DynamoDbMappingStore implements MappingStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = db;
    this.#table = table;
  }

  async get(key: MappingKey): Promise<Mapping | undefined> {
    const out = await withRetry(() =>
      this.#db.send(
        new GetCommand({ TableName: this.#table, Key: keyOf(key), ConsistentRead: true }),
      ),
    );
    return out.Item === undefined || out.Item.CertName === undefined
      ? undefined
      : toMapping(out.Item);
  }

  async put(m: Mapping): Promise<void> {
    const { sets, values } = updateParts(m);
    await withRetry(() =>
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(m),
          UpdateExpression: `SET ${[
            'CertificateArn = :arn',
            'CertName = :name',
            'TargetTagKey = :tk',
            'TargetTagValue = :tv',
            'CreatedAt = if_not_exists(CreatedAt, :created)',
            ...sets,
          ].join(', ')}`,
          ExpressionAttributeValues: {
            ...values,
            ':arn': m.certificateArn,
            ':name': m.certName,
            ':tk': m.target.key,
            ':tv': m.target.value,
            ':created': m.createdAt,
          },
        }),
      ),
    );
  }

  async listByCertificate(certificateArn: string): Promise<Mapping[]> {
    return this.#queryAll({
      IndexName: indexName,
      KeyConditionExpression: 'CertificateArn = :arn',
      ExpressionAttributeValues: { ':arn': certificateArn },
    });
  }

  async listByTarget(target: TargetTag): Promise<Mapping[]> {
    return this.#queryAll({
      KeyConditionExpression: 'TagKeyValue = :tkv',
      ExpressionAttributeValues: { ':tkv': tagKeyValue(target) },
      ConsistentRead: true,
    });
  }

  /** Every page of a Query; lock-only items (no mapping yet) are left out. */
  async #queryAll(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<Mapping[]> {
    const items: Mapping[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await withRetry(() =>
        this.#db.send(
          new QueryCommand({ ...input, TableName: this.#table, ExclusiveStartKey: start }),
        ),
      );
      for (const item of out.Items ?? [])
        if (item.CertName !== undefined) items.push(toMapping(item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** Lists every mapping, one page at a time (the API's listing; renewals use the index). */
  async list(limit: number, cursor?: string): Promise<Page<Mapping>> {
    const out = await withRetry(() =>
      this.#db.send(
        new ScanCommand({
          TableName: this.#table,
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor, ['TagKeyValue', 'CertificateArn#CertName']),
        }),
      ),
    );
    const next = encodeCursor(out.LastEvaluatedKey);
    return {
      items: (out.Items ?? []).filter((i) => i.CertName !== undefined).map(toMapping),
      ...(next === undefined ? {} : { cursor: next }),
    };
  }

  async deleteUnlocked(key: MappingKey, now: Date): Promise<DeleteResult> {
    try {
      const out = await withRetry(() =>
        this.#db.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: keyOf(key),
            ConditionExpression:
              'attribute_exists(TagKeyValue) AND (attribute_not_exists(LockJobId) OR LockUntil < :now)',
            ExpressionAttributeValues: { ':now': now.toISOString() },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return { outcome: 'deleted', mapping: toMapping(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const held = await this.#lockAfterRefusal(key);
      return held === undefined ? { outcome: 'missing' } : { outcome: 'busy', ...held };
    }
  }

  /**
   * Who holds the lock, read consistently after a conditional write was refused because of it;
   * undefined when the item does not exist.
   */
  async #lockAfterRefusal(key: MappingKey): Promise<{ holder: string; until: string } | undefined> {
    const out = await withRetry(() =>
      this.#db.send(
        new GetCommand({ TableName: this.#table, Key: keyOf(key), ConsistentRead: true }),
      ),
    );
    if (out.Item === undefined) return undefined;
    return {
      holder: String(out.Item.LockJobId ?? 'unknown'),
      until: String(out.Item.LockUntil ?? ''),
    };
  }

  async acquireLock(
    key: MappingKey,
    jobId: string,
    until: Date,
    now: Date,
    install?: InstallOptions,
  ): Promise<LockResult> {
    const setInstall =
      install !== undefined && hasInstallOptions(install)
        ? 'Install = :install'
        : 'Install = if_not_exists(Install, :install)';
    try {
      const out = await withRetry(() =>
        this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: keyOf(key),
            UpdateExpression: `SET LockJobId = :job, LockUntil = :until, CertificateArn = :arn, CertName = :name, TargetTagKey = :tk, TargetTagValue = :tv, CreatedAt = if_not_exists(CreatedAt, :now), UpdatedAt = if_not_exists(UpdatedAt, :now), ${setInstall}`,
            ConditionExpression:
              'attribute_not_exists(LockJobId) OR LockJobId = :job OR LockUntil < :now',
            ExpressionAttributeValues: {
              ':job': jobId,
              ':until': until.toISOString(),
              ':now': now.toISOString(),
              ':arn': key.certificateArn,
              ':name': key.certName,
              ':tk': key.target.key,
              ':tv': key.target.value,
              ':install': install !== undefined && hasInstallOptions(install) ? install : {},
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { acquired: true, mapping: toMapping(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const held = await this.#lockAfterRefusal(key);
      return { acquired: false, holder: held?.holder ?? 'unknown', until: held?.until ?? '' };
    }
  }

  async releaseLock(key: MappingKey, jobId: string, update: MappingUpdate = {}): Promise<boolean> {
    const { sets, values } = updateParts(update);
    const set = sets.length > 0 ? `SET ${sets.join(', ')} ` : '';
    return this.#asHolder(key, jobId, `${set}REMOVE LockJobId, LockUntil`, values);
  }

  /** An update only the lock's holder may make; false when `jobId` no longer holds it. */
  async #asHolder(
    key: MappingKey,
    jobId: string,
    updateExpression: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await withRetry(() =>
        this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: keyOf(key),
            UpdateExpression: updateExpression,
            ConditionExpression: 'LockJobId = :job',
            ExpressionAttributeValues: { ...values, ':job': jobId },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async abandon(key: MappingKey, jobId: string): Promise<boolean> {
    try {
      await withRetry(() =>
        this.#db.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: keyOf(key),
            // An item with an export recorded is no first deployment's (the sample's items
            // have LastExportedDate and no Serial): never deleted here.
            ConditionExpression:
              'LockJobId = :job AND attribute_not_exists(Serial) AND attribute_not_exists(LastExportedDate)',
            ExpressionAttributeValues: { ':job': jobId },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

const updateAttributes: [keyof MappingUpdate, string][] = [
  ['install', 'Install'],
  ['secretArn', 'SecretArn'],
  ['secretVersionId', 'SecretVersionId'],
  ['serial', 'Serial'],
  ['notBefore', 'NotBefore'],
  ['notAfter', 'NotAfter'],
  ['lastExportedAt', 'LastExportedDate'],
  ['lastJobId', 'LastJobId'],
  ['lastOutcome', 'LastOutcome'],
  ['lastOutcomeAt', 'LastOutcomeAt'],
  ['rolloutHalted', 'RolloutHalted'],
  ['serverCount', 'ServerCount'],
  ['updatedAt', 'UpdatedAt'],
];

/** SET clauses for the fields present; `CertExpiryDate` mirrors NotAfter as the original wrote it. */
function updateParts(update: MappingUpdate): { sets: string[]; values: Record<string, unknown> } {
  const sets: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [field, attr] of updateAttributes) {
    const v = update[field];
    if (v === undefined) continue;
    values[`:${attr}`] = v;
    sets.push(`${attr} = :${attr}`);
  }
  if (update.notAfter !== undefined) sets.push('CertExpiryDate = :NotAfter');
  return { sets, values };
}
