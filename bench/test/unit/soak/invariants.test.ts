import { describe, expect, it } from 'vitest';
import { checkInvariants, type InvariantBed, newSecretHarvest } from '../../../soak/invariants.ts';
import type { LedgerCommand } from '../../../soak/invariants-model.ts';
import { mergeLedgers } from '../../../soak/invariants-read.ts';

const command = (commandId: string, status: string): LedgerCommand => ({
  commandId,
  comment: `acm-cert-export job ${commandId}`,
  documentName: 'Install-ACMCertificate',
  status,
  invocations: [{ instanceId: 'i-1', status, statusDetails: status }],
});

describe('the command ledger across stand-in restarts', () => {
  it('keeps a command only a snapshot saw, marked lost, as last seen; the final listing wins', () => {
    const merged = mergeLedgers(
      [
        new Map([['c1', command('c1', 'InProgress')]]),
        new Map([
          ['c1', command('c1', 'Success')],
          ['c2', command('c2', 'InProgress')],
        ]),
      ],
      new Map([['c2', command('c2', 'Success')]]),
    );
    expect([...merged.values()].map((c) => [c.commandId, c.status, c.lost])).toEqual([
      ['c1', 'Success', true],
      ['c2', 'Success', undefined],
    ]);
  });
});

describe('checkInvariants', () => {
  it('fails each line it cannot check, saying why, and never throws', async () => {
    const down = {
      send: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5000');
      },
    };
    const bed = {
      clients: { dynamodb: down, sqs: down, ssm: down, acm: down, ec2: down, secrets: down },
      provisioned: {
        names: { mappingTable: 'm', deploymentsTable: 'd', serversTable: 's' },
        queueUrl: 'q',
        deadLetterQueueUrl: 'dlq',
      },
      standInStateDir: '/nonexistent',
    } as unknown as InvariantBed;
    const lines = await checkInvariants(bed, {
      accepted: [],
      logFiles: [],
      secrets: newSecretHarvest(),
    });
    expect(lines.map((l) => [l.holds, l.detail])).toEqual([
      ...Array.from({ length: 8 }, () => [
        false,
        'could not check: Error: connect ECONNREFUSED 127.0.0.1:5000',
      ]),
    ]);
    expect(lines.map((l) => l.name)).toEqual([
      'every job reached an outcome matching its servers',
      'at most one SendCommand per job (and canary phase)',
      'no message left on the job queue',
      'no mapping lock held',
      'a secret version per export at most',
      'the dead-letter queue holds only jobs that say why',
      'no secret in any log line',
      'every server that should hold a certificate holds the newest',
    ]);
  });
});
