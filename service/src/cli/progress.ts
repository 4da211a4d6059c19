import type { DeploymentView } from '../api/schemas.ts';
import { duration } from './display.ts';
import { countsText } from './format.ts';

/** How often, at most, the progress line on a terminal is redrawn while nothing else happens. */
export const redrawEveryMs = 2000;

/** Where `--wait` writes: whole lines, raw text (for rewriting a line in place), and whether stdout is a terminal. */
export interface ProgressOutput {
  readonly out: (text: string) => void;
  readonly write: (text: string) => void;
  readonly stdoutIsTTY: boolean;
}

const clearLine = '\r\x1b[2K';

/**
 * `--wait`'s output. Lines that record a change (a status, a server's result) are printed as
 * they come, on a terminal or not. On a terminal one more line, below them, shows the status,
 * servers done out of the total and the time elapsed, rewritten in place at every redraw (at
 * least every `redrawEveryMs`, whatever the polling interval), so a long job is never silent.
 */
export class Progress {
  readonly #output: ProgressOutput;
  readonly #startedAt: number;
  #showing = false;

  constructor(output: ProgressOutput, startedAt: Date) {
    this.#output = output;
    this.#startedAt = startedAt.getTime();
  }

  get live(): boolean {
    return this.#output.stdoutIsTTY;
  }

  /** Prints lines that stay, above the live line. */
  print(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.clear();
    for (const line of lines) this.#output.out(line);
  }

  /** On a terminal, rewrites the live line; elsewhere does nothing. */
  redraw(d: DeploymentView, now: Date): void {
    if (!this.live) return;
    const counts = countsText(d);
    const line = `${d.status}${counts === '' ? '' : `  ${counts}`}  ${duration(now.getTime() - this.#startedAt)} elapsed`;
    this.#output.write(`${clearLine}${line}`);
    this.#showing = true;
  }

  /** Removes the live line (before the final output, or a message). */
  clear(): void {
    if (!this.#showing) return;
    this.#output.write(clearLine);
    this.#showing = false;
  }
}
