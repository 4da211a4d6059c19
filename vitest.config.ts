import { configDefaults, defineConfig } from 'vitest/config';

const testEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  LOG_LEVEL: 'silent',
};

/** The integration projects' common settings: one bed for both (moto-global-setup.ts). */
const integration = {
  include: ['{service,ssm,local,bench}/test/integration/**/*.test.ts'],
  env: testEnv,
  globalSetup: ['service/test/support/moto-global-setup.ts'],
  setupFiles: ['service/test/support/moto-per-file.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

/**
 * Integration files that run alone, with no other file beside them: worker processes started,
 * stopped and killed under bounds (a job handed back within 2 s, a stop within the grace) that
 * a CPU-heavy file beside them made miss on a loaded machine.
 */
const integrationAlone = [
  'service/test/integration/worker/worker-process.test.ts',
  'service/test/integration/worker/shutdown-handback.test.ts',
];

export default defineConfig({
  test: {
    typecheck: { enabled: false },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{service,ssm,local,infra,bench}/test/unit/**/*.test.ts'],
          env: testEnv,
          testTimeout: 20_000,
          // Two files at a time even on a 2-core machine (vitest's default there is one):
          // measured 127 s → 95 s for this project on 2 cores.
          maxWorkers: 2,
          // Projects run in this order (vitest runs a project with one worker, as on a 2-core
          // machine, after all others unless it has an order).
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'integration',
          ...integration,
          exclude: [...configDefaults.exclude, ...integrationAlone],
          // Two files at a time, each in its own lane (service/test/support/bed-lane.ts): its own
          // moto, reset before each file, behind the one IAM recorder (global setup).
          maxWorkers: 2,
          // Before the distribution matrix, so that its images, which bash local/test.sh builds
          // in the background, are ready when it starts.
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          // The files that run alone, after the others, on the same bed (lane 1).
          name: 'integration-alone',
          ...integration,
          include: integrationAlone,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          // The install script on Debian 11, 12 and 13 in podman containers (local/servers/):
          // its own emulator, one file per release, run side by side; one line when skipped.
          name: 'servers',
          include: ['local/servers/test/**/*.test.ts'],
          env: testEnv,
          globalSetup: ['local/servers/test/support/global-setup.ts'],
          maxWorkers: 3,
          sequence: { groupOrder: 4 },
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
