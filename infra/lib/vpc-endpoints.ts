import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/** An interface endpoint the task needs when no route leads out of its subnets. */
export interface InterfaceEndpointNeed {
  /** The endpoint's service name after `com.amazonaws.<region>.`. */
  readonly name: string;
  readonly service: ec2.InterfaceVpcEndpointAwsService;
  /** Who calls it, for what (docs/deploy.md lists the same). */
  readonly why: string;
}

/**
 * What the task calls, checked against the code: the service's SDK clients
 * (service/src/aws/clients.ts: ACM, Secrets Manager, DynamoDB, SSM, SQS, SNS, EC2), the API's STS
 * replay when it runs in the task, the log driver and the image pull, and the ECS agent's
 * task-protection call. DynamoDB and S3 (ECR's image layers) use the free gateway endpoints.
 * Never called by the task, so no endpoint: KMS (Secrets Manager and SNS use customer keys on the
 * service's behalf, kms:ViaService) and CloudWatch metrics (EMF log lines, no PutMetricData).
 */
export function interfaceEndpointNeeds(options: {
  /** alb mode: the API runs in the task and replays callers' signed requests to STS. */
  readonly apiInTask: boolean;
  readonly imageFromEcr: boolean;
}): InterfaceEndpointNeed[] {
  const s = ec2.InterfaceVpcEndpointAwsService;
  return [
    { name: 'ssm', service: s.SSM, why: 'SendCommand and the command and agent status reads' },
    {
      name: 'secretsmanager',
      service: s.SECRETS_MANAGER,
      why: 'the passphrase secrets (create, put, get, delete, restore)',
    },
    { name: 'sqs', service: s.SQS, why: 'the job queue and the dead-letter queue' },
    { name: 'sns', service: s.SNS, why: "the expiry check's notifications (the alarm topic)" },
    { name: 'acm', service: s.CERTIFICATE_MANAGER, why: 'DescribeCertificate, ExportCertificate' },
    { name: 'ec2', service: s.EC2, why: 'DescribeInstances of a server that just started' },
    {
      name: 'logs',
      service: s.CLOUDWATCH_LOGS,
      why: "the awslogs driver writes the container's logs and EMF metrics",
    },
    {
      name: 'ecs',
      service: s.ECS,
      why: 'UpdateTaskProtection, called by the ECS agent with the task role when the worker asks for scale-in protection (AWS does not document whether on Fargate this call leaves through the task network interface: the endpoint covers it either way)',
    },
    ...(options.apiInTask
      ? [
          {
            name: 'sts',
            service: s.STS,
            why: "the API replays each caller's signed GetCallerIdentity to the regional STS endpoint",
          },
        ]
      : []),
    ...(options.imageFromEcr
      ? [
          { name: 'ecr.api', service: s.ECR, why: 'the image pull: authorization and manifest' },
          {
            name: 'ecr.dkr',
            service: s.ECR_DOCKER,
            why: 'the image pull (its layers come from S3, through the gateway endpoint)',
          },
        ]
      : []),
  ];
}

/**
 * The interface endpoints in the task subnets, with private DNS so that the SDK's default
 * regional endpoints resolve to them; each accepts HTTPS from the VPC only.
 */
export function addInterfaceEndpoints(
  scope: Construct,
  network: { readonly vpc: ec2.IVpc; readonly cidr: string; readonly subnets: ec2.SubnetSelection },
  needs: readonly InterfaceEndpointNeed[],
): ec2.InterfaceVpcEndpoint[] {
  return needs.map((need) => {
    const endpoint = new ec2.InterfaceVpcEndpoint(scope, `Endpoint-${need.name}`, {
      vpc: network.vpc,
      service: need.service,
      subnets: network.subnets,
      privateDnsEnabled: true,
      // The VPC's literal CIDR rather than its token, so the rule can be checked at synth.
      open: false,
    });
    endpoint.connections.allowFrom(
      ec2.Peer.ipv4(network.cidr),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );
    return endpoint;
  });
}

/** S3 (ECR's image layers) and DynamoDB without NAT or internet: gateway endpoints cost nothing. */
export function addGatewayEndpoints(
  vpc: ec2.Vpc,
  subnets: ec2.SubnetSelection,
): ec2.GatewayVpcEndpoint[] {
  return [
    vpc.addGatewayEndpoint('S3Endpoint', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [subnets],
    }),
    vpc.addGatewayEndpoint('DynamoDbEndpoint', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [subnets],
    }),
  ];
}
