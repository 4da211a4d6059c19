import type { CommandProgress, CommandRunner } from '../ports/command-runner.ts';
import { isCommandTerminal } from './outcome-policy.ts';

/** How far a command got as the watcher compares it: servers done and failed. */
export function progressKey(counts: { completed: number; errors: number } | undefined): string {
  return `${counts?.completed ?? 0}/${counts?.errors ?? 0}`;
}

export interface RememberingRunner {
  /** The runner the watching worker's jobs use. */
  readonly runner: CommandRunner;
  /**
   * The command watcher's status look, remembered for the job it resumes when it shows the end;
   * with `endedAs` (the status Run Command's event gave), only the invocations are listed.
   */
  look(commandId: string, endedAs?: string): Promise<CommandProgress>;
  /** Whether a look shows the command ended (and its invocations all listed). */
  ended(progress: CommandProgress): boolean;
  /** How far a look shows the command got, as the job's record counts it. */
  progressOf(progress: CommandProgress): string;
}

/**
 * A status look the command watcher just made (which found the command ended, its invocations
 * listed, or further on) is handed to the job it resumes instead of asking Run Command again:
 * one look per command, not two. A remembered look is used once, and only while younger than `maxAgeMs`;
 * everything else goes to `runner` unchanged.
 */
export function rememberingProgress(
  runner: CommandRunner,
  now: () => number,
  maxAgeMs = 5_000,
): RememberingRunner {
  const looks = new Map<string, { at: number; progress: CommandProgress }>();
  return {
    runner: {
      send: (input) => runner.send(input),
      findByComment: (documentName, comment, invokedAfter) =>
        runner.findByComment(documentName, comment, invokedAfter),
      managedNodes: (ids) => runner.managedNodes(ids),
      managedNodesTagged: (target, options) => runner.managedNodesTagged(target, options),
      cancel: (commandId) => runner.cancel(commandId),
      async progress(commandId, options) {
        const remembered = looks.get(commandId);
        looks.delete(commandId);
        if (
          remembered !== undefined &&
          now() - remembered.at <= maxAgeMs &&
          (options?.invocations !== true || remembered.progress.invocations.length > 0)
        ) {
          return remembered.progress;
        }
        return runner.progress(commandId, options);
      },
    },
    ended: isCommandTerminal,
    progressOf: (p) => progressKey({ completed: p.completedCount, errors: p.errorCount }),
    async look(commandId, endedAs) {
      const progress = await runner.progress(
        commandId,
        endedAs === undefined ? undefined : { endedAs },
      );
      looks.set(commandId, { at: now(), progress });
      // Bounded: a look nobody collects (the job went elsewhere) is dropped with the next ones.
      if (looks.size > 1000) {
        const oldest = looks.keys().next().value;
        if (oldest !== undefined) looks.delete(oldest);
      }
      return progress;
    },
  };
}
