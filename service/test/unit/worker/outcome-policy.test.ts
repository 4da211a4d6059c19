import { describe, expect, it } from 'vitest';
import {
  isCommandTerminal,
  pollDelaySeconds,
  verdict,
} from '../../../src/worker/outcome-policy.ts';
import { anInvocation, progress, summaryLine } from '../../support/worker-world.ts';

const servers = (p: ReturnType<typeof progress>) =>
  p.invocations.map((i) => ({ ...i, updatedAt: '2026-01-01T00:00:00Z' }));

describe('outcome policy', () => {
  it.each([
    ['all succeeded', progress('Success', [anInvocation({ instanceId: 'a' })]), 'Succeeded'],
    [
      'some failed',
      progress('Failed', [
        anInvocation({ instanceId: 'a' }),
        anInvocation({
          instanceId: 'b',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 11,
        }),
      ]),
      'PartiallyFailed',
    ],
    [
      'all failed',
      progress('Failed', [
        anInvocation({
          instanceId: 'b',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 12,
        }),
      ]),
      'Failed',
    ],
    [
      'all timed out',
      progress('TimedOut', [
        anInvocation({ instanceId: 'b', status: 'TimedOut', statusDetails: 'Execution Timed Out' }),
      ]),
      'TimedOut',
    ],
    [
      'delivery timed out',
      progress('TimedOut', [
        anInvocation({ instanceId: 'b', status: 'TimedOut', statusDetails: 'Delivery Timed Out' }),
      ]),
      'TimedOut',
    ],
    [
      'NoInstancesInTag (as the API answers)',
      progress('Success', [], { statusDetails: 'NoInstancesInTag', targetCount: 0 }),
      'NoTargets',
    ],
    [
      'No Instances In Tag (as the guide writes it)',
      progress('Failed', [], { statusDetails: 'No Instances In Tag', targetCount: 0 }),
      'NoTargets',
    ],
  ])('%s → %s', (_, p, status) => {
    expect(isCommandTerminal(p)).toBe(true);
    expect(verdict(p, servers(p), 'env=dev').status).toBe(status);
  });

  it('names the serial installed as ACM shows it, whatever form the servers reported', () => {
    const p = progress('Success', [anInvocation({ instanceId: 'a' })]);
    const reported = [
      {
        instanceId: 'a',
        status: 'Success',
        statusDetails: 'Success',
        // openssl's form, as the install script reports it
        summary: JSON.parse(summaryLine({ serial: '0A1B2C' })),
        updatedAt: '2026-01-01T00:00:00Z',
      },
    ];
    expect(verdict(p, reported, 'env=dev').reason).toBe(
      'installed on 1 of 1 servers (serial 0a:1b:2c)',
    );
  });

  it('explains the exit code of a failed server', () => {
    const p = progress('Failed', [
      anInvocation({
        instanceId: 'i-9',
        status: 'Failed',
        statusDetails: 'Failed',
        responseCode: 11,
        output: '',
      }),
    ]);
    expect(verdict(p, servers(p), 'env=dev').reason).toMatch(
      /i-9 Failed \(exit 11: the server cannot read the job's secret/,
    );
  });

  it('is not terminal while the command or an invocation still runs', () => {
    expect(isCommandTerminal(progress('InProgress', []))).toBe(false);
    expect(isCommandTerminal(progress('Pending', []))).toBe(false);
    expect(
      isCommandTerminal(
        progress('Success', [anInvocation({ instanceId: 'a', status: 'InProgress' })]),
      ),
    ).toBe(false);
  });

  it.each([
    [0, 1],
    [3, 1],
    [20, 5],
    [1000, 30],
  ])('polls %i s into a command after %i s (between min and max)', (running, delay) => {
    expect(pollDelaySeconds(running, 1, 30)).toBe(delay);
  });
});
