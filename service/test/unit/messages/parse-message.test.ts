import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { aCertificateAvailableEvent, anExpiredEvent } from '../../support/builders/acm-events.ts';
import { aDeployMessage, arnA } from '../../support/worker-world.ts';

const legacy = {
  CertificateArn: arnA,
  CertName: 'web',
  TargetTagKey: 'env',
  TargetTagValue: 'dev',
};

describe('parseMessage', () => {
  it('accepts a v1 deploy message', () => {
    const parsed = parseMessage(
      JSON.stringify(
        aDeployMessage({ install: { reloadCommand: '/usr/bin/systemctl reload nginx' } }),
      ),
    );
    expect(parsed).toMatchObject({
      kind: 'deploy',
      message: { certName: 'web', install: { reloadCommand: '/usr/bin/systemctl reload nginx' } },
    });
  });

  it('accepts the original HTTP body shape put straight on the queue', () => {
    expect(parseMessage(JSON.stringify(legacy))).toEqual({
      kind: 'deploy',
      message: {
        type: 'deploy',
        version: 1,
        certificateArn: arnA,
        certName: 'web',
        target: { key: 'env', value: 'dev' },
      },
    });
  });

  it.each([
    ['renewal', aCertificateAvailableEvent({ certificateArn: arnA })],
    ['expired', anExpiredEvent({ certificateArn: arnA })],
  ])('accepts an ACM EventBridge envelope (%s)', (_, event) => {
    expect(parseMessage(JSON.stringify(event))).toMatchObject({
      kind: 'acm-event',
      event: { id: event.id },
    });
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['a JSON array', '[1]', /not a JSON object/],
    [
      'unknown type',
      JSON.stringify({ type: 'reboot', version: 1 }),
      /unknown message type "reboot"/,
    ],
    ['unknown version', JSON.stringify({ ...aDeployMessage(), version: 2 }), /unknown version 2/],
    ['missing field', JSON.stringify({ ...aDeployMessage(), certName: undefined }), /certName/],
    [
      'unknown field',
      JSON.stringify({ ...aDeployMessage(), passphrase: 'x' }),
      /unknown field\(s\) "passphrase"/,
    ],
    [
      'path traversal',
      JSON.stringify(aDeployMessage({ certName: '../x' })),
      /\/certName: must match pattern/,
    ],
    ['slash', JSON.stringify(aDeployMessage({ certName: 'a/b' })), /certName/],
    [
      'double dot inside',
      JSON.stringify(aDeployMessage({ certName: 'a..b' })),
      /not a safe file name/,
    ],
    ['command substitution', JSON.stringify(aDeployMessage({ certName: '$(reboot)' })), /certName/],
    ['backticks', JSON.stringify(aDeployMessage({ certName: '`id`' })), /certName/],
    ['newline', JSON.stringify(aDeployMessage({ certName: 'a\nb' })), /certName/],
    [
      'quote in tag value',
      JSON.stringify(aDeployMessage({ target: { key: 'env', value: "dev';rm" } })),
      /target\/value/,
    ],
    [
      'bad ARN',
      JSON.stringify(aDeployMessage({ certificateArn: 'arn:aws:s3:::bucket' })),
      /certificateArn/,
    ],
    [
      'reload command with ;',
      JSON.stringify(aDeployMessage({ install: { reloadCommand: 'a; rm -rf /' } })),
      /install\/reloadCommand/,
    ],
    [
      'an unknown output format',
      JSON.stringify(aDeployMessage({ install: { formats: ['jks'] } as never })),
      /install\/formats/,
    ],
    [
      'world-readable key mode',
      JSON.stringify(aDeployMessage({ install: { keyMode: '644' } })),
      /install\/keyMode/,
    ],
    [
      'legacy with a hostile name',
      JSON.stringify({ ...legacy, CertName: '../../etc/passwd' }),
      /CertName/,
    ],
    [
      'legacy missing a field',
      JSON.stringify({ ...legacy, TargetTagValue: undefined }),
      /TargetTagValue/,
    ],
    [
      'event without resources',
      JSON.stringify({ ...aCertificateAvailableEvent(), resources: [] }),
      /resources/,
    ],
    ['something else', JSON.stringify({ hello: 'world' }), /unrecognised message/],
    [
      'an expiry check of an unknown version',
      JSON.stringify({ type: 'expiry-check', version: 2 }),
      /unknown version 2 of "expiry-check"/,
    ],
    [
      'an expiry check with an unknown field',
      JSON.stringify({ type: 'expiry-check', version: 1, certName: 'web' }),
      /invalid expiry check: \(root\): unknown field\(s\) "certName"/,
    ],
  ])('rejects %s with a reason', (_, body, reason) => {
    const parsed = parseMessage(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' ? parsed.reason : '').toMatch(reason);
  });

  it.each([
    [
      'as Scheduler sends it',
      { type: 'expiry-check', version: 1, scheduledTime: '2026-11-27T06:00:00Z' },
    ],
    ['put on the queue by hand', { type: 'expiry-check', version: 1 }],
  ])('accepts the scheduled expiry check, %s', (_, body) => {
    expect(parseMessage(JSON.stringify(body))).toEqual({ kind: 'expiry-check', message: body });
  });

  it('names the known message types when the type is unknown', () => {
    expect(parseMessage(JSON.stringify({ type: 'reboot', version: 1 }))).toMatchObject({
      reason:
        'unknown message type "reboot"; known: "deploy", "expiry-check", "reconcile", "reconcile-mapping"',
    });
  });

  it('reads a sweep and one mapping’s reconciliation, and says what is wrong with a bad one', () => {
    expect(parseMessage(JSON.stringify({ type: 'reconcile', version: 1, verify: true }))).toEqual({
      kind: 'reconcile',
      message: { type: 'reconcile', version: 1, verify: true },
    });
    const one = {
      type: 'reconcile-mapping',
      version: 1,
      sweepId: 's-0123',
      certificateArn:
        'arn:aws:acm:us-east-1:123456789012:certificate/aaaaaaaa-1111-2222-3333-444444444444',
      certName: 'web',
      target: { key: 'env', value: 'dev' },
    };
    expect(parseMessage(JSON.stringify(one))).toEqual({ kind: 'reconcile-mapping', message: one });
    expect(parseMessage(JSON.stringify({ ...one, certName: '..' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/certName/),
    });
    expect(parseMessage(JSON.stringify({ ...one, sweepId: 'has space' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^invalid reconcile-mapping message: \/sweepId/),
    });
    expect(parseMessage(JSON.stringify({ type: 'reconcile', version: 2 }))).toMatchObject({
      reason: 'unknown version 2 of "reconcile"; known: 1',
    });
    expect(parseMessage(JSON.stringify({ type: 'reconcile', version: 1, extra: 1 }))).toMatchObject(
      {
        kind: 'invalid',
      },
    );
  });

  it("reads Run Command's status-change event, and says what is wrong with a bad one", () => {
    const event = {
      version: '0',
      id: 'e1',
      'detail-type': 'EC2 Command Status-change Notification',
      source: 'aws.ssm',
      detail: {
        'command-id': '0b0e6c3e-8f0b-4d8a-9d3c-2f9d1e6b7a10',
        'document-name': 'Install-ACMCertificate',
        'expire-after': '2026-11-30T07:00:00.000Z',
        parameters: { CertName: ['web'] },
        'requested-date-time': '2026-11-30T06:00:00.000Z',
        status: 'Success',
      },
    };
    expect(parseMessage(JSON.stringify(event))).toMatchObject({
      kind: 'command-status',
      event: { detail: { 'command-id': event.detail['command-id'], status: 'Success' } },
    });
    const bad = parseMessage(
      JSON.stringify({ ...event, detail: { ...event.detail, 'command-id': '../x' } }),
    );
    expect(bad.kind).toBe('invalid');
    expect(bad).toMatchObject({
      reason: expect.stringMatching(/Run Command status-change event.*command-id/),
    });
  });

  it('rejects a body over 256 KiB without parsing it', () => {
    expect(parseMessage(`"${'x'.repeat(300_000)}"`)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/larger than/),
    });
  });
});
