/**
 * What the dashboard shows, computed from the API's answers: no DOM here, so that Node's tests
 * import it as the browser does. Every function is pure (time is passed in).
 */

/** Days under which a certificate is flagged as expiring soon (the service's EXPIRY_NOTIFY_DAYS default). */
export const soonDays = 14;

const terminal = new Set([
  'Succeeded',
  'PartiallyFailed',
  'Failed',
  'TimedOut',
  'NoTargets',
  'Cancelled',
]);

/** Whether a deployment status is one a job ends in. */
export function isTerminal(status) {
  return terminal.has(status);
}

/**
 * Days to expiry as words and a level: `expired`, `soon` (under `soonDays`), `ok`, or
 * `unknown` before the first export. The level names a CSS class and is also written out.
 */
export function expiry(days) {
  if (days === null || days === undefined) {
    return { text: 'not exported yet', level: 'unknown', label: 'unknown' };
  }
  if (days < 0) {
    const n = -days;
    return {
      text: `expired ${n} ${n === 1 ? 'day' : 'days'} ago`,
      level: 'expired',
      label: 'expired',
    };
  }
  const text = days === 0 ? 'expires today' : `${days} ${days === 1 ? 'day' : 'days'}`;
  return days < soonDays
    ? { text, level: 'soon', label: 'expires soon' }
    : { text, level: 'ok', label: 'ok' };
}

/** Statuses of a job, or of a server's command, that have not ended. */
const unfinished = new Set([
  'Queued',
  'Exporting',
  'Dispatching',
  'Running',
  'Pending',
  'InProgress',
  'Delayed',
  'Cancelling',
]);

/**
 * A job's or a server's status as a level: `ok` (Succeeded, Success), `running` (not ended),
 * `other` (NoTargets, or none) or `failed` (every other end: Failed, TimedOut, Cancelled, …).
 */
export function statusLevel(status) {
  if (status === 'Succeeded' || status === 'Success') return 'ok';
  if (unfinished.has(status)) return 'running';
  if (status === 'NoTargets' || status === undefined || status === null || status === '') {
    return 'other';
  }
  return 'failed';
}

/** "2 of 3" servers converged, with a level; "no servers yet" when no job reached one. */
export function convergedText(servers) {
  if (servers === undefined || servers === null) return { text: 'unknown', level: 'unknown' };
  if (servers.total === 0) return { text: 'no servers yet', level: 'unknown' };
  const level =
    servers.converged === servers.total ? 'ok' : servers.converged === 0 ? 'failed' : 'soon';
  return { text: `${servers.converged} of ${servers.total}`, level };
}

/** A deployment's servers as "2 succeeded, 1 failed of 3", from its counts. */
export function countsText(d) {
  const c = d.counts;
  if (c === undefined) return isTerminal(d.status) ? 'no servers' : 'not dispatched yet';
  const parts = [];
  if (c.succeeded !== undefined) parts.push(`${c.succeeded} succeeded`);
  if (c.failed !== undefined && c.failed > 0) parts.push(`${c.failed} failed`);
  if (parts.length === 0) parts.push(`${c.completed} completed`, `${c.errors} errors`);
  return `${parts.join(', ')} of ${c.target}`;
}

/** Milliseconds between two ISO times, or undefined. */
function between(from, to) {
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : b - a;
}

/** A duration in ms as "850 ms", "12.4 s", "3 min 5 s" or "2 h 3 min". */
export function durationText(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${Math.round(s - min * 60)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** How long a deployment took (to `now` while it runs). */
export function deploymentDuration(d, now) {
  return between(d.createdAt, d.finishedAt ?? new Date(now).toISOString());
}

/** One condition's transition as a timeline event. */
function conditionEvent(c) {
  const state = c.status === 'True' ? '' : ` ${c.status}`;
  const reason = c.reason && c.reason !== c.type ? ` (${c.reason})` : '';
  const message = c.message ? `: ${c.message}` : '';
  return {
    at: c.lastTransitionTime,
    what: `${c.type}${state}${reason}${message}`,
    level: c.status === 'True' ? 'ok' : c.status === 'False' ? 'failed' : 'running',
  };
}

/**
 * A deployment's timeline, oldest first: its request, each condition's transition, a cancel
 * request, each server's result and its end, with the offset from the request in ms.
 */
export function timeline(d) {
  const events = [
    {
      at: d.createdAt,
      what: `Requested (${d.trigger}${d.requester ? ` by ${d.requester}` : ''})`,
      level: 'other',
    },
  ];
  // At one time, the job's steps come before its servers, and its completion after them.
  const conditions = d.conditions ?? [];
  events.push(...conditions.filter((c) => c.type !== 'Completed').map(conditionEvent));
  if (d.cancelRequest !== undefined) {
    events.push({
      at: d.cancelRequest.at,
      what: `Cancel requested by ${d.cancelRequest.by}`,
      level: 'failed',
    });
  }
  for (const s of d.servers ?? []) {
    const outcome = s.summary?.outcome ? `, ${s.summary.outcome}` : '';
    events.push({
      at: s.updatedAt,
      what: `Server ${s.instanceId}: ${s.status}${outcome}`,
      level: statusLevel(s.status),
    });
  }
  events.push(...conditions.filter((c) => c.type === 'Completed').map(conditionEvent));
  if (d.finishedAt !== undefined) {
    events.push({
      at: d.finishedAt,
      what: `Ended ${d.status}${d.reason ? `: ${d.reason}` : ''}`,
      level: statusLevel(d.status),
    });
  }
  const start = Date.parse(d.createdAt);
  return events
    .map((e, order) => ({ ...e, order, offsetMs: Date.parse(e.at) - start }))
    .filter((e) => !Number.isNaN(e.offsetMs))
    .sort((a, b) => a.offsetMs - b.offsetMs || a.order - b.order)
    .map(({ order: _order, ...e }) => e);
}

/** The newest `limit` deployments of several certificates' lists, newest first, each once. */
export function recentDeployments(lists, limit) {
  const byId = new Map();
  for (const list of lists) for (const d of list) byId.set(d.jobId, d);
  return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
}

/** The certificate's ARN shortened to its id (the part after "certificate/"). */
export function shortArn(arn) {
  const i = arn.lastIndexOf('/');
  return i < 0 ? arn : arn.slice(i + 1);
}

/** The job id in a location hash such as "#job=6f1c…", or undefined. */
export function jobFromHash(hash) {
  const m = /^#job=([A-Za-z0-9._:-]{1,128})$/.exec(hash);
  return m === null ? undefined : m[1];
}

/**
 * A job id as the CLI shows it (service/src/cli/display.ts shortId, which `status` and `cancel`
 * accept back): its kind and first 8 hex digits (`idem-1a2b3c4d`; a UUID's first 8); any other
 * id whole. A unit test keeps the two the same.
 */
export function shortId(jobId) {
  const m = /^((?:idem|[a-z])-)?([0-9a-f]{24,})$/i.exec(jobId);
  if (m !== null) return `${m[1] ?? ''}${(m[2] ?? '').slice(0, 8)}`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) {
    return jobId.slice(0, 8);
  }
  return jobId;
}

/**
 * A serial as the CLI shows it (display.ts displaySerial): lower-case hex byte pairs separated
 * by colons, without leading zero bytes, whichever form the API passed on (ACM's or openssl's).
 */
export function displaySerial(serial) {
  if (serial === undefined || serial === null) return '';
  const hex = serial.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return serial;
  const digits = hex.replace(/^0+(?=.)/, '');
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  return even.match(/../g)?.join(':') ?? even;
}
