import { defineConfig } from 'vitest/config';

const testEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  LOG_LEVEL: 'silent',
};

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
          include: ['{service,ssm,local,bench}/test/integration/**/*.test.ts'],
          env: testEnv,
          // One moto for the run (global setup), reset before each file: files run one at a time.
          globalSetup: ['service/test/support/moto-global-setup.ts'],
          setupFiles: ['service/test/support/moto-per-file.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Before the distribution matrix, so that its images, which bash local/test.sh builds
          // in the background, are ready when it starts.
          sequence: { groupOrder: 2 },
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
          sequence: { groupOrder: 3 },
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
