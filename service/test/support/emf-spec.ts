/**
 * The rules of the CloudWatch Embedded Metric Format specification
 * (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
 * as a checker: the problems of one log line, empty when CloudWatch would extract its metrics.
 * Used by the tests of everything that writes EMF.
 */

/** The units CloudWatch accepts (MetricDatum's StandardUnit). */
export const cloudWatchUnits: ReadonlySet<string> = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const validNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The problems of `line` (a JSON text) as an EMF document; [] when it is a valid one. */
export function emfProblems(line: string): string[] {
  const problems: string[] = [];
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return ['not JSON'];
  }
  if (!isObject(root)) return ['the root is not an object'];
  const aws = root._aws;
  if (!isObject(aws)) return ['no _aws object'];
  for (const key of Object.keys(aws)) {
    if (key !== 'Timestamp' && key !== 'CloudWatchMetrics' && key !== 'LogGroupName') {
      problems.push(`_aws has a member the specification does not define: ${key}`);
    }
  }
  const ts = aws.Timestamp;
  if (!Number.isInteger(ts) || (ts as number) < 0) {
    problems.push('_aws.Timestamp must be a number of milliseconds since the epoch');
  }
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics is not an array'];
  for (const [i, directive] of directives.entries()) {
    const at = `CloudWatchMetrics[${i}]`;
    if (!isObject(directive)) {
      problems.push(`${at} is not an object`);
      continue;
    }
    const ns = directive.Namespace;
    if (typeof ns !== 'string' || ns.length < 1 || ns.length > 255 || ns.startsWith(':')) {
      problems.push(`${at}.Namespace must be a string of 1 to 255 characters`);
    }
    const dimensions = directive.Dimensions;
    if (!Array.isArray(dimensions)) {
      problems.push(`${at}.Dimensions must be an array of dimension sets`);
    } else {
      for (const [j, set] of dimensions.entries()) {
        if (!Array.isArray(set)) {
          problems.push(`${at}.Dimensions[${j}] is not an array`);
          continue;
        }
        if (set.length > 30) problems.push(`${at}.Dimensions[${j}] has more than 30 dimensions`);
        for (const key of set) {
          if (typeof key !== 'string') {
            problems.push(`${at}.Dimensions[${j}] holds a key that is not a string`);
          } else if (typeof root[key] !== 'string') {
            problems.push(`dimension ${key}: the root must hold it as a string`);
          } else if ((root[key] as string).length < 1 || (root[key] as string).length > 1024) {
            problems.push(`dimension ${key}: its value must have 1 to 1024 characters`);
          }
        }
      }
    }
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics) || metrics.length === 0 || metrics.length > 100) {
      problems.push(`${at}.Metrics must be an array of 1 to 100 metric definitions`);
      continue;
    }
    for (const [j, m] of metrics.entries()) {
      if (!isObject(m) || typeof m.Name !== 'string' || m.Name.length < 1 || m.Name.length > 255) {
        problems.push(`${at}.Metrics[${j}].Name must be a string of 1 to 255 characters`);
        continue;
      }
      if (m.Unit !== undefined && !cloudWatchUnits.has(String(m.Unit))) {
        problems.push(`${m.Name}: unit ${String(m.Unit)} is not a CloudWatch unit`);
      }
      if (
        m.StorageResolution !== undefined &&
        m.StorageResolution !== 1 &&
        m.StorageResolution !== 60
      ) {
        problems.push(`${m.Name}: StorageResolution must be 1 or 60`);
      }
      const value = root[m.Name];
      if (Array.isArray(value)) {
        if (value.length === 0 || value.length > 100) {
          problems.push(`${m.Name}: an array of values must hold 1 to 100 numbers`);
        }
        if (!value.every(validNumber)) problems.push(`${m.Name}: every value must be a number`);
      } else if (!validNumber(value)) {
        problems.push(`${m.Name}: the root must hold its value as a number or an array of numbers`);
      }
    }
  }
  return problems;
}
