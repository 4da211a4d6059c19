/**
 * EventBridge Scheduler's recurring expressions, checked at synth so that a wrong one fails
 * `cdk synth` naming its context key instead of CloudFormation failing the deploy. Plain data.
 */

const rate = /^rate\(([1-9]\d{0,5}) (minute|minutes|hour|hours|day|days)\)$/;

/** Characters each cron field takes (minutes hours day-of-month month day-of-week year). */
const cronFields: readonly [name: string, allowed: RegExp][] = [
  ['minutes', /^[0-9,*/-]+$/],
  ['hours', /^[0-9,*/-]+$/],
  ['day-of-month', /^[0-9,*?/LW-]+$/],
  ['month', /^[0-9A-Za-z,*/-]+$/],
  ['day-of-week', /^[0-9A-Za-z,*?/L#-]+$/],
  ['year', /^[0-9,*/-]+$/],
];

/**
 * What is wrong with a recurring Scheduler expression (`rate(value unit)` or `cron(six fields)`),
 * or undefined when nothing is. One-time `at(…)` schedules are refused: a sweep recurs.
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    return rate.test(expression)
      ? undefined
      : 'rate(<positive integer> minute|minutes|hour|hours|day|days)';
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron === null) return 'a rate(…) or cron(…) expression';
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== cronFields.length) {
    return 'cron(minutes hours day-of-month month day-of-week year): six fields';
  }
  for (const [i, [name, allowed]] of cronFields.entries()) {
    if (!allowed.test(fields[i] ?? '')) return `a cron expression whose ${name} field is valid`;
  }
  // Scheduler takes a day of the month or a day of the week, never both: one of them is `?`.
  if ((fields[2] === '?') === (fields[4] === '?')) {
    return 'a cron expression with ? in exactly one of day-of-month and day-of-week';
  }
  return undefined;
}
