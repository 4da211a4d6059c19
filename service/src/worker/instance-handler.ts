import { tagKeyPattern, tagValuePattern } from '../domain/names.ts';
import type { InstanceEventEnvelope } from '../messages/instance-event.ts';
import { fanOut, mappingJob } from './fan-out.ts';
import type { HandlerOutcome, MessageContext } from './handler-outcome.ts';
import { instanceJobId } from './job-ids.ts';
import type { WorkerDeps } from './worker-deps.ts';

const tagKey = new RegExp(tagKeyPattern);
const tagValue = new RegExp(tagValuePattern);

/**
 * `EC2 Instance State-change Notification` / `running`: a server started (new, or started
 * again). Every certificate mapped to one of its tags is installed on that server alone, so a
 * server launched after a deployment gets its certificates without waiting for a renewal. The
 * jobs are queued with a delay (`INSTANCE_SETTLE_SECONDS`) that lets its SSM agent register.
 */
export async function handleInstanceEvent(
  event: InstanceEventEnvelope,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const instanceId = event.detail['instance-id'];
  const log = deps.logger.child({ eventId: event.id, instanceId });
  return fanOut('server start', ctx, deps, log, async () => {
    if (event.detail.state !== 'running') return { ignored: `state ${event.detail.state}` };
    const instance = await deps.instances.describe(instanceId);
    if (instance === undefined || instance.state !== 'running') {
      return { ignored: `the instance is ${instance?.state ?? 'unknown to EC2'} now` };
    }
    const targets = Object.entries(instance.tags)
      .filter(([key, value]) => !key.startsWith('aws:') && tagKey.test(key) && tagValue.test(value))
      .map(([key, value]) => ({ key, value }));
    const mappings = (await Promise.all(targets.map((t) => deps.mappings.listByTarget(t)))).flat();
    if (mappings.length === 0) return { ignored: 'no certificate is mapped to any of its tags' };
    return {
      delaySeconds: deps.settings.instanceSettleSeconds,
      jobs: mappings.map((m) =>
        mappingJob(m, {
          jobId: instanceJobId(event.id, instanceId, {
            target: m.target,
            certificateArn: m.certificateArn,
            certName: m.certName,
          }),
          requester: `${event.source}:${instanceId} running`,
          trigger: 'instance',
          eventId: event.id,
          instanceIds: [instanceId],
        }),
      ),
    };
  });
}
