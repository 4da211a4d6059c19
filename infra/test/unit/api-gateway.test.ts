import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { lambdaHandler, lambdaHandlerModule } from '../../lib/lambda-bundle.ts';
import { onlyResource } from './support/policies.ts';
import { synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let template: Template;
beforeAll(() => {
  template = synth({ apiMode: 'apigateway' }).template;
});

describe('apigateway mode', () => {
  it('requires SigV4 (AWS_IAM) on every method of the REST API', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThanOrEqual(2); // the root and the {proxy+} resource
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('proxies every path to the function', () => {
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
  });

  it('logs access and errors of the stage to encrypted log groups', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR' })],
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.KmsKeyId).toBeDefined();
    }
  });

  it('runs the same Fastify app on Node 24 ARM64: the handler re-exports service/src/lambda.ts', () => {
    const fn = onlyResource(template, 'AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: lambdaHandler,
      LoggingConfig: expect.objectContaining({ LogFormat: 'JSON' }),
    });
    expect(lambdaHandler).toBe('index.handler');
    expect(existsSync(join(defaultRepoRoot, lambdaHandlerModule))).toBe(true);
  });

  it('configures the function as an API only, authenticated by API Gateway', () => {
    const fn = onlyResource(template, 'AWS::Lambda::Function');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      API_ENABLED: 'true',
      WORKER_ENABLED: 'false',
      AUTH_MODE: 'lambda',
      MAPPING_TABLE: expect.anything(),
      SSM_DOCUMENT_NAME: 'Install-ACMCertificate',
      // No listener (nothing could scrape a function); its AWS calls as EMF.
      METRICS_ENABLED: 'false',
      METRICS_EMF: 'true',
      METRICS_NAMESPACE: 'AcmCertExport',
    });
    expect(env.AWS_REGION).toBeUndefined(); // reserved: Lambda sets it
  });

  it('keeps the worker on Fargate without the API port or HTTP health check (only the metrics port)', () => {
    const definition = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const [container] = definition.Properties.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
      HealthCheck?: unknown;
      PortMappings?: unknown;
    }[];
    if (container === undefined) throw new Error('no container');
    const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({ API_ENABLED: 'false', WORKER_ENABLED: 'true' });
    expect(container.HealthCheck).toBeUndefined();
    expect(container.PortMappings).toEqual([
      { ContainerPort: 9464, Protocol: 'tcp', Name: 'metrics' },
    ]);
  });

  it('outputs the API URL', () => {
    expect(template.toJSON().Outputs.ApiUrl).toBeDefined();
  });
});
