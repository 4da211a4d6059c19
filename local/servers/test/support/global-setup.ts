import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from '../../../moto/moto-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the distribution matrix cannot run here ('' when it can). */
    serversSkipped: string;
  }
}

const exec = promisify(execFile);

/**
 * Why rootful podman cannot run here, or undefined when it can. local/containers/engine.sh
 * installs it (bash .ci/run does, as root); this only looks.
 */
async function engineMissing(): Promise<string | undefined> {
  if (process.env.ACM_CERT_EXPORT_SERVERS_TEST === 'skip')
    return 'ACM_CERT_EXPORT_SERVERS_TEST=skip';
  if (process.getuid?.() !== 0) return 'not root: the containers run with rootful podman';
  try {
    await exec('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { timeout: 60_000 });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT') {
      return 'no podman (bash local/containers/engine.sh installs it as root, as bash .ci/run does)';
    }
    return `podman info fails: ${(stderr ?? '').trim().split('\n').at(-1)}`;
  }
  return undefined;
}

let moto: MotoServer | undefined;

/**
 * The distribution matrix's project: its own emulator (the integration project's is reset before
 * each of its files, and these files run beside each other), or one line saying why the matrix
 * is skipped.
 */
export async function setup(project: TestProject): Promise<void> {
  const missing = await engineMissing();
  project.provide('serversSkipped', missing ?? '');
  if (missing !== undefined) {
    console.log(`distribution matrix skipped: ${missing}`);
    return;
  }
  moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
  moto = undefined;
}
