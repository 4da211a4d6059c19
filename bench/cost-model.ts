/**
 * Cost per 1,000 deployments from measured request counts, next to the original Step Functions +
 * Lambda design's. Prices: us-east-1 list prices (see docs/benchmarks.md for sources and date).
 * Charges that are the same in both designs (ACM export of public certificates, SSM Run
 * Command — free — and Secrets Manager storage per secret per month) are left out of the
 * comparison and listed on their own.
 */

export const prices = {
  sqsPerMillion: 0.4,
  /** DynamoDB on-demand: per million write / read request units. */
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  secretsManagerPer10k: 0.05,
  stepFunctionsPer1000Transitions: 0.025,
  lambdaPerMillion: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  apiGatewayRestPerMillion: 3.5,
} as const;

export interface MeasuredRequests {
  /** Requests per deployment by operation, e.g. `AmazonSQS.SendMessage`: 1.02. */
  readonly perDeployment: Readonly<Record<string, number>>;
  /** Average size in KB of a deployment record write (WRU = ceil(KB)). */
  readonly recordWriteKb: number;
  /** Average size in KB of an item read (strongly consistent RRU = ceil(KB / 4)). */
  readonly itemReadKb: number;
}

function sum(
  perDeployment: Readonly<Record<string, number>>,
  match: (op: string) => boolean,
): number {
  return Object.entries(perDeployment)
    .filter(([op]) => match(op))
    .reduce((total, [, n]) => total + n, 0);
}

/** This design: SQS, DynamoDB and Secrets Manager requests per deployment, priced. */
export function costPer1000(measured: MeasuredRequests) {
  const p = measured.perDeployment;
  const sqs = sum(p, (op) => op.startsWith('AmazonSQS.'));
  // A BatchWriteItem is priced as one whole-record write: in these measurements each carries the
  // per-server items of a one-server job (one small item), so this over-counts, never under.
  const writes = sum(p, (op) =>
    /DynamoDB_20120810\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(op),
  );
  const reads = sum(p, (op) => /DynamoDB_20120810\.(GetItem|Query|Scan)$/.test(op));
  const secrets = sum(p, (op) => op.startsWith('secretsmanager.'));
  const wru = writes * Math.max(1, Math.ceil(measured.recordWriteKb));
  const rru = reads * Math.max(1, Math.ceil(measured.itemReadKb / 4));
  const usd = {
    sqs: (sqs * 1000 * prices.sqsPerMillion) / 1e6,
    dynamodb:
      (wru * 1000 * prices.dynamoWritePerMillion + rru * 1000 * prices.dynamoReadPerMillion) / 1e6,
    secretsManager: (secrets * 1000 * prices.secretsManagerPer10k) / 1e4,
  };
  return {
    ...usd,
    total: usd.sqs + usd.dynamodb + usd.secretsManager,
    requests: { sqs, dynamoWrites: writes, dynamoReads: reads, secrets },
  };
}

export interface OriginalDesignAssumptions {
  /** Seconds from dispatch to the command finishing (the original polls every 15 s). */
  readonly commandSeconds: number;
  /** Lambda memory and average duration per invocation. */
  readonly lambdaMemoryGb: number;
  readonly lambdaSeconds: number;
}

/**
 * The AWS sample: API Gateway → Step Functions Standard (≈7 transitions + 3 per 15-second wait
 * loop, ../shared/docs/aws-facts.md) with Lambda tasks (export, mapping, dispatch, status check
 * per loop), plus its DynamoDB writes.
 */
export function originalCostPer1000(a: OriginalDesignAssumptions) {
  const loops = Math.max(1, Math.ceil(a.commandSeconds / 15));
  const transitions = 7 + 3 * loops;
  const invocations = 3 + loops;
  const usd = {
    apiGateway: (1000 * prices.apiGatewayRestPerMillion) / 1e6,
    stepFunctions: (transitions * 1000 * prices.stepFunctionsPer1000Transitions) / 1000,
    lambda:
      (invocations * 1000 * prices.lambdaPerMillion) / 1e6 +
      invocations * 1000 * a.lambdaMemoryGb * a.lambdaSeconds * prices.lambdaPerGbSecond,
    dynamodb:
      (2 * 1000 * prices.dynamoWritePerMillion + 1 * 1000 * prices.dynamoReadPerMillion) / 1e6,
  };
  return {
    ...usd,
    total: usd.apiGateway + usd.stepFunctions + usd.lambda + usd.dynamodb,
    transitions,
    invocations,
  };
}
