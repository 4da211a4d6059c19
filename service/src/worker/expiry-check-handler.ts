import type { Logger } from 'pino';
import { TerminalError } from '../domain/errors.ts';
import type { Mapping } from '../domain/mapping.ts';
import { convergence } from '../domain/server-convergence.ts';
import { formatTarget } from '../domain/target.ts';
import type { ExpiryCheckMessage } from '../messages/expiry-check.ts';
import { metrics } from '../metrics/definitions.ts';
import type { Notification } from '../ports/notifier.ts';
import { expiryNotification, type NotificationContext } from './expiry-notification.ts';
import {
  assessMapping,
  type ExpiryThresholds,
  hasProblems,
  namesServers,
} from './expiry-problems.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import { mappingRef } from './mapping-key.ts';
import { emfFields } from './metrics.ts';
import type { WorkerDeps } from './worker-deps.ts';

export { daysToExpiry } from './expiry-problems.ts';

/** Mappings read per page of the walk (one Scan request each). */
export const expiryCheckPageSize = 100;

interface Run {
  readonly deps: WorkerDeps;
  readonly log: Logger;
  readonly now: Date;
  readonly runId: string;
  readonly thresholds: ExpiryThresholds;
}

interface Tally {
  mappings: number;
  /** Mappings no deployment ever installed (or whose date cannot be read): not in the minimum. */
  withoutInstalledCopy: number;
  min?: { days: number; mapping: Mapping; server?: string };
  /** One per mapping with a problem, published once the walk is complete. */
  readonly notifications: Notification[];
}

/**
 * The servers of the tag Run Command knows now (stopped, terminated and retagged servers are
 * not among them), or undefined when the inventory cannot be read for good (access denied):
 * then every recorded server is reported, with a note.
 */
async function managedNodesOf(m: Mapping, run: Run): Promise<Set<string> | undefined> {
  try {
    const nodes = await run.deps.commands.managedNodesTagged(m.target);
    return new Set(nodes.map((n) => n.instanceId));
  } catch (error) {
    if (!(error instanceof TerminalError)) throw error;
    run.log.warn(
      { err: error, target: formatTarget(m.target) },
      'expiry check: cannot read the managed nodes of the target; reporting every recorded server',
    );
    return undefined;
  }
}

/**
 * One mapping: its record and what each of its servers holds. Servers named by a problem are
 * checked against Run Command's managed nodes first, so that a server that is gone is never
 * reported (nor counted in the minimum) day after day.
 */
async function checkOne(m: Mapping, run: Run, tally: Tally): Promise<void> {
  tally.mappings++;
  const key = { target: m.target, certificateArn: m.certificateArn, certName: m.certName };
  const recorded = await run.deps.servers.installed(key);
  let problems = assessMapping(m, recorded, run.now, run.thresholds);
  let inventory: NotificationContext['inventory'] = 'not-needed';
  let leftOut = 0;
  let counted = recorded;
  if (namesServers(problems)) {
    const nodes = await managedNodesOf(m, run);
    inventory = nodes === undefined ? 'unavailable' : 'read';
    if (nodes !== undefined) {
      const present = recorded.filter((s) => nodes.has(s.instanceId));
      leftOut = recorded.length - present.length;
      counted = present;
      problems = assessMapping(m, present, run.now, run.thresholds);
    }
  }
  // The Prometheus gauges of this mapping, refreshed by the daily walk (no read of their own).
  // As GET /v1/certificates counts them (domain/server-convergence.ts).
  const { converged, total } = convergence(m.serial, counted);
  run.deps.metrics.mappingObserved(mappingRef(key), {
    ...(m.notAfter === undefined ? {} : { notAfter: m.notAfter }),
    servers: total,
    serversConverged: converged,
  });
  const fields = {
    certificateArn: m.certificateArn,
    certName: m.certName,
    target: formatTarget(m.target),
    ...(m.notAfter === undefined ? {} : { notAfter: m.notAfter }),
    ...(m.serial === undefined ? {} : { serial: m.serial }),
    ...(m.lastOutcome === undefined ? {} : { lastOutcome: m.lastOutcome }),
    servers: recorded.length - leftOut,
    ...(problems.expiring.length === 0 ? {} : { expiringServers: problems.expiring.length }),
    ...(problems.behind.length === 0 ? {} : { behindServers: problems.behind.length }),
  };
  if (hasProblems(problems)) {
    tally.notifications.push(
      expiryNotification(m, problems, {
        thresholds: run.thresholds,
        checkedAt: run.now,
        runId: run.runId,
        inventory,
        leftOut,
      }),
    );
  }
  const days = problems.daysToExpiry;
  if (days === undefined) {
    tally.withoutInstalledCopy++;
    run.log.info(fields, 'expiry check: no installed copy recorded for this mapping');
    return;
  }
  if (tally.min === undefined || days < tally.min.days) {
    tally.min = {
      days,
      mapping: m,
      ...(problems.soonestServer === undefined ? {} : { server: problems.soonestServer }),
    };
  }
  const where = problems.soonestServer === undefined ? '' : ` on ${problems.soonestServer}`;
  run.log[days < 0 || hasProblems(problems) ? 'warn' : 'info'](
    {
      ...fields,
      daysToExpiry: days,
      ...(problems.soonestServer === undefined ? {} : { soonestServer: problems.soonestServer }),
      ...emfFields(
        run.now,
        [[metrics.daysToExpiry.cloudWatch, days]],
        run.deps.settings.metricsNamespace,
      ),
    },
    days < 0
      ? `expiry check: the installed copy${where} expired ${-days} days ago`
      : `expiry check: the installed copy${where} expires in ${days} days`,
  );
}

