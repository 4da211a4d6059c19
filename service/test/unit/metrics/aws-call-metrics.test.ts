import { Readable } from 'node:stream';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { callErrorKind } from '../../../src/aws/call-observer.ts';
import { withPlugins } from '../../../src/aws/clients.ts';
import { awsCallMetricsPlugin } from '../../../src/metrics/aws-call-metrics.ts';
import { RecordingMetrics } from '../../support/recording-metrics.ts';

type Answer = { statusCode: number; body: unknown } | Error;

/** An SQS client whose HTTP answers are `answers`, in order, counted by the plugin. */
function sqsAnswering(answers: Answer[], maxAttempts = 3) {
  const metrics = new RecordingMetrics();
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts,
    requestHandler: {
      async handle() {
        const next = answers.shift();
        if (next === undefined) throw new Error('no answer left');
        if (next instanceof Error) throw next;
        return {
          response: {
            statusCode: next.statusCode,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(JSON.stringify(next.body))]),
          },
        };
      },
    },
  });
  withPlugins(client, [awsCallMetricsPlugin(metrics)]);
  return { client, metrics };
}

const get = new GetQueueAttributesCommand({
  QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
  AttributeNames: ['ApproximateNumberOfMessages'],
});

describe('AWS calls counted by SDK middleware', () => {
  it('counts each request by service and operation', async () => {
    const { client, metrics } = sqsAnswering([
      { statusCode: 200, body: { Attributes: {} } },
      { statusCode: 200, body: { Attributes: {} } },
    ]);
    await client.send(get);
    await client.send(get);
    expect(metrics.calls).toEqual([
      { service: 'SQS', operation: 'GetQueueAttributes' },
      { service: 'SQS', operation: 'GetQueueAttributes' },
    ]);
  });

  it('counts every attempt: a throttled one, then its retry that succeeded', async () => {
    const { client, metrics } = sqsAnswering([
      {
        statusCode: 400,
        body: { __type: 'com.amazonaws.sqs#ThrottlingException', message: 'slow down' },
      },
      { statusCode: 200, body: { Attributes: {} } },
    ]);
    await client.send(get);
    expect(metrics.calls).toEqual([
      { service: 'SQS', operation: 'GetQueueAttributes', error: 'throttled' },
      { service: 'SQS', operation: 'GetQueueAttributes' },
    ]);
  });

  it('tells a refused request (4xx) from a network failure, and passes the error on unchanged', async () => {
    const { client, metrics } = sqsAnswering(
      [
        {
          statusCode: 400,
          body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'no queue' },
        },
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ],
      1,
    );
    await expect(client.send(get)).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await expect(client.send(get)).rejects.toThrow(/ECONNREFUSED/);
    expect(metrics.calls.map((c) => c.error)).toEqual(['client', 'network']);
  });

  it('classifies server errors', () => {
    expect(callErrorKind({ $fault: 'server', $metadata: { httpStatusCode: 503 } })).toBe('server');
    expect(callErrorKind({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(
      'throttled',
    );
  });
});
