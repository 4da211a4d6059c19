import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantStatements } from './iam-policies.ts';
import { encryptedLogGroup } from './log-groups.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { scaleOnJobQueue } from './worker-scaling.ts';

export interface ContainerServiceProps {
  readonly vpc: ec2.IVpc;
  /** Where the tasks run (network.ts), and whether they get a public IP. */
  readonly subnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly image: ecs.ContainerImage;
  readonly environment: Record<string, string>;
  readonly taskStatements: readonly iam.PolicyStatement[];
  readonly queue: sqs.IQueue;
  readonly key: kms.IKey;
  readonly logRetentionDays: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** 0: the service scales to zero while the queue is empty (worker-scaling.ts). */
  readonly minCount: number;
  readonly maxCount: number;
  readonly port: number;
  /** The Prometheus /metrics listener (METRICS_PORT): not the API's port, never in a target group. */
  readonly metricsPort: number;
  /** Who may reach the metrics port; none: it stays shut. */
  readonly metricsIngressCidrs: readonly string[];
  /** True when the API runs in this container (alb mode): health-checked on /healthz. */
  readonly servesApi: boolean;
  /** Fargate Spot instead of on-demand Fargate. */
  readonly spot: boolean;
}

/** Node one-liner (no curl in the image): healthy when GET /healthz answers 2xx. */
export function healthCheckCommand(port: number): string {
  return `node -e "fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
}

/**
 * The long-running service on Fargate (ARM64): API and worker in one process, scaled on the job
 * queue (worker-scaling.ts). It may only call AWS's APIs (HTTPS out, nothing else), and the
 * worker protects its task from scale-in while it holds messages.
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
      enableFargateCapacityProviders: props.spot,
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
    this.grantScaleInProtection(cluster);
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
      portMappings: [
        ...(props.servesApi ? [{ containerPort: props.port, name: 'api' }] : []),
        { containerPort: props.metricsPort, name: 'metrics' },
      ],
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

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'acm-cert-export tasks: HTTPS to AWS APIs only',
      allowAllOutbound: false,
    });
    // Every call the task makes is HTTPS to an AWS API (or to a VPC endpoint of one); DNS, the
    // ECS agent and task metadata endpoints are not filtered by security groups.
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs');
    // /metrics names certificates and targets: only the scrapers named may reach it, on the
    // task's own address (the load balancer forwards the API's port alone).
    for (const cidr of props.metricsIngressCidrs) {
      securityGroup.addIngressRule(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(props.metricsPort),
        'Prometheus scrapes /metrics',
      );
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      assignPublicIp: props.assignPublicIp,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      ...(props.spot
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : {}),
    });
    scaleOnJobQueue(this.service, props.queue, props);
  }

  /**
   * The worker asks the ECS agent to protect its task while it holds messages; the agent calls
   * ECS UpdateTaskProtection with the task role's credentials.
   */
  private grantScaleInProtection(cluster: ecs.Cluster): void {
    const tasks = Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${cluster.clusterName}/*`,
    });
    const role = this.taskDefinition.taskRole;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ProtectOwnTaskFromScaleIn',
        actions: ['ecs:UpdateTaskProtection'],
        resources: [tasks],
      }),
    );
    acknowledge(
      role,
      wildcardResourceFinding(role, tasks),
      "Task ids are known only at run time; the resource is the tasks of this stack's own cluster, and the agent only ever updates the protection of the task that asks.",
    );
  }
}
