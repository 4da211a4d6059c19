import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Deployment, isTerminal } from '../domain/deployment.ts';
import { recordRetentionDays } from '../domain/deployment-record.ts';
import { ConflictError } from '../domain/errors.ts';
import type { DeploymentStore } from '../ports/deployment-store.ts';
import type { Page } from '../ports/mapping-store.ts';
import { withRetry } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

const indexName = 'CertificateArnIndex';

export interface DeploymentStoreOptions {
  /** Finished records are removed by DynamoDB TTL this long after they finish. */
  readonly retentionDays?: number;
}

/**
 * Deployment records in DynamoDB. The record is stored whole under `Data`; `JobId`,
 * `CertificateArn`, `CreatedAt`, `Status` and `Version` are copied out as attributes for the key,
 * the index and the optimistic-concurrency condition.
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

  async save(next: Deployment): Promise<Deployment> {
    try {
      await withRetry(() =>
        this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#item(next),
            ConditionExpression: 'Version = :expected',
            ExpressionAttributeValues: { ':expected': next.version - 1 },
          }),
        ),
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`deployment ${next.job.jobId} was changed by another worker`);
      }
      throw error;
    }
  }

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
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor, ['JobId', 'CertificateArn', 'CreatedAt']),
        }),
      ),
    );
    const next = encodeCursor(out.LastEvaluatedKey);
    return {
      items: (out.Items ?? []).map((i) => i.Data as Deployment),
      ...(next === undefined ? {} : { cursor: next }),
    };
  }
}
