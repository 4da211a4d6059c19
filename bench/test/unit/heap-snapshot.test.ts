import { text } from 'node:stream/consumers';
import { getHeapSnapshot } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { byConstructor, type HeapSnapshot } from '../../heap-snapshot.ts';

/** A snapshot in V8's layout (Node 24's node fields), nodes given as [type, name, self size]. */
function snapshot(nodes: [string, string, number][]): HeapSnapshot {
  const types = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number'];
  const fields = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
  const strings: string[] = [];
  const at = (s: string) => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1);
  return {
    snapshot: { meta: { node_fields: fields, node_types: [types, 'string', 'number'] } },
    nodes: nodes.flatMap(([type, name, size], i) => [
      types.indexOf(type),
      at(name),
      i * 2 + 1,
      size,
      0,
      0,
      0,
    ]),
    strings,
  };
}

describe('byConstructor', () => {
  it('sums objects and closures by constructor name, other nodes by type', () => {
    const counts = byConstructor(
      snapshot([
        ['object', 'Map', 40],
        ['object', 'Map', 40],
        ['object', 'Timeout', 128],
        ['closure', 'flush', 56],
        ['string', 'job-0001', 32],
        ['string', 'job-0002', 32],
        ['code', 'foo', 500],
      ]),
    );
    expect(Object.fromEntries(counts)).toEqual({
      'object Map': { count: 2, bytes: 80 },
      'object Timeout': { count: 1, bytes: 128 },
      'closure flush': { count: 1, bytes: 56 },
      string: { count: 2, bytes: 64 },
      code: { count: 1, bytes: 500 },
    });
  });

  it('reads the snapshot V8 takes of this process: the objects it holds, by constructor', async () => {
    class HeldForTheSnapshotTest {
      readonly n: number;
      constructor(n: number) {
        this.n = n;
      }
    }
    const held = Array.from({ length: 2_000 }, (_, n) => new HeldForTheSnapshotTest(n));
    const counts = byConstructor(JSON.parse(await text(getHeapSnapshot())) as HeapSnapshot);
    expect(counts.get('object HeldForTheSnapshotTest')?.count).toBe(held.length);
    expect(counts.get('string')?.count).toBeGreaterThan(0);
  });
});
