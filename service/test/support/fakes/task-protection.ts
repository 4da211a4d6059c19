import type { Clock } from '../../../src/ports/clock.ts';
import type { TaskProtection } from '../../../src/ports/task-protection.ts';

/**
 * Task protection in memory: records every request, answers after the test says so (`hold`), or
 * fails when told to (`failNext`).
 */
export class RecordingTaskProtection implements TaskProtection {
  readonly requests: ('protect' | 'release')[] = [];
  /** Whether ECS would now consider the task protected. */
  protected_ = false;
  #failures = 0;
  #held: (() => void)[] = [];
  #holding = false;

  readonly #clock: Clock;

  /** `clock`: the expiry ECS reports is `minutes` after its time. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  failNext(times = 1): void {
    this.#failures += times;
  }

  /** Requests wait until `answer()` from now on. */
  hold(): void {
    this.#holding = true;
  }

  /** Answers every waiting request and stops holding. */
  answer(): void {
    this.#holding = false;
    for (const go of this.#held.splice(0)) go();
  }

  get waiting(): number {
    return this.#held.length;
  }

  async protect(minutes: number) {
    this.requests.push('protect');
    await this.#gate();
    if (this.#failures > 0) {
      this.#failures--;
      throw new Error('ECS refused: TASK_NOT_VALID');
    }
    this.protected_ = true;
    return { expiresAt: new Date(this.#clock.now().getTime() + minutes * 60_000) };
  }

  async release() {
    this.requests.push('release');
    await this.#gate();
    if (this.#failures > 0) {
      this.#failures--;
      throw new Error('the ECS agent did not answer');
    }
    this.protected_ = false;
  }

  async #gate(): Promise<void> {
    if (!this.#holding) return;
    await new Promise<void>((resolve) => {
      this.#held.push(resolve);
    });
  }
}
