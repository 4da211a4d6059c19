import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import type { WebAclSettings } from './settings.ts';
import { protectWithWebAcl } from './web-acl.ts';

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Where an internal load balancer goes (network.ts); internet-facing: the public subnets. */
  readonly internalSubnets: ec2.SubnetSelection;
  readonly certificateArn: string;
  readonly internetFacing: boolean;
  readonly ingressCidrs: readonly string[];
  readonly service: ecs.FargateService;
  readonly containerPort: number;
  readonly logRetentionDays: number;
  readonly webAcl: WebAclSettings;
}

/**
 * The HTTPS entry to the API. Internal unless asked otherwise: callers are AWS principals in the
 * same network. The ALB cannot check SigV4, so it only forwards; the service verifies each
 * caller's signed sts:GetCallerIdentity token itself.
 */
export class ApiLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'acm-cert-export API load balancer',
      allowAllOutbound: false,
    });
    for (const cidr of props.ingressCidrs) {
      securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from callers');
    }
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: props.internetFacing,
      securityGroup,
      dropInvalidHeaderFields: true,
      vpcSubnets: props.internetFacing
        ? { subnetType: ec2.SubnetType.PUBLIC }
        : props.internalSubnets,
    });
    this.loadBalancer.logAccessLogs(this.accessLogBucket(props.logRetentionDays), 'alb');
    protectWithWebAcl(this, props.webAcl, this.loadBalancer.loadBalancerArn);

    const listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    listener.addTargets('Service', {
      port: props.containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      // The API's port by name: the task's other port (/metrics) is never a target.
      targets: [
        props.service.loadBalancerTarget({
          containerName: 'service',
          containerPort: props.containerPort,
        }),
      ],
      deregistrationDelay: Duration.seconds(20),
      healthCheck: {
        path: '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
      },
    });
  }

  /** ALB access logs require SSE-S3 (the log delivery cannot use a customer KMS key). */
  private accessLogBucket(retentionDays: number): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(retentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      bucket,
      'S1',
      'This bucket only receives the load balancer access logs; logging the log bucket would need another bucket, and so on. Access is SSL-only and public access is blocked.',
    );
    return bucket;
  }
}
