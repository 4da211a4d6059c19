/**
 * Cost per 1,000 deployments from measured requests and item sizes, next to the original Step
 * Functions + Lambda design's, and the break-even against the fixed monthly cost of a deployment
 * profile. Prices: us-east-1 list prices (see docs/benchmarks.md for sources and date). Charges
 * that are the same in both designs (ACM export of public certificates, SSM Run Command — free —
 * and Secrets Manager storage per secret per month) are left out of the comparison and listed on
 * their own.
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

/** A DynamoDB attribute value as the wire protocol carries it ({"S": "…"}, {"M": {…}}, …). */
export type WireValue = Readonly<Record<string, unknown>>;
export type WireItem = Readonly<Record<string, WireValue>>;

/** What one DynamoDB request wrote or read (bench/request-counter.ts records them). */
export type DynamoCall =
  | { readonly kind: 'put'; readonly table: string; readonly item: WireItem }
  | {
      readonly kind: 'update';
      readonly table: string;
      readonly key: WireItem;
      /** Top-level attributes the update sets or removes. */
      readonly updated: readonly string[];
    }
  | { readonly kind: 'delete'; readonly table: string; readonly key: WireItem }
  | {
      readonly kind: 'get';
      readonly table: string;
      readonly key: WireItem;
      readonly consistent: boolean;
    }
  | {
      readonly kind: 'query';
      readonly table: string;
      readonly items: number;
      readonly consistent: boolean;
    };

/** A global secondary index as DescribeTable gives it. */
export interface IndexShape {
  readonly name: string;
  readonly keys: readonly string[];
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  readonly include?: readonly string[];
}

export interface TableShape {
  readonly keys: readonly string[];
  readonly indexes: readonly IndexShape[];
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes of a number as DynamoDB sizes it: about one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueBytes(value: WireValue): number {
  const [type, v] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(String(v));
    case 'N':
      return numberBytes(String(v));
    case 'B':
      return Buffer.from(String(v), 'base64').length;
    case 'SS':
      return (v as string[]).reduce((t, x) => t + utf8(x), 0);
    case 'NS':
      return (v as string[]).reduce((t, x) => t + numberBytes(x), 0);
    case 'BS':
      return (v as string[]).reduce((t, x) => t + Buffer.from(x, 'base64').length, 0);
    case 'M':
      return (
        3 +
        Object.entries(v as Record<string, WireValue>).reduce(
          (t, [name, x]) => t + utf8(name) + valueBytes(x) + 1,
          0,
        )
      );
    case 'L':
      return 3 + (v as WireValue[]).reduce((t, x) => t + valueBytes(x) + 1, 0);
    default:
      // BOOL, NULL
      return 1;
  }
}

/** An item's size by DynamoDB's published rules: attribute names plus values. */
export function itemBytes(item: WireItem): number {
  return Object.entries(item).reduce((t, [name, v]) => t + utf8(name) + valueBytes(v), 0);
}

const kb = 1024;
const writeUnitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / kb));

function pick(item: WireItem, names: readonly string[]): WireItem {
  return Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n] as WireValue]));
}

/** The attributes an index entry holds: every one (ALL), or the keys plus those it includes. */
function projected(item: WireItem, table: TableShape, index: IndexShape): WireItem {
  if (index.projection === 'ALL') return item;
  return pick(item, [...table.keys, ...index.keys, ...(index.include ?? [])]);
}

function projects(table: TableShape, index: IndexShape, attribute: string): boolean {
  return (
    index.projection === 'ALL' ||
    table.keys.includes(attribute) ||
    index.keys.includes(attribute) ||
    (index.include ?? []).includes(attribute)
  );
}

const inIndex = (item: WireItem | undefined, index: IndexShape) =>
  item !== undefined && index.keys.every((k) => k in item);

