import {
  type Command,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { SsmCommandRunner } from '../../../src/adapters/ssm-command-runner.ts';
import { TerminalError } from '../../../src/domain/errors.ts';
import type { SendCommandInput } from '../../../src/ports/command-runner.ts';

/**
 * What one SendCommand attempt meets: answered; the connection dropped after Run Command took
 * the command (`drop-after`, the answer lost) or before it saw it (`drop-before`); a 500 after it
 * took it; a throttle; a refusal.
 */
type Fate = 'ok' | 'drop-after' | 'drop-before' | '500-after' | 'throttle' | 'refused';

const now = new Date('2026-11-30T12:00:00Z');

const dropped = () =>
  Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 1 } });
const answered = (name: string, status: number) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, attempts: 1 },
  });

/**
 * Run Command as the adapter's two clients see it: the commands it took, each listed by
 * ListCommands only from its `listedFromLook`-th look on (eventual consistency), stamped by a
 * clock `skewMs` behind the service's.
 */
function aRunCommand(fates: Fate[], options: { listedFromLook?: number; skewMs?: number } = {}) {
  const commands: (Command & { looksUntilListed: number })[] = [];
  const sendAttempts: Fate[] = [];
  const listFilters: { key?: string; value?: string }[][] = [];
  const take = (command: SendCommandCommand) => {
    commands.push({
      CommandId: `cmd-${commands.length + 1}`,
      Comment: command.input.Comment,
      DocumentName: command.input.DocumentName,
      RequestedDateTime: new Date(now.getTime() - (options.skewMs ?? 0)),
      looksUntilListed: (options.listedFromLook ?? 1) - 1,
    });
    return commands.at(-1)?.CommandId as string;
  };
  const sendClient = {
    async send(command: unknown) {
      if (!(command instanceof SendCommandCommand)) throw new Error('only SendCommand here');
      const fate = fates.shift() ?? 'ok';
      sendAttempts.push(fate);
      switch (fate) {
        case 'ok':
          return { Command: { CommandId: take(command) } };
        case 'drop-after':
          take(command);
          throw dropped();
        case 'drop-before':
          throw dropped();
        case '500-after':
          take(command);
          throw answered('InternalServerError', 500);
        case 'throttle':
          throw answered('ThrottlingException', 400);
        case 'refused':
          throw answered('InvalidInstanceId', 400);
      }
    },
  } as unknown as SSMClient;
  const ssm = {
    async send(command: unknown) {
      if (!(command instanceof ListCommandsCommand)) {
        throw new Error(`${(command as object).constructor.name} through the retrying client`);
      }
      const filters = command.input.Filters ?? [];
      listFilters.push(filters);
      const after = new Date(filters.find((f) => f.key === 'InvokedAfter')?.value ?? 0);
      const document = filters.find((f) => f.key === 'DocumentName')?.value;
      const listed = commands.filter((c) => {
        if (c.looksUntilListed > 0) {
          c.looksUntilListed -= 1;
          return false;
        }
        return c.DocumentName === document && (c.RequestedDateTime as Date) >= after;
      });
      return { Commands: listed.map(({ looksUntilListed: _, ...c }) => c) };
    },
  } as unknown as SSMClient;
  return { commands, sendAttempts, listFilters, sendClient, ssm };
}

