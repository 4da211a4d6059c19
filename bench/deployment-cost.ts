/**
 * The cost figures of a deployment run: its requests and DynamoDB request units (the tables'
 * indexes as DescribeTable gives them, item sizes read back after the run) priced by
 * cost-model.ts, the original design beside it, and each deployment profile's fixed monthly cost
 * with the break-even. The same code for the test bed and a real account.
 */
import {
  BatchGetItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  breakEvenDeploymentsPerMonth,
  costPer1000,
  dynamoUnits,
  type IndexShape,
  originalCostPer1000,
  type TableShape,
  type WireItem,
} from './cost-model.ts';
import { idleMinutesBeforeScaleIn, type ProfileFixedCost } from './fixed-costs.ts';
import { round } from './stats.ts';
import type { DeploymentRun } from './worker-bench.ts';

/** Keys and global secondary indexes (with their projections) of each table, as deployed. */
export async function tableShapes(
  db: DynamoDBClient,
  tables: readonly string[],
): Promise<Record<string, TableShape>> {
  const out: Record<string, TableShape> = {};
  for (const name of tables) {
    const { Table } = await db.send(new DescribeTableCommand({ TableName: name }));
    out[name] = {
      keys: (Table?.KeySchema ?? []).map((k) => k.AttributeName ?? ''),
      indexes: (Table?.GlobalSecondaryIndexes ?? []).map(
        (g): IndexShape => ({
          name: g.IndexName ?? '',
          keys: (g.KeySchema ?? []).map((k) => k.AttributeName ?? ''),
          projection: (g.Projection?.ProjectionType ?? 'ALL') as IndexShape['projection'],
          ...(g.Projection?.NonKeyAttributes === undefined
            ? {}
            : { include: g.Projection.NonKeyAttributes }),
        }),
      ),
    };
  }
  return out;
}

