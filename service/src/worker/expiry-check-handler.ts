import type { Logger } from 'pino';
import type { Mapping } from '../domain/mapping.ts';
import type { ExpiryCheckMessage } from '../messages/expiry-check.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import {
  emfFields,
  installedDaysToExpiryMetric,
  installedMinDaysToExpiryMetric,
} from './metrics.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** Mappings read per page of the walk (one Scan request each). */
export const expiryCheckPageSize = 100;

const dayMs = 86_400_000;

/**
 * Whole days from `now` until `notAfter` (negative once expired): "expires in fewer than 14
 * days" is `days < 14`. Undefined when there is no installed copy or its date cannot be read.
 */
export function daysToExpiry(notAfter: string | undefined, now: Date): number | undefined {
  if (notAfter === undefined) return undefined;
  const at = Date.parse(notAfter);
  return Number.isNaN(at) ? undefined : Math.floor((at - now.getTime()) / dayMs);
}

interface Tally {
  mappings: number;
  /** Mappings no deployment ever installed (or whose date cannot be read): not in the minimum. */
  withoutInstalledCopy: number;
  min?: { days: number; mapping: Mapping };
}

function checkOne(m: Mapping, now: Date, tally: Tally, log: Logger): void {
  tally.mappings++;
  const days = daysToExpiry(m.notAfter, now);
  const fields = {
    certificateArn: m.certificateArn,
    certName: m.certName,
    target: `${m.target.key}=${m.target.value}`,
    ...(m.notAfter === undefined ? {} : { notAfter: m.notAfter }),
    ...(m.serial === undefined ? {} : { serial: m.serial }),
    ...(m.lastOutcome === undefined ? {} : { lastOutcome: m.lastOutcome }),
  };
  if (days === undefined) {
    tally.withoutInstalledCopy++;
    log.info(fields, 'expiry check: no installed copy recorded for this mapping');
    return;
  }
  if (tally.min === undefined || days < tally.min.days) tally.min = { days, mapping: m };
  log[days < 0 ? 'warn' : 'info'](
    {
      ...fields,
      daysToExpiry: days,
      ...emfFields(now, { [installedDaysToExpiryMetric]: { value: days, unit: 'None' } }),
    },
    days < 0
      ? `expiry check: the installed copy expired ${-days} days ago`
      : `expiry check: the installed copy expires in ${days} days`,
  );
}

/**
 * The daily expiry check: walks every mapping, page by page (a Scan: once a day, all of them is
 * the point), and writes as Embedded Metric Format the days until each installed copy's
 * notAfter, then once the smallest of them, which the stack's InstalledCertificateExpiring alarm
 * compares with expiryAlarmDays. The installed copy is what the mapping recorded at its last
 * Succeeded or PartiallyFailed deployment. A failed walk is retried with backoff, then
 * dead-lettered (the DLQ alarm then says the check did not run); running it twice only writes
 * the same figures twice.
 */
export async function handleExpiryCheck(
  message: ExpiryCheckMessage,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const now = deps.clock.now();
  const log = deps.logger.child({
    expiryCheck: ctx.messageId,
    ...(message.scheduledTime === undefined ? {} : { scheduledTime: message.scheduledTime }),
  });
  const tally: Tally = { mappings: 0, withoutInstalledCopy: 0 };
  try {
    let cursor: string | undefined;
    do {
      const page = await deps.mappings.list(expiryCheckPageSize, cursor);
      for (const m of page.items) checkOne(m, now, tally, log);
      cursor = page.cursor;
    } while (cursor !== undefined);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unknown error';
    if (ctx.receiveCount >= deps.settings.maxFailures) {
      return deadLetter(`expiry check failed ${ctx.receiveCount} times: ${reason}`);
    }
    log.warn({ err: error }, 'expiry check failed; will retry');
    return later(2 ** ctx.receiveCount, 'expiry check failed');
  }
  const summary = { mappings: tally.mappings, withoutInstalledCopy: tally.withoutInstalledCopy };
  if (tally.min === undefined) {
    log.info(summary, 'expiry check done: no installed copy to check');
    return ack;
  }
  const soonest = tally.min.mapping;
  log.info(
    {
      ...summary,
      minDaysToExpiry: tally.min.days,
      soonest: {
        certificateArn: soonest.certificateArn,
        certName: soonest.certName,
        target: `${soonest.target.key}=${soonest.target.value}`,
      },
      ...emfFields(now, {
        [installedMinDaysToExpiryMetric]: { value: tally.min.days, unit: 'None' },
      }),
    },
    `expiry check done: the soonest installed copy expires in ${tally.min.days} days`,
  );
  return ack;
}
