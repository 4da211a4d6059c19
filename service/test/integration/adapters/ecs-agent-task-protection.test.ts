import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startTaskProtectionStandIn,
  type TaskProtectionStandIn,
} from '../../../../local/ecs-agent/task-protection-stand-in.ts';
import {
  EcsAgentTaskProtection,
  TaskProtectionError,
} from '../../../src/adapters/ecs-agent-task-protection.ts';

let agent: TaskProtectionStandIn;

beforeAll(async () => {
  agent = await startTaskProtectionStandIn();
});

afterEach(() => {
  agent.behave('normal');
});

afterAll(async () => {
  await agent?.stop();
});

describe('task protection through the ECS agent endpoint', () => {
  it('protects for the minutes asked and releases, in the shape the agent accepts', async () => {
    const protection = new EcsAgentTaskProtection(agent.agentUri('task-a'), { timeoutMs: 2000 });
    const before = Date.now();
    const { expiresAt } = await protection.protect(10);
    expect(agent.isProtected('task-a')).toBe(true);
    expect(expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 10 * 60_000 - 1000);
    expect(expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + 10 * 60_000 + 1000);
    await protection.release();
    expect(agent.isProtected('task-a')).toBe(false);
    expect(agent.requests.filter((r) => r.task === 'task-a')).toEqual([
      expect.objectContaining({ enabled: true, expiresInMinutes: 10 }),
      expect.objectContaining({ enabled: false }),
    ]);
    expect(agent.requests.at(-1)).not.toHaveProperty('expiresInMinutes');
  });

  it('accepts ECS_AGENT_URI with a trailing slash', async () => {
    const protection = new EcsAgentTaskProtection(`${agent.agentUri('task-b')}/`, {
      timeoutMs: 2000,
    });
    await protection.protect(1);
    expect(agent.isProtected('task-b')).toBe(true);
  });

  it.each([
    ['ECS refuses (a failure in an HTTP 200)', 'ecs-failure', /ECS refused: TASK_NOT_VALID/],
    [
      'the agent times out calling ECS (504)',
      'agent-timeout',
      /answered 504: RequestCanceled Timed out calling ECS Task Protection API/,
    ],
  ] as const)('rejects when %s', async (_what, behaviour, message) => {
    const protection = new EcsAgentTaskProtection(agent.agentUri('task-c'), { timeoutMs: 2000 });
    agent.behave(behaviour);
    const attempt = protection.protect(5);
    await expect(attempt).rejects.toThrow(TaskProtectionError);
    await expect(protection.protect(5)).rejects.toThrow(message);
    expect(agent.isProtected('task-c')).toBe(false);
  });

  it('rejects when ECS refuses the expiry (outside 1-2880 minutes)', async () => {
    const protection = new EcsAgentTaskProtection(agent.agentUri('task-d'), { timeoutMs: 2000 });
    await expect(protection.protect(2881)).rejects.toThrow(/400: InvalidParameterException/);
  });

  it('rejects when nothing listens, and when the agent does not answer in time', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nobody = new EcsAgentTaskProtection(`http://127.0.0.1:${port}/api/x`, {
      timeoutMs: 2000,
    });
    await expect(nobody.protect(5)).rejects.toThrow(/the ECS agent did not answer/);

    const silent = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address() as AddressInfo;
      const slow = new EcsAgentTaskProtection(`http://127.0.0.1:${address.port}/api/x`, {
        timeoutMs: 200,
      });
      await expect(slow.protect(5)).rejects.toThrow(/the ECS agent did not answer/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