const keyId = (table: string, key: WireItem) =>
  `${table}|${JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/** The items the run updated or read, as they are now (BatchGetItem, 100 keys a call). */
async function currentItems(
  db: DynamoDBClient,
  run: DeploymentRun,
): Promise<Map<string, WireItem>> {
  const wanted = new Map<string, { table: string; key: WireItem }>();
  for (const c of run.dynamo) {
    if (c.kind === 'update' || c.kind === 'get') wanted.set(keyId(c.table, c.key), c);
  }
  const found = new Map<string, WireItem>();
  const all = [...wanted.values()];
  for (let i = 0; i < all.length; i += 100) {
    let request: Record<string, { Keys: WireItem[] }> = {};
    for (const { table, key } of all.slice(i, i + 100)) {
      request[table] ??= { Keys: [] };
      request[table].Keys.push(key);
    }
    for (let attempt = 0; Object.keys(request).length > 0 && attempt < 10; attempt++) {
      const out = await db.send(
        new BatchGetItemCommand({
          RequestItems: request as never,
        }),
      );
      for (const [table, items] of Object.entries(out.Responses ?? {})) {
        const shapeKeys = Object.keys(all.find((w) => w.table === table)?.key ?? {});
        for (const item of items as unknown as WireItem[]) {
          const key = Object.fromEntries(shapeKeys.map((k) => [k, item[k] ?? {}]));
          found.set(keyId(table, key), item);
        }
      }
      request = (out.UnprocessedKeys ?? {}) as unknown as typeof request;
    }
  }
  return found;
}

/** DynamoDB request units of a run, per deployment, tables and indexes apart. */
export async function runUnits(db: DynamoDBClient, run: DeploymentRun) {
  const tables = [...new Set(run.dynamo.map((c) => c.table))];
  const shapes = await tableShapes(db, tables);
  const items = await currentItems(db, run);
  const units = dynamoUnits(run.dynamo, shapes, (table, key) => items.get(keyId(table, key)));
  const per = (n: number) => n / run.deployments;
  return {
    shapes,
    perDeployment: {
      tableWriteUnits: per(units.tableWriteUnits),
      indexWriteUnits: per(units.indexWriteUnits),
      readUnits: per(units.readUnits),
    },
    indexWriteUnitsByIndex: Object.fromEntries(
      Object.entries(units.indexWriteUnitsByIndex).map(([k, v]) => [k, round(per(v), 2)]),
    ),
    itemWrites: per(units.itemWrites),
  };
}

const rounded = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === 'number'
        ? round(v, 5)
        : v !== null && typeof v === 'object' && !Array.isArray(v)
          ? rounded(v as Record<string, unknown>)
          : v,
    ]),
  );

/** This design's cost of one run, per 1,000 deployments. */
export async function runCost(db: DynamoDBClient, run: DeploymentRun) {
  const units = await runUnits(db, run);
  const perDeployment = Object.fromEntries(
    Object.entries(run.requests).map(([op, n]) => [op, n / run.deployments]),
  );
  const cost = costPer1000({
    perDeployment,
    dynamo: units.perDeployment,
    serverSecretReads: run.serversReached / run.deployments,
    // Every message the service deleted was sent once, by the job's sender or EventBridge.
    messagesSentByOthers: (run.requests['AmazonSQS.DeleteMessage'] ?? 0) / run.deployments,
  });
  return { cost, units };
}

export interface CostFigureInput {
  readonly first: Awaited<ReturnType<typeof runCost>>;
  readonly repeat: Awaited<ReturnType<typeof runCost>>;
  /** Seconds from dispatch to the end of a command (the original polls every 15 s). */
  readonly commandSeconds: number;
  /** Deployments per second of the run (a scale-to-zero task's time per deployment in a burst). */
  readonly deploymentsPerSecond: number;
  readonly profiles: readonly ProfileFixedCost[];
}

/** The per-deployment cost figure and the break-even figure. */
export function costFigures(input: CostFigureInput) {
  const original = originalCostPer1000({
    commandSeconds: input.commandSeconds,
    lambdaMemoryGb: 0.128,
    lambdaSeconds: 0.5,
  });
  const describe = (r: CostFigureInput['first']) =>
    rounded({
      ...r.cost,
      index_write_units_by_index: r.units.indexWriteUnitsByIndex,
      indexes: Object.fromEntries(
        Object.entries(r.units.shapes).map(([t, s]) => [
          t,
          s.indexes.map(
            (i) => `${i.name} (${i.projection}${i.include ? `: ${i.include.join(', ')}` : ''})`,
          ),
        ]),
      ),
    });
  const costFigure = {
    figure: 'cost_per_1000_deployments_usd',
    value: round(input.repeat.cost.total, 5),
    statistic: 'repeat deployments (a renewal of a mapping already deployed)',
    first_deployment: describe(input.first),
    repeat_deployment: describe(input.repeat),
    original_design: rounded(original),
    not_compared:
      'ACM export fee of public certificates (same in both); Secrets Manager $0.40 per secret-month (one per mapping; the original kept none); KMS requests Secrets Manager makes for the servers and the service (the AWS managed key unless secretsKmsKeyArn); API Gateway and Lambda per request of the apigateway API mode; the fixed monthly cost of each profile (the break-even figure)',
  };
  const ours = input.repeat.cost.total / 1000;
  const theirs = original.total / 1000;
  const profiles = input.profiles.map((p) => {
    if (p.taskHourUsd === undefined) {
      const be = breakEvenDeploymentsPerMonth(p.fixedMonthlyUsd, ours, theirs);
      return {
        profile: p.profile,
        fixed_monthly_usd: round(p.fixedMonthlyUsd, 2),
        usd_per_deployment: round(ours, 7),
        break_even_deployments_per_month: be === undefined ? 'never' : Math.ceil(be),
      };
    }
    // A worker at zero tasks: a deployment after an idle spell starts a task that stays
    // `idleMinutesBeforeScaleIn` minutes; in a burst, deployments share the task's time.
    const isolated = ours + (p.taskHourUsd * idleMinutesBeforeScaleIn) / 60;
    const burst = ours + p.taskHourUsd / 3600 / input.deploymentsPerSecond;
    const be = (perDeployment: number) => {
      const n = breakEvenDeploymentsPerMonth(p.fixedMonthlyUsd, perDeployment, theirs);
      return n === undefined ? 'never' : Math.ceil(n);
    };
    return {
      profile: p.profile,
      fixed_monthly_usd: round(p.fixedMonthlyUsd, 2),
      usd_per_deployment_isolated: round(isolated, 7),
      usd_per_deployment_in_a_burst: round(burst, 7),
      break_even_deployments_per_month_isolated: be(isolated),
      break_even_deployments_per_month_in_a_burst: be(burst),
      note: `isolated: each deployment starts a task that runs ${idleMinutesBeforeScaleIn} idle minutes ($${p.taskHourUsd}/task-hour); in a burst: the task time of one deployment at the measured rate`,
    };
  });
  const nat = profiles.find((p) => p.profile === 'nat');
  const breakEven = {
    figure: 'break_even_deployments_per_month',
    value:
      nat !== undefined && 'break_even_deployments_per_month' in nat
        ? typeof nat.break_even_deployments_per_month === 'number'
          ? nat.break_even_deployments_per_month
          : null
        : null,
    statistic:
      'the default profile (nat): deployments a month at which its fixed cost plus this design’s per-deployment cost equals the original’s per-deployment cost times the deployments; below it the original (nothing when idle) costs less',
    original_usd_per_deployment: round(theirs, 7),
    profiles,
    prices: 'fixed costs: npm run cost (infra/lib/cost/prices.ts), us-east-1',
  };
  return { costFigure, breakEven };
}
