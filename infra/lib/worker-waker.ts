import { Duration, Stack } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantStatements } from './iam-policies.ts';
import { wakerHandler } from './lambda-bundle.ts';
import { encryptedLogGroup } from './log-groups.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';

/** How often the waker looks at the queue: Scheduler's shortest rate. */
export const wakerRateMinutes = 1;
/** The function's timeout, which bounds what each look is billed (npm run cost prices it so). */
export const wakerTimeoutSeconds = 3;

export interface WorkerWakerProps {
  readonly code: lambda.Code;
  readonly queue: sqs.IQueue;
  readonly service: ecs.FargateService;
  readonly key: kms.IKey;
  readonly logRetentionDays: number;
}

/**
 * The scale-to-zero deployment's first task within a minute of a message (minTasks=0): every
 * minute a Scheduler schedule invokes a small function (service/src/waker/) that reads the job
 * queue's counts with GetQueueAttributes, which answers at once, and sets the worker service's
 * desired count to one when work waits and none is wanted. CloudWatch alarms on SQS metrics
 * cannot do this: the metrics arrive a minute or more late and the alarm needs a period on top.
 * Scaling beyond one task, and back to zero, stays with the queue's scaling policies.
 *
 * About 43,800 invocations a month (inside Scheduler's free 14 million); the function logs only
 * when it starts a task or finds the service missing (JSON logs, platform lines at WARN), so
 * its log group stays near empty. Its role reads the queue's attributes and describes and
 * updates the one service, nothing else.
 */
export class WorkerWaker extends Construct {
  readonly function: lambda.Function;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: WorkerWakerProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'acm-cert-export worker waker: starts the first task when jobs wait',
    });
    const logGroup = encryptedLogGroup(this, 'FunctionLogs', {
      key: props.key,
      retentionDays: props.logRetentionDays,
    });
    // The service's Ref: its ARN as ECS gave it (service/<cluster>/<name> in the long format).
    const serviceArn = props.service.serviceArn;
    grantStatements(role, [
      new iam.PolicyStatement({
        sid: 'ReadJobQueueCounts',
        actions: ['sqs:GetQueueAttributes'],
        resources: [props.queue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'StartWorkerTask',
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [serviceArn],
      }),
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }),
    ]);

    this.function = new lambda.Function(this, 'Function', {
      description: 'acm-cert-export: starts the worker when jobs wait and no task runs',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: props.code,
      handler: wakerHandler,
      role,
      memorySize: 256,
      // Two quick calls (three when it starts a task); a look cut short is retried the next minute.
      timeout: Duration.seconds(wakerTimeoutSeconds),
      environment: {
        QUEUE_URL: props.queue.queueUrl,
        WORKER_CLUSTER: props.service.cluster.clusterName,
        WORKER_SERVICE: serviceArn,
        LOG_LEVEL: 'info',
        // Retries that outlast the timeout are wasted: the next minute's look is the retry.
        AWS_MAX_ATTEMPTS: '2',
      },
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      // The next minute's invocation is the retry.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });

    const invoker = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'acm-cert-export: lets the waker schedule invoke the waker function',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'acm-cert-export: look at the job queue every minute (scale-to-zero worker)',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(wakerRateMinutes)),
      target: new targets.LambdaInvoke(this.function, {
        role: invoker,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    acknowledge(
      invoker,
      wildcardResourceFinding(invoker, `${this.function.functionArn}:*`),
      'CDK grants invoke on the function and its versions (`:*`); the schedule invokes the unqualified function, which has no published versions.',
    );
  }
}
