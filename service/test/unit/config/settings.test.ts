import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAwsConfig } from '../../../src/config/aws-config.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { allSettings, type SettingReader, settingNamed } from '../../../src/config/settings.ts';
import { settingsMarkdown } from '../../../src/config/settings-doc.ts';
import { loadWakerConfig } from '../../../src/config/waker-config.ts';

type Env = Record<string, string | undefined>;

/**
 * An environment that records every name read from it; enumerating it (spreading, Object.keys)
 * fails, since a reader that lists the environment could read names nobody declared.
 */
function recording(values: Env): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.has(target, name);
    },
    ownKeys() {
      throw new Error('the environment was enumerated: read settings by name');
    },
  });
  return { env, read };
}

const service: Env = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1:5000/123456789012/jobs',
  DLQ_URL: 'http://127.0.0.1:5000/123456789012/jobs-dlq',
};
const waker: Env = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  WORKER_CLUSTER: 'cluster',
  WORKER_SERVICE: 'service',
};

/** Names each process reads: with the region set, and with only the SDK's fallback region. */
function namesRead(load: (env: Env) => unknown, base: Env): Set<string> {
  const names = new Set<string>();
  for (const values of [
    base,
    { ...base, AWS_REGION: undefined, AWS_DEFAULT_REGION: 'eu-west-1' },
  ]) {
    const { env, read } = recording(values);
    load(env);
    for (const name of read) names.add(name);
  }
  return names;
}

const readers: Record<SettingReader, Set<string>> = {
  service: namesRead(loadConfig, service),
  waker: namesRead(loadWakerConfig, waker),
};

describe('the settings catalog', () => {
  it.each(Object.keys(readers) as SettingReader[])(
    'holds every variable the %s reads, marked as read by it',
    (reader) => {
      const undeclared = [...readers[reader]].filter(
        (name) =>
          !(settingNamed(name)?.readBy ?? ['service']).includes(reader) ||
          settingNamed(name) === undefined,
      );
      expect(undeclared, 'read from the environment without a catalog entry (settings.ts)').toEqual(
        [],
      );
    },
  );

  it('has no entry that nobody reads, and each is read by whom it says', () => {
    for (const setting of allSettings) {
      for (const reader of ['service', 'waker'] as const) {
        const reads = [...readers[reader]].some(
          (name) => name === setting.name || setting.pattern?.test(name) === true,
        );
        expect(reads, `${setting.name} read by the ${reader}`).toBe(
          (setting.readBy ?? ['service']).includes(reader),
        );
      }
    }
  });

  it('reads every AWS endpoint variable through the family entry', () => {
    const { env, read } = recording({ AWS_REGION: 'us-east-1' });
    readAwsConfig(env);
    expect([...read].filter((n) => n.startsWith('AWS_ENDPOINT_URL_'))).toContain(
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    );
    expect(settingNamed('AWS_ENDPOINT_URL_SECRETS_MANAGER')?.name).toBe(
      'AWS_ENDPOINT_URL_<SERVICE>',
    );
    expect(settingNamed('NOT_A_SETTING')).toBeUndefined();
  });

  it('gives the defaults the configuration uses', () => {
    const c = loadConfig(service);
    const entry = (name: string) => settingNamed(name) as { default?: unknown };
    expect(c.worker.concurrency).toBe(entry('WORKER_CONCURRENCY').default);
    expect(c.ssm.maxConcurrency).toBe(entry('SSM_MAX_CONCURRENCY').default);
    expect(c.tables.mappings).toBe(entry('MAPPING_TABLE').default);
    expect(c.logLevel).toBe(entry('LOG_LEVEL').default);
  });
});

describe('docs/settings.md', () => {
  it('is what the catalog says (npm run settings-doc writes it)', () => {
    const file = readFileSync(new URL('../../../../docs/settings.md', import.meta.url), 'utf8');
    expect(file).toBe(settingsMarkdown());
  });

  it('has a row for every entry', () => {
    const doc = settingsMarkdown();
    for (const setting of allSettings) expect(doc).toContain(`| \`${setting.name}\``);
  });
});
