import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type IamRecorder, startIamRecorder } from '../../../local/iam/iam-recorder.ts';
import { bedEnvironment, stackPolicies } from '../../../local/iam/stack-policies.ts';
import { type MotoServer, startMoto } from '../../../local/moto/moto-server.ts';
import { repoRoot, stateDir } from '../../../local/paths.ts';
import './bed-lane.ts';

/**
 * The integration projects of vitest.config.ts, which share one bed (this global setup): the
 * files that run two at a time, and those that run alone after them. Coverage of the grants is
 * checked only when both ran completely.
 */
export const integrationProjects = ['integration', 'integration-alone'] as const;

interface Bed {
  readonly motos: MotoServer[];
  readonly recorder: IamRecorder;
}

/**
 * One bed for every integration project: vitest runs each project's global setup (and loads
 * this module once per project) in its main process, before any test file; the bed is kept on
 * globalThis so that the projects share it, and the last teardown stops it.
 */
interface Shared {
  bed?: Promise<Bed>;
  projects: TestProject[];
  users: number;
}
const sharedKey = Symbol.for('acm-cert-export.integration-bed');
const shared = (): Shared => {
  const scope = globalThis as { [sharedKey]?: Shared };
  scope[sharedKey] ??= { projects: [], users: 0 };
  return scope[sharedKey];
};

/**
 * Starts the integration run's lanes (bed-lane.ts): one moto server per file the integration
 * projects run at a time (the largest maxWorkers among them), each reset before each file, and
 * the IAM recorder in front of them: every request of the service is evaluated against the
 * stack's policies (local/iam/), the record and the coverage of the grants covering every lane
 * and project. Teardown stops them; if the runner is killed instead, moto gets SIGTERM from the
 * kernel (PR_SET_PDEATHSIG in local/moto/launch.py).
 */
async function startBed(testProject: TestProject): Promise<Bed> {
  const lanes = Math.max(
    1,
    ...testProject.vitest.projects
      .filter((p) => (integrationProjects as readonly string[]).includes(p.name))
      .map((p) => p.config.maxWorkers),
  );
  const [policies, ...started] = await Promise.all([
    stackPolicies(),
    ...Array.from({ length: lanes }, () => startMoto()),
  ]);
  const motos = started as MotoServer[];
  const recorder = await startIamRecorder({
    motoEndpoints: motos.map((moto) => moto.endpoint),
    policies: policies as Awaited<ReturnType<typeof stackPolicies>>,
    account: bedEnvironment.account,
    usagePath: join(stateDir, 'iam', 'last-run.json'),
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void Promise.all(motos.map((moto) => moto.stop())).finally(() => process.exit(130));
    });
  }
  return { motos, recorder };
}

export async function setup(testProject: TestProject): Promise<void> {
  if (!(integrationProjects as readonly string[]).includes(testProject.name)) {
    throw new Error(
      `project ${testProject.name} uses the integration bed but is not in integrationProjects (${integrationProjects.join(', ')})`,
    );
  }
  const state = shared();
  state.users++;
  state.projects.push(testProject);
  state.bed ??= startBed(testProject);
  const { recorder } = await state.bed;
  testProject.provide(
    'bedLanes',
    recorder.lanes.map((lane) => ({ motoEndpoint: lane.endpoint, iamRecorder: lane.control })),
  );
}

/**
 * The coverage of the grants is checked only when every integration file ran, unfiltered:
 * a run of a few files (or of one of the integration projects) requests less than the service
 * needs.
 */
async function completeRun(
  projects: readonly TestProject[],
  checked: ReadonlySet<string>,
): Promise<boolean> {
  const ran = new Set(projects.map((p) => p.name));
  if (!integrationProjects.every((name) => ran.has(name))) return false;
  const config = projects[0]?.vitest.config;
  if (config === undefined || config.testNamePattern !== undefined || config.shard !== undefined) {
    return false;
  }
  for (const project of projects) {
    const { testFiles } = await project.globTestFiles();
    if (!testFiles.every((file) => checked.has(relative(repoRoot, file)))) return false;
  }
  return true;
}

export async function teardown(): Promise<void> {
  const state = shared();
  state.users--;
  if (state.users > 0 || state.bed === undefined) return;
  const { motos, recorder } = await state.bed;
  state.bed = undefined;
  const projects = state.projects.splice(0);
  let report: string | undefined;
  try {
    const complete = await completeRun(projects, new Set(recorder.filesChecked()));
    const finished = await recorder.finish(complete);
    console.log(finished.summary);
    report = finished.report;
  } finally {
    await recorder.stop();
    await Promise.all(motos.map((moto) => moto.stop()));
  }
  if (report !== undefined) throw new Error(report);
}
