import { describe, expect, it } from 'vitest';
import {
  type CommandState,
  commandStatus,
  counters,
  type InvocationState,
} from '../../run-command/command-state.ts';

function anInvocation(status: string, details = status): InvocationState {
  return {
    commandId: 'c',
    instanceId: `i-${Math.random().toString(16).slice(2, 10)}`,
    instanceName: '',
    behaviour: 'normal',
    agentVersion: '3.3.4364.0',
    reload: 'record',
    runMs: 0,
    status: status as InvocationState['status'],
    statusDetails: details,
    plugins: [],
  };
}

function aCommand(invocations: InvocationState[], overrides: Partial<CommandState> = {}) {
  return {
    commandId: 'c',
    documentName: 'Doc',
    documentVersion: '$DEFAULT',
    comment: '',
    parameters: {},
    instanceIds: [],
    targets: [],
    requestedAt: new Date(0),
    timeoutSeconds: 3600,
    maxConcurrency: '50',
    maxErrors: '0',
    errorBudget: 0,
    invocations,
    visibleAt: 300,
    settlesAt: 300,
    cancelRequested: false,
    ...overrides,
  } satisfies CommandState;
}

const inv = anInvocation;

describe('command status derived from its invocations', () => {
  it.each([
    ['all pending', [inv('Pending')], 0, 'Pending', 'Pending'],
    ['one running', [inv('InProgress'), inv('Pending')], 0, 'InProgress', 'InProgress'],
    ['one done, one pending', [inv('Success'), inv('Pending')], 0, 'InProgress', 'InProgress'],
    ['all succeeded', [inv('Success'), inv('Success')], 0, 'Success', 'Success'],
    ['a failure over the budget', [inv('Success'), inv('Failed')], 0, 'Failed', 'Failed'],
    ['a failure within the budget', [inv('Success'), inv('Failed')], 1, 'Success', 'Success'],
    [
      'only execution timeouts over the budget',
      [inv('TimedOut', 'ExecutionTimedOut')],
      0,
      'TimedOut',
      'ExecutionTimedOut',
    ],
    [
      'only delivery timeouts',
      [inv('TimedOut', 'DeliveryTimedOut'), inv('TimedOut', 'DeliveryTimedOut')],
      0,
      'TimedOut',
      'DeliveryTimedOut',
    ],
    [
      'a delivery timeout next to a success',
      [inv('TimedOut', 'DeliveryTimedOut'), inv('Success')],
      0,
      'Success',
      'Success',
    ],
    ['cancelling', [inv('Cancelling'), inv('Success')], 0, 'Cancelling', 'Cancelling'],
  ] as const)('%s', (_, invocations, budget, status, statusDetails) => {
    const command = aCommand([...invocations], { errorBudget: budget });
    expect(commandStatus(command, 1000)).toEqual({ status, statusDetails });
  });

  it('reports a cancelled command as Cancelled', () => {
    const command = aCommand([inv('Cancelled'), inv('Success')], { cancelRequested: true });
    expect(commandStatus(command, 1000)).toEqual({
      status: 'Cancelled',
      statusDetails: 'Cancelled',
    });
  });

  it('keeps a command without targets Pending, then settles it as NoInstancesInTag', () => {
    const command = aCommand([]);
    expect(commandStatus(command, 299)).toEqual({ status: 'Pending', statusDetails: 'Pending' });
    expect(commandStatus(command, 300)).toEqual({
      status: 'Success',
      statusDetails: 'NoInstancesInTag',
    });
  });

  it('counts completed, errors (Failed and Execution Timed Out) and delivery timeouts', () => {
    const command = aCommand([
      inv('Success'),
      inv('Failed'),
      inv('TimedOut', 'ExecutionTimedOut'),
      inv('TimedOut', 'DeliveryTimedOut'),
      inv('Cancelled', 'Terminated'),
      inv('InProgress'),
    ]);
    expect(counters(command)).toEqual({
      targetCount: 6,
      completedCount: 5,
      errorCount: 2,
      deliveryTimedOutCount: 1,
    });
  });
});
