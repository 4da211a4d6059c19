import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export interface Invalid {
  readonly ok: false;
  /** One line per problem: `/certName: must match pattern "..."`. */
  readonly problems: readonly string[];
}

export type Validated<T> = { readonly ok: true; readonly value: T } | Invalid;

/** Compiles a schema once; returns a checker giving either the typed value or the problems. */
export function validator<T>(schema: TSchema): (value: unknown) => Validated<T> {
  const compiled = Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return { ok: true, value: value as T };
    const problems = [...compiled.Errors(value)]
      .filter((e) => e.keyword !== 'boolean')
      .map((e) => {
        const where = e.instancePath === '' ? '(root)' : e.instancePath;
        if (e.keyword === 'additionalProperties') {
          const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
          return `${where}: unknown field(s) ${(extra ?? []).map((f) => `"${f}"`).join(', ')}`;
        }
        return `${where}: ${e.message}`;
      });
    return { ok: false, problems: problems.length > 0 ? problems : ['(root): invalid'] };
  };
}
