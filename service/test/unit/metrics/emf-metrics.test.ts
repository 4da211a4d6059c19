import { describe, expect, it } from 'vitest';
import { metrics as defs } from '../../../src/metrics/definitions.ts';
import { EmfMetrics } from '../../../src/metrics/emf-metrics.ts';
import { deploymentEmf, emfFields } from '../../../src/worker/metrics.ts';
import { emfProblems } from '../../support/emf-spec.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';

function sink(namespace = 'Test/Namespace') {
  const lines: string[] = [];
  const clock = new ManualClock();
  const emf = new EmfMetrics({ namespace, clock, write: (l) => lines.push(l) });
  const docs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { emf, lines, docs, clock };
}

describe('EMF lines', () => {
  it('sums AWS calls per service and operation into one valid line each, errors only where some failed', () => {
    const { emf, lines, docs } = sink();
    emf.awsCall('SQS', 'ReceiveMessage');
    emf.awsCall('SQS', 'ReceiveMessage');
    emf.awsCall('DynamoDB', 'PutItem', 'throttled');
    emf.awsCall('DynamoDB', 'PutItem');
    emf.flush();
    for (const line of lines) expect(emfProblems(line)).toEqual([]);
    expect(docs()).toEqual([
      expect.objectContaining({ Service: 'SQS', Operation: 'ReceiveMessage', AwsCalls: 2 }),
      expect.objectContaining({
        Service: 'DynamoDB',
        Operation: 'PutItem',
        AwsCalls: 2,
        AwsCallErrors: 1,
      }),
    ]);
    expect(docs()[0]).not.toHaveProperty('AwsCallErrors');
    expect(docs()[1]?._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: 'Test/Namespace',
          Dimensions: [['Service', 'Operation']],
          Metrics: [
            { Name: 'AwsCalls', Unit: 'Count' },
            { Name: 'AwsCallErrors', Unit: 'Count' },
          ],
        },
      ],
    });
  });

  it('writes durations as lists of observations, at most 100 a line, steps by their Step dimension', () => {
    const { emf, lines, docs } = sink();
    for (let i = 0; i < 150; i++) emf.messagePickedUp(i / 10);
    emf.deploymentFinished('Succeeded', 42);
    emf.stepFinished('export', 'done', 1.5);
    emf.stepFinished('export', 'error', 0.5);
    emf.stepFinished('poll', 'waiting', 3);
    emf.flush();
    for (const line of lines) expect(emfProblems(line)).toEqual([]);
    const all = docs();
    const lags = all.flatMap((d) => (d.QueueLag as number[] | undefined) ?? []);
    expect(lags).toHaveLength(150);
    expect(all.filter((d) => 'QueueLag' in d).map((d) => (d.QueueLag as number[]).length)).toEqual([
      100, 50,
    ]);
    expect(all.find((d) => 'JobDuration' in d)?.JobDuration).toEqual([42]);
    expect(all.filter((d) => 'StepDuration' in d)).toEqual([
      expect.objectContaining({ Step: 'export', StepDuration: [1.5, 0.5] }),
      expect.objectContaining({ Step: 'poll', StepDuration: [3] }),
    ]);
    const units = all.flatMap((d) =>
      (
        d._aws as { CloudWatchMetrics: [{ Metrics: { Name: string; Unit: string }[] }] }
      ).CloudWatchMetrics[0].Metrics.map((m) => m.Unit),
    );
    expect(new Set(units)).toEqual(new Set(['Seconds']));
  });

  it('writes nothing for an interval without events, and each event once', () => {
    const { emf, lines } = sink();
    emf.flush();
    expect(lines).toEqual([]);
    emf.awsCall('SNS', 'Publish');
    emf.flush();
    emf.flush();
    expect(lines).toHaveLength(1);
  });

  it('counts no deployment and no mapping itself: those are on their own lines', () => {
    const { emf, docs } = sink();
    emf.deploymentFinished('Failed', 10);
    emf.mappingObserved();
    emf.flush();
    expect(docs()).toHaveLength(1);
    expect(docs()[0]).not.toHaveProperty(defs.deployments.cloudWatch.name);
  });

  it("the worker's own lines (a job's outcome, the expiry check's days) are valid EMF in the namespace asked for", () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const outcome = JSON.stringify({
      msg: 'deployment Failed',
      ...deploymentEmf(at, 'Failed', 'Ns'),
    });
    expect(emfProblems(outcome)).toEqual([]);
    expect(JSON.parse(outcome)).toMatchObject({ Outcome: 'Failed', Deployments: 1 });
    const days = JSON.stringify(emfFields(at, [[defs.daysToExpiry.cloudWatch, -2]], 'Ns'));
    expect(emfProblems(days)).toEqual([]);
    expect(JSON.parse(days)._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Ns',
      Dimensions: [[]],
      Metrics: [{ Name: 'InstalledCertificateDaysToExpiry', Unit: 'None' }],
    });
  });
});
