import { describe, expect, it } from 'vitest';
import { adapterOf, lazyPort } from '../../../src/adapters/lazy-port.ts';

interface Greeter {
  greet(name: string): Promise<string>;
  count(): Promise<number>;
}

class RealGreeter implements Greeter {
  calls = 0;
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }
  async greet(name: string) {
    this.calls++;
    return `${this.#prefix} ${name}`;
  }
  async count() {
    return this.calls;
  }
}

describe('lazyPort', () => {
  it('loads the adapter on the first call only, once, and forwards every call with its arguments', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      return new RealGreeter('hello');
    });
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([port.greet('ann'), port.greet('bob')]);
    expect([a, b]).toEqual(['hello ann', 'hello bob']);
    // The adapter's own state (private fields, `this`) is the real object's.
    expect(await port.count()).toBe(2);
    expect(loads).toBe(1);
  });

  it('is not a thenable: it can be returned from an async function and awaited as itself', async () => {
    const port = lazyPort<Greeter>(async () => new RealGreeter('hi'));
    const resolved = await (async () => port)();
    expect(resolved).toBe(port);
    expect(await resolved.greet('cy')).toBe('hi cy');
  });

  it('passes the adapter’s rejection through', async () => {
    const port = lazyPort<Greeter>(async () => ({
      greet: async () => {
        throw new Error('refused');
      },
      count: async () => 0,
    }));
    await expect(port.greet('x')).rejects.toThrow('refused');
  });

  it('does not keep a failed load: the next call loads again', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      if (loads === 1) throw new Error('module not found');
      return new RealGreeter('again');
    });
    await expect(port.greet('x')).rejects.toThrow('module not found');
    expect(await port.greet('y')).toBe('again y');
    expect(loads).toBe(2);
  });

  it('says which method the adapter lacks', async () => {
    const port = lazyPort<Greeter>(
      async () => ({ greet: async () => 'only' }) as unknown as Greeter,
    );
    await expect(port.count()).rejects.toThrow('the adapter has no method count');
  });

  it('gives the adapter behind it to adapterOf, and any other port as it is', async () => {
    const real = new RealGreeter('hey');
    expect(await adapterOf(lazyPort<Greeter>(async () => real))).toBe(real);
    expect(await adapterOf(real)).toBe(real);
  });
});
