import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from '../../../local/moto/moto-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: MotoServer | undefined;

/**
 * Starts one moto server for the integration run. Teardown stops it; if the runner is killed
 * instead, moto gets SIGTERM from the kernel (PR_SET_PDEATHSIG in local/moto/launch.py).
 */
export async function setup(project: TestProject): Promise<void> {
  moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void moto?.stop().finally(() => process.exit(130));
    });
  }
}

export async function teardown(): Promise<void> {
  await moto?.stop();
  moto = undefined;
}
