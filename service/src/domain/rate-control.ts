/**
 * Run Command's rate control (SendCommand MaxConcurrency and MaxErrors): an absolute number of
 * servers, or a percentage of the servers the command targets.
 *
 * Run Command rounds a percentage of the target count: at least one server runs at a time, and
 * the error budget is the number of failures tolerated before it stops sending to the servers not
 * yet attempted ("10% of 50 stops at the sixth error", so 10% of 1 to 9 servers is 0, the first
 * failure stops the rest). `errorThreshold` keeps the percentage for large targets but never lets
 * it round a fleet of two or more down to zero: one failing server does not stop the others.
 */

/** SSM's MaxConcurrency pattern: 1 or more servers, or 1%-100%. */
export const maxConcurrencyPattern = '^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$';
/** SSM's MaxErrors pattern, as this service accepts it: 0 or more servers, or 1%-100%. */
export const maxErrorsPattern = '^([1-9][0-9]*|0|[1-9][0-9]%|[1-9]%|100%)$';

/** Defaults: ten waves of a tenth of the servers, and the rollout stops once a tenth failed. */
export const defaultMaxConcurrency = '10%';
export const defaultMaxErrors = '10%';

const concurrency = new RegExp(maxConcurrencyPattern);
const errors = new RegExp(maxErrorsPattern);

export function isMaxConcurrency(value: string): boolean {
  return concurrency.test(value);
}

export function isMaxErrors(value: string): boolean {
  return errors.test(value);
}

/** The percentage of a `10%` value; undefined for an absolute number. */
function percentage(value: string): number | undefined {
  return value.endsWith('%') ? Number(value.slice(0, -1)) : undefined;
}

/**
 * How many servers the MaxErrors value tolerates when `servers` are targeted: a number as it is; a
 * percentage of the servers, rounded down as Run Command does.
 */
export function errorBudget(maxErrors: string, servers: number): number {
  const p = percentage(maxErrors);
  return p === undefined ? Number(maxErrors) : Math.floor((servers * p) / 100);
}

/**
 * The MaxErrors to send for a command to `servers` servers (undefined: not known). A percentage
 * that would tolerate no failure on two or more servers becomes `1`, so that one failing server
 * never stops the rest; a number (`0` included: stop at the first failure) is sent as it is, and
 * so is a percentage when the count is unknown or large enough.
 */
export function errorThreshold(maxErrors: string, servers: number | undefined): string {
  if (percentage(maxErrors) === undefined || servers === undefined || servers < 2) {
    return maxErrors;
  }
  return errorBudget(maxErrors, servers) < 1 ? '1' : maxErrors;
}

/**
 * How many servers the worker must count to know whether `errorThreshold` changes a percentage:
 * from this many on, the percentage tolerates at least one failure by itself. 0: never needed.
 */
export function serversWorthCounting(maxErrors: string): number {
  const p = percentage(maxErrors);
  return p === undefined ? 0 : Math.ceil(100 / p);
}