function aRunner(runCommand: ReturnType<typeof aRunCommand>, attempts = 5) {
  const sleeps: number[] = [];
  const runner = new SsmCommandRunner(runCommand.ssm, {
    client: runCommand.sendClient,
    attempts,
    clock: { now: () => now },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
  return { runner, sleeps };
}

const input: SendCommandInput = {
  documentName: 'acm-cert-export-install',
  target: { key: 'env', value: 'prod' },
  parameters: { CertName: 'www' },
  comment: 'acm-cert-export job-1',
  maxConcurrency: '10%',
  maxErrors: '0',
  timeoutSeconds: 600,
};

describe('sending a command, never twice', () => {
  it('sends once and returns the command id', async () => {
    const bed = aRunCommand(['ok']);
    const { runner } = aRunner(bed);
    expect(await runner.send(input)).toEqual({ commandId: 'cmd-1' });
    expect(bed.commands).toHaveLength(1);
    expect(bed.listFilters).toHaveLength(0);
  });

  it.each(['drop-after', '500-after'] as const)(
    '%s: the answer lost, finds the command Run Command took and sends no other',
    async (fate) => {
      const bed = aRunCommand([fate]);
      const { runner } = aRunner(bed);
      expect(await runner.send(input)).toEqual({ commandId: 'cmd-1' });
      expect(bed.sendAttempts).toEqual([fate]);
      expect(bed.commands).toHaveLength(1);
      expect(bed.listFilters).toHaveLength(1);
    },
  );

  it('looks more than once: a command just sent can take a moment to be listed', async () => {
    const bed = aRunCommand(['drop-after'], { listedFromLook: 3 });
    const { runner, sleeps } = aRunner(bed);
    expect(await runner.send(input)).toEqual({ commandId: 'cmd-1' });
    expect(bed.commands).toHaveLength(1);
    expect(bed.listFilters).toHaveLength(3);
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('dropped before Run Command saw it: looked for, not found, thrown (retryable), not sent again', async () => {
    const bed = aRunCommand(['drop-before', 'ok']);
    const { runner, sleeps } = aRunner(bed);
    await expect(runner.send(input)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(bed.sendAttempts).toEqual(['drop-before']);
    expect(bed.commands).toHaveLength(0);
    // Looked at once, then after 1, 2 and 4 s; the dispatch step looks again before sending.
    expect(bed.listFilters).toHaveLength(4);
    expect(sleeps).toEqual([1_000, 2_000, 4_000]);
  });

  it('taken, but listed only after every look (seen in the soak): thrown, never sent twice', async () => {
    // Run Command took the command while its answer was lost (a request cut while it was being
    // processed) and lists it only after the looks: sending again would install twice.
    const bed = aRunCommand(['drop-after', 'ok'], { listedFromLook: 6 });
    const { runner } = aRunner(bed);
    await expect(runner.send(input)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(bed.sendAttempts).toEqual(['drop-after']);
    expect(bed.commands).toHaveLength(1);
  });

  it("never takes another job's command for its own", async () => {
    const bed = aRunCommand(['drop-before', 'ok']);
    bed.commands.push({
      CommandId: 'cmd-other',
      Comment: 'acm-cert-export job-2',
      DocumentName: input.documentName,
      RequestedDateTime: now,
      looksUntilListed: 0,
    });
    const { runner } = aRunner(bed);
    await expect(runner.send(input)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(bed.sendAttempts).toEqual(['drop-before']);
    expect(bed.listFilters).toHaveLength(4);
  });

  it('a throttle is a refusal: sent again after a backoff without looking, one command', async () => {
    const bed = aRunCommand(['throttle', 'throttle', 'ok']);
    const { runner, sleeps } = aRunner(bed);
    expect(await runner.send(input)).toEqual({ commandId: 'cmd-1' });
    expect(bed.sendAttempts).toEqual(['throttle', 'throttle', 'ok']);
    expect(bed.commands).toHaveLength(1);
    expect(bed.listFilters).toHaveLength(0);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0] as number);
  });

  it('a refusal (4xx) is thrown at once, classified, without looking', async () => {
    const bed = aRunCommand(['refused']);
    const { runner } = aRunner(bed);
    const error = await runner.send(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalError);
    expect(error).toMatchObject({ code: 'InvalidTarget' });
    expect(bed.sendAttempts).toHaveLength(1);
    expect(bed.listFilters).toHaveLength(0);
  });

  it('gives up after its attempts, throwing the last error (retryable)', async () => {
    const bed = aRunCommand(['throttle', 'throttle', 'throttle']);
    const { runner } = aRunner(bed, 3);
    await expect(runner.send(input)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(bed.sendAttempts).toHaveLength(3);
    expect(bed.commands).toHaveLength(0);
  });

  it('looks after its last attempt too when that one may have gone through; throws if not found', async () => {
    const taken = aRunCommand(['throttle', 'drop-after'], { listedFromLook: 2 });
    expect(await aRunner(taken, 2).runner.send(input)).toEqual({ commandId: 'cmd-1' });
    expect(taken.commands).toHaveLength(1);

    const lost = aRunCommand(['throttle', 'drop-before']);
    await expect(aRunner(lost, 2).runner.send(input)).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(lost.sendAttempts).toHaveLength(2);
    expect(lost.listFilters).toHaveLength(4);
    expect(lost.commands).toHaveLength(0);
  });

  it('finds a command stamped by a Run Command clock behind the service, of this document only', async () => {
    const bed = aRunCommand(['drop-after'], { skewMs: 2 * 60_000 });
    const { runner } = aRunner(bed);
    expect(await runner.send(input)).toEqual({ commandId: 'cmd-1' });
    expect(bed.commands).toHaveLength(1);
    expect(bed.listFilters[0]).toEqual([
      { key: 'DocumentName', value: 'acm-cert-export-install' },
      { key: 'InvokedAfter', value: '2026-11-30T11:55:00.000Z' },
    ]);
  });
});
