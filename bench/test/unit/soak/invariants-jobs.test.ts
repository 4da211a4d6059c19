import { describe, expect, it } from 'vitest';
import type { Deployment, ServerResult } from '../../../../service/src/domain/deployment.ts';
import { commandsPerJob, jobOutcomes } from '../../../soak/invariants-jobs.ts';
import type { LedgerCommand } from '../../../soak/invariants-model.ts';

const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b6c1f0e-1111-2222-3333-444444444444';

function record(jobId: string, changes: Partial<Deployment> = {}): Deployment {
  return {
    job: {
      type: 'deploy',
      version: 1,
      jobId,
      certificateArn: arn,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
    },
    status: 'Succeeded',
    reason: 'installed on 2 of 2 servers',
    conditions: [],
    commandId: `c-${jobId}`,
    attempts: 1,
    failures: 0,
    createdAt: '2026-11-30T00:00:00.000Z',
    updatedAt: '2026-11-30T00:00:00.000Z',
    version: 5,
    ...changes,
  } as Deployment;
}

function command(
  jobId: string,
  statuses: Record<string, string>,
  changes: Partial<LedgerCommand> = {},
): LedgerCommand {
  return {
    commandId: `c-${jobId}`,
    comment: `acm-cert-export job ${jobId}`,
    documentName: 'Install-ACMCertificate',
    status: 'Success',
    invocations: Object.entries(statuses).map(([instanceId, status]) => ({
      instanceId,
      status,
      statusDetails: status,
    })),
    ...changes,
  };
}

const items = (statuses: Record<string, string>): ServerResult[] =>
  Object.entries(statuses).map(([instanceId, status]) => ({
    instanceId,
    status,
    statusDetails: status,
    updatedAt: '2026-11-30T00:00:00.000Z',
  }));

const ledgerOf = (...commands: LedgerCommand[]) => new Map(commands.map((c) => [c.commandId, c]));
const ok = { 'i-1': 'Success', 'i-2': 'Success' };

