import { describe, expect, it } from 'vitest';
import { lambdaAuthenticator } from '../../../src/auth/lambda-authenticator.ts';
import { createLambdaHandler } from '../../../src/lambda.ts';
import { principals, testApi, v1Body } from './support/harness.ts';

function restEvent(
  method: string,
  path: string,
  options: { body?: unknown; userArn?: string | null; headers?: Record<string, string> } = {},
) {
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: {
      'content-type': 'application/json',
      host: 'abc.execute-api.us-east-1.amazonaws.com',
      ...options.headers,
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      stage: 'prod',
      httpMethod: method,
      path: `/prod${path}`,
      requestId: 'r-1',
      identity: {
        userArn: options.userArn ?? null,
        caller: options.userArn === undefined ? null : 'AROAEXAMPLE:session',
        sourceIp: '10.0.0.1',
      },
    },
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
}

describe('Lambda handler', () => {
  it('serves the same app; the caller is the IAM identity API Gateway verified', async () => {
    const t = testApi({ authenticator: lambdaAuthenticator() });
    const handler = createLambdaHandler(() => t.deps);
    const res = (await handler(
      restEvent('POST', '/v1/deployments', {
        body: v1Body,
        userArn: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-9',
      }),
      {},
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'Queued' });
    expect(t.queue.messages[0]?.requester).toBe(principals.ci);
  });

  it('refuses requests without a verified identity, even with an Authorization header', async () => {
    const t = testApi({ authenticator: lambdaAuthenticator() });
    const handler = createLambdaHandler(() => t.deps);
    const res = (await handler(
      restEvent('GET', '/v1/certificates', { headers: { authorization: 'AcmCertExport admin' } }),
      {},
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'NO_IDENTITY',
    });
    const health = (await handler(restEvent('GET', '/healthz'), {})) as { statusCode: number };
    expect(health.statusCode).toBe(200);
  });

  it('builds the app once, and again after a failed build', async () => {
    const t = testApi({ authenticator: lambdaAuthenticator() });
    let builds = 0;
    const handler = createLambdaHandler(() => {
      builds += 1;
      if (builds === 1) throw new Error('config missing');
      return t.deps;
    });
    await expect(handler(restEvent('GET', '/healthz'), {})).rejects.toThrow('config missing');
    await handler(restEvent('GET', '/healthz'), {});
    await handler(restEvent('GET', '/healthz'), {});
    expect(builds).toBe(2);
  });
});
