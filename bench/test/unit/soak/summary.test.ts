import { describe, expect, it } from 'vitest';
import { formatSummary, passed, type SoakSummary } from '../../../soak/summary.ts';

const base: SoakSummary = {
  seed: 1,
  minutes: 3,
  rate: 1.5,
  workers: 3,
  drainedSeconds: 40,
  settled: true,
  totalSeconds: 260,
  traffic: { 'deploy-api': 10, read: 4 },
  duplicated: { 'deploy-api': 2 },
  answers: { 'deploy-api 202': 10 },
  faults: { 'SIGKILL worker': 2, 'dropped after the answer': 0 },
  jobs: { Succeeded: 9, PartiallyFailed: 1 },
  checks: [
    {
      kind: 'invariant',
      name: 'at most one SendCommand per job',
      holds: true,
      count: 10,
      detail: '',
    },
  ],
};

describe('soak summary', () => {
  it('prints one line per check and PASSED when every check holds', () => {
    const text = formatSummary(base);
    expect(text).toContain('deploy-api 10 (2 twice)');
    expect(text).toContain('jobs      10: PartiallyFailed 1 · Succeeded 9');
    expect(text).toContain('ok   invariant at most one SendCommand per job (10)');
    expect(text).not.toContain('dropped after the answer');
    expect(text.trim().endsWith('soak: PASSED')).toBe(true);
    expect(passed(base)).toBe(true);
  });

  it('fails the run on one failing check, and says what broke', () => {
    const failing: SoakSummary = {
      ...base,
      settled: false,
      checks: [
        ...base.checks,
        {
          kind: 'resources',
          name: 'worker-1 RSS',
          holds: false,
          count: 30,
          detail: '+14 % after warm-up',
        },
      ],
    };
    const text = formatSummary(failing);
    expect(text).toContain('FAIL resources worker-1 RSS (30): +14 % after warm-up');
    expect(text).toContain('NOT settled');
    expect(text.trim().endsWith('soak: FAILED')).toBe(true);
    expect(passed(failing)).toBe(false);
  });
});
