/**
 * Drives one command: sends invocations to the targets within MaxConcurrency, stops sending
 * once MaxErrors is exceeded, expires undelivered invocations after the delivery timeout,
 * runs each target's steps for real and records what happened.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CommandState,
  type InvocationState,
  isError,
  isTerminal,
  type PluginState,
  setInvocationStatus,
} from './command-state.ts';
import type { ContainerEngine } from './container-engine.ts';
import { runScriptInContainer } from './container-script.ts';
import { type CommandDocument, defaultStepTimeoutSeconds } from './document.ts';
import { instantSummary } from './instant-summary.ts';
import { passesEnvVarParameters } from './managed-nodes.ts';
import { interpolate, parameterEnvironment } from './parameters.ts';
import { concurrencyLimit } from './rate-control.ts';
import { runScript, type ScriptOutcome, wait } from './script-process.ts';
import {
  prepareServerRoot,
  type ReloadCommand,
  recordInstantInstall,
  serverRoot,
} from './server-root.ts';
import type { RunCommandTiming } from './timing.ts';

export interface CommandRunnerContext {
  readonly timing: RunCommandTiming;
  readonly stateDir: string;
  /** Environment every script gets (AWS endpoint, credentials, region, PATH…). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Name each server in its AWS calls' User-Agent (see RunCommandServerOptions). */
  readonly nameServers: boolean;
  readonly region: string;
  /** The reload commands every server allows (each server's allow-list and recorders). */
  readonly reloadCommands: readonly ReloadCommand[];
  /**
   * Where the scripts of servers that are containers (tag `standin:container`) run, and their
   * environment there (the AWS endpoint as the containers reach it, credentials, region, PATH).
   * Undefined: no container engine configured; such a server's invocation fails, saying so.
   */
  readonly containers?: {
    readonly engine: ContainerEngine;
    readonly env: Readonly<Record<string, string>>;
  };
  /** Aborted when the server stops: everything running is cancelled. */
  readonly shutdown: AbortSignal;
  readonly log: (line: string) => void;
}

export interface RunningCommand {
  /** Cancels the given invocations (all when omitted). */
  cancel(instanceIds?: readonly string[]): void;
  /** Settles when every invocation is terminal. */
  readonly done: Promise<void>;
}

export { serverRoot } from './server-root.ts';

function stepTimeoutMs(
  context: CommandRunnerContext,
  timeout: string | undefined,
  values: Readonly<Record<string, readonly string[]>>,
): number {
  if (context.timing.executionTimeoutMs !== undefined) return context.timing.executionTimeoutMs;
  const seconds = Number(timeout === undefined ? NaN : interpolate(timeout, values));
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : defaultStepTimeoutSeconds) * 1000;
}

/** Records a step's outcome; true when it succeeded. */
function finishPlugin(plugin: PluginState, outcome: ScriptOutcome): boolean {
  plugin.finishedAt = new Date();
  plugin.stdout = outcome.stdout;
  plugin.stderr = outcome.stderr;
  plugin.responseCode = outcome.exitCode;
  if (outcome.kind === 'timed-out') {
    plugin.status = 'TimedOut';
    plugin.statusDetails = 'ExecutionTimedOut';
  } else if (outcome.kind === 'cancelled') {
    plugin.status = 'Cancelled';
    plugin.statusDetails = 'Cancelled';
  } else if (outcome.exitCode === 0) {
    plugin.status = 'Success';
    plugin.statusDetails = 'Success';
    return true;
  } else {
    plugin.status = 'Failed';
    plugin.statusDetails = 'Failed';
  }
  return false;
}

