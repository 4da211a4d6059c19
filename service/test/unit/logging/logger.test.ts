import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { createLogger } from '../../../src/logging/logger.ts';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

describe('logger redaction', () => {
  it.each([
    ['passphrase', { passphrase: 'hunter2hunter2' }],
    ['nested Passphrase', { input: { Passphrase: 'hunter2hunter2' } }],
    ['private key', { bundle: { privateKey: 'hunter2hunter2' } }],
    ['SSM parameter', { parameters: { EncryptedPrivateKey: 'hunter2hunter2' } }],
    ['authorization header', { req: { headers: { authorization: 'hunter2hunter2' } } }],
    ['SecretString', { out: { SecretString: 'hunter2hunter2' } }],
    ['SecretValue', { value: new SecretValue('hunter2hunter2') }],
  ])('never writes a %s', (_, payload) => {
    const { lines, logger } = capture();
    logger.info(payload, 'something happened');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('hunter2hunter2');
    expect(lines[0]).toContain('[REDACTED]');
  });

  it('keeps a SecretValue out of string interpolation and JSON', () => {
    const s = new SecretValue('hunter2hunter2');
    expect(`${s}`).toBe('[REDACTED]');
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}');
    expect(s.reveal()).toBe('hunter2hunter2');
  });
});
