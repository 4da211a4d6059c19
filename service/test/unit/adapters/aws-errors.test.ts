import { describe, expect, it } from 'vitest';
import {
  classify,
  isRetryable,
  mayHaveActed,
  withRetry,
} from '../../../src/adapters/aws-errors.ts';
import { TerminalError } from '../../../src/domain/errors.ts';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('failure classification', () => {
  it.each([
    ['ThrottlingException', 400, true],
    ['TooManyRequestsException', 429, true],
    ['ProvisionedThroughputExceededException', 400, true],
    ['InternalServerError', 500, true],
    ['ServiceUnavailable', 503, true],
    ['SomethingNew', 502, true],
    ['ValidationException', 400, false],
    ['ResourceNotFoundException', 400, false],
    ['ConditionalCheckFailedException', 400, false],
    ['AccessDeniedException', 403, false],
  ])('%s (HTTP %i) is retryable: %s', (name, status, retryable) => {
    expect(isRetryable(sdkError(name, status))).toBe(retryable);
  });

  it('retries network failures (no answer at all) but not programming errors', () => {
    expect(isRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
    expect(isRetryable(new TypeError('x is not a function'))).toBe(false);
    expect(isRetryable(new TerminalError('X', 'no'))).toBe(false);
  });

  it('turns listed and access-denied errors into TerminalError with a code, and leaves the rest', () => {
    const describe = (n: string) => `ACM ${n} for arn:x`;
    const notFound = classify(
      sdkError('ResourceNotFoundException', 400),
      { ResourceNotFoundException: 'CertificateNotFound' },
      describe,
    );
    expect(notFound).toBeInstanceOf(TerminalError);
    expect(notFound).toMatchObject({
      code: 'CertificateNotFound',
      message: 'ACM ResourceNotFoundException for arn:x',
    });
    expect(classify(sdkError('AccessDeniedException', 403), {}, describe)).toMatchObject({
      code: 'AccessDenied',
    });
    const throttled = sdkError('ThrottlingException', 400);
    expect(classify(throttled, {}, describe)).toBe(throttled);
  });
});

describe('whether a failed call may have been carried out', () => {
  it.each([
    ['ThrottlingException', 400, false],
    ['TooManyRequestsException', 429, false],
    ['RequestLimitExceeded', 503, false],
    ['ValidationException', 400, false],
    ['InternalFailure', 500, true],
    ['ServiceUnavailable', 503, true],
    ['SomethingNew', 502, true],
  ])('%s (HTTP %i): %s', (name, status, acted) => {
    expect(mayHaveActed(sdkError(name, status))).toBe(acted);
  });

  it('may have, after a dropped connection or a timeout (no answer); not after a refusal', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(mayHaveActed(reset)).toBe(true);
    expect(mayHaveActed(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(
      true,
    );
    expect(mayHaveActed(new TerminalError('InvalidParameters', 'refused'))).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries a throttled call and returns its result', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw sdkError('ThrottlingException', 400);
        return 'ok';
      },
      { minTimeoutMs: 1, maxTimeoutMs: 2 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('stops at once on a terminal error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new TerminalError('CertificateNotFound', 'gone');
      }),
    ).rejects.toBeInstanceOf(TerminalError);
    expect(calls).toBe(1);
  });

  it('gives up after the retries and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw sdkError('InternalServerError', 500);
        },
        { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
      ),
    ).rejects.toThrow('InternalServerError happened');
    expect(calls).toBe(3);
  });
});
