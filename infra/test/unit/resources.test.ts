import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDocumentObject } from '../../../ssm/build-document.ts';
import { defaultRepoRoot } from '../../lib/app.ts';
import { serviceImageTarget } from '../../lib/container-image.ts';
import {
  commandStatusEventPattern,
  deploymentsTable,
  expirationEventPattern,
  instanceRunningEventPattern,
  jobQueue,
  mappingTable,
  renewalEventPattern,
  serversTable,
} from '../../lib/resource-definitions.ts';
import { parseDockerfile, stage, volumePaths } from './support/dockerfile.ts';
import { flat } from './support/flatten.ts';
import { actionsOf, logicalIdOf, onlyResource, type Statement } from './support/policies.ts';
import { albCertificateArn, synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let template: Template;
beforeAll(() => {
  template = synth().template;
});

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('the tables', () => {
  it('CertTagMapping: the original keys and the certificate-ARN index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: mappingTable.defaultName,
      KeySchema: [
        { AttributeName: mappingTable.partitionKey, KeyType: 'HASH' },
        { AttributeName: mappingTable.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: mappingTable.certificateIndex.name,
          KeySchema: [
            { AttributeName: mappingTable.certificateIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: mappingTable.certificateIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('CertDeployments: job id key, keys-only certificate index, TTL on ExpiresAt', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: deploymentsTable.defaultName,
      KeySchema: [{ AttributeName: deploymentsTable.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: deploymentsTable.certificateIndex.name,
          KeySchema: [
            { AttributeName: deploymentsTable.certificateIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: deploymentsTable.certificateIndex.sortKey, KeyType: 'RANGE' },
          ],
          // The record's writes never change these keys: they write nothing to the index.
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: deploymentsTable.ttlAttribute, Enabled: true },
    });
  });

  it('CertDeployments: keeps its former all-attributes index during an upgrade, beside the new one', () => {
    const upgrading = synth({ legacyDeploymentsIndex: 'true' }).template;
    upgrading.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: deploymentsTable.defaultName,
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: deploymentsTable.certificateIndex.name,
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        Match.objectLike({
          IndexName: deploymentsTable.legacyCertificateIndex.name,
          Projection: { ProjectionType: 'ALL' },
        }),
      ],
    });
  });

  it('CertDeploymentServers: owner and instance id keys, TTL on ExpiresAt, no index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: serversTable.defaultName,
      KeySchema: [
        { AttributeName: serversTable.partitionKey, KeyType: 'HASH' },
        { AttributeName: serversTable.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Match.absent(),
      TimeToLiveSpecification: { AttributeName: serversTable.ttlAttribute, Enabled: true },
    });
  });

  it('all three: point-in-time recovery, KMS encryption, on-demand, protected and retained', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(3);
    for (const table of Object.values(tables)) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
      });
    }
  });
});

