/**
 * The few formats every piece of human output shares, so that one value always looks the same:
 * times in local time with the UTC offset, short job ids, serials, durations. `--json` prints the
 * API's values unchanged (ISO 8601 UTC times, full job ids, serials as the API holds them).
 */

/** Formats a time for people; see `localTime`. */
export type TimeFormat = (at: string | Date) => string;

const two = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-11-30 10:15:02 +01:00`: the time in `timeZone` (the system's when undefined) with its
 * offset from UTC. An offset rather than an abbreviation: abbreviations are ambiguous (CST, IST)
 * and many zones have none. A value that is not a time is returned as it is.
 */
export function localTime(at: string | Date, timeZone?: string): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return String(at);
  const parts = new Intl.DateTimeFormat('en-US', {
    ...(timeZone === undefined ? {} : { timeZone }),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '';
  // longOffset is "GMT+01:00", or "GMT" at offset zero.
  const offset = part('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${offset}`;
}

/** The formatter for one time zone (the system's when undefined). */
export function timeFormat(timeZone?: string): TimeFormat {
  return (at) => localTime(at, timeZone);
}

/** Hex digits of a job id shown in human output, as git shows commits. */
export const shortIdDigits = 8;

/**
 * A job id as human output shows it: its kind and first 8 hex digits (`idem-1a2b3c4d`,
 * `r-0f9e8d7c`; a UUID's first 8, `6f1c2b9e`); any other id whole. `status`, `cancel` and the
 * rest accept these back (job-ids.ts).
 */
export function shortId(jobId: string): string {
  const m = /^((?:idem|[a-z])-)?([0-9a-f]{24,})$/i.exec(jobId);
  if (m !== null) return `${m[1] ?? ''}${(m[2] ?? '').slice(0, shortIdDigits)}`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) {
    return jobId.slice(0, shortIdDigits);
  }
  return jobId;
}

/** Serials as ACM shows them (`0a:1b:2c`), as everywhere people read one: domain/serial.ts. */
export { displaySerial } from '../domain/serial.ts';

/** `42s`, `3m05s`, `1h02m07s`. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${two(m)}m${two(s)}s`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}
