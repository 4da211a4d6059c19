import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../service/src/config/config.ts';
import { settingNamed } from '../../../service/src/config/settings.ts';
import { serviceEnvironment } from '../../lib/service-environment.ts';
import { flat } from './support/flatten.ts';
import { onlyResource } from './support/policies.ts';
import { principals, synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const resources = {
  region: 'eu-west-1',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/acm-cert-export-jobs',
  deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/acm-cert-export-jobs-dlq',
  mappingTable: 'CertTagMapping',
  deploymentsTable: 'CertDeployments',
  serversTable: 'CertDeploymentServers',
  documentName: 'Install-ACMCertificate',
  secretPrefix: 'acm-passphrase/',
  secretsKmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  allowedCertificateArns: ['arn:aws:acm:eu-west-1:123456789012:certificate/abc'],
  targetTagKeys: ['team'],
  allowedReloadCommands: ['/usr/sbin/nginx -s reload'],
  certificateRegions: ['eu-west-1', 'us-east-1'],
  notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:AcmCertExport-AlarmsTopic3A2DFEBA-Ab12Cd34',
  expiryNotifyDays: 21,
};
const role = {
  apiEnabled: true,
  workerEnabled: true,
  authMode: 'sts' as const,
  principalsJson: JSON.stringify(principals),
  authAudience: 'acm-cert-export',
  port: 8080,
  metrics: { port: 9464, emf: true, namespace: 'AcmCertExport' },
};

describe('the service environment built for the stack', () => {
  it('is accepted by the service’s own loadConfig and lands where the service reads it', () => {
    const config = loadConfig(serviceEnvironment(resources, role));
    expect(config.aws.region).toBe('eu-west-1');
    expect(config.worker).toMatchObject({
      enabled: true,
      queueUrl: resources.queueUrl,
      deadLetterQueueUrl: resources.deadLetterQueueUrl,
    });
    expect(config.api).toMatchObject({ enabled: true, port: 8080 });
    expect(config.auth).toMatchObject({ mode: 'sts', audience: 'acm-cert-export', principals });
    expect(config.tables).toEqual({
      mappings: 'CertTagMapping',
      deployments: 'CertDeployments',
      servers: 'CertDeploymentServers',
    });
    expect(config.ssm.documentName).toBe('Install-ACMCertificate');
    expect(config.secrets).toMatchObject({
      prefix: 'acm-passphrase/',
      kmsKeyId: resources.secretsKmsKeyId,
    });
    expect(config.allowedCertificateArns).toEqual(resources.allowedCertificateArns);
    expect(config.policy).toEqual({
      targetTagKeys: ['team'],
      allowedReloadCommands: ['/usr/sbin/nginx -s reload'],
      certificateRegions: ['eu-west-1', 'us-east-1'],
    });
    expect(config.notifications).toEqual({
      topicArn: resources.notifyTopicArn,
      expiryDays: 21,
      renewalGraceHours: 24,
    });
  });

  it('gives the notification settings to the worker only (the API never publishes)', () => {
    const api = serviceEnvironment(resources, { ...role, workerEnabled: false });
    expect(api).not.toHaveProperty('NOTIFY_TOPIC_ARN');
    expect(api).not.toHaveProperty('EXPIRY_NOTIFY_DAYS');
  });

  it('sets only what docs/settings.md says the stack sets', () => {
    const lambda = serviceEnvironment(resources, {
      ...role,
      port: undefined,
      metrics: { emf: true, namespace: 'AcmCertExport' },
    });
    for (const name of Object.keys({ ...serviceEnvironment(resources, role), ...lambda })) {
      expect(
        settingNamed(name)?.stack,
        `${name}: its catalog entry names no stack source`,
      ).toBeDefined();
    }
  });

  it('uses only variable names the service reads (its settings catalog)', () => {
    for (const name of Object.keys(serviceEnvironment(resources, role))) {
      const setting = settingNamed(name);
      expect(
        setting?.readBy ?? ['service'],
        `${name} is not in service/src/config/settings.ts`,
      ).toContain('service');
      expect(setting, `${name} is not in service/src/config/settings.ts`).toBeDefined();
    }
  });

  it('is what the Fargate task gets, wired to the stack’s own resources', () => {
    const definition = onlyResource(synth().template, 'AWS::ECS::TaskDefinition');
    const [container] = definition.Properties.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    const env = Object.fromEntries(
      (container?.Environment ?? []).map((e) => [e.Name, flat(e.Value)]),
    );
    expect(Object.keys(env).sort()).toEqual(
      Object.keys(serviceEnvironment({ ...resources, secretsKmsKeyId: undefined }, role))
        // Set only when the stack names them (the default is the service's own region).
        .filter((k) => k !== 'SECRETS_KMS_KEY_ID' && k !== 'CERTIFICATE_REGIONS')
        .sort(),
    );
    expect(env).toMatchObject({
      AWS_REGION: 'us-east-1',
      API_ENABLED: 'true',
      WORKER_ENABLED: 'true',
      PORT: '8080',
      AUTH_MODE: 'sts',
      AUTH_PRINCIPALS: JSON.stringify(principals),
      QUEUE_URL: expect.stringMatching(/^<JobQueuesQueue[0-9A-F]+>$/),
      DLQ_URL: expect.stringMatching(/^<JobQueuesDeadLetterQueue[0-9A-F]+>$/),
      MAPPING_TABLE: expect.stringMatching(/^<TablesMappings[0-9A-F]+>$/),
      DEPLOYMENTS_TABLE: expect.stringMatching(/^<TablesDeployments[0-9A-F]+>$/),
      SERVERS_TABLE: expect.stringMatching(/^<TablesServers[0-9A-F]+>$/),
      SSM_DOCUMENT_NAME: 'Install-ACMCertificate',
      SECRET_PREFIX: 'acm-passphrase/',
      ALLOWED_CERTIFICATE_ARNS: '',
      // The alarm topic, and the expiry alarm's threshold (expiryAlarmDays, default 14).
      NOTIFY_TOPIC_ARN: expect.stringMatching(/^<AlarmsTopic[0-9A-F]+>$/),
      EXPIRY_NOTIFY_DAYS: '14',
      // Prometheus on its own port, and EMF in the namespace the alarms and dashboard read.
      METRICS_ENABLED: 'true',
      METRICS_PORT: '9464',
      METRICS_EMF: 'true',
      METRICS_NAMESPACE: 'AcmCertExport',
    });
  });
});
