import type { Metrics } from '../ports/metrics.ts';

/** One Metrics made of several (Prometheus and EMF): each call goes to every one of them. */
export function fanOutMetrics(sinks: readonly Metrics[]): Metrics {
  if (sinks.length === 1 && sinks[0] !== undefined) return sinks[0];
  const each = (call: (sink: Metrics) => void) => {
    for (const sink of sinks) call(sink);
  };
  return {
    deploymentFinished: (...a) => each((s) => s.deploymentFinished(...a)),
    stepFinished: (...a) => each((s) => s.stepFinished(...a)),
    messagePickedUp: (...a) => each((s) => s.messagePickedUp(...a)),
    mappingObserved: (...a) => each((s) => s.mappingObserved(...a)),
    mappingForgotten: (...a) => each((s) => s.mappingForgotten(...a)),
    awsCall: (...a) => each((s) => s.awsCall(...a)),
  };
}
