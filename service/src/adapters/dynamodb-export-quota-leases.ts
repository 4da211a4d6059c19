import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ClaimRequest,
  ExportQuotaLeases,
  QuotaClaim,
  QuotaClaims,
} from '../ports/export-quota-leases.ts';
import { classify, withRetry } from './aws-errors.ts';

/** Attribute prefix of a task's claim: `Claim <taskId>` = {since, expiresAt}. */
const claimPrefix = 'Claim ';

/**
 * The key of the export quota's item in the deployments table: `#` is outside the job id
 * pattern (domain/names.ts), so no deployment record can ever take it, and it carries none of
 * the certificate index's attributes, so no listing sees it.
 */
export function exportQuotaKey(region: string): string {
  return `#export-quota#${region}`;
}

/** The item disappears (DynamoDB TTL) a day after the last claim, e.g. once the region is unused. */
const itemLifetimeSeconds = 86_400;

const terminal = { ResourceNotFoundException: 'TableNotFound' };

/**
 * The tasks' claims on one region's ACM export quota, in one item of the deployments table:
 * a claim is one UpdateItem that sets the task's own attribute and returns the whole item
 * (ALL_NEW), so the same request says who else shares the quota. Claims long expired are
 * removed in that request, each on the condition that it still holds the value read.
 */
export class DynamoDbExportQuotaLeases implements ExportQuotaLeases {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #key: string;

  constructor(db: DynamoDBDocumentClient, table: string, region: string) {
    this.#db = db;
    this.#table = table;
    this.#key = exportQuotaKey(region);
  }

  async claim(request: ClaimRequest): Promise<QuotaClaims> {
    try {
      return await this.#claim(request, request.forget);
    } catch (error) {
      // A claim to forget was renewed in between: claim without forgetting (rare).
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.#claim(request, new Map());
    }
  }

  async #claim(request: ClaimRequest, forget: ReadonlyMap<string, QuotaClaim>) {
    const names: Record<string, string> = {
      '#self': claimPrefix + request.taskId,
      '#ttl': 'ExpiresAt',
    };
    const values: Record<string, unknown> = {
      ':claim': { since: request.claim.since, expiresAt: request.claim.expiresAt },
      ':ttl': Math.floor(request.claim.expiresAt / 1000) + itemLifetimeSeconds,
    };
    const removals: string[] = [];
    const conditions: string[] = [];
    [...forget].forEach(([taskId, claim], i) => {
      names[`#f${i}`] = claimPrefix + taskId;
      values[`:f${i}`] = claim.expiresAt;
      removals.push(`#f${i}`);
      conditions.push(`#f${i}.expiresAt = :f${i}`);
    });
    const out = await withRetry(async () => {
      try {
        return await this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: { JobId: this.#key },
            UpdateExpression: `SET #self = :claim, #ttl = :ttl${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
            ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
      } catch (error) {
        throw classify(error, terminal, (name) => `claiming the export quota: ${name}`);
      }
    });
    return claimsOf(out.Attributes ?? {});
  }

  async release(taskId: string): Promise<void> {
    await withRetry(async () => {
      try {
        await this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: { JobId: this.#key },
            UpdateExpression: 'REMOVE #self',
            ExpressionAttributeNames: { '#self': claimPrefix + taskId },
          }),
        );
      } catch (error) {
        throw classify(error, terminal, (name) => `releasing the export quota: ${name}`);
      }
    });
  }
}

function claimsOf(item: Record<string, unknown>): QuotaClaims {
  const claims = new Map<string, QuotaClaim>();
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(claimPrefix) || typeof value !== 'object' || value === null) continue;
    const { since, expiresAt } = value as Record<string, unknown>;
    if (typeof since === 'number' && typeof expiresAt === 'number') {
      claims.set(name.slice(claimPrefix.length), { since, expiresAt });
    }
  }
  return claims;
}
