/**
 * Invariants 1 and 2: every job ended in an outcome that matches what its servers did, and no
 * job sent a command twice. Pure: the deployment records, the per-server items of the servers
 * table and the stand-in's commands, read by invariants-read.ts.
 *
 * How the service records a job (docs/architecture.md, service/src/worker/): the record
 * (deployments table, `Data`) ends in a terminal status with a `reason`; the command it sent is
 * `commandId` and carries the comment `acm-cert-export job <jobId>` (worker/job-ids.ts); a canary
 * rollout (`rollout.canary`) first sends `acm-cert-export canary <jobId>` to the canary servers
 * (`canaryCommandId` once the rest is dispatched), so a job legitimately sends two commands, one
 * per phase; each job's per-server results are items `job#<jobId>` of the servers table.
 */
import type { Deployment, ServerResult } from '../../service/src/domain/deployment.ts';
import { isTerminal } from '../../service/src/domain/deployment.ts';
import { phaseComment } from '../../service/src/worker/canary.ts';
import { commandComment } from '../../service/src/worker/job-ids.ts';
import {
  neverAttempted,
  terminalInvocationStatuses,
} from '../../service/src/worker/outcome-policy.ts';
import {
  type AcceptedJob,
  type CommandLedger,
  type InvariantLine,
  type InvocationView,
  invariantLine,
  type LedgerCommand,
} from './invariants-model.ts';

/** A failure reason lists the first ten failing servers and counts the rest (outcome-policy.ts). */
const namedAtMost = 10;

/** The comments a job's commands carry: its own, and its canary phase's. */
export function jobComments(jobId: string): { main: string; canary: string } {
  const stub = (phase?: 'canary') =>
    ({ job: { jobId }, ...(phase === undefined ? {} : { phase }) }) as unknown as Deployment;
  return { main: commandComment(jobId), canary: phaseComment(stub('canary')) };
}

/** Commands of the ledger by their comment (several when a job sent one twice). */
export function commandsByComment(ledger: CommandLedger): Map<string, LedgerCommand[]> {
  const by = new Map<string, LedgerCommand[]>();
  for (const c of ledger.values()) {
    const list = by.get(c.comment);
    if (list === undefined) by.set(c.comment, [c]);
    else list.push(c);
  }
  return by;
}

const isSuccess = (i: InvocationView) => i.status === 'Success';
const asResult = (i: InvocationView) =>
  ({ instanceId: i.instanceId, status: i.status, statusDetails: i.statusDetails }) as ServerResult;
/** Servers that did not install, among those the command reached (never-attempted ones aside). */
const failing = (invs: readonly InvocationView[]) =>
  invs.filter((i) => !isSuccess(i) && !neverAttempted(asResult(i)));

