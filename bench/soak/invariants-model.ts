/**
 * The soak's end-of-run invariants (issue 16 point 3): what each check reads and the summary
 * line it gives. Pure data; the readers (invariants-read.ts) fill it from the bed.
 */

/** One line of the soak's summary: an invariant, whether it holds, how many things it checked. */
export interface InvariantLine {
  readonly name: string;
  readonly holds: boolean;
  /** How many things were checked (records, commands, messages, versions, lines, servers…). */
  readonly count: number;
  /** What broke (job ids, mappings; short, never a secret), or a note when it holds. */
  readonly detail: string;
}

/** A mapping as its key names it. */
export interface MappingRef {
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: { readonly key: string; readonly value: string };
}

/** How the soak made a job it was answered with. */
export type AcceptedVia =
  | 'api'
  | 'export-cert'
  | 'queue'
  | 'renewal'
  | 'instance'
  | 'reconcile'
  | 'other';

/** A job id the soak was given (API answer, its own jobId on the queue, a queue MessageId's job). */
export interface AcceptedJob {
  readonly jobId: string;
  readonly via: AcceptedVia;
  readonly mapping?: MappingRef;
}

/** One server's invocation of a command, as Run Command (the stand-in) reports it. */
export interface InvocationView {
  readonly instanceId: string;
  readonly status: string;
  readonly statusDetails: string;
}

/** A command the stand-in was sent, with its invocations. */
export interface LedgerCommand {
  readonly commandId: string;
  readonly comment: string;
  readonly documentName: string;
  readonly status: string;
  readonly invocations: readonly InvocationView[];
  /**
   * Seen in a snapshot taken before a stand-in restart and absent from a later listing (the
   * stand-in keeps commands in memory only): its invocations are as that snapshot saw them.
   */
  readonly lost?: boolean;
}

/** Every command seen, by command id. */
export type CommandLedger = ReadonlyMap<string, LedgerCommand>;

/** Problems listed in a line's detail at most; the rest are counted. */
const shown = 5;

/** A summary line from the problems found: holds when there are none. */
export function invariantLine(
  name: string,
  count: number,
  problems: readonly string[],
  note = '',
): InvariantLine {
  if (problems.length === 0) return { name, holds: true, count, detail: note };
  const more = problems.length > shown ? `; and ${problems.length - shown} more` : '';
  return {
    name,
    holds: false,
    count,
    detail: `${problems.slice(0, shown).join('; ')}${more}`,
  };
}

/** The mapping as one short string: `key=value web (…/certificate-id)`. */
export function mappingName(m: MappingRef): string {
  const arnTail = m.certificateArn.split('/').pop() ?? m.certificateArn;
  return `${m.target.key}=${m.target.value} ${m.certName} (${arnTail.slice(0, 8)})`;
}
