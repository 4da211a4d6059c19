import { describe, expect, it } from 'vitest';
import { emfProblems } from '../../support/emf-spec.ts';

const valid = {
  _aws: {
    Timestamp: 1_700_000_000_000,
    CloudWatchMetrics: [
      {
        Namespace: 'AcmCertExport',
        Dimensions: [['Service', 'Operation']],
        Metrics: [{ Name: 'AwsCalls', Unit: 'Count' }],
      },
    ],
  },
  Service: 'SQS',
  Operation: 'ReceiveMessage',
  AwsCalls: 3,
};

type Doc = Record<string, unknown> & {
  _aws: Record<string, unknown> & { CloudWatchMetrics: Record<string, unknown>[] };
};

/** The document's first metric directive. */
function directive(d: Doc): Record<string, unknown> & { Metrics: Record<string, unknown>[] } {
  const first = d._aws.CloudWatchMetrics[0];
  if (first === undefined) throw new Error('no directive');
  return first as Record<string, unknown> & { Metrics: Record<string, unknown>[] };
}

const withChange = (change: (doc: Doc) => void) => {
  const doc = structuredClone(valid) as unknown as Doc;
  change(doc);
  return JSON.stringify(doc);
};

describe('the EMF specification checker (what the metric tests rely on)', () => {
  it('accepts a valid document', () => {
    expect(emfProblems(JSON.stringify(valid))).toEqual([]);
  });

  it.each([
    ['no _aws', (d: Doc) => Reflect.deleteProperty(d, '_aws'), 'no _aws'],
    ['a timestamp in text', (d: Doc) => Object.assign(d._aws, { Timestamp: 'now' }), 'Timestamp'],
    ['an unknown _aws member', (d: Doc) => Object.assign(d._aws, { Extra: 1 }), 'Extra'],
    ['a dimension missing from the root', (d: Doc) => delete d.Operation, 'dimension Operation'],
    [
      'a numeric dimension value',
      (d: Doc) => Object.assign(d, { Service: 7 }),
      'dimension Service',
    ],
    [
      '31 dimensions',
      (d: Doc) => {
        const keys = Array.from({ length: 31 }, (_, i) => `D${i}`);
        for (const k of keys) d[k] = 'x';
        directive(d).Dimensions = [keys];
      },
      'more than 30',
    ],
    [
      'an unknown unit',
      (d: Doc) => Object.assign(directive(d).Metrics[0] ?? {}, { Unit: 'Calls' }),
      'not a CloudWatch unit',
    ],
    ['a value in text', (d: Doc) => Object.assign(d, { AwsCalls: '3' }), 'AwsCalls'],
    [
      '101 values',
      (d: Doc) => Object.assign(d, { AwsCalls: Array(101).fill(1) }),
      '1 to 100 numbers',
    ],
    ['no metric', (d: Doc) => Object.assign(directive(d), { Metrics: [] }), 'Metrics'],
  ] as const)('refuses %s', (_what, change, problem) => {
    const problems = emfProblems(withChange(change));
    expect(problems.join('; ')).toContain(problem);
  });
});
