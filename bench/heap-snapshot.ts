/**
 * A V8 heap snapshot (the JSON that `HeapProfiler.takeHeapSnapshot` streams and
 * `v8.writeHeapSnapshot` writes) summed by what its nodes are: objects, closures and native
 * objects by constructor name, everything else (strings, code, arrays, hidden) by type. Two
 * summaries compared show what a process retained in between (bench/memory-bench.ts).
 */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self bytes of a snapshot's nodes by type and constructor (or, for strings, type). */
export function byConstructor(s: HeapSnapshot): Map<string, { count: number; bytes: number }> {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt] ?? 0] ?? '?';
    const name =
      type === 'object' || type === 'closure' || type === 'native'
        ? `${type} ${s.strings[s.nodes[i + nameAt] ?? 0] ?? '?'}`
        : type;
    const e = out.get(name) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += s.nodes[i + sizeAt] ?? 0;
    out.set(name, e);
  }
  return out;
}
