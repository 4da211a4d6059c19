import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { ServerResult } from '../domain/deployment.ts';
import type { InstalledServer } from '../domain/installed-server.ts';
import { certificateArnCertName, tagKeyValue } from '../domain/target.ts';
import type { MappingKey, Page } from '../ports/mapping-store.ts';
import type { ServerStore } from '../ports/server-store.ts';
import { withRetry } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

/** BatchWriteItem takes at most 25 requests. */
const batchSize = 25;
/** Rounds of retrying the items DynamoDB left unprocessed (throttling) before giving up. */
const unprocessedRounds = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Item = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

export function jobOwner(jobId: string): string {
  return `job#${jobId}`;
}

/** Tag keys, values and ARNs cannot contain `|`, so the owner of each mapping is unique. */
export function mappingOwner(key: MappingKey): string {
  return `mapping#${tagKeyValue(key.target)}|${certificateArnCertName(key.certificateArn, key.certName)}`;
}

function jobItems(
  jobId: string,
  results: readonly ServerResult[],
  expiresAt: Date,
): WriteRequest[] {
  const ttl = Math.floor(expiresAt.getTime() / 1000);
  return results.map((r) => ({
    PutRequest: {
      Item: { Owner: jobOwner(jobId), InstanceId: r.instanceId, ExpiresAt: ttl, Data: r },
    },
  }));
}

function installedItems(owner: string, servers: readonly InstalledServer[]): WriteRequest[] {
  return servers.map((s) => ({
    PutRequest: { Item: { Owner: owner, InstanceId: s.instanceId, Data: s } },
  }));
}

/**
 * The servers table (`Owner`, `InstanceId`): one item per server per job, and one per server per
 * mapping. Items hold the result under `Data`; job items carry `ExpiresAt` for DynamoDB TTL.
 */
export class DynamoDbServerStore implements ServerStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = db;
    this.#table = table;
  }

  async recordJobResults(
    jobId: string,
    results: readonly ServerResult[],
    expiresAt: Date,
  ): Promise<void> {
    await this.#write(jobItems(jobId, results, expiresAt));
  }

  async recordJobEnd(
    jobId: string,
    results: readonly ServerResult[],
    expiresAt: Date,
    key: MappingKey,
    installed: readonly InstalledServer[],
  ): Promise<void> {
    await this.#write([
      ...jobItems(jobId, results, expiresAt),
      ...installedItems(mappingOwner(key), installed),
    ]);
  }

  async listJobResults(jobId: string, limit: number, cursor?: string): Promise<Page<ServerResult>> {
    const out = await this.#query(
      jobOwner(jobId),
      limit,
      decodeCursor(cursor, ['Owner', 'InstanceId']),
    );
    const next = encodeCursor(out.LastEvaluatedKey);
    return {
      items: (out.Items ?? []).map((i) => i.Data as ServerResult),
      ...(next === undefined ? {} : { cursor: next }),
    };
  }

  async installed(key: MappingKey): Promise<InstalledServer[]> {
    const servers: InstalledServer[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#query(mappingOwner(key), undefined, start);
      for (const i of out.Items ?? []) servers.push(i.Data as InstalledServer);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return servers;
  }

  async recordInstalled(key: MappingKey, servers: readonly InstalledServer[]): Promise<void> {
    await this.#write(installedItems(mappingOwner(key), servers));
  }

  async forgetMapping(key: MappingKey): Promise<void> {
    const owner = mappingOwner(key);
    let start: Item | undefined;
    do {
      const out = await this.#query(owner, undefined, start, true);
      await this.#write(
        (out.Items ?? []).map((i) => ({
          DeleteRequest: { Key: { Owner: owner, InstanceId: i.InstanceId } },
        })),
      );
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  #query(
    owner: string,
    limit: number | undefined,
    start: Item | undefined,
    keysOnly = false,
  ): Promise<QueryCommandOutput> {
    return withRetry(() =>
      this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: {
            '#owner': 'Owner',
            ...(keysOnly ? { '#id': 'InstanceId' } : {}),
          },
          ExpressionAttributeValues: { ':owner': owner },
          ...(keysOnly ? { ProjectionExpression: '#id' } : {}),
          ...(limit === undefined ? {} : { Limit: limit }),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          ConsistentRead: true,
        }),
      ),
    );
  }

  /** BatchWriteItem in groups of 25, retrying what DynamoDB leaves unprocessed. */
  async #write(requests: readonly WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += batchSize) {
      let pending: WriteRequest[] = requests.slice(i, i + batchSize);
      for (let round = 0; pending.length > 0; round++) {
        if (round >= unprocessedRounds) {
          throw new Error(
            `DynamoDB left ${pending.length} server items unprocessed after ${round} rounds`,
          );
        }
        if (round > 0) await sleep(Math.min(5_000, 50 * 2 ** round));
        const batch = pending;
        const out = await withRetry(() =>
          this.#db.send(new BatchWriteCommand({ RequestItems: { [this.#table]: batch } })),
        );
        pending = (out.UnprocessedItems?.[this.#table] ?? []) as WriteRequest[];
      }
    }
  }
}
