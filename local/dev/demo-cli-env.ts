import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the local run writes to demo.json (local/dev/run-local.ts). */
export interface Demo {
  readonly apiUrl: string;
  readonly motoEndpoint: string;
  readonly certificateArn: string;
  readonly instanceIds: readonly string[];
}

/**
 * The environment the local run prints for the CLI: the demo IAM user's keys (demo-user.env),
 * the emulator and the API, read from the local run's state directory `dir`. Undefined when the
 * local run has not written them (it is not running).
 */
export function demoCliEnvironment(
  dir: string,
  base: NodeJS.ProcessEnv = process.env,
): { demo: Demo; env: NodeJS.ProcessEnv } | undefined {
  const demoFile = join(dir, 'demo.json');
  const userFile = join(dir, 'demo-user.env');
  if (!existsSync(demoFile) || !existsSync(userFile)) return undefined;
  const demo = JSON.parse(readFileSync(demoFile, 'utf8')) as Demo;
  const user = Object.fromEntries(
    readFileSync(userFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    demo,
    env: {
      ...base,
      ...user,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: demo.motoEndpoint,
      ACM_CERT_EXPORT_URL: demo.apiUrl,
    },
  };
}