describe('invariant 1: every job reached an outcome matching its servers', () => {
  it('holds for a success, a partial failure naming its server, and jobs that never sent', () => {
    const partial = { 'i-1': 'Success', 'i-2': 'Failed' };
    const line = jobOutcomes(
      [
        record('j1'),
        record('j2', {
          status: 'PartiallyFailed',
          reason: 'installed on 1 of 2 servers; failed: i-2 Failed (exit 12)',
        }),
        record('j3', { status: 'NoTargets', reason: 'no managed node', commandId: undefined }),
        record('j4', { status: 'Failed', reason: 'refused: tag key', commandId: undefined }),
      ],
      new Map([
        ['j1', items(ok)],
        ['j2', items(partial)],
      ]),
      ledgerOf(command('j1', ok), command('j2', partial)),
      [{ jobId: 'j1', via: 'api' }],
    );
    expect(line).toEqual({
      name: 'every job reached an outcome matching its servers',
      holds: true,
      count: 4,
      detail: '',
    });
  });

  it('fails on a job left in progress, naming it', () => {
    const line = jobOutcomes(
      [record('j1', { status: 'Running', reason: undefined })],
      new Map(),
      ledgerOf(command('j1', ok)),
      [],
    );
    expect(line.holds).toBe(false);
    expect(line.detail).toBe('j1 left Running');
  });

  it('fails on a success some server did not have, and on a missing or disagreeing server item', () => {
    const line = jobOutcomes(
      [record('j1')],
      new Map([['j1', items({ 'i-1': 'Failed' })]]),
      ledgerOf(command('j1', { 'i-1': 'Success', 'i-2': 'Failed' })),
      [],
    );
    expect(line.holds).toBe(false);
    expect(line.detail).toContain('j1 Succeeded but i-2 Failed');
    expect(line.detail).toContain('j1: server item i-1 says Failed, Run Command Success');
    expect(line.detail).toContain('j1: no server item for i-2');
  });

  it('fails on a failure whose reason does not name the failed servers', () => {
    const failed = { 'i-1': 'Failed', 'i-2': 'Failed' };
    const line = jobOutcomes(
      [record('j1', { status: 'Failed', reason: 'failed on all 2 servers: i-1 Failed' })],
      new Map([['j1', items(failed)]]),
      ledgerOf(command('j1', failed)),
      [],
    );
    expect(line.detail).toBe('j1 Failed: its reason does not name i-2');
  });

  it('fails on a failure every server contradicts, and on a command not recorded', () => {
    const line = jobOutcomes(
      [
        record('j1', { status: 'Failed', reason: 'gave up after 8 failed attempts' }),
        record('j2', { status: 'Failed', reason: 'refused', commandId: undefined }),
      ],
      new Map([['j1', items(ok)]]),
      ledgerOf(command('j1', ok), command('j2', ok)),
      [],
    );
    expect(line.detail).toContain('j1 Failed but every server it reached succeeded');
    expect(line.detail).toContain('j2: command c-j2 carries its comment but is not recorded');
  });

  it('fails on a partial failure where all or none succeeded, and on NoTargets that reached servers', () => {
    const line = jobOutcomes(
      [
        record('j1', { status: 'PartiallyFailed', reason: 'installed on 1 of 2 servers' }),
        record('j2', { status: 'PartiallyFailed', reason: 'failed: i-1 Failed; i-2 Failed' }),
        record('j3', { status: 'NoTargets', reason: 'no managed node carries the tag' }),
      ],
      new Map([
        ['j1', items(ok)],
        ['j2', items({ 'i-1': 'Failed', 'i-2': 'Failed' })],
      ]),
      ledgerOf(
        command('j1', ok),
        command('j2', { 'i-1': 'Failed', 'i-2': 'Failed' }),
        command('j3', { 'i-1': 'Success' }),
      ),
      [],
    );
    expect(line.detail).toBe(
      'j1 PartiallyFailed but 2 of 2 servers succeeded; j2 PartiallyFailed but 0 of 2 servers succeeded; j3 NoTargets but its command reached 1 servers',
    );
  });

  it('fails on a record without a reason, a success without a command, an unknown command', () => {
    const line = jobOutcomes(
      [
        record('j1', { reason: undefined }),
        record('j2', { commandId: undefined }),
        record('j3', { commandId: 'c-gone' }),
      ],
      new Map([['j1', items(ok)]]),
      ledgerOf(command('j1', ok)),
      [],
    );
    expect(line.detail).toContain('j1 Succeeded without a reason');
    expect(line.detail).toContain('j2 Succeeded without a command');
    expect(line.detail).toContain('j3: its command c-gone is unknown to Run Command');
  });

  it('fails when a job id the soak was answered with has no record', () => {
    const line = jobOutcomes([], new Map(), new Map(), [{ jobId: 'api-1', via: 'api' }]);
    expect(line).toMatchObject({
      holds: false,
      count: 0,
      detail: 'accepted job api-1 has no record',
    });
  });

  it('reads a canary job: the canary command, then the whole tag', () => {
    const canary = command(
      'j1',
      { 'i-1': 'Success' },
      {
        commandId: 'c-canary',
        comment: 'acm-cert-export canary j1',
      },
    );
    const d = record('j1', { phase: 'rest', canaryCommandId: 'c-canary', canaryServers: ['i-1'] });
    const holds = jobOutcomes(
      [d],
      new Map([['j1', items(ok)]]),
      ledgerOf(canary, command('j1', ok)),
      [],
    );
    expect(holds.holds).toBe(true);
    const stopped = jobOutcomes(
      [
        record('j1', {
          status: 'Failed',
          phase: 'canary',
          canaryServers: ['i-1'],
          commandId: 'c-canary',
          reason: 'the canary failed: installed on 0 of 1 canary servers; failed: i-1 Failed',
        }),
      ],
      new Map([['j1', items({ 'i-1': 'Failed' })]]),
      ledgerOf({
        ...canary,
        invocations: [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed' }],
      }),
      [],
    );
    expect(stopped.holds, stopped.detail).toBe(true);
  });

  it('does not compare a job whose command a stand-in restart cut short, and says so', () => {
    const line = jobOutcomes(
      [record('j1', { status: 'Failed', reason: 'command c-j1 not found' })],
      new Map(),
      ledgerOf(command('j1', { 'i-1': 'InProgress' }, { lost: true })),
      [],
    );
    expect(line).toMatchObject({
      holds: true,
      detail: "1 jobs' commands known from snapshots before stand-in restarts",
    });
  });
});

describe('invariant 2: at most one SendCommand per job and canary phase', () => {
  it('holds for one command per job and one per canary phase', () => {
    const line = commandsPerJob(
      ledgerOf(
        command('j1', ok),
        command('j1', ok, { commandId: 'c2', comment: 'acm-cert-export canary j1' }),
        command('j2', ok),
      ),
    );
    expect(line).toMatchObject({ holds: true, count: 3 });
  });

  it('fails on a second command with a job comment, naming it', () => {
    const line = commandsPerJob(
      ledgerOf(command('j1', ok), command('j1', ok, { commandId: 'c2' })),
    );
    expect(line).toMatchObject({
      holds: false,
      detail: '2 commands with "acm-cert-export job j1"',
    });
  });
});