export function startCommand(
  command: CommandState,
  document: CommandDocument,
  values: Readonly<Record<string, readonly string[]>>,
  context: CommandRunnerContext,
): RunningCommand {
  const { timing } = context;
  const limit = concurrencyLimit(command.maxConcurrency, command.invocations.length);
  const queue = [...command.invocations];
  const controllers = new Map<string, AbortController>();
  let active = 0;
  let sending = true;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolvePromise) => {
    resolveDone = resolvePromise;
  });
  const lifetime = new AbortController();
  const onShutdown = () => cancel();
  context.shutdown.addEventListener('abort', onShutdown, { once: true });

  const controllerOf = (invocation: InvocationState) => {
    let controller = controllers.get(invocation.instanceId);
    if (controller === undefined) {
      controller = new AbortController();
      controllers.set(invocation.instanceId, controller);
    }
    return controller;
  };

  const settleIfDone = () => {
    if (command.invocations.every((i) => isTerminal(i.status)) && active === 0) {
      lifetime.abort();
      context.shutdown.removeEventListener('abort', onShutdown);
      resolveDone();
    }
  };

  /** After MaxErrors is exceeded the remaining invocations are never sent. */
  const stopSendingIfTooManyErrors = () => {
    if (command.invocations.filter(isError).length <= command.errorBudget) return;
    sending = false;
    for (const invocation of queue.splice(0)) {
      if (invocation.status === 'Pending') {
        setInvocationStatus(invocation, 'Cancelled', 'Terminated', new Date());
      }
    }
  };

  /** The environment every server's script gets, wherever it runs. */
  const serverEnv = (invocation: InvocationState) => ({
    AWS_SSM_INSTANCE_ID: invocation.instanceId,
    AWS_SSM_REGION_NAME: context.region,
    // Agents before 3.3.2746.0 do not know interpolationType ENV_VAR: no SSM_* variable.
    ...(passesEnvVarParameters(invocation.agentVersion)
      ? parameterEnvironment(document, values)
      : {}),
    // The server's own AWS calls (the script's GetSecretValue) name it in their User-Agent, so
    // that the test bed evaluates them against the servers' policy (local/iam).
    ...(context.nameServers
      ? { AWS_SDK_UA_APP_ID: `acm-cert-export-server.${invocation.instanceId}` }
      : {}),
  });

  /** A step's script on this machine, under the server's root, with recorders for reloads. */
  const localStep = async (invocation: InvocationState) => {
    const root = serverRoot(context.stateDir, invocation.instanceId);
    const agentDir = join(context.stateDir, 'agent', invocation.instanceId);
    const env = {
      ...context.baseEnv,
      HOME: join(agentDir, 'home'),
      ...serverEnv(invocation),
      ACM_CERT_EXPORT_ROOT: `${root}/`,
    };
    await mkdir(root, { recursive: true });
    await prepareServerRoot(root, {
      reloadCommands: context.reloadCommands,
      reload: invocation.reload,
      slowReloadMs: timing.slowReloadMs,
    });
    await mkdir(env.HOME, { recursive: true });
    return (stepName: string, scriptText: string, timeoutMs: number, signal: AbortSignal) =>
      runScript({
        scriptText,
        scriptFile: join(agentDir, 'orchestration', command.commandId, stepName, '_script.sh'),
        cwd: join(agentDir, 'orchestration', command.commandId, stepName),
        env,
        timeoutMs,
        killGraceMs: timing.killGraceMs,
        signal,
      });
  };

  /**
   * A step's script inside the server's container, as root with real paths: the container's own
   * allow-list and reload commands (no recorder, no fake root).
   */
  const containerStep = (invocation: InvocationState, container: string) => {
    const containers = context.containers;
    const env = { ...containers?.env, HOME: '/root', ...serverEnv(invocation) };
    const agentDir = `/var/lib/amazon/ssm/${invocation.instanceId}/document/orchestration`;
    return async (
      stepName: string,
      scriptText: string,
      timeoutMs: number,
      signal: AbortSignal,
    ): Promise<ScriptOutcome> => {
      if (containers === undefined) {
        return {
          kind: 'exited',
          exitCode: 1,
          stdout: '',
          stderr: `stand-in: this server is container ${container} (standin:container) but the stand-in has no container engine (DOCKER_HOST)\n`,
        };
      }
      return runScriptInContainer({
        engine: containers.engine,
        container,
        scriptText,
        scriptDir: `${agentDir}/${command.commandId}/${stepName}`,
        env,
        timeoutMs,
        killGraceMs: timing.killGraceMs,
        signal,
      });
    };
  };

  const runSteps = async (invocation: InvocationState, signal: AbortSignal) => {
    const runStep =
      invocation.container === undefined
        ? await localStep(invocation)
        : containerStep(invocation, invocation.container);
    for (const [index, step] of document.steps.entries()) {
      const plugin = invocation.plugins[index] as PluginState;
      plugin.status = 'InProgress';
      plugin.statusDetails = 'InProgress';
      plugin.startedAt = new Date();
      const timeoutMs = stepTimeoutMs(context, step.timeoutSeconds, values);
      const scriptText = interpolate(step.runCommand.join('\n'), values);
      const outcome = await runBehaviour(invocation, signal, timeoutMs, values, () =>
        runStep(step.name, scriptText, timeoutMs, signal),
      );
      if (!finishPlugin(plugin, outcome)) break;
    }
    const failed = invocation.plugins.find((p) => p.status !== 'Success' && isTerminal(p.status));
    const last = failed ?? invocation.plugins.at(-1);
    // Steps after a failed one are not run.
    setInvocationStatus(
      invocation,
      last?.status ?? 'Success',
      last?.statusDetails ?? 'Success',
      new Date(),
    );
  };

  /** Applies the server's `standin:behaviour` tag around the real run. */
  const runBehaviour = async (
    invocation: InvocationState,
    signal: AbortSignal,
    timeoutMs: number,
    values: Readonly<Record<string, readonly string[]>>,
    run: () => Promise<ScriptOutcome>,
  ): Promise<ScriptOutcome> => {
    const idle = async (ms: number): Promise<ScriptOutcome | undefined> => {
      const result = await wait(Math.min(ms, timeoutMs), signal);
      if (result === 'aborted') return { kind: 'cancelled', exitCode: -1, stdout: '', stderr: '' };
      if (ms >= timeoutMs) return { kind: 'timed-out', exitCode: -1, stdout: '', stderr: '' };
      return undefined;
    };
    switch (invocation.behaviour) {
      case 'hang':
        return (await idle(Number.POSITIVE_INFINITY)) as ScriptOutcome;
      case 'fail':
        return {
          kind: 'exited',
          exitCode: 1,
          stdout: '',
          stderr: 'stand-in: this server has standin:behaviour=fail; the script was not run\n',
        };
      case 'instant': {
        // A server whose work costs this machine nothing (benchmarks measure the orchestration,
        // not openssl): success with the summary the script prints for what it was sent, after
        // `standin:run-ms` (0 by default).
        const early = invocation.runMs > 0 ? await idle(invocation.runMs) : undefined;
        if (early !== undefined) return early;
        // What the install leaves on the server: the certificate's full chain (not for Verify;
        // one file, no process), so that a check of what the fleet holds sees it.
        if (invocation.container === undefined) {
          await recordInstantInstall(serverRoot(context.stateDir, invocation.instanceId), values);
        }
        return { kind: 'exited', exitCode: 0, stdout: instantSummary(values), stderr: '' };
      }
      case 'slow': {
        const early = await idle(timing.slowMs);
        if (early !== undefined) return early;
        return run();
      }
      default:
        return run();
    }
  };

  const execute = async (invocation: InvocationState) => {
    const signal = controllerOf(invocation).signal;
    if (invocation.behaviour === 'unreachable') {
      // Never delivered: stays Pending until the delivery timeout or a cancel ends it.
      await wait(Number.POSITIVE_INFINITY, signal);
      return;
    }
    setInvocationStatus(invocation, 'InProgress', 'InProgress', new Date());
    try {
      await runSteps(invocation, signal);
    } catch (error) {
      context.log(
        `invocation ${command.commandId}/${invocation.instanceId} broke: ${String(error)}`,
      );
      setInvocationStatus(invocation, 'Failed', 'Failed', new Date());
    }
  };

  const pump = () => {
    while (sending && active < limit && queue.length > 0) {
      const invocation = queue.shift() as InvocationState;
      if (invocation.status !== 'Pending') continue;
      active++;
      void execute(invocation).finally(() => {
        active--;
        stopSendingIfTooManyErrors();
        pump();
        settleIfDone();
      });
    }
    settleIfDone();
  };

  const expireUndelivered = () => {
    queue.splice(0);
    for (const invocation of command.invocations) {
      if (invocation.status !== 'Pending') continue;
      setInvocationStatus(invocation, 'TimedOut', 'DeliveryTimedOut', new Date());
      controllers.get(invocation.instanceId)?.abort();
    }
    settleIfDone();
  };

  function cancel(instanceIds?: readonly string[]): void {
    const chosen = command.invocations.filter(
      (i) =>
        instanceIds === undefined || instanceIds.length === 0 || instanceIds.includes(i.instanceId),
    );
    for (const invocation of chosen) {
      if (isTerminal(invocation.status)) continue;
      if (invocation.status === 'InProgress') {
        setInvocationStatus(invocation, 'Cancelling', 'Cancelling', new Date());
        controllerOf(invocation).abort();
      } else {
        setInvocationStatus(invocation, 'Cancelled', 'Cancelled', new Date());
        controllers.get(invocation.instanceId)?.abort();
      }
    }
    settleIfDone();
  }

  if (command.invocations.length === 0) {
    resolveDone();
    return { cancel: () => {}, done };
  }
  const deliveryTimeoutMs = timing.deliveryTimeoutMs ?? command.timeoutSeconds * 1000;
  void wait(deliveryTimeoutMs, lifetime.signal).then((result) => {
    if (result === 'elapsed') expireUndelivered();
  });
  void wait(timing.deliveryMs, lifetime.signal).then((result) => {
    if (result === 'elapsed') pump();
  });
  return { cancel, done };
}
