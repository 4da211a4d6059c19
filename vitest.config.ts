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
        },
      },
    ],
  },
});
