import { describe, expect, it } from 'vitest';
import { heldKey, serversHoldNewest, shouldHold } from '../../../soak/invariants-servers.ts';

const mapping = {
  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abcdef12-0000',
  certName: 'web',
  target: { key: 'env', value: 'dev' },
  certDir: '/etc/ssl/certs',
  acmSerial: '0a:1b:2c',
};
const instance = (instanceId: string, tags: Record<string, string>, state = 'running') => ({
  instanceId,
  state,
  tags,
});

describe('invariant 8: every server that should hold a certificate holds the newest', () => {
  const fleet = [
    instance('i-1', { env: 'dev' }),
    instance('i-2', { env: 'dev', 'standin:behaviour': 'instant' }),
    instance('i-3', { env: 'dev', 'standin:behaviour': 'fail' }),
    instance('i-4', { env: 'dev', 'standin:behaviour': 'hang' }),
    instance('i-5', { env: 'dev', 'standin:behaviour': 'unreachable' }),
    instance('i-6', { env: 'dev' }, 'stopped'),
    instance('i-7', { env: 'prod' }),
  ];

  it('expects running servers of the tag that can install: not failing, hanging or unreachable', () => {
    expect(fleet.filter((i) => shouldHold(i, mapping)).map((i) => i.instanceId)).toEqual([
      'i-1',
      'i-2',
    ]);
  });

  it("holds when each holds ACM's serial (openssl's form and ACM's compare equal)", () => {
    const held = new Map([
      [heldKey('i-1', mapping), 'A1B2C'],
      [heldKey('i-2', mapping), '0A1B2C'],
    ]);
    expect(serversHoldNewest([mapping], fleet, held)).toMatchObject({ holds: true, count: 2 });
  });

  it('fails naming a server that holds an older certificate or none', () => {
    const held = new Map([[heldKey('i-1', mapping), '0A1B2B']]);
    const line = serversHoldNewest([mapping], fleet, held);
    expect(line.holds).toBe(false);
    expect(line.detail).toBe(
      'i-1 holds an older env=dev web (abcdef12); i-2 holds no env=dev web (abcdef12)',
    );
  });

  it('fails when ACM does not know the certificate of a managed mapping', () => {
    const line = serversHoldNewest([{ ...mapping, acmSerial: undefined }], fleet, new Map());
    expect(line).toMatchObject({
      holds: false,
      detail: 'env=dev web (abcdef12): ACM does not know its certificate',
    });
  });
});
