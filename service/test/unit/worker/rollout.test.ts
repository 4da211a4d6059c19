import { describe, expect, it } from 'vitest';
import {
  errorBudget,
  errorThreshold,
  isMaxConcurrency,
  isMaxErrors,
  serversWorthCounting,
} from '../../../src/domain/rate-control.ts';
import type { InvocationResult } from '../../../src/ports/command-runner.ts';
import { neverAttempted, verdict } from '../../../src/worker/outcome-policy.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

const at = '2026-01-01T00:00:00Z';
const webOnDev = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
const ok = (instanceId: string) => anInvocation({ instanceId });
const failed = (instanceId: string) =>
  anInvocation({ instanceId, status: 'Failed', statusDetails: 'Failed', responseCode: 1 });
/** As Run Command reports a server it never sent the command to once MaxErrors was exceeded. */
const terminated = (instanceId: string) =>
  anInvocation({ instanceId, status: 'Cancelled', statusDetails: 'Terminated', output: '' });
const resultsOf = (p: ReturnType<typeof progress>) =>
  p.invocations.map((i) => ({ ...i, updatedAt: at }));

describe('rate control values', () => {
  it.each([
    ['1', true, true],
    ['50', true, true],
    ['0', false, true],
    ['1%', true, true],
    ['10%', true, true],
    ['100%', true, true],
    ['0%', false, false],
    ['101%', false, false],
    ['05', false, false],
    ['10 %', false, false],
    ['ten', false, false],
    ['', false, false],
  ])('%s: MaxConcurrency %s, MaxErrors %s', (value, concurrency, errors) => {
    expect(isMaxConcurrency(value)).toBe(concurrency);
    expect(isMaxErrors(value)).toBe(errors);
  });

  it.each([
    // Run Command rounds a percentage of the targets down: 10% of 50 stops at the sixth error.
    ['10%', 50, 5],
    ['10%', 9, 0],
    ['10%', 1, 0],
    ['10%', 5000, 500],
    ['0', 5000, 0],
    ['3', 2, 3],
  ])('MaxErrors %s of %i servers tolerates %i', (value, servers, budget) => {
    expect(errorBudget(value, servers)).toBe(budget);
  });

  it.each([
    // One server: nothing else to stop; its failure is the job's failure.
    ['10%', 1, '10%'],
    // Two to nine servers: 10% would stop the rest at the first failure.
    ['10%', 2, '1'],
    ['10%', 9, '1'],
    ['10%', 10, '10%'],
    ['10%', 5000, '10%'],
    ['50%', 2, '50%'],
    ['10%', undefined, '10%'],
    // A number is the operator's exact wish, 0 included (stop at the first failure).
    ['0', 50, '0'],
    ['2', 3, '2'],
  ])('MaxErrors %s for %s servers is sent as %s', (value, servers, sent) => {
    expect(errorThreshold(value, servers)).toBe(sent);
  });

  it('counts servers only as far as the percentage needs', () => {
    expect(serversWorthCounting('10%')).toBe(10);
    expect(serversWorthCounting('3%')).toBe(34);
    expect(serversWorthCounting('100%')).toBe(1);
    expect(serversWorthCounting('0')).toBe(0);
    expect(serversWorthCounting('25')).toBe(0);
  });
});

