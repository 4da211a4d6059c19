import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  deploymentOutcomes,
  emfSinkMetrics,
  jobSteps,
  metrics,
  metricsNamespace,
} from '../../../service/src/metrics/definitions.ts';
import { fixedCustomMetrics, fixedMonthlyCost } from '../../lib/cost/fixed-cost.ts';
import { prices } from '../../lib/cost/prices.ts';
import { onlyResource } from './support/policies.ts';
import { synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let template: Template;
beforeAll(() => {
  template = synth().template;
});

/** The dashboard's body as JSON: its tokens (queue names, the region) become placeholders. */
function dashboardBody(t: Template): { widgets: { properties: Record<string, unknown> }[] } {
  const dashboard = onlyResource(t, 'AWS::CloudWatch::Dashboard');
  const body = dashboard.Properties.DashboardBody as unknown;
  const text =
    typeof body === 'string'
      ? body
      : ((body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
          .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
          .join('');
  return JSON.parse(text);
}

/** Every metric a widget draws of a namespace: [name, dimensions] (SEARCH expressions included). */
function metricsDrawn(t: Template, namespace: string): { name: string; dims: string[] }[] {
  const out: { name: string; dims: string[] }[] = [];
  for (const w of dashboardBody(t).widgets) {
    for (const m of (w.properties.metrics as unknown[][] | undefined) ?? []) {
      const [first] = m;
      if (typeof first === 'string') {
        if (first !== namespace) continue;
        const rest = m.filter((x): x is string => typeof x === 'string');
        const dims = rest.slice(2).filter((_, i) => i % 2 === 0);
        out.push({ name: rest[1] ?? '', dims });
      } else if (typeof first === 'object' && first !== null && 'expression' in first) {
        const expression = String((first as { expression: string }).expression);
        const search = /SEARCH\('\{([^}]*)\} MetricName="([^"]+)"/.exec(expression);
        if (search === null) continue;
        const [ns, ...dims] = (search[1] ?? '').split(',');
        if (ns === namespace) out.push({ name: search[2] ?? '', dims });
      }
    }
  }
  return out;
}

describe('metrics in the stack', () => {
  it('the dashboard draws only metrics the service writes, with their dimensions, and every one of them', () => {
    const written = new Map<string, string[]>(
      Object.values(metrics).flatMap((m) =>
        'cloudWatch' in m ? [[m.cloudWatch.name, [...m.cloudWatch.dimensions]] as const] : [],
      ),
    );
    const drawn = metricsDrawn(template, metricsNamespace);
    expect(drawn.length).toBeGreaterThan(0);
    for (const d of drawn) {
      expect(written.has(d.name), `${d.name} is not a metric the service writes`).toBe(true);
      expect(d.dims, d.name).toEqual(written.get(d.name));
    }
    expect(new Set(drawn.map((d) => d.name))).toEqual(new Set(written.keys()));
    // Every outcome and every step has its line.
    const outcomes = dashboardBody(template)
      .widgets.flatMap((w) => (w.properties.metrics as unknown[][] | undefined) ?? [])
      .filter((m) => m[1] === metrics.deployments.cloudWatch.name)
      .map((m) => m[3]);
    expect(outcomes.sort()).toEqual([...deploymentOutcomes].sort());
    const steps = dashboardBody(template)
      .widgets.flatMap((w) => (w.properties.metrics as unknown[][] | undefined) ?? [])
      .filter((m) => m[1] === metrics.stepDuration.cloudWatch.name)
      .map((m) => m[3]);
    expect(steps.sort()).toEqual([...jobSteps].sort());
    expect(emfSinkMetrics.length).toBeGreaterThan(0);
  });

  it('the dashboard is named after the stack and costs its line in the fixed costs', () => {
    const dashboard = onlyResource(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties.DashboardName).toBe('AcmCertExport-operations');
    const cost = fixedMonthlyCost(
      template.toJSON() as Parameters<typeof fixedMonthlyCost>[0],
      prices['us-east-1'],
    );
    expect(cost.items.find((i) => i.what.startsWith('CloudWatch dashboards'))).toMatchObject({
      quantity: 1,
      monthlyUsd: 3,
    });
    expect(cost.perUse.find((r) => r.unit === 'per metric-month')?.what).toContain(
      `${fixedCustomMetrics} whatever happens`,
    );
  });

  it('/metrics is on a port of its own: not a load balancer target, shut to everyone by default', () => {
    const groups = Object.values(
      template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'),
    );
    expect(groups.length).toBeGreaterThan(0);
    for (const tg of groups) expect(tg.Properties.Port).toBe(8080);
    const service = onlyResource(template, 'AWS::ECS::Service');
    expect(service.Properties.LoadBalancers).toEqual([
      expect.objectContaining({ ContainerName: 'service', ContainerPort: 8080 }),
    ]);
    const ingress = JSON.stringify(template.toJSON().Resources);
    expect(ingress).not.toMatch(/"FromPort":9464/);
  });

  it('with metricsIngressCidrs, the tasks’ security group opens the metrics port to those CIDRs only', () => {
    const t = synth({ metricsIngressCidrs: '10.20.0.0/16', metricsPort: 9100 }).template;
    const opened = Object.values(
      t.toJSON().Resources as Record<
        string,
        { Type: string; Properties?: Record<string, unknown> }
      >,
    )
      .flatMap((r) =>
        r.Type === 'AWS::EC2::SecurityGroup'
          ? ((r.Properties?.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [])
          : r.Type === 'AWS::EC2::SecurityGroupIngress'
            ? [r.Properties ?? {}]
            : [],
      )
      .filter((rule) => rule.FromPort === 9100);
    expect(opened).toEqual([
      expect.objectContaining({
        CidrIp: '10.20.0.0/16',
        FromPort: 9100,
        ToPort: 9100,
        IpProtocol: 'tcp',
      }),
    ]);
    const definition = onlyResource(t, 'AWS::ECS::TaskDefinition');
    const [container] = definition.Properties.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    expect(container?.Environment).toContainEqual({ Name: 'METRICS_PORT', Value: '9100' });
  });
});
