import { callErrorKind, callObserverPlugin } from '../aws/call-observer.ts';
import type { ClientPlugin } from '../aws/clients.ts';
import type { Metrics } from '../ports/metrics.ts';

/** The plugin the composition root gives every AWS client: each attempt counted by operation. */
export function awsCallMetricsPlugin(metrics: Metrics): ClientPlugin {
  return callObserverPlugin(
    (call) =>
      metrics.awsCall(
        call.service,
        call.operation,
        call.error === undefined ? undefined : callErrorKind(call.error),
      ),
    'awsCallMetrics',
  );
}