describe('dispatch with percentages', () => {
  const tagged = (w: ReturnType<typeof workerWorld>, count: number) => {
    for (let i = 1; i <= count; i++) {
      const id = `i-${String(i).padStart(8, '0')}`;
      w.commands.online(id);
      w.commands.tag(id, { env: 'dev' });
    }
  };

  it('sends MaxErrors 1 to a small tag target, so one failing server does not stop the rest', async () => {
    const w = workerWorld({ maxConcurrency: '10%', maxErrors: '10%' });
    tagged(w, 3);
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage());
    expect(w.commands.sent[0]).toMatchObject({ maxConcurrency: '10%', maxErrors: '1' });
  });

  it('keeps the percentage for a large target (counting stops at what it needs)', async () => {
    const w = workerWorld({ maxConcurrency: '10%', maxErrors: '10%' });
    tagged(w, 40);
    const counted: (number | undefined)[] = [];
    const list = w.commands.managedNodesTagged.bind(w.commands);
    w.commands.managedNodesTagged = async (target, options) => {
      counted.push(options?.atMost);
      return list(target);
    };
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage());
    expect(w.commands.sent[0]).toMatchObject({ maxConcurrency: '10%', maxErrors: '10%' });
    expect(counted).toEqual([10]);
  });

  it('counts a targeted job by its instance ids, and never counts for a number', async () => {
    const w = workerWorld({ maxErrors: '10%' });
    w.commands.online('i-00000001', 'i-00000002');
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage({ instanceIds: ['i-00000001', 'i-00000002'] }));
    expect(w.commands.sent[0]?.maxErrors).toBe('1');

    const exact = workerWorld({ maxErrors: '0' });
    exact.commands.managedNodesTagged = async () => {
      throw new Error('not needed');
    };
    exact.commands.script = [progress('InProgress', [])];
    await exact.deliver(aDeployMessage());
    expect(exact.commands.sent[0]?.maxErrors).toBe('0');
  });

  it('counts the tag for a first deployment only: a repeat uses the count its mapping recorded', async () => {
    const w = workerWorld({ maxConcurrency: '10%', maxErrors: '10%' });
    tagged(w, 3);
    let counts = 0;
    const list = w.commands.managedNodesTagged.bind(w.commands);
    w.commands.managedNodesTagged = async (target, options) => {
      counts += 1;
      return list(target, options);
    };
    const three = ['i-00000001', 'i-00000002', 'i-00000003'].map((id) =>
      anInvocation({ instanceId: id }),
    );
    w.commands.script = [progress('Success', three)];
    expect(await w.deliver(aDeployMessage(), 'm1')).toEqual({ kind: 'ack' });
    expect(counts).toBe(1);
    expect((await w.mappings.get(webOnDev))?.serverCount).toBe(3);

    w.commands.script = [progress('Success', three)];
    expect(await w.deliver(aDeployMessage({ jobId: 'job-00000002' }), 'm2')).toEqual({
      kind: 'ack',
    });
    expect(counts).toBe(1);
    expect(w.commands.sent[1]?.maxErrors).toBe('1');

    // A job to named servers records no count for the tag.
    w.commands.script = [progress('Success', [three[0] as InvocationResult])];
    await w.deliver(aDeployMessage({ jobId: 'job-00000003', instanceIds: ['i-00000001'] }), 'm3');
    expect((await w.mappings.get(webOnDev))?.serverCount).toBe(3);
  });
});

describe('a rollout halted by its error threshold', () => {
  it('ends PartiallyFailed, naming the failed server apart from those never attempted', () => {
    const p = progress('Failed', [ok('i-1'), failed('i-2'), terminated('i-3'), terminated('i-4')]);
    const v = verdict(p, resultsOf(p), 'env=dev');
    expect(v.status).toBe('PartiallyFailed');
    expect(v.reason).toMatch(/^installed on 1 of 4 servers; failed: i-2 Failed \(exit 1\)/);
    expect(v.reason).toContain(
      'never attempted on 2 (the rollout stopped at its error threshold, SSM_MAX_ERRORS): i-3; i-4',
    );
    expect(v.reason.split('never attempted')[0]).not.toMatch(/i-3|i-4/);
  });

  it('ends Failed when the first server failed and the rest were never attempted', () => {
    const p = progress('Failed', [failed('i-1'), terminated('i-2')]);
    const v = verdict(p, resultsOf(p), 'env=dev');
    expect(v.status).toBe('Failed');
    expect(v.reason).toMatch(
      /installed on 0 of 2 servers; failed: i-1 .*never attempted on 1 .*: i-2$/,
    );
  });

  it('recognises Terminated as a status or a detail, with or without spaces', () => {
    const base = { instanceId: 'i', updatedAt: at };
    expect(neverAttempted({ ...base, status: 'Cancelled', statusDetails: 'Terminated' })).toBe(
      true,
    );
    expect(neverAttempted({ ...base, status: 'Terminated', statusDetails: 'Terminated' })).toBe(
      true,
    );
    expect(neverAttempted({ ...base, status: 'Cancelled', statusDetails: 'Cancelled' })).toBe(
      false,
    );
    expect(neverAttempted({ ...base, status: 'Failed', statusDetails: 'Failed' })).toBe(false);
  });

  it('records every server as an item, the never-attempted ones keeping what they held', async () => {
    const w = workerWorld();
    const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
    await w.servers.recordInstalled(key, [
      {
        instanceId: 'i-3',
        serial: 'old',
        lastStatus: 'Success',
        lastJobId: 'before',
        updatedAt: at,
      },
    ]);
    w.commands.script = [progress('Failed', [ok('i-1'), failed('i-2'), terminated('i-3')])];
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('PartiallyFailed');
    expect(d?.counts).toMatchObject({ succeeded: 1, failed: 2 });
    expect(w.servers.results('job-00000001').map((s) => [s.instanceId, s.statusDetails])).toEqual([
      ['i-1', 'Success'],
      ['i-2', 'Failed'],
      ['i-3', 'Terminated'],
    ]);
    const held = await w.servers.installed(key);
    expect(held.find((s) => s.instanceId === 'i-3')).toMatchObject({
      serial: 'old',
      lastStatus: 'Cancelled',
    });
  });
});
