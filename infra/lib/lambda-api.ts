import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { grantStatements } from './iam-policies.ts';
import { lambdaHandler } from './lambda-bundle.ts';
import { encryptedLogGroup } from './log-groups.ts';
import { acknowledge } from './nag.ts';
import type { WebAclSettings } from './settings.ts';
import { protectWithWebAcl } from './web-acl.ts';

export interface LambdaApiProps {
  readonly code: lambda.Code;
  readonly environment: Record<string, string>;
  readonly statements: readonly iam.PolicyStatement[];
  readonly key: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * Create API Gateway's account-level CloudWatch Logs role (AWS::ApiGateway::Account). One per
   * account and region: a stack that sets it replaces whatever role another stack set. When
   * false, the account must already have one, or the stage's logging fails the deploy.
   */
  readonly cloudWatchRole: boolean;
  readonly webAcl: WebAclSettings;
}

/**
 * The API behind API Gateway instead of the ALB: API Gateway checks the caller's SigV4
 * signature (AWS_IAM authorization on every method) and the Lambda function runs the same
 * Fastify app through @fastify/aws-lambda, reading the caller from
 * requestContext.identity.userArn (AUTH_MODE=lambda). The worker stays on Fargate.
 */
export class LambdaApi extends Construct {
  readonly function: lambda.Function;
  readonly api: apigateway.LambdaRestApi;

  constructor(scope: Construct, id: string, props: LambdaApiProps) {
    super(scope, id);
    const logs = { key: props.key, retentionDays: props.logRetentionDays };
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'acm-cert-export API function',
    });
    const logGroup = encryptedLogGroup(this, 'FunctionLogs', logs);
    grantStatements(role, [
      ...props.statements,
      // Written out instead of AWSLambdaBasicExecutionRole: that managed policy allows every log group.
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }),
    ]);

    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: props.code,
      handler: lambdaHandler,
      role,
      memorySize: 1024,
      timeout: Duration.seconds(29),
      environment: props.environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    });

    const accessLogs = encryptedLogGroup(this, 'AccessLogs', logs);
    this.api = new apigateway.LambdaRestApi(this, 'Api', {
      handler: this.function,
      description: 'acm-cert-export API (IAM-authorized)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: false,
      },
    });
    const behindWaf = protectWithWebAcl(this, props.webAcl, this.api.deploymentStage.stageArn);
    this.suppress({ behindWaf, cloudWatchRole: props.cloudWatchRole });
  }

  private suppress(options: { behindWaf: boolean; cloudWatchRole: boolean }): void {
    acknowledge(
      this.api,
      'APIG2',
      'The proxy integration hands the raw request to the Fastify app, whose route schemas validate it (the same schemas as behind the ALB); API Gateway models would be a second copy that drifts.',
    );
    if (!options.behindWaf) {
      acknowledge(
        this.api,
        'APIG3',
        'Every method requires SigV4 (AWS_IAM): API Gateway refuses unsigned requests before they reach the function. The webAcl setting puts the stage behind a WAF web ACL where your policy requires one.',
      );
    }
    acknowledge(
      this.api,
      'COG4',
      'Callers are AWS principals authorized with AWS_IAM, not Cognito users.',
    );
    if (options.cloudWatchRole) {
      acknowledge(
        this.api,
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-level API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs, the AWS-maintained policy for execution logging.',
      );
    }
  }
}
