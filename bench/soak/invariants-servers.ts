/**
 * Invariant 8: every server that should hold a certificate holds ACM's newest. For every mapping
 * still managed at the end (an item of the mapping table), every running instance carrying its
 * target tag whose `standin:behaviour` is not fail, hang or unreachable holds, in
 * `<certDir>/<certName>-fullchain.pem`, the certificate whose serial DescribeCertificate gives.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sameSerial } from '../../service/src/domain/serial.ts';
import {
  type InvariantLine,
  invariantLine,
  type MappingRef,
  mappingName,
} from './invariants-model.ts';

/** A mapping at the end of the run, with ACM's current serial of its certificate. */
export interface ManagedMapping extends MappingRef {
  /** The mapping's `install.certDir` (default `/etc/ssl/certs`). */
  readonly certDir: string;
  /** DescribeCertificate's Serial; undefined when ACM does not know the certificate. */
  readonly acmSerial: string | undefined;
}

/** An EC2 instance as DescribeInstances shows it. */
export interface Instance {
  readonly instanceId: string;
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Servers expected to hold nothing new: their installs never succeed or never arrive. */
const excused = new Set(['fail', 'hang', 'unreachable']);

/** Whether the instance should hold the mapping's certificate. */
export function shouldHold(instance: Instance, m: MappingRef): boolean {
  return (
    instance.state === 'running' &&
    instance.tags[m.target.key] === m.target.value &&
    !excused.has(instance.tags['standin:behaviour'] ?? '')
  );
}

/** Where a held serial is looked up: `<instance id>|<certDir>/<certName>`. */
export function heldKey(instanceId: string, m: Pick<ManagedMapping, 'certDir' | 'certName'>) {
  return `${instanceId}|${m.certDir}/${m.certName}`;
}

/**
 * The serial of the certificate a stand-in server holds for a mapping, or undefined when it
 * holds none: the first certificate of `<server root><certDir>/<certName>-fullchain.pem`. The one
 * place that knows where a server's files are: swap it for local/run-command/server-root.ts's
 * reader once that exists (instant servers included).
 */
export type HeldSerialReader = (
  standInStateDir: string,
  instanceId: string,
  m: Pick<ManagedMapping, 'certDir' | 'certName'>,
) => Promise<string | undefined>;

export const readHeldSerial: HeldSerialReader = async (stateDir, instanceId, m) => {
  const path = join(stateDir, 'servers', instanceId, m.certDir, `${m.certName}-fullchain.pem`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (first === undefined) return undefined;
  try {
    return new X509Certificate(first).serialNumber;
  } catch {
    return undefined;
  }
};

/** Invariant 8 (`count`: server and mapping pairs checked). */
export function serversHoldNewest(
  mappings: readonly ManagedMapping[],
  instances: readonly Instance[],
  held: ReadonlyMap<string, string | undefined>,
): InvariantLine {
  const problems: string[] = [];
  let pairs = 0;
  for (const m of mappings) {
    if (m.acmSerial === undefined) {
      problems.push(`${mappingName(m)}: ACM does not know its certificate`);
      continue;
    }
    for (const i of instances) {
      if (!shouldHold(i, m)) continue;
      pairs++;
      const serial = held.get(heldKey(i.instanceId, m));
      if (serial === undefined) problems.push(`${i.instanceId} holds no ${mappingName(m)}`);
      else if (!sameSerial(serial, m.acmSerial))
        problems.push(`${i.instanceId} holds an older ${mappingName(m)}`);
    }
  }
  return invariantLine(
    'every server that should hold a certificate holds the newest',
    pairs,
    problems,
  );
}
