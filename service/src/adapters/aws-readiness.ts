import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Readiness, ReadinessProbe } from '../ports/readiness.ts';
import { awsErrorName } from './aws-errors.ts';

/**
 * Readiness with the permissions the service already has: GetQueueAttributes on the job queue and
 * a GetItem of a key that never exists on each table (no DescribeTable permission needed).
 */
export class AwsReadinessProbe implements ReadinessProbe {
  readonly #sqs: SQSClient;
  readonly #db: DynamoDBDocumentClient;
  readonly #queueUrl: string;
  readonly #tables: { mappings: string; deployments: string };

  constructor(
    sqs: SQSClient,
    db: DynamoDBDocumentClient,
    queueUrl: string,
    tables: { mappings: string; deployments: string },
  ) {
    this.#sqs = sqs;
    this.#db = db;
    this.#queueUrl = queueUrl;
    this.#tables = tables;
  }

  async check(): Promise<Readiness> {
    const probe = async (run: () => Promise<unknown>) => {
      try {
        await run();
        return { ok: true };
      } catch (error) {
        return { ok: false, message: awsErrorName(error) ?? 'unreachable' };
      }
    };
    const [queue, mappings, deployments] = await Promise.all([
      probe(() =>
        this.#sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: this.#queueUrl, AttributeNames: ['QueueArn'] }),
        ),
      ),
      probe(() =>
        this.#db.send(
          new GetCommand({
            TableName: this.#tables.mappings,
            Key: { TagKeyValue: 'readyz', 'CertificateArn#CertName': 'readyz' },
          }),
        ),
      ),
      probe(() =>
        this.#db.send(
          new GetCommand({ TableName: this.#tables.deployments, Key: { JobId: 'readyz' } }),
        ),
      ),
    ]);
    return {
      ok: queue.ok && mappings.ok && deployments.ok,
      details: { queue, mappings, deployments },
    };
  }
}
