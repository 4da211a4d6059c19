import { inspect } from 'node:util';

const redacted = '[REDACTED]';

/**
 * A secret (passphrase) that cannot leak by accident: it prints, stringifies and serialises
 * as `[REDACTED]`. Only `reveal()` returns the value, at the one place that needs it.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}
