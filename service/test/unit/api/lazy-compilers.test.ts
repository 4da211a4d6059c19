import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaController, lazySerializerFactory } from '../../../src/api/lazy-compilers.ts';

const route = (schema: unknown) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' });
const schema = {
  type: 'object',
  properties: { status: { type: 'string' }, count: { type: 'integer' } },
};

describe('lazySerializerFactory', () => {
  it('compiles a serializer on its first use, once, and serializes as Fastify’s own', () => {
    const real = SerializerSelector();
    let compiles = 0;
    const counting: typeof real = (external, options) => {
      const compile = real(external, options);
      return (r) => {
        compiles++;
        return compile(r);
      };
    };
    const compile = lazySerializerFactory(counting)(undefined, undefined);
    const serialize = compile(route(schema));
    expect(compiles).toBe(0);
    const doc = { status: 'ok', count: 3, secret: 'not in the schema' };
    expect(serialize(doc)).toBe(real()(route(schema))(doc));
    expect(serialize({ status: 'again', count: 4 })).toBe('{"status":"again","count":4}');
    expect(compiles).toBe(1);
  });
});

describe('an app with lazySchemaController', () => {
  it('answers with the response schema applied (unknown properties dropped)', async () => {
    const app = Fastify({ schemaController: lazySchemaController() });
    app.get('/x', { schema: { response: { 200: schema } } }, async () => ({
      status: 'ok',
      count: 1,
      secret: 'dropped',
    }));
    const res = await app.inject({ method: 'GET', url: '/x' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', count: 1 });
    await app.close();
  });
});
