/**
 * The IAM evaluation of one integration run, living in the test runner's main process (vitest's
 * global setup). The run has one lane per test file running at a time (per vitest worker slot),
 * each with its own emulator: a recording front before that emulator, more fronts on request (one
 * before each Run Command stand-in, or before a local run's own emulator), and a small control
 * server the lane's test files call (start of a file, check of a file) — see bed-hooks.ts for
 * that side. Every request of the service is attributed to the file running in its lane at the
 * time; the record, the checks and the coverage of the grants are the whole run's, all lanes
 * together.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { coverage, formatCoverage, grantUsage } from './coverage.ts';
import { type EmulatorLookup, emulatorLookup } from './emulator-lookup.ts';
import { PolicyEvaluator, type Verdict } from './evaluation.ts';
import {
  type RecordedCall,
  type RecordingFront,
  type ServerCall,
  startRecordingFront,
} from './recording-front.ts';
import { formatRefusals } from './report.ts';
import type { StackPolicies } from './stack-policies.ts';

export interface IamRecorderOptions {
  /** One emulator per lane (test files running at the same time each use their own lane). */
  readonly motoEndpoints: readonly string[];
  readonly policies: StackPolicies;
  readonly account: string;
  /** Where finish() writes what the run was refused and which grants it used (JSON), if set. */
  readonly usagePath?: string;
}

interface Entry {
  readonly file: string;
  readonly call: Promise<RecordedCall | ServerCall>;
  checked: boolean;
}

/** What a file's check found: the refusals (if any) and how many evaluations it ran. */
export interface FileCheck {
  readonly report?: string;
  readonly evaluated: number;
}

const isServiceCall = (call: RecordedCall | ServerCall): call is RecordedCall => 'appId' in call;

/** One lane: where its test files send their requests and call the recorder. */
export interface RecorderLane {
  /** The lane's emulator's recording front: what AWS_ENDPOINT_URL of its tests points at. */
  readonly endpoint: string;
  /** The lane's control server's base URL (bed-hooks.ts). */
  readonly control: string;
}

export interface IamRecorder {
  /** In the order of options.motoEndpoints. */
  readonly lanes: readonly RecorderLane[];
  /** The refusals among the file's requests not checked yet (then checked), and their count. */
  checkFile(file: string): Promise<FileCheck>;
  /**
   * Checks what no file checked (requests after a file's check) and, when the run was complete,
   * the coverage of the grants. Returns the failure report, or undefined.
   */
  finish(complete: boolean): Promise<{ report?: string; summary: string }>;
  /** Files whose check ran (the per-file setup's afterAll). */
  filesChecked(): string[];
  /** Calls recorded so far (for the recorder's own tests). */
  calls(): Promise<(RecordedCall | ServerCall)[]>;
  stop(): Promise<void>;
}

const outsideFiles = '(outside any test file)';

