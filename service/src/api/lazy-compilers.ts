import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/**
 * Fastify's response serializers (fast-json-stringify, the default), each compiled on its first
 * use rather than all when the app starts. Compiling every route's response schemas took most
 * of the time from start to the first answer (docs/benchmarks.md, Process); now a route pays
 * for its own, once, on its first response with that status. The serializers themselves are
 * Fastify's own, built from the same schemas with the same options.
 */
export function lazySerializerFactory(
  build: SerializerFactory = SerializerSelector(),
): SerializerFactory {
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined;
      return (doc) => {
        serialize ??= compile(route);
        return serialize(doc);
      };
    };
  };
}

/** The schema controller option of an app whose serializers compile on first use. */
export function lazySchemaController(): NonNullable<FastifyServerOptions['schemaController']> {
  return { compilersFactory: { buildSerializer: lazySerializerFactory() } };
}
