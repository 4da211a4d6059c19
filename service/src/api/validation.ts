import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { ApiError, type ErrorDetail } from './errors.ts';

/**
 * Route validation with the TypeBox compiler, the same one `messages/validation.ts` uses for
 * queue messages, on the same schema objects: a body the API accepts is a body the worker
 * accepts. Query strings, params and headers are converted (`"10"` → 10) before the check.
 */

interface SchemaError {
  readonly keyword: string;
  readonly schemaPath: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

function describedAt(schema: unknown, schemaPath: string): string | undefined {
  let node = schema;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  const description = (node as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' ? description : undefined;
}

/** Turns TypeBox errors into one detail per field, with the schema's description when useful. */
export function errorDetails(
  schema: unknown,
  errors: Iterable<SchemaError>,
  part: string,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // duplicates the additionalProperties error
    if (e.keyword === 'required') {
      const missing = (e.params.requiredProperties as string[] | undefined) ?? [];
      for (const name of missing) {
        details.push({ in: part, field: `${e.instancePath}/${name}`, problem: 'is required' });
      }
      continue;
    }
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params.additionalProperties as string[] | undefined) ?? [];
      for (const name of extra) {
        details.push({ in: part, field: `${e.instancePath}/${name}`, problem: 'is not allowed' });
      }
      continue;
    }
    const description = e.keyword === 'pattern' ? describedAt(schema, e.schemaPath) : undefined;
    details.push({
      in: part,
      field: e.instancePath,
      problem: description === undefined ? e.message : `${e.message} (${description})`,
    });
  }
  return details;
}

function summary(details: readonly ErrorDetail[], part: string): string {
  const first = details[0];
  if (first === undefined) return `invalid ${part}`;
  const where = first.field === '' ? part : `${part} ${first.field}`;
  const more = details.length > 1 ? ` (and ${details.length - 1} more problem(s))` : '';
  return `${where} ${first.problem}${more}`;
}

export function validationError(
  part: string,
  details: readonly ErrorDetail[],
  message?: string,
): ApiError {
  return new ApiError('VALIDATION_FAILED', message ?? summary(details, part), { details });
}

const partNames: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/**
 * Fastify validator compiler backed by TypeBox. Each schema is compiled on its first use rather
 * than when the route is registered: the app starts without compiling every route's schemas
 * (docs/benchmarks.md, Process).
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  let compiled: ReturnType<typeof Compile<TSchema>> | undefined;
  const part = partNames[httpPart ?? 'body'] ?? 'body';
  const convert = httpPart !== 'body';
  return (input: unknown) => {
    compiled ??= Compile(schema);
    const value = convert ? Value.Convert(schema, input) : input;
    if (compiled.Check(value)) return { value };
    if (httpPart === 'body' && (value === null || value === undefined)) {
      return { error: new ApiError('INVALID_JSON', 'a JSON object body is required') };
    }
    const details = errorDetails(schema, compiled.Errors(value) as Iterable<SchemaError>, part);
    return { error: validationError(part, details) };
  };
};
