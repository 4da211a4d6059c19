import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * The integration project's lanes (moto-global-setup.ts): one per test file running at a
     * time, each its own emulator reached through the IAM recorder's front, and the recorder's
     * control URL for that lane (local/iam/bed-hooks.ts).
     */
    bedLanes: { motoEndpoint: string; iamRecorder: string }[];
    /** A project with one emulator shared by its files (the distribution matrix's). */
    motoEndpoint: string;
  }
}

/**
 * This test file's lane: the one of its vitest worker slot (VITEST_POOL_ID, 1 to maxWorkers), so
 * that two files running at the same time never share an emulator or the recorder's idea of the
 * file running.
 */
function lane(): { motoEndpoint: string; iamRecorder: string } | undefined {
  const lanes = inject('bedLanes');
  if (lanes === undefined) return undefined;
  const slot = Number(process.env.VITEST_POOL_ID ?? '1');
  const found = lanes[slot - 1];
  if (!Number.isInteger(slot) || found === undefined) {
    throw new Error(
      `no bed lane for vitest worker slot ${process.env.VITEST_POOL_ID} (${lanes.length} lanes): ` +
        'the global setup starts one per maxWorkers of the project',
    );
  }
  return found;
}

/** The emulator this file reaches: its lane's (through the IAM recorder), or the project's. */
export function motoEndpoint(): string {
  const endpoint = lane()?.motoEndpoint ?? inject('motoEndpoint');
  if (endpoint === undefined) throw new Error('no emulator provided to this test project');
  return endpoint;
}

/** The IAM recorder's control URL for this file's lane. */
export function iamRecorder(): string {
  const found = lane();
  if (found === undefined) throw new Error('no IAM recorder in this test project');
  return found.iamRecorder;
}
