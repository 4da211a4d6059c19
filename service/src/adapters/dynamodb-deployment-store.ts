import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Deployment, isTerminal } from '../domain/deployment.ts';
import { recordRetentionDays } from '../domain/deployment-record.ts';
import { ConflictError } from '../domain/errors.ts';
import type { DeploymentStore } from '../ports/deployment-store.ts';
import type { Page } from '../ports/mapping-store.ts';
import { withRetry } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

/** The certificate-ARN index, keys only (infra/lib/resource-definitions.ts). */
const indexName = 'CertificateArnKeysIndex';
/** BatchGetItem reads at most 100 items: a page of the listing is at most that. */
const batchGetSize = 100;
/** Rounds of reading what DynamoDB left unprocessed (throttling) before giving up. */
const unprocessedRounds = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DeploymentStoreOptions {
  /** Finished records are removed by DynamoDB TTL this long after they finish. */
  readonly retentionDays?: number;
}

/**
 * Deployment records in DynamoDB. The record is stored whole under `Data`; `JobId`,
 * `CertificateArn`, `CreatedAt`, `Status` and `Version` are copied out as attributes for the key,
 * the index and the optimistic-concurrency condition. The worker's writes update only the fields
 * of `Data` that changed.
 */
export class DynamoDbDeploymentStore implements DeploymentStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionSeconds: number;

  constructor(db: DynamoDBDocumentClient, table: string, options: DeploymentStoreOptions = {}) {
    this.#db = db;
    this.#table = table;
    this.#retentionSeconds = (options.retentionDays ?? recordRetentionDays) * 86_400;
  }

  #item(d: Deployment) {
    const finished = d.finishedAt === undefined ? undefined : Date.parse(d.finishedAt);
    return {
      JobId: d.job.jobId,
      CertificateArn: d.job.certificateArn,
      CreatedAt: d.createdAt,
      Status: d.status,
      Version: d.version,
      ...(finished === undefined || !isTerminal(d.status)
        ? {}
        : { ExpiresAt: Math.floor(finished / 1000) + this.#retentionSeconds }),
      Data: d,
    };
  }

  async create(deployment: Deployment): Promise<{ created: boolean; deployment: Deployment }> {
    try {
      await withRetry(() =>
        this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#item(deployment),
            ConditionExpression: 'attribute_not_exists(JobId)',
          }),
        ),
      );
      return { created: true, deployment };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(deployment.job.jobId);
      if (existing === undefined)
        throw new ConflictError(`deployment ${deployment.job.jobId} vanished`);
      return { created: false, deployment: existing };
    }
  }

  async get(jobId: string): Promise<Deployment | undefined> {
    const out = await withRetry(() =>
      this.#db.send(
        new GetCommand({ TableName: this.#table, Key: { JobId: jobId }, ConsistentRead: true }),
      ),
    );
    return out.Item?.Data as Deployment | undefined;
  }

  async save(next: Deployment, previous?: Deployment): Promise<Deployment> {
    try {
      const command = this.#saveCommand(next, previous);
      await withRetry(() =>
        command instanceof PutCommand ? this.#db.send(command) : this.#db.send(command),
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`deployment ${next.job.jobId} was changed by another worker`);
      }
      throw error;
    }
  }

  /**
   * With the version `next` revises: an UpdateItem of what changed (the worker's writes). Without
   * it: a PutItem of the whole record (the API's few writes; its role has no UpdateItem).
   */
  #saveCommand(next: Deployment, previous: Deployment | undefined): PutCommand | UpdateCommand {
    const expected = next.version - 1;
    if (previous === undefined || previous.version !== expected) {
      return new PutCommand({
        TableName: this.#table,
        Item: { ...this.#item(next), Data: plain(next) },
        ConditionExpression: 'Version = :expected',
        ExpressionAttributeValues: { ':expected': expected },
      });
    }
    const update = changes(next, previous);
    const expires = this.#item(next).ExpiresAt;
    const sets = [
      ...update.sets,
      '#Status = :status',
      '#Version = :version',
      ...(expires === undefined ? [] : ['ExpiresAt = :expires']),
    ];
    const removes = update.removes.length === 0 ? '' : ` REMOVE ${update.removes.join(', ')}`;
    return new UpdateCommand({
      TableName: this.#table,
      Key: { JobId: next.job.jobId },
      UpdateExpression: `SET ${sets.join(', ')}${removes}`,
      ConditionExpression: '#Version = :expected',
      ExpressionAttributeNames: { ...update.names, '#Status': 'Status', '#Version': 'Version' },
      ExpressionAttributeValues: {
        ...update.values,
        ':status': next.status,
        ':version': next.version,
        ':expected': expected,
        ...(expires === undefined ? {} : { ':expires': expires }),
      },
    });
  }

  /**
   * The index holds the keys only (its entries are written once, when a record is created): a
   * Query of one page of keys, then BatchGetItem of those records (100 at most, the page limit).
   */
  async listByCertificate(
    certificateArn: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<Deployment>> {
    const out = await withRetry(() =>
      this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: indexName,
          KeyConditionExpression: 'CertificateArn = :arn',
          ExpressionAttributeValues: { ':arn': certificateArn },
          ScanIndexForward: false,
          Limit: Math.min(limit, batchGetSize),
          ExclusiveStartKey: decodeCursor(cursor, ['JobId', 'CertificateArn', 'CreatedAt']),
        }),
      ),
    );
    const ids = (out.Items ?? []).map((i) => String(i.JobId));
    const records = await this.#getMany(ids);
    const next = encodeCursor(out.LastEvaluatedKey);
    return {
      // In the index's order; a record removed (TTL) since the Query is left out.
      items: ids.flatMap((id) => {
        const d = records.get(id);
        return d === undefined ? [] : [d];
      }),
      ...(next === undefined ? {} : { cursor: next }),
    };
  }

  /** Records by job id (at most 100: one BatchGetItem, and what it leaves unprocessed). */
  async #getMany(ids: readonly string[]): Promise<Map<string, Deployment>> {
    const found = new Map<string, Deployment>();
    let keys: Record<string, unknown>[] = ids.map((id) => ({ JobId: id }));
    for (let round = 0; keys.length > 0; round++) {
      if (round >= unprocessedRounds) {
        throw new Error(`DynamoDB left ${keys.length} records unread after ${round} rounds`);
      }
      if (round > 0) await sleep(Math.min(5_000, 50 * 2 ** round));
      const batch = keys;
      const out = await withRetry(() =>
        this.#db.send(
          new BatchGetCommand({
            RequestItems: { [this.#table]: { Keys: batch, ConsistentRead: true } },
          }),
        ),
      );
      for (const item of out.Responses?.[this.#table] ?? []) {
        const d = item.Data as Deployment | undefined;
        if (d !== undefined) found.set(d.job.jobId, d);
      }
      keys = (out.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
    }
    return found;
  }
}

/**
 * The UpdateItem clauses that turn the stored record `previous` into `next` (its next version):
 * the top-level fields of the record (under `Data`) that differ are SET, those `next` no longer
 * has are REMOVEd.
 */
export function changes(
  next: Deployment,
  previous: Deployment,
): {
  sets: string[];
  removes: string[];
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const sets: string[] = [];
  const removes: string[] = [];
  const names: Record<string, string> = { '#Data': 'Data' };
  const values: Record<string, unknown> = {};
  const before = previous as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  keys.forEach((field, i) => {
    const value = after[field];
    if (JSON.stringify(before[field]) === JSON.stringify(value)) return;
    names[`#f${i}`] = field;
    if (value === undefined) {
      removes.push(`#Data.#f${i}`);
      return;
    }
    values[`:f${i}`] = plain(value);
    sets.push(`#Data.#f${i} = :f${i}`);
  });
  return { sets, removes, names, values };
}

/** A value as JSON has it (no undefined members), whatever the client's marshalling options. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
