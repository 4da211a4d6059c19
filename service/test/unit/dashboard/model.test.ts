import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../../local/paths.ts';
import { displaySerial, shortId } from '../../../src/cli/display.ts';
import { terminalStatusList } from '../../../src/domain/deployment.ts';

interface Event {
  at: string;
  what: string;
  level: string;
  offsetMs: number;
}
/** The page's model (plain JavaScript the browser loads as it is). */
interface Model {
  isTerminal(status: string): boolean;
  expiry(days: number | null): { text: string; level: string; label: string };
  statusLevel(status: string | undefined): string;
  convergedText(s: { converged: number; total: number } | undefined): {
    text: string;
    level: string;
  };
  countsText(d: object): string;
  durationText(ms: number | undefined): string;
  timeline(d: object): Event[];
  recentDeployments(lists: object[][], limit: number): { jobId: string }[];
  shortArn(arn: string): string;
  jobFromHash(hash: string): string | undefined;
  shortId(jobId: string): string;
  displaySerial(serial: string | undefined): string;
}

const model = (await import(
  pathToFileURL(join(repoRoot, 'service/src/dashboard/page/model.js')).href
)) as Model;

describe('the dashboard page’s model', () => {
  it('ends a job on the statuses the service ends it on (its own copy of the list)', () => {
    for (const status of terminalStatusList) expect(model.isTerminal(status), status).toBe(true);
    for (const status of ['Queued', 'Exporting', 'Dispatching', 'Running']) {
      expect(model.isTerminal(status), status).toBe(false);
    }
  });

  it.each([
    [null, 'not exported yet', 'unknown'],
    [-1, 'expired 1 day ago', 'expired'],
    [-30, 'expired 30 days ago', 'expired'],
    [0, 'expires today', 'soon'],
    [1, '1 day', 'soon'],
    [13, '13 days', 'soon'],
    [14, '14 days', 'ok'],
    [397, '397 days', 'ok'],
  ])('days to expiry %s: "%s" (%s)', (days, text, level) => {
    expect(model.expiry(days)).toMatchObject({ text, level });
  });

  it.each([
    ['Succeeded', 'ok'],
    ['Success', 'ok'],
    ['Running', 'running'],
    ['InProgress', 'running'],
    ['Queued', 'running'],
    ['PartiallyFailed', 'failed'],
    ['TimedOut', 'failed'],
    ['Cancelled', 'failed'],
    ['DeliveryTimedOut', 'failed'],
    ['NoTargets', 'other'],
    [undefined, 'other'],
  ])('status %s is %s', (status, level) => {
    expect(model.statusLevel(status)).toBe(level);
  });

  it('writes servers converged out of total', () => {
    expect(model.convergedText({ converged: 2, total: 2 })).toEqual({
      text: '2 of 2',
      level: 'ok',
    });
    expect(model.convergedText({ converged: 1, total: 3 })).toEqual({
      text: '1 of 3',
      level: 'soon',
    });
    expect(model.convergedText({ converged: 0, total: 3 })).toEqual({
      text: '0 of 3',
      level: 'failed',
    });
    expect(model.convergedText({ converged: 0, total: 0 }).text).toBe('no servers yet');
    expect(model.convergedText(undefined).text).toBe('unknown');
  });

  it('writes a deployment’s server counts', () => {
    expect(
      model.countsText({
        status: 'PartiallyFailed',
        counts: { target: 3, completed: 3, errors: 1, succeeded: 2, failed: 1 },
      }),
    ).toBe('2 succeeded, 1 failed of 3');
    expect(
      model.countsText({ status: 'Running', counts: { target: 2, completed: 1, errors: 0 } }),
    ).toBe('1 completed, 0 errors of 2');
    expect(model.countsText({ status: 'Queued' })).toBe('not dispatched yet');
  });

  it.each([
    [850, '850 ms'],
    [12_400, '12.4 s'],
    [185_000, '3 min 5 s'],
    [7_380_000, '2 h 3 min'],
    [undefined, ''],
  ])('duration %s ms is "%s"', (ms, text) => {
    expect(model.durationText(ms)).toBe(text);
  });

  it('builds a deployment’s timeline from its record, oldest first, with offsets', () => {
    const events = model.timeline({
      jobId: 'j-1',
      status: 'PartiallyFailed',
      reason: '1 of 2 servers failed',
      trigger: 'api',
      requester: 'arn:aws:iam::123456789012:user/demo',
      createdAt: '2026-11-30T10:00:00.000Z',
      finishedAt: '2026-11-30T10:00:09.000Z',
      conditions: [
        {
          type: 'Completed',
          status: 'False',
          reason: 'PartiallyFailed',
          message: '1 failed',
          lastTransitionTime: '2026-11-30T10:00:09.000Z',
        },
        {
          type: 'Exported',
          status: 'True',
          reason: 'Exported',
          message: 'serial 0a',
          lastTransitionTime: '2026-11-30T10:00:01.500Z',
        },
        {
          type: 'Dispatched',
          status: 'True',
          reason: 'CommandSent',
          message: '',
          lastTransitionTime: '2026-11-30T10:00:02.000Z',
        },
      ],
      servers: [
        {
          instanceId: 'i-3',
          status: 'Failed',
          statusDetails: 'Failed',
          updatedAt: '2026-11-30T10:00:09.000Z',
        },
        {
          instanceId: 'i-2',
          status: 'Failed',
          statusDetails: 'Failed',
          updatedAt: '2026-11-30T10:00:08.000Z',
        },
        {
          instanceId: 'i-1',
          status: 'Success',
          statusDetails: 'Success',
          summary: { outcome: 'installed' },
          updatedAt: '2026-11-30T10:00:05.000Z',
        },
      ],
    });
    expect(events.map((e) => [e.offsetMs, e.what, e.level])).toEqual([
      [0, 'Requested (api by arn:aws:iam::123456789012:user/demo)', 'other'],
      [1500, 'Exported: serial 0a', 'ok'],
      [2000, 'Dispatched (CommandSent)', 'ok'],
      [5000, 'Server i-1: Success, installed', 'ok'],
      [8000, 'Server i-2: Failed', 'failed'],
      [9000, 'Server i-3: Failed', 'failed'],
      [9000, 'Completed False (PartiallyFailed): 1 failed', 'failed'],
      [9000, 'Ended PartiallyFailed: 1 of 2 servers failed', 'failed'],
    ]);
  });

  it('merges certificates’ deployment lists into the newest few, each once', () => {
    const a = { jobId: 'a', createdAt: '2026-11-30T10:00:00.000Z' };
    const b = { jobId: 'b', createdAt: '2026-11-30T11:00:00.000Z' };
    const c = { jobId: 'c', createdAt: '2026-11-30T09:00:00.000Z' };
    expect(
      model
        .recentDeployments(
          [
            [a, c],
            [b, a],
          ],
          2,
        )
        .map((d) => d.jobId),
    ).toEqual(['b', 'a']);
  });

  it('reads the chosen job from the location hash, and nothing else', () => {
    expect(model.jobFromHash('#job=6f1c2b9e-0a')).toBe('6f1c2b9e-0a');
    expect(model.jobFromHash('#job=<img src=x>')).toBeUndefined();
    expect(model.jobFromHash('')).toBeUndefined();
    expect(model.shortArn('arn:aws:acm:us-east-1:1:certificate/abc')).toBe('abc');
  });

  it.each([
    'idem-924986e043ecc727c40cb4affa7862fa1e6e00fb06c09a989b0942fb3c2637e9',
    'r-0f9e8d7c6b5a49382716051f2e3d4c5b',
    '6f1c2b9e-1234-4abc-8def-0123456789ab',
    'job-00000001',
  ])('shows job id %s as the CLI does', (jobId) => {
    expect(model.shortId(jobId)).toBe(shortId(jobId));
  });

  it.each([
    '5732E5B295371366E2083A96125C6B28566014F7',
    '57:32:e5:b2:95:37',
    '00:0a:1b',
    'A1B',
    'not-hex',
  ])('shows serial %s as the CLI does', (serial) => {
    expect(model.displaySerial(serial)).toBe(displaySerial(serial));
  });
});
