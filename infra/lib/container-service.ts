import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantStatements } from './iam-policies.ts';
import { encryptedLogGroup } from './log-groups.ts';
import { acknowledge } from './nag.ts';

export interface ContainerServiceProps {
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  readonly environment: Record<string, string>;
  readonly taskStatements: readonly iam.PolicyStatement[];
  readonly queue: sqs.IQueue;
  readonly key: kms.IKey;
  readonly logRetentionDays: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly minCount: number;
  readonly maxCount: number;
  readonly port: number;
  /** True when the API runs in this container (alb mode): health-checked on /healthz. */
  readonly servesApi: boolean;
}

/** Node one-liner (no curl in the image): healthy when GET /healthz answers 2xx. */
export function healthCheckCommand(port: number): string {
  return `node -e "fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
}

/**
 * The long-running service on Fargate (ARM64): API and worker in one process, scaled on the
 * queue backlog. Messages the worker keeps in flight while it polls a command are not
 * "visible", so the visible count measures work nobody has picked up yet.
 */
export class ContainerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: ContainerServiceProps) {
    super(scope, id);
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    grantStatements(this.taskDefinition.taskRole, props.taskStatements);
    const logGroup = encryptedLogGroup(this, 'Logs', {
      key: props.key,
      retentionDays: props.logRetentionDays,
    });
    this.logGroup = logGroup;
    // The root filesystem is read-only; /tmp is the task's ephemeral storage for whatever
    // Node or a library writes there.
    this.taskDefinition.addVolume({ name: 'tmp' });
    const container = this.taskDefinition.addContainer('service', {
      image: props.image,
      environment: props.environment,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'service', logGroup }),
      portMappings: props.servesApi ? [{ containerPort: props.port }] : [],
      readonlyRootFilesystem: true,
      // The worker finishes in-flight steps within SHUTDOWN_GRACE_SECONDS (25 s) of SIGTERM.
      stopTimeout: Duration.seconds(30),
      ...(props.servesApi
        ? {
            healthCheck: {
              command: ['CMD-SHELL', healthCheckCommand(props.port)],
              interval: Duration.seconds(30),
              timeout: Duration.seconds(5),
              retries: 3,
              startPeriod: Duration.seconds(20),
            },
          }
        : {}),
    });
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
    if (!(props.image instanceof ecs.RepositoryImage)) {
      // An ECR image (the built asset or an ECR URI); a public registry image needs no grant.
      acknowledge(
        this.taskDefinition.obtainExecutionRole(),
        'IAM5[Resource::*]',
        'Pulling from ECR needs ecr:GetAuthorizationToken, which supports no resource-level permissions; the layer and image actions are scoped to the image repository.',
      );
    }
    acknowledge(
      this.taskDefinition,
      'ECS2',
      'The environment holds resource names, URLs and the caller allow-list, nothing secret; the export passphrases live in Secrets Manager and are never in the environment.',
    );

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: props.minCount,
      maxCapacity: props.maxCount,
    });
    scaling.scaleOnMetric('QueueBacklog', {
      metric: props.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: 20, change: +1 },
        { lower: 200, change: +3 },
      ],
      cooldown: Duration.minutes(3),
    });
  }
}