const same = (a: WireValue | undefined, b: WireValue | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

export interface DynamoUnits {
  /** Write request units of the tables themselves. */
  readonly tableWriteUnits: number;
  /** Write request units of the global secondary indexes the writes also wrote. */
  readonly indexWriteUnits: number;
  readonly indexWriteUnitsByIndex: Readonly<Record<string, number>>;
  readonly readUnits: number;
  /** Writes of items (a BatchWriteItem of 25 is 25). */
  readonly itemWrites: number;
}

/**
 * Request units of a run's DynamoDB calls. A write costs one unit per started KB of the larger of
 * the item before and after it; it also writes each index whose key attributes the item has
 * (before or after): one write of the projected entry when the item enters, leaves, or has a
 * projected attribute changed (an update setting a projected attribute; a put always), two (a
 * delete and a put) when an index key changes. `finalItem` is the item as it is after the run
 * (an update's result: the request carries only what it sets); an item not seen before in the run
 * is taken to have been as it is after. Reads: a strongly consistent read one unit per started
 * 4 KB (half for an eventually consistent one); a query's items are sized as the table's mean.
 */
export function dynamoUnits(
  calls: readonly DynamoCall[],
  tables: Readonly<Record<string, TableShape>>,
  finalItem: (table: string, key: WireItem) => WireItem | undefined,
): DynamoUnits {
  const known = new Map<string, WireItem | undefined>();
  const keyOf = (table: string, item: WireItem) =>
    `${table}|${JSON.stringify(pick(item, tables[table]?.keys ?? Object.keys(item)))}`;
  let tableWriteUnits = 0;
  let indexWriteUnits = 0;
  let readUnits = 0;
  let itemWrites = 0;
  const byIndex: Record<string, number> = {};
  const sizes = new Map<string, number[]>();
  const remember = (table: string, item: WireItem | undefined) => {
    if (item === undefined) return;
    const list = sizes.get(table) ?? [];
    list.push(itemBytes(item));
    sizes.set(table, list);
  };
  for (const call of calls) {
    if (call.kind === 'get' || call.kind === 'query') continue;
    itemWrites++;
    const shape = tables[call.table] ?? { keys: [], indexes: [] };
    const key = call.kind === 'put' ? pick(call.item, shape.keys) : call.key;
    const id = keyOf(call.table, key);
    const final = call.kind === 'put' ? call.item : finalItem(call.table, key);
    const after = call.kind === 'delete' ? undefined : call.kind === 'put' ? call.item : final;
    const before = known.has(id) ? known.get(id) : call.kind === 'put' ? undefined : final;
    known.set(id, after);
    remember(call.table, after);
    tableWriteUnits += writeUnitsOf(
      Math.max(itemBytes(before ?? key), after === undefined ? 0 : itemBytes(after)),
    );
    for (const index of shape.indexes) {
      const was = inIndex(before, index);
      const is = inIndex(after, index);
      let units = 0;
      const entry = (item: WireItem) => writeUnitsOf(itemBytes(projected(item, shape, index)));
      if (was && !is && before !== undefined) units = entry(before);
      else if (!was && is && after !== undefined) units = entry(after);
      else if (was && is && before !== undefined && after !== undefined) {
        const keyChanged = index.keys.some((k) => !same(before[k], after[k]));
        const touched =
          call.kind === 'put'
            ? true
            : call.kind === 'update' && call.updated.some((a) => projects(shape, index, a));
        if (keyChanged) units = entry(before) + entry(after);
        else if (touched) units = entry(after);
      }
      indexWriteUnits += units;
      const name = `${call.table}.${index.name}`;
      byIndex[name] = (byIndex[name] ?? 0) + units;
    }
  }
  const mean = (table: string) => {
    const list = sizes.get(table) ?? [];
    return list.length === 0 ? kb : list.reduce((a, b) => a + b, 0) / list.length;
  };
  for (const call of calls) {
    if (call.kind !== 'get' && call.kind !== 'query') continue;
    const bytes =
      call.kind === 'get'
        ? itemBytes(finalItem(call.table, call.key) ?? call.key)
        : call.items * mean(call.table);
    const units = Math.max(1, Math.ceil(bytes / (4 * kb)));
    readUnits += call.consistent ? units : units / 2;
  }
  return {
    tableWriteUnits,
    indexWriteUnits,
    indexWriteUnitsByIndex: byIndex,
    readUnits,
    itemWrites,
  };
}

export interface MeasuredRequests {
  /** Requests per deployment by operation, e.g. `AmazonSQS.SendMessage`: 1.02. */
  readonly perDeployment: Readonly<Record<string, number>>;
  /** DynamoDB request units per deployment (dynamoUnits of the run / deployments). */
  readonly dynamo: Pick<DynamoUnits, 'tableWriteUnits' | 'indexWriteUnits' | 'readUnits'>;
  /**
   * GetSecretValue calls per deployment made by the servers themselves: each server's install
   * reads the job's secret version once (ssm/), with the server's own role.
   */
  readonly serverSecretReads: number;
  /**
   * Messages put on the job queue per deployment by others than the service (the API or the
   * sender of the job, EventBridge for renewals and Run Command's status events): each is an SQS
   * request billed to the queue's owner that the service's own counts do not show.
   */
  readonly messagesSentByOthers?: number;
}

function sum(
  perDeployment: Readonly<Record<string, number>>,
  match: (op: string) => boolean,
): number {
  return Object.entries(perDeployment)
    .filter(([op]) => match(op))
    .reduce((total, [, n]) => total + n, 0);
}

/**
 * This design per 1,000 deployments: SQS requests, DynamoDB request units (tables and indexes),
 * Secrets Manager calls (the service's and the servers'), priced.
 */
export function costPer1000(measured: MeasuredRequests) {
  const p = measured.perDeployment;
  const sqs = sum(p, (op) => op.startsWith('AmazonSQS.')) + (measured.messagesSentByOthers ?? 0);
  const serviceSecrets = sum(p, (op) => op.startsWith('secretsmanager.'));
  const secrets = serviceSecrets + measured.serverSecretReads;
  const { tableWriteUnits, indexWriteUnits, readUnits } = measured.dynamo;
  const perK = (n: number, pricePerMillion: number) => (n * 1000 * pricePerMillion) / 1e6;
  const dynamoTableWrites = perK(tableWriteUnits, prices.dynamoWritePerMillion);
  const dynamoIndexWrites = perK(indexWriteUnits, prices.dynamoWritePerMillion);
  const dynamoReads = perK(readUnits, prices.dynamoReadPerMillion);
  const usd = {
    sqs: perK(sqs, prices.sqsPerMillion),
    dynamodb: dynamoTableWrites + dynamoIndexWrites + dynamoReads,
    secretsManager: (secrets * 1000 * prices.secretsManagerPer10k) / 1e4,
  };
  return {
    ...usd,
    total: usd.sqs + usd.dynamodb + usd.secretsManager,
    dynamodbParts: {
      tableWrites: dynamoTableWrites,
      indexWrites: dynamoIndexWrites,
      reads: dynamoReads,
    },
    units: { tableWriteUnits, indexWriteUnits, readUnits },
    requests: { sqs, serviceSecrets, serverSecretReads: measured.serverSecretReads },
  };
}

/**
 * Deployments a month at which a profile's fixed monthly cost plus this design's per-deployment
 * cost equals the original's per-deployment cost times the deployments: below it the original
 * (nothing when idle) costs less. Undefined when this design costs as much or more per deployment:
 * it never catches up.
 */
export function breakEvenDeploymentsPerMonth(
  fixedMonthlyUsd: number,
  oursPerDeploymentUsd: number,
  originalPerDeploymentUsd: number,
): number | undefined {
  const saved = originalPerDeploymentUsd - oursPerDeploymentUsd;
  if (saved <= 0) return undefined;
  return fixedMonthlyUsd / saved;
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
