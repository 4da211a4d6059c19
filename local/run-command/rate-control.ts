/**
 * MaxConcurrency and MaxErrors: an absolute number or a percentage of the targets
 * (AWS defaults: 50 and 0). Patterns from the SSM API reference.
 */
import { SsmApiError } from './wire.ts';

const concurrencyPattern = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const errorsPattern = /^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$/;

export const defaultMaxConcurrency = '50';
export const defaultMaxErrors = '0';

function checked(name: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) {
    throw new SsmApiError(
      'ValidationException',
      `1 validation error detected: Value '${value}' at '${name}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return value;
}

export function checkMaxConcurrency(value: string | undefined): string {
  return checked('maxConcurrency', value ?? defaultMaxConcurrency, concurrencyPattern);
}

export function checkMaxErrors(value: string | undefined): string {
  return checked('maxErrors', value ?? defaultMaxErrors, errorsPattern);
}

/** How many invocations may run at once: at least one. */
export function concurrencyLimit(maxConcurrency: string, targetCount: number): number {
  if (!maxConcurrency.endsWith('%')) return Number(maxConcurrency);
  return Math.max(1, Math.ceil((targetCount * Number(maxConcurrency.slice(0, -1))) / 100));
}

/**
 * How many errors are tolerated: no new invocation is sent once the error count exceeds it
 * ("if you specify 3, the system stops sending the command when the fourth error is received").
 */
export function errorBudget(maxErrors: string, targetCount: number): number {
  if (!maxErrors.endsWith('%')) return Number(maxErrors);
  return Math.floor((targetCount * Number(maxErrors.slice(0, -1))) / 100);
}