/**
 * Publishes the run's notifications. A refused one (TerminalError: no topic, no permission) is
 * logged and the others still go; a retryable failure stops publishing and is returned, so that
 * the run is tried again (which publishes the ones already sent again: subscribers can tell
 * them by `notificationId`).
 */
async function publishAll(
  notifications: readonly Notification[],
  run: Run,
): Promise<{ published: number; refused: number; failure?: unknown }> {
  let published = 0;
  let refused = 0;
  for (const n of notifications) {
    try {
      await run.deps.notifier.publish(n);
      published++;
      run.log.info(
        { subject: n.subject, notification: n.attributes },
        'expiry check: notification published',
      );
    } catch (error) {
      if (!(error instanceof TerminalError)) return { published, refused, failure: error };
      refused++;
      run.log.error(
        { err: error, subject: n.subject, notification: n.attributes },
        `expiry check: notification refused: ${error.message}`,
      );
    }
  }
  return { published, refused };
}

function retryOrGiveUp(error: unknown, ctx: MessageContext, run: Run): HandlerOutcome {
  const reason = error instanceof Error ? error.message : 'unknown error';
  if (ctx.receiveCount >= run.deps.settings.maxFailures) {
    return deadLetter(`expiry check failed ${ctx.receiveCount} times: ${reason}`);
  }
  run.log.warn({ err: error }, 'expiry check failed; will retry');
  return later(2 ** ctx.receiveCount, 'expiry check failed');
}

/**
 * The daily expiry check: walks every mapping, page by page (a Scan: once a day, all of them is
 * the point), reads what each of its servers holds, and
 * - writes as Embedded Metric Format the days until each mapping's soonest installed copy
 *   expires (its record's or a server's), then once the smallest of them, which the stack's
 *   InstalledCertificateExpiring alarm compares with expiryAlarmDays;
 * - publishes one notification per mapping with a copy expiring within EXPIRY_NOTIFY_DAYS on some
 *   server, or a server still on an older serial RENEWAL_GRACE_HOURS after the export
 *   (expiry-problems.ts, expiry-notification.ts).
 * Notifications go out once the walk is complete, so a failed walk (retried with backoff, then
 * dead-lettered: the DLQ alarm then says the check did not run) has published nothing; running
 * it twice writes the same figures twice.
 */
export async function handleExpiryCheck(
  message: ExpiryCheckMessage,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const run: Run = {
    deps,
    now: deps.clock.now(),
    // Scheduler may deliver one scheduled run twice: the same run, the same notification ids.
    runId: message.scheduledTime ?? ctx.messageId,
    log: deps.logger.child({
      expiryCheck: ctx.messageId,
      ...(message.scheduledTime === undefined ? {} : { scheduledTime: message.scheduledTime }),
    }),
    thresholds: {
      expiryDays: deps.settings.expiryNotifyDays,
      renewalGraceHours: deps.settings.renewalGraceHours,
    },
  };
  const tally: Tally = { mappings: 0, withoutInstalledCopy: 0, notifications: [] };
  try {
    let cursor: string | undefined;
    do {
      const page = await deps.mappings.list(expiryCheckPageSize, cursor);
      for (const m of page.items) await checkOne(m, run, tally);
      cursor = page.cursor;
    } while (cursor !== undefined);
  } catch (error) {
    return retryOrGiveUp(error, ctx, run);
  }
  const sent = await publishAll(tally.notifications, run);
  const summary = {
    mappings: tally.mappings,
    withoutInstalledCopy: tally.withoutInstalledCopy,
    notifications: {
      due: tally.notifications.length,
      published: sent.published,
      refused: sent.refused,
    },
  };
  if (tally.min === undefined) {
    run.log.info(summary, 'expiry check done: no installed copy to check');
  } else {
    const soonest = tally.min.mapping;
    run.log.info(
      {
        ...summary,
        minDaysToExpiry: tally.min.days,
        soonest: {
          certificateArn: soonest.certificateArn,
          certName: soonest.certName,
          target: formatTarget(soonest.target),
          ...(tally.min.server === undefined ? {} : { instanceId: tally.min.server }),
        },
        // Written even when publishing must be retried: the alarm sees the check ran.
        ...emfFields(
          run.now,
          [[metrics.minDaysToExpiry.cloudWatch, tally.min.days]],
          deps.settings.metricsNamespace,
        ),
      },
      `expiry check done: the soonest installed copy expires in ${tally.min.days} days`,
    );
  }
  return sent.failure === undefined ? ack : retryOrGiveUp(sent.failure, ctx, run);
}
