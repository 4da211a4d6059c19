import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProcessLogger, isPretty } from '../../../src/logging/logger.ts';

/** A stream standing for standard output: a terminal or not. */
function output(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _e, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}

describe('log format', () => {
  it('is pretty on a terminal when auto, JSON on anything else; LOG_FORMAT overrides', () => {
    expect(isPretty('auto', { isTTY: true })).toBe(true);
    expect(isPretty('auto', { isTTY: false })).toBe(false);
    expect(isPretty('auto', {})).toBe(false);
    expect(isPretty('json', { isTTY: true })).toBe(false);
    expect(isPretty('pretty', { isTTY: false })).toBe(true);
  });

  it('writes readable lines to a terminal', async () => {
    const out = output(true);
    const logger = await createProcessLogger('info', 'auto', out.stream);
    logger.info({ jobId: 'job-1' }, 'deployment queued');
    const text = out.text();
    expect(text).toContain('deployment queued');
    expect(text).toContain('jobId');
    expect(() => JSON.parse(text.split('\n')[0] ?? '')).toThrow();
  });

  it('writes one JSON object a line to a file or a pipe, redacting as ever', async () => {
    const out = output(false);
    const logger = await createProcessLogger('info', 'auto', out.stream);
    logger.info({ jobId: 'job-1', passphrase: 'hunter2hunter2' }, 'deployment queued');
    logger.debug('not at info');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      msg: 'deployment queued',
      jobId: 'job-1',
      passphrase: '[REDACTED]',
    });
  });

  it('redacts in pretty lines too', async () => {
    const out = output(true);
    const logger = await createProcessLogger('info', 'pretty', out.stream);
    logger.info({ passphrase: 'hunter2hunter2' }, 'careless');
    expect(out.text()).not.toContain('hunter2hunter2');
  });
});