describe('the job queue and its dead-letter queue', () => {
  let queueId: string;
  let dlqId: string;
  beforeAll(() => {
    queueId = logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: jobQueue.defaultName });
    dlqId = logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: jobQueue.deadLetterName });
  });

  it('are both encrypted with SSE-SQS (EventBridge needs no key grant) and keep 14 days', () => {
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
      expect(queue.Properties.MessageRetentionPeriod).toBe(jobQueue.retentionSeconds);
    }
  });

  it('redrive to the DLQ after the backstop receive count, with the defined visibility timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: jobQueue.defaultName,
      VisibilityTimeout: jobQueue.visibilityTimeoutSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(dlqId),
        maxReceiveCount: jobQueue.maxReceiveCount,
      },
    });
  });

  it('refuse non-TLS access', () => {
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('accept messages from EventBridge only when sent by one of the four rules (aws:SourceArn)', () => {
    const ruleIds = Object.keys(template.findResources('AWS::Events::Rule')).sort();
    expect(ruleIds).toHaveLength(4);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    for (const id of [queueId, dlqId]) {
      const policy = policies.find(
        (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([ref(id)]),
      );
      if (policy === undefined) throw new Error(`no queue policy for ${id}`);
      const allows = (policy.Properties.PolicyDocument.Statement as Statement[]).filter(
        (st) => st.Effect === 'Allow',
      );
      expect(allows).toHaveLength(ruleIds.length);
      const sources = allows.map((allow) => {
        expect(allow.Principal).toEqual({ Service: 'events.amazonaws.com' });
        expect(actionsOf(allow)).toContain('sqs:SendMessage');
        expect(
          actionsOf(allow).every((a) => a.startsWith('sqs:Send') || a.startsWith('sqs:GetQueue')),
        ).toBe(true);
        expect(allow.Resource).toEqual(arnOf(id));
        return JSON.stringify(allow.Condition);
      });
      expect(sources.sort()).toEqual(
        ruleIds.map((r) => JSON.stringify({ ArnEquals: { 'aws:SourceArn': arnOf(r) } })).sort(),
      );
    }
  });
});

describe('the event rules', () => {
  it('match exactly the renewal, expiration, instance-running and command-status patterns of resource-definitions.ts', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules.map((r) => r.Properties.EventPattern)).toEqual(
      expect.arrayContaining([
        renewalEventPattern,
        expirationEventPattern,
        instanceRunningEventPattern,
        commandStatusEventPattern('Install-ACMCertificate'),
      ]),
    );
    expect(rules).toHaveLength(4);
    for (const rule of rules) expect(rule.Properties.State).toBe('ENABLED');
  });

  it('deliver straight to the job queue, undeliverable events to the DLQ', () => {
    const queueId = logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: jobQueue.defaultName });
    const dlqId = logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: jobQueue.deadLetterName });
    for (const rule of Object.values(template.findResources('AWS::Events::Rule'))) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({ Arn: arnOf(queueId), DeadLetterConfig: { Arn: arnOf(dlqId) } }),
      ]);
    }
  });
});

describe('the install document', () => {
  it('is the Command document built by ssm/build-document.ts, updated as new versions', () => {
    const document = onlyResource(template, 'AWS::SSM::Document');
    expect(document.Properties).toMatchObject({
      Name: 'Install-ACMCertificate',
      DocumentType: 'Command',
      UpdateMethod: 'NewVersion',
      DocumentFormat: 'JSON',
    });
    expect(document.Properties.Content).toEqual(buildDocumentObject());
    expect((document.Properties.Content as { schemaVersion: string }).schemaVersion).toBe('2.2');
  });

  it('takes its name from the context', () => {
    const named = synth({ documentName: 'Install-ACMCertificate-Test' }).template;
    named.hasResourceProperties('AWS::SSM::Document', { Name: 'Install-ACMCertificate-Test' });
  });
});

