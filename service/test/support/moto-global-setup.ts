import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type IamRecorder, startIamRecorder } from '../../../local/iam/iam-recorder.ts';
import { bedEnvironment, stackPolicies } from '../../../local/iam/stack-policies.ts';
import { type MotoServer, startMoto } from '../../../local/moto/moto-server.ts';
import { repoRoot, stateDir } from '../../../local/paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The emulator as the tests and the service reach it: through the IAM recording front. */
    motoEndpoint: string;
    /** The IAM recorder's control URL (local/iam/bed-hooks.ts). */
    iamRecorder: string;
  }
}

let moto: MotoServer | undefined;
let recorder: IamRecorder | undefined;
let project: TestProject | undefined;

/**
 * Starts one moto server for the integration run, and the IAM recorder in front of it: every
 * request of the service is evaluated against the stack's policies (local/iam/). Teardown stops
 * both; if the runner is killed instead, moto gets SIGTERM from the kernel (PR_SET_PDEATHSIG in
 * local/moto/launch.py).
 */
export async function setup(testProject: TestProject): Promise<void> {
  project = testProject;
  const policies = await stackPolicies();
  moto = await startMoto();
  recorder = await startIamRecorder({
    motoEndpoint: moto.endpoint,
    policies,
    account: bedEnvironment.account,
    usagePath: join(stateDir, 'iam', 'last-run.json'),
  });
  testProject.provide('motoEndpoint', recorder.endpoint);
  testProject.provide('iamRecorder', recorder.control);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void moto?.stop().finally(() => process.exit(130));
    });
  }
}

/**
 * The coverage of the grants is checked only when every integration file ran, unfiltered:
 * a run of a few files requests less than the service needs.
 */
async function completeRun(
  testProject: TestProject,
  checked: ReadonlySet<string>,
): Promise<boolean> {
  const config = testProject.vitest.config;
  if (config.testNamePattern !== undefined || config.shard !== undefined) return false;
  const { testFiles } = await testProject.globTestFiles();
  return testFiles.every((file) => checked.has(relative(repoRoot, file)));
}

export async function teardown(): Promise<void> {
  let report: string | undefined;
  try {
    if (recorder !== undefined && project !== undefined) {
      const complete = await completeRun(project, new Set(recorder.filesChecked()));
      const finished = await recorder.finish(complete);
      console.log(finished.summary);
      report = finished.report;
    }
  } finally {
    await recorder?.stop();
    recorder = undefined;
    await moto?.stop();
    moto = undefined;
  }
  if (report !== undefined) throw new Error(report);
}
