import { describe, expect, it } from 'vitest';
import { readAwsConfig } from '../../../src/config/aws-config.ts';
import { loadConfig } from '../../../src/config/config.ts';

const base = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1:5000/123456789012/jobs',
  DLQ_URL: 'http://127.0.0.1:5000/123456789012/jobs-dlq',
};

describe('config', () => {
  it('has safe defaults', () => {
    const c = loadConfig(base);
    expect(c.tables).toEqual({
      mappings: 'CertTagMapping',
      deployments: 'CertDeployments',
      servers: 'CertDeploymentServers',
    });
    expect(c.ssm.documentName).toBe('Install-ACMCertificate');
    expect(c.secrets.prefix).toBe('acm-passphrase/');
    expect(c.auth.mode).toBe('sts');
    expect(c.auth.stsEndpoint).toBe('https://sts.us-east-1.amazonaws.com');
    expect(c.aws.endpoints.acm).toBeUndefined();
  });

  it('reads rate control as SSM takes it, percentages by default, refusing anything else', () => {
    expect(loadConfig(base).ssm).toMatchObject({ maxConcurrency: '10%', maxErrors: '10%' });
    const set = (env: Record<string, string>) => loadConfig({ ...base, ...env }).ssm;
    expect(set({ SSM_MAX_CONCURRENCY: '50', SSM_MAX_ERRORS: '0' })).toMatchObject({
      maxConcurrency: '50',
      maxErrors: '0',
    });
    expect(set({ SSM_MAX_CONCURRENCY: '100%', SSM_MAX_ERRORS: '1%' })).toMatchObject({
      maxConcurrency: '100%',
      maxErrors: '1%',
    });
    expect(() => set({ SSM_MAX_CONCURRENCY: '0' })).toThrow(
      'SSM_MAX_CONCURRENCY must be a number of servers (1 or more, e.g. 50) or a percentage of the servers from 1% to 100% (e.g. 10%), got "0"',
    );
    for (const bad of ['0%', '101%', '10 %', 'ten', '05', '-1']) {
      expect(() => set({ SSM_MAX_ERRORS: bad })).toThrow(
        /^SSM_MAX_ERRORS must be a number of servers \(0 or more/,
      );
    }
  });

  it('follows AWS_ENDPOINT_URL semantics, service-specific first', () => {
    const aws = readAwsConfig({
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000/',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:6000',
    });
    expect(aws.endpoints.acm).toBe('http://127.0.0.1:5000');
    expect(aws.endpoints.ssm).toBe('http://127.0.0.1:6000');
    expect(
      readAwsConfig({
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://x',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }).endpoints.sqs,
    ).toBeUndefined();
  });

  it.each([
    [{ AWS_REGION: '' }, /AWS_REGION is required/],
    [{ AWS_REGION: 'mars' }, /AWS_REGION must look like/],
    [{ QUEUE_URL: '' }, /QUEUE_URL is required/],
    [{ QUEUE_URL: 'ftp://x' }, /QUEUE_URL must be an http/],
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ AUTH_MODE: 'trust-me' }, /AUTH_MODE must be one of/],
    [{ AWS_ENDPOINT_URL: 'not a url' }, /AWS_ENDPOINT_URL must be an absolute/],
    [{ AUTH_PRINCIPALS: '{' }, /AUTH_PRINCIPALS must be JSON/],
    [
      { AUTH_PRINCIPALS: '[{"principal":"*","actions":["read"]}]' },
      /principal must be an IAM ARN pattern/,
    ],
    [
      {
        AUTH_PRINCIPALS: '[{"principal":"arn:aws:iam::123456789012:role/ci","actions":["admin"]}]',
      },
      /actions must be/,
    ],
    [{ POLL_INITIAL_SECONDS: '10', POLL_MAX_SECONDS: '5' }, /POLL_MAX_SECONDS must be at least/],
    [
      { TARGET_TAG_KEYS: 'env,a+b' },
      /TARGET_TAG_KEYS: "a\+b" is not a tag key a Run Command target/,
    ],
    [{ TARGET_TAG_KEYS: 'aws:env' }, /TARGET_TAG_KEYS: "aws:env"/],
    [{ TARGET_TAG_KEYS: ' , ' }, /TARGET_TAG_KEYS must name at least one/],
    [{ ALLOWED_RELOAD_COMMANDS: 'nginx' }, /ALLOWED_RELOAD_COMMANDS must be JSON/],
    [
      { ALLOWED_RELOAD_COMMANDS: '["nginx -s reload"]' },
      /ALLOWED_RELOAD_COMMANDS\[0\] must be an absolute path/,
    ],
    [{ ALLOWED_RELOAD_COMMANDS: '["/usr/sbin/nginx; id"]' }, /ALLOWED_RELOAD_COMMANDS\[0\]/],
    [{ AGENT_WAIT_SECONDS: '-1' }, /AGENT_WAIT_SECONDS must be an integer/],
  ])('rejects %o with a clear message', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('protects the task from scale-in only where the ECS agent says where it listens', () => {
    expect(loadConfig(base).scaleInProtection).toEqual({
      minutes: 10,
      releaseAfterIdleSeconds: 15,
    });
    expect(
      loadConfig({
        ...base,
        ECS_AGENT_URI: 'http://169.254.170.2/api/0123456789abcdef-1234567890',
        TASK_PROTECTION_MINUTES: '30',
        TASK_PROTECTION_RELEASE_AFTER_IDLE_SECONDS: '0',
      }).scaleInProtection,
    ).toEqual({
      agentUri: 'http://169.254.170.2/api/0123456789abcdef-1234567890',
      minutes: 30,
      releaseAfterIdleSeconds: 0,
    });
    expect(() => loadConfig({ ...base, TASK_PROTECTION_MINUTES: '2881' })).toThrow(
      /TASK_PROTECTION_MINUTES must be an integer from 1 to 2880/,
    );
    expect(() => loadConfig({ ...base, ECS_AGENT_URI: '169.254.170.2/api/x' })).toThrow(
      /ECS_AGENT_URI must be an http\(s\) URL/,
    );
  });

  it('reads the deployment policy: target tag keys (default env) and reload commands (default none)', () => {
    expect(loadConfig(base).policy).toEqual({
      targetTagKeys: ['env'],
      allowedReloadCommands: [],
      certificateRegions: ['us-east-1'],
    });
    expect(loadConfig(base).worker.agentWaitSeconds).toBe(900);
    expect(
      loadConfig({
        ...base,
        TARGET_TAG_KEYS: 'env, team',
        ALLOWED_RELOAD_COMMANDS: '["/usr/sbin/nginx   -s reload"]',
      }).policy,
    ).toEqual({
      targetTagKeys: ['env', 'team'],
      allowedReloadCommands: ['/usr/sbin/nginx -s reload'],
      certificateRegions: ['us-east-1'],
    });
  });

  it('reads the regions whose certificates it exports (default its own), refusing what is no region', () => {
    expect(
      loadConfig({ ...base, CERTIFICATE_REGIONS: 'eu-west-1, us-east-1,eu-west-1' }).policy
        .certificateRegions,
    ).toEqual(['eu-west-1', 'us-east-1']);
    expect(() => loadConfig({ ...base, CERTIFICATE_REGIONS: 'eu-west-1,europe' })).toThrow(
      /CERTIFICATE_REGIONS: "europe" is not a region name/,
    );
    expect(() => loadConfig({ ...base, CERTIFICATE_REGIONS: ' , ' })).toThrow(
      /CERTIFICATE_REGIONS must name at least one region/,
    );
  });

  it('accepts the install-options action in principal rules', () => {
    const c = loadConfig({
      ...base,
      AUTH_PRINCIPALS:
        '[{"principal":"arn:aws:iam::123456789012:role/ops","actions":["deploy","install-options"],"targets":["env=*"]}]',
    });
    expect(c.auth.principals[0]?.actions).toEqual(['deploy', 'install-options']);
  });
});
