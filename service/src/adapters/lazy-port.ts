/** A port every member of which is an asynchronous method: what lazyPort can stand in for. */
export type AsyncPort<P> = { [K in keyof P]: (...args: never[]) => Promise<unknown> };

/**
 * A port whose adapter is loaded on its first call: `load` (typically a dynamic import of the
 * adapter and of the SDK package it uses) runs once, when a method is first called, and every
 * call then goes to the adapter it returned. A process that never calls the port never loads
 * the adapter. A failed load is not kept: the next call tries again.
 *
 * Only for ports whose members are all asynchronous methods (checked by the type): the proxy
 * answers every method name with a function that returns the adapter's promise. It is not a
 * thenable (`then` is undefined), so it can be returned from an async function.
 */
const adapterKey = Symbol('lazyPort.adapter');

export function lazyPort<P extends AsyncPort<P>>(load: () => Promise<P>): P {
  let adapter: Promise<P> | undefined;
  const loaded = (): Promise<P> => {
    adapter ??= load().catch((error: unknown) => {
      adapter = undefined;
      throw error;
    });
    return adapter;
  };
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as P, {
    get(_target, name) {
      if (name === adapterKey) return loaded;
      if (typeof name !== 'string' || name === 'then') return undefined;
      let method = methods.get(name);
      if (method === undefined) {
        method = async (...args: unknown[]) => {
          const port = (await loaded()) as Record<string, unknown>;
          const member = port[name];
          if (typeof member !== 'function')
            throw new TypeError(`the adapter has no method ${name}`);
          return member.apply(port, args) as Promise<unknown>;
        };
        methods.set(name, method);
      }
      return method;
    },
  });
}

/**
 * The adapter behind a port, loading it if lazyPort stands in for it; any other port as it is.
 * For tests and diagnostics: callers use the port itself.
 */
export async function adapterOf<P extends object>(port: P): Promise<P> {
  const load = (port as { [adapterKey]?: () => Promise<P> })[adapterKey];
  return typeof load === 'function' ? load() : port;
}