/** Problems of one record against its commands and per-server items. */
export function recordProblems(
  d: Deployment,
  byComment: ReadonlyMap<string, readonly LedgerCommand[]>,
  ledger: CommandLedger,
  items: readonly ServerResult[],
): string[] {
  const id = d.job.jobId;
  if (!isTerminal(d.status)) return [`${id} left ${d.status}`];
  const problems: string[] = [];
  const reason = d.reason ?? '';
  if (reason.trim() === '') problems.push(`${id} ${d.status} without a reason`);
  const comments = jobComments(id);
  const mains = byComment.get(comments.main) ?? [];
  const canaries = byComment.get(comments.canary) ?? [];
  const main = recorded(d.commandId, ledger, mains);
  const canary = recorded(
    d.canaryCommandId ?? (d.phase === 'canary' ? d.commandId : undefined),
    ledger,
    canaries,
  );
  for (const [commandId, found] of [
    [d.commandId, d.phase === 'canary' ? canary : main],
    [d.canaryCommandId, canary],
  ] as const) {
    if (commandId === undefined) continue;
    if (found === undefined)
      problems.push(`${id}: its command ${commandId} is unknown to Run Command`);
  }
  const sent = d.commandId !== undefined || d.canaryCommandId !== undefined;
  if (!sent) {
    if (!['Failed', 'NoTargets', 'Cancelled'].includes(d.status)) {
      problems.push(`${id} ${d.status} without a command`);
    }
    // A command sent while the job was being cancelled is cancelled, not recorded (dispatch-step.ts).
    const stray = [...mains, ...canaries];
    if (stray.length > 0 && d.status !== 'Cancelled') {
      problems.push(
        `${id}: command ${stray[0]?.commandId} carries its comment but is not recorded`,
      );
    }
    return problems;
  }
  // The command that decided the outcome: the whole tag's, or the canary's when it stopped there.
  const deciding = d.phase === 'canary' || d.commandId === undefined ? canary : main;
  if (deciding === undefined || (deciding.lost === true && !ended(deciding))) {
    // Unknown (reported above) or cut short by a stand-in restart: nothing to compare.
    return problems;
  }
  const invs = deciding.invocations;
  const bad = failing(invs);
  const jobTimeout = /did not finish within/.test(reason);
  switch (d.status) {
    case 'Succeeded':
      if (invs.length === 0) problems.push(`${id} Succeeded but its command reached no server`);
      else if (invs.some((i) => !isSuccess(i)))
        problems.push(
          `${id} Succeeded but ${invs
            .filter((i) => !isSuccess(i))
            .map((i) => `${i.instanceId} ${i.status}`)
            .slice(0, 3)
            .join(', ')}`,
        );
      if (
        d.canaryCommandId !== undefined &&
        canary !== undefined &&
        !canary.invocations.every(isSuccess)
      )
        problems.push(`${id} went past a canary that did not succeed everywhere`);
      break;
    case 'NoTargets':
      if (invs.length > 0)
        problems.push(`${id} NoTargets but its command reached ${invs.length} servers`);
      break;
    case 'PartiallyFailed':
      if (!invs.some(isSuccess) || invs.every(isSuccess))
        problems.push(
          `${id} PartiallyFailed but ${invs.filter(isSuccess).length} of ${invs.length} servers succeeded`,
        );
      break;
    case 'Failed':
    case 'TimedOut':
      if (invs.length > 0 && invs.every(isSuccess))
        problems.push(`${id} ${d.status} but every server it reached succeeded`);
      break;
    default:
      break;
  }
  if (['PartiallyFailed', 'Failed', 'TimedOut'].includes(d.status) && !jobTimeout) {
    const named = bad.filter((i) => reason.includes(i.instanceId)).length;
    if (named < Math.min(bad.length, namedAtMost)) {
      const missing = bad.filter((i) => !reason.includes(i.instanceId)).map((i) => i.instanceId);
      problems.push(
        `${id} ${d.status}: its reason does not name ${missing.slice(0, 3).join(', ')}`,
      );
    }
  }
  // The per-server items agree with the invocations (the job's last command that reached each).
  if (!jobTimeout && d.status !== 'Cancelled') {
    const latest = new Map<string, InvocationView>();
    for (const c of [canary, main])
      for (const i of c?.invocations ?? []) latest.set(i.instanceId, i);
    for (const item of items) {
      const inv = latest.get(item.instanceId);
      if (inv === undefined)
        problems.push(`${id}: server item ${item.instanceId} has no invocation`);
      else if (inv.status !== item.status)
        problems.push(
          `${id}: server item ${item.instanceId} says ${item.status}, Run Command ${inv.status}`,
        );
    }
    if (d.status === 'Succeeded' || d.status === 'PartiallyFailed') {
      const have = new Set(items.map((i) => i.instanceId));
      const absent = invs.filter((i) => !have.has(i.instanceId)).map((i) => i.instanceId);
      if (absent.length > 0)
        problems.push(`${id}: no server item for ${absent.slice(0, 3).join(', ')}`);
    }
  }
  return problems;
}

function ended(c: LedgerCommand): boolean {
  return c.invocations.every((i) => terminalInvocationStatuses.has(i.status));
}

/** The command a record names, when the ledger holds it with the job's comment. */
function recorded(
  commandId: string | undefined,
  ledger: CommandLedger,
  withComment: readonly LedgerCommand[],
): LedgerCommand | undefined {
  if (commandId === undefined) return undefined;
  const c = ledger.get(commandId);
  return c !== undefined && withComment.some((w) => w.commandId === commandId) ? c : undefined;
}

/**
 * Invariant 1: every deployment record (all of them: the soak's, renewals', instance starts',
 * reconciliation's) is terminal with a reason that matches its servers; every job id the soak
 * was answered with has a record.
 */
export function jobOutcomes(
  deployments: readonly Deployment[],
  serverItems: ReadonlyMap<string, readonly ServerResult[]>,
  ledger: CommandLedger,
  accepted: readonly AcceptedJob[],
): InvariantLine {
  const byComment = commandsByComment(ledger);
  const problems: string[] = [];
  const ids = new Set<string>();
  let lostCompared = 0;
  for (const d of deployments) {
    ids.add(d.job.jobId);
    if (d.commandId !== undefined && ledger.get(d.commandId)?.lost === true) lostCompared++;
    problems.push(...recordProblems(d, byComment, ledger, serverItems.get(d.job.jobId) ?? []));
  }
  const missing = [...new Set(accepted.map((a) => a.jobId))].filter((id) => !ids.has(id));
  for (const id of missing) problems.push(`accepted job ${id} has no record`);
  const note =
    lostCompared === 0
      ? ''
      : `${lostCompared} jobs' commands known from snapshots before stand-in restarts`;
  return invariantLine(
    'every job reached an outcome matching its servers',
    deployments.length,
    problems,
    note,
  );
}

/**
 * Invariant 2: at most one SendCommand per job and phase: one command with the comment
 * `acm-cert-export job <id>` and, for a canary rollout, one with `acm-cert-export canary <id>`.
 * Every command of the ledger is counted (across stand-in restarts when snapshots were given).
 */
export function commandsPerJob(ledger: CommandLedger): InvariantLine {
  const problems: string[] = [];
  for (const [comment, commands] of commandsByComment(ledger)) {
    if (commands.length > 1 && /^acm-cert-export (job|canary) /.test(comment)) {
      problems.push(`${commands.length} commands with "${comment}"`);
    }
  }
  return invariantLine('at most one SendCommand per job (and canary phase)', ledger.size, problems);
}
