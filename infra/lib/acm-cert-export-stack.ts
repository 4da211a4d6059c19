import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { metricsNamespace } from '../../service/src/metrics/definitions.ts';
import { Alarms } from './alarms.ts';
import { stackZones } from './availability-zones.ts';
import { containerImage, pulledFromEcr } from './container-image.ts';
import { ContainerService } from './container-service.ts';
import { OperationsDashboard } from './dashboard.ts';
import { createExpiryCheckSchedule } from './expiry-check-schedule.ts';
import {
  apiStatements,
  passphraseSecretArn,
  type ServiceGrantsProps,
  workerStatements,
} from './iam-policies.ts';
import { createInstallDocument } from './install-document.ts';
import { LambdaApi } from './lambda-api.ts';
import { ApiLoadBalancer } from './load-balancer.ts';
import { createNetwork } from './network.ts';
import { createOperationsKey } from './operations-key.ts';
import { JobQueues } from './queues.ts';
import { createReconcileSchedules } from './reconcile-schedules.ts';
import { createEventRules } from './renewal-rule.ts';
import { ServerAccess } from './server-access.ts';
import { type ServiceResources, serviceEnvironment } from './service-environment.ts';
import type { StackSettings } from './settings.ts';
import { Tables } from './tables.ts';
import { TagGovernance } from './tag-governance.ts';
import { WorkerWaker } from './worker-waker.ts';

export interface AcmCertExportStackProps extends StackProps {
  readonly settings: StackSettings;
  /** The repository root: the Docker build context of the service image. */
  readonly repoRoot: string;
  /** The SSM document content, from ssm/build-document.ts. */
  readonly installDocument: Record<string, unknown>;
  /** The API function's code in apigateway mode (see lambda-bundle.ts). */
  readonly lambdaCode?: lambda.Code;
}

/** The whole system in one stack; each part lives in its own file next to this one. */
export class AcmCertExportStack extends Stack {
  readonly tables: Tables;
  readonly queues: JobQueues;
  readonly alarms: Alarms;
  readonly service: ContainerService;
  readonly #zones: string[];

  /**
   * The zones: the setting, or the account's zone lookup cached in cdk.context.json (see
   * availability-zones.ts); never letters appended to the region.
   */
  override get availabilityZones(): string[] {
    return this.#zones;
  }