export async function startIamRecorder(options: IamRecorderOptions): Promise<IamRecorder> {
  if (options.motoEndpoints.length === 0) throw new Error('the IAM recorder needs an emulator');
  const entries: Entry[] = [];
  const evaluator = new PolicyEvaluator(options.policies, options.account);
  const checkedFiles = new Set<string>();

  async function settle(selected: Entry[]): Promise<(RecordedCall | ServerCall)[]> {
    return Promise.all(
      selected.map((e) =>
        e.call.catch((error: unknown): RecordedCall | ServerCall => ({
          appId: 'acm-cert-export',
          operation: 'unknown',
          requests: [],
          problem: `the recorder failed: ${(error as Error).message}`,
          via: 'recorder',
        })),
      ),
    );
  }

  async function judge(where: string, selected: Entry[]): Promise<FileCheck> {
    for (const e of selected) e.checked = true;
    const calls = await settle(selected);
    const service = calls.filter(isServiceCall);
    const servers = calls.filter((c): c is ServerCall => !isServiceCall(c));
    const verdicts = (await Promise.all(service.map((c) => evaluator.evaluate(c)))).flat();
    const serverVerdicts = (
      await Promise.all(servers.map((c) => evaluator.evaluateServer(c)))
    ).flat();
    const report = formatRefusals(
      where,
      verdicts,
      calls.filter((c) => c.problem !== undefined),
      serverVerdicts,
    );
    const evaluated = verdicts.length + serverVerdicts.length;
    return report === undefined ? { evaluated } : { report, evaluated };
  }

  function checkFile(file: string): Promise<FileCheck> {
    checkedFiles.add(file);
    return judge(
      file,
      entries.filter((e) => e.file === file && !e.checked),
    );
  }

  /** A lane: its emulator's front, the fronts its files open, the file running in it. */
  async function startLane(
    motoEndpoint: string,
  ): Promise<RecorderLane & { stop(): Promise<void> }> {
    const fronts = new Map<
      string,
      { front: RecordingFront; lookup?: EmulatorLookup; runCommand?: string }
    >();
    /** The Run Command stand-ins behind the lane's fronts: where hybrid (`mi-…`) nodes are looked up. */
    const runCommandTargets = () =>
      [...fronts.values()].flatMap((f) => (f.runCommand === undefined ? [] : [f.runCommand]));
    const motoLookup = emulatorLookup(motoEndpoint, undefined, runCommandTargets);
    let currentFile = outsideFiles;

    /**
     * A front before `target`. `runCommand`: the target is a Run Command stand-in; what its
     * requests reach (SendCommand's hybrid nodes) is looked up in it alone.
     */
    async function openFront(
      target: string,
      emulator: string,
      via: string,
      runCommand = false,
    ): Promise<string> {
      const lookup =
        emulator === motoEndpoint && !runCommand
          ? undefined
          : emulatorLookup(emulator, undefined, runCommand ? () => [target] : runCommandTargets);
      const front = await startRecordingFront({
        target,
        lookup: lookup ?? motoLookup,
        account: options.account,
        via,
        record: (call) => {
          // Never an unhandled rejection: a failed record becomes a problem in the report.
          call.catch(() => undefined);
          entries.push({ file: currentFile, call, checked: false });
        },
        recordServer: (call) => {
          call.catch(() => undefined);
          entries.push({ file: currentFile, call, checked: false });
        },
      });
      fronts.set(front.endpoint, {
        front,
        ...(lookup === undefined ? {} : { lookup }),
        ...(runCommand ? { runCommand: target } : {}),
      });
      return front.endpoint;
    }

    const endpoint = await openFront(motoEndpoint, motoEndpoint, 'emulator');
    const control = createServer((req, res) => void handle(req, res));

    async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
        const text = (name: string) => {
          const value = body[name];
          if (typeof value !== 'string' || value === '') throw new Error(`${name} is required`);
          return value;
        };
        const loopbackUrl = (name: string) => {
          const url = new URL(text(name));
          if (
            url.protocol !== 'http:' ||
            !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
          ) {
            throw new Error(`${name} must be a loopback http URL, got ${url.href}`);
          }
          return url.origin;
        };
        switch (`${req.method} ${req.url}`) {
          case 'POST /files/start':
            currentFile = text('file');
            return reply(200, {});
          case 'POST /files/check':
            return reply(200, await checkFile(text('file')));
          case 'POST /fronts': {
            const emulator = body.emulator === undefined ? motoEndpoint : loopbackUrl('emulator');
            const opened = await openFront(
              loopbackUrl('target'),
              emulator,
              text('via'),
              body.runCommand === true,
            );
            return reply(200, { endpoint: opened });
          }
          case 'POST /fronts/stop': {
            const opened = fronts.get(text('endpoint'));
            fronts.delete(text('endpoint'));
            await opened?.front.stop();
            opened?.lookup?.destroy();
            return reply(200, {});
          }
          default:
            return reply(404, { error: `no ${req.method} ${req.url}` });
        }
      } catch (error) {
        reply(400, { error: (error as Error).message });
      }
    }

    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    return {
      endpoint,
      control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
      async stop() {
        await Promise.all([...fronts.values()].map((f) => f.front.stop()));
        for (const f of fronts.values()) f.lookup?.destroy();
        fronts.clear();
        motoLookup.destroy();
        await closeServer(control);
      },
    };
  }

  const lanes = await Promise.all(options.motoEndpoints.map(startLane));

  const recorder: IamRecorder = {
    lanes: lanes.map(({ endpoint, control }) => ({ endpoint, control })),
    checkFile,
    async finish(complete) {
      const reports: string[] = [];
      const unchecked = entries.filter((e) => !e.checked);
      const byFile = new Map<string, Entry[]>();
      for (const e of unchecked) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
      for (const [file, selected] of byFile) {
        const { report } = await judge(`${file}, after its own check`, selected);
        if (report !== undefined) reports.push(report);
      }
      const calls = (await settle(entries)).filter(isServiceCall);
      const verdicts: Verdict[] = (
        await Promise.all(calls.map((c) => evaluator.evaluate(c)))
      ).flat();
      if (complete) {
        const report = formatCoverage(coverage(options.policies, verdicts));
        if (report !== undefined) reports.push(report);
      }
      const refused = verdicts.filter((v) => v.decision !== 'Allowed').length;
      if (options.usagePath !== undefined) {
        mkdirSync(dirname(options.usagePath), { recursive: true });
        const usage = {
          complete,
          calls: calls.length,
          refused: verdicts.filter((v) => v.decision !== 'Allowed'),
          grants: grantUsage(options.policies, verdicts),
        };
        writeFileSync(options.usagePath, `${JSON.stringify(usage, null, 2)}\n`);
      }
      const summary =
        `IAM: ${calls.length} requests of the service recorded, ${verdicts.length} evaluations ` +
        `(${refused} refused); coverage of the grants ${complete ? 'checked' : 'not checked (not a complete run)'}` +
        (options.usagePath === undefined ? '' : `; details in ${options.usagePath}`);
      return reports.length === 0 ? { summary } : { report: reports.join('\n\n'), summary };
    },
    filesChecked: () => [...checkedFiles],
    calls: () => settle(entries),
    async stop() {
      await Promise.all(lanes.map((lane) => lane.stop()));
    },
  };
  return recorder;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
