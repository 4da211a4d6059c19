import type { CloudWatchMetric } from './definitions.ts';

/** A metric value in an EMF document: one number, or up to `maxValuesPerMetric` of them. */
export type EmfValue = number | readonly number[];

/** The specification's limits: values per metric member, metrics per directive. */
export const maxValuesPerMetric = 100;
export const maxMetricsPerDirective = 100;

/**
 * The members that make a JSON log line an Embedded Metric Format document (CloudWatch Logs
 * extracts the metrics; see the EMF specification): `_aws` with the timestamp and one metric
 * directive, each dimension as a string member, each metric as a number member. Spread them into
 * the line's object: its other members stay searchable properties, not metrics. The metrics
 * given must share their dimension set (`dimensions`' keys, in the definitions' order).
 */
export function emfMembers(
  namespace: string,
  at: Date,
  dimensions: Readonly<Record<string, string>>,
  values: ReadonlyArray<readonly [CloudWatchMetric, EmfValue]>,
): Record<string, unknown> {
  const keys = Object.keys(dimensions);
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [keys],
          Metrics: values.map(([m]) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(values.map(([m, v]) => [m.name, typeof v === 'number' ? v : [...v]])),
  };
}