  constructor(scope: Construct, id: string, props: AcmCertExportStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.#zones = stackZones(this, s.vpc.availabilityZones);
    const key = createOperationsKey(this, 'OperationsKey', { rotationDays: s.keyRotationDays });
    const logs = { key, retentionDays: s.logRetentionDays };

    this.tables = new Tables(this, 'Tables', {
      mappingTableName: s.names.mappingTable,
      deploymentsTableName: s.names.deploymentsTable,
      serversTableName: s.names.serversTable,
      existing: {
        mappings: s.existingResources.includes('mappingTable'),
        deployments: s.existingResources.includes('deploymentsTable'),
        servers: s.existingResources.includes('serversTable'),
      },
      legacyDeploymentsIndex: s.legacyDeploymentsIndex,
    });
    this.queues = new JobQueues(this, 'JobQueues', {
      queueName: s.names.jobQueue,
      deadLetterQueueName: s.names.deadLetterQueue,
      existing: s.existingResources.includes('queues'),
    });
    createEventRules(this, this.queues.queue, this.queues.deadLetterQueue, s.names.documentName);
    createExpiryCheckSchedule(
      this,
      'ExpiryCheckSchedule',
      this.queues.queue,
      this.queues.deadLetterQueue,
    );
    createReconcileSchedules(this, this.queues.queue, this.queues.deadLetterQueue, s.schedules);
    const document = createInstallDocument(this, 'InstallDocument', {
      name: s.names.documentName,
      content: props.installDocument,
    });
    const serverAccess = new ServerAccess(this, 'ServerAccess', {
      targetTagKey: s.targetTagKey,
      secretPrefix: s.names.secretPrefix,
      ...(s.secretsKmsKeyArn === undefined ? {} : { secretsKmsKeyArn: s.secretsKmsKeyArn }),
      ...(s.exampleServerRoleTagValue === undefined
        ? {}
        : { exampleRoleTagValue: s.exampleServerRoleTagValue }),
    });

    // Before the service: the worker publishes its notifications to the alarm topic.
    this.alarms = new Alarms(this, 'Alarms', {
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      key,
      oldestMessageSeconds: s.alarms.oldestMessageSeconds,
      expiryDays: s.alarms.expiryDays,
      ...(s.alarmEmail === undefined ? {} : { email: s.alarmEmail }),
    });

    if (s.dashboard) {
      new OperationsDashboard(this, 'Operations', {
        queue: this.queues.queue,
        deadLetterQueue: this.queues.deadLetterQueue,
        expiryDays: s.alarms.expiryDays,
      });
    }

    const grants: ServiceGrantsProps = {
      mappingTableArn: this.tables.mappings.tableArn,
      deploymentsTableArn: this.tables.deployments.tableArn,
      serversTableArn: this.tables.servers.tableArn,
      queueArn: this.queues.queue.queueArn,
      deadLetterQueueArn: this.queues.deadLetterQueue.queueArn,
      documentName: s.names.documentName,
      targetTagKey: s.targetTagKey,
      secretPrefix: s.names.secretPrefix,
      allowedCertificateArns: s.allowedCertificateArns,
      certificateRegions: s.certificateRegions,
      ...(s.secretsKmsKeyArn === undefined ? {} : { secretsKmsKeyArn: s.secretsKmsKeyArn }),
      notificationTopicArn: this.alarms.topic.topicArn,
      notificationKeyArn: key.keyArn,
    };
    const resources: ServiceResources = {
      queueUrl: this.queues.queue.queueUrl,
      deadLetterQueueUrl: this.queues.deadLetterQueue.queueUrl,
      mappingTable: this.tables.mappings.tableName,
      deploymentsTable: this.tables.deployments.tableName,
      serversTable: this.tables.servers.tableName,
      documentName: s.names.documentName,
      secretPrefix: s.names.secretPrefix,
      allowedCertificateArns: s.allowedCertificateArns,
      targetTagKeys: [s.targetTagKey],
      allowedReloadCommands: s.allowedReloadCommands,
      ...(s.certificateRegions.length === 0 ? {} : { certificateRegions: s.certificateRegions }),
      ...(s.secretsKmsKeyArn === undefined ? {} : { secretsKmsKeyId: s.secretsKmsKeyArn }),
      notifyTopicArn: this.alarms.topic.topicArn,
      expiryNotifyDays: s.alarms.expiryDays,
    };
    const apiInContainer = s.apiMode === 'alb';
    const image = containerImage(this, s.image, props.repoRoot);
    const network = createNetwork(this, s.vpc, {
      logs,
      apiInTask: apiInContainer,
      imageFromEcr: pulledFromEcr(image),
    });
    const role = { principalsJson: s.principalsJson, authAudience: s.authAudience };

    this.service = new ContainerService(this, 'Service', {
      vpc: network.vpc,
      subnets: network.taskSubnets,
      assignPublicIp: network.assignPublicIp,
      image,
      environment: serviceEnvironment(
        { ...resources, region: this.region },
        {
          ...role,
          apiEnabled: apiInContainer,
          workerEnabled: true,
          authMode: 'sts',
          port: s.task.port,
          metrics: { port: s.task.metricsPort, emf: true, namespace: metricsNamespace },
        },
      ),
      taskStatements: workerStatements(this, grants, { servesApi: apiInContainer }),
      queue: this.queues.queue,
      key,
      logRetentionDays: s.logRetentionDays,
      cpu: s.task.cpu,
      memoryMiB: s.task.memoryMiB,
      minCount: s.task.minCount,
      maxCount: s.task.maxCount,
      port: s.task.port,
      metricsPort: s.task.metricsPort,
      metricsIngressCidrs: s.task.metricsIngressCidrs,
      servesApi: apiInContainer,
      spot: s.task.spot,
    });

    if (apiInContainer) {
      if (s.alb.certificateArn === undefined) throw new Error('alb mode needs albCertificateArn');
      const alb = new ApiLoadBalancer(this, 'Api', {
        vpc: network.vpc,
        internalSubnets: network.internalSubnets,
        certificateArn: s.alb.certificateArn,
        internetFacing: s.alb.internetFacing,
        ingressCidrs: s.alb.ingressCidrs.length > 0 ? s.alb.ingressCidrs : [network.cidr],
        service: this.service.service,
        containerPort: s.task.port,
        logRetentionDays: s.logRetentionDays,
        webAcl: s.webAcl,
      });
      new CfnOutput(this, 'ApiUrl', {
        value: `https://${alb.loadBalancer.loadBalancerDnsName}`,
        description: 'Point a DNS name of the listener certificate at this load balancer.',
      });
    } else {
      if (props.lambdaCode === undefined) throw new Error('apigateway mode needs lambdaCode');
      const api = new LambdaApi(this, 'Api', {
        code: props.lambdaCode,
        // Lambda sets AWS_REGION itself (a reserved variable).
        environment: serviceEnvironment(resources, {
          ...role,
          apiEnabled: true,
          workerEnabled: false,
          authMode: 'lambda',
          metrics: { emf: true, namespace: metricsNamespace },
        }),
        statements: apiStatements(this, grants),
        key,
        logRetentionDays: s.logRetentionDays,
        cloudWatchRole: s.apiGatewayCloudWatchRole,
        webAcl: s.webAcl,
      });
      new CfnOutput(this, 'ApiUrl', { value: api.api.url });
      if (s.task.minCount === 0) {
        new WorkerWaker(this, 'WorkerWaker', {
          code: props.lambdaCode,
          queue: this.queues.queue,
          service: this.service.service,
          key,
          logRetentionDays: s.logRetentionDays,
        });
      }
    }

    if (s.tagGovernance !== undefined) {
      new TagGovernance(this, 'TagGovernance', {
        targetTagKey: s.targetTagKey,
        passphraseSecrets: passphraseSecretArn(this, s.names.secretPrefix),
        adminRoleArns: s.tagGovernance.adminRoleArns,
        serviceRole: this.service.taskDefinition.taskRole,
      });
    }

    new CfnOutput(this, 'ServiceLogGroup', { value: this.service.logGroup.logGroupName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'QueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'InstallDocumentName', { value: document.ref });
    new CfnOutput(this, 'ServerPassphrasePolicyArn', {
      value: serverAccess.policy.managedPolicyArn,
      description: 'Attach to EC2 instance roles and the on-premises service role (ABAC).',
    });
  }
}
