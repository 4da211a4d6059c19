/**
 * SendCommand parameter checks, as AWS makes them before accepting a command: every name must
 * be declared by the document, every required one present, every value must match the
 * declared allowedPattern / allowedValues. Defaults fill the rest.
 */
import type { CommandDocument } from './document.ts';
import { SsmApiError } from './wire.ts';

function invalidParameters(message: string): SsmApiError {
  return new SsmApiError('InvalidParameters', message);
}

function checkValue(name: string, value: string, pattern?: string, allowed?: readonly string[]) {
  if (pattern !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern);
    } catch {
      throw invalidParameters(
        `Parameter "${name}" has an allowedPattern the stand-in cannot compile`,
      );
    }
    if (!regex.test(value)) {
      throw invalidParameters(
        `Parameter "${name}" "${value}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern}`,
      );
    }
  }
  if (allowed !== undefined && !allowed.includes(value)) {
    throw invalidParameters(`Parameter "${name}" must be one of ${allowed.join(', ')}`);
  }
}

function defaultValue(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

/**
 * The parameter values a command runs with: what was sent plus the defaults. Throws
 * InvalidParameters for anything AWS would refuse.
 */
export function resolveParameters(
  document: CommandDocument,
  sent: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  const resolved: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(sent)) {
    const spec = document.parameters[name];
    if (spec === undefined) {
      throw invalidParameters(`Parameter "${name}" is not defined in document ${document.name}`);
    }
    if (spec.type !== 'StringList' && values.length !== 1) {
      throw invalidParameters(`Parameter "${name}" of type ${spec.type} takes exactly one value`);
    }
    for (const value of values) checkValue(name, value, spec.allowedPattern, spec.allowedValues);
    resolved[name] = [...values];
  }
  for (const [name, spec] of Object.entries(document.parameters)) {
    if (resolved[name] !== undefined) continue;
    if (spec.default === undefined) {
      throw invalidParameters(`Parameter "${name}" is required by document ${document.name}`);
    }
    resolved[name] = defaultValue(spec.default);
  }
  return resolved;
}

/** A parameter's value as the script sees it (StringList values joined by commas). */
export function parameterText(values: readonly string[]): string {
  return values.join(',');
}

/** Replaces `{{ name }}` references, as the agent does in runCommand and timeoutSeconds. */
export function interpolate(text: string, values: Readonly<Record<string, readonly string[]>>) {
  return text.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : parameterText(value);
  });
}

/** The environment variables of parameters declared with `interpolationType: ENV_VAR`. */
export function parameterEnvironment(
  document: CommandDocument,
  values: Readonly<Record<string, readonly string[]>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(document.parameters)) {
    const value = values[name];
    if (spec.interpolationType === 'ENV_VAR' && value !== undefined) {
      env[`SSM_${name}`] = parameterText(value);
    }
  }
  return env;
}