describe('encryption and retention of operational data', () => {
  it('uses one rotating customer key that CloudWatch Logs and CloudWatch alarms may use', () => {
    const key = onlyResource(template, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const logs = statements.find((s) => s.Sid === 'CloudWatchLogsUseForThisAccountLogGroups');
    expect(logs?.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(flat(logs?.Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn'])).toBe(
      'arn:<AWS::Partition>:logs:us-east-1:123456789012:log-group:*',
    );
    const alarms = statements.find((s) => s.Sid === 'CloudWatchAlarmsPublishToTheEncryptedTopic');
    expect(alarms?.Principal).toEqual({ Service: 'cloudwatch.amazonaws.com' });
    expect(alarms?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    // The conditions on both: alarms.test.ts.
  });

  it('encrypts every log group with that key and keeps logs 90 days by default', () => {
    const keyId = logicalIdOf(template, 'AWS::KMS::Key');
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(2); // the service and the VPC flow logs
    for (const group of groups) {
      expect(group.Properties.KmsKeyId).toEqual(arnOf(keyId));
      expect(group.Properties.RetentionInDays).toBe(90);
    }
  });

  it('encrypts the alarm topic with that key and refuses non-TLS publishing', () => {
    const keyId = logicalIdOf(template, 'AWS::KMS::Key');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(keyId) });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('follows logRetentionDays', () => {
    const groups = synth({ logRetentionDays: 365 }).template.findResources('AWS::Logs::LogGroup');
    for (const group of Object.values(groups)) expect(group.Properties.RetentionInDays).toBe(365);
  });
});

// The alarms, the topic and key policies that let them notify: alarms.test.ts.

describe('the Fargate service', () => {
  it('runs on ARM64 Linux with the configured size', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: '512',
      Memory: '1024',
    });
  });

  it('runs the image with a /healthz health check, read-only root, logs to its log group', () => {
    const definition = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const [container] = definition.Properties.ContainerDefinitions as Record<string, unknown>[];
    expect(container).toMatchObject({
      Image: 'public.ecr.aws/example/acm-cert-export:test',
      Essential: true,
      ReadonlyRootFilesystem: true,
      StopTimeout: 30,
      // The API's port, and the metrics listener's (never behind the load balancer).
      PortMappings: [
        { ContainerPort: 8080, Protocol: 'tcp', Name: 'api' },
        { ContainerPort: 9464, Protocol: 'tcp', Name: 'metrics' },
      ],
      LogConfiguration: { LogDriver: 'awslogs' },
      HealthCheck: {
        Command: ['CMD-SHELL', expect.stringContaining("fetch('http://127.0.0.1:8080/healthz')")],
        Interval: 30,
        Retries: 3,
      },
      MountPoints: [{ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'tmp' }],
    });
  });

  it('mounts its one writable path where the image declares it a volume (its mode comes from there)', () => {
    const definition = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const [container] = definition.Properties.ContainerDefinitions as {
      MountPoints: { ContainerPath: string; SourceVolume: string }[];
    }[];
    const image = stage(parseDockerfile(join(defaultRepoRoot, 'Dockerfile')), serviceImageTarget);
    expect(container?.MountPoints.map((m) => m.ContainerPath)).toEqual(volumePaths(image));
    // A bind mount (no host path, no Docker volume configuration): Fargate's task storage.
    expect(definition.Properties.Volumes).toEqual([
      { Name: container?.MountPoints[0]?.SourceVolume },
    ]);
  });

  it('runs in private subnets without a public IP, rolling back failed deployments', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }),
      },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('scales between minTasks and maxTasks on the visible backlog of the job queue', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 4,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    const policies = Object.values(
      template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'),
    );
    const steps = policies.flatMap(
      (p) =>
        (p.Properties.StepScalingPolicyConfiguration?.StepAdjustments ?? []) as {
          ScalingAdjustment: number;
        }[],
    );
    expect(steps.map((s) => s.ScalingAdjustment).sort()).toEqual([-1, 1, 3]);
    const scalingAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => JSON.stringify(a.Properties.AlarmActions ?? []).includes('QueueBacklog'),
    );
    expect(scalingAlarms).toHaveLength(2); // scale out and scale in
    for (const alarm of scalingAlarms) {
      expect(alarm.Properties.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    }
  });

  it('lives in a new VPC with flow logs by default', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.80.0.0/16' });
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('uses an imported VPC without creating one', () => {
    const imported = synth({
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: 'us-east-1a,us-east-1b',
      privateSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
    }).template;
    imported.resourceCountIs('AWS::EC2::VPC', 0);
    imported.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          Subnets: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
        }),
      },
    });
  });
});

describe('the load balancer', () => {
  it('is internal by default', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Type: 'application',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('listens with HTTPS only, on the configured certificate and a TLS 1.2+ policy', () => {
    const listener = onlyResource(template, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listener.Properties).toMatchObject({
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: albCertificateArn }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
  });

  it('accepts HTTPS from the VPC only unless told otherwise', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'acm-cert-export API load balancer',
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '10.80.0.0/16', FromPort: 443, ToPort: 443 }),
      ],
    });
  });

  it('health-checks the service on /healthz', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/healthz',
      Port: 8080,
      Protocol: 'HTTP',
      TargetType: 'ip',
    });
  });

  it('writes access logs to an SSE-S3, TLS-only, private bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('is internet-facing in public subnets only when asked, for the given CIDRs', () => {
    const open = synth({ albInternetFacing: 'true', albIngressCidrs: '203.0.113.0/24' }).template;
    open.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    open.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 443 })],
    });
  });

  it('is absent in apigateway mode', () => {
    synth({ apiMode: 'apigateway' }).template.resourceCountIs(
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      0,
    );
  });
});

describe('the outputs', () => {
  it('name what an operator needs: API URL, topic, queues, document, server policy, logs', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'DeadLetterQueueUrl',
      'InstallDocumentName',
      'QueueUrl',
      'ServerPassphrasePolicyArn',
      'ServiceLogGroup',
    ]);
  });
});
