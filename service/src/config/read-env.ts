import type {
  BooleanSetting,
  EnumSetting,
  IntegerSetting,
  JsonSetting,
  ListSetting,
  StringSetting,
  UrlSetting,
} from './settings.ts';

/**
 * Readers of the environment: each takes a settings catalog entry (settings.ts) for the name,
 * default and range, so what the code reads and what docs/settings.md says are one thing.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Named<T> = T & { readonly name: string };

/** The trimmed value, or undefined when unset or empty. */
export function optional(env: Env, setting: { readonly name: string }): string | undefined {
  const value = env[setting.name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A string: the value, else the catalog's default (or `fallback` for a derived one), else required. */
export function text(
  env: Env,
  setting: Named<StringSetting | UrlSetting | ListSetting>,
  fallback: string | undefined = setting.default,
): string {
  const value = optional(env, setting);
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${setting.name} is required`);
}

export function int(env: Env, setting: Named<IntegerSetting>): number {
  const { name, min, max } = setting;
  const raw = optional(env, setting);
  if (raw === undefined) return setting.default;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function bool(env: Env, setting: Named<BooleanSetting>): boolean {
  const raw = optional(env, setting)?.toLowerCase();
  if (raw === undefined) return setting.default;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${setting.name} must be true or false, got "${raw}"`);
}

/** One of the catalog's values; its default when unset (undefined when it has none). */
export function oneOf<T extends string>(
  env: Env,
  setting: Named<EnumSetting<T> & { readonly default: T }>,
): T;
export function oneOf<T extends string>(env: Env, setting: Named<EnumSetting<T>>): T | undefined;
export function oneOf<T extends string>(env: Env, setting: Named<EnumSetting<T>>): T | undefined {
  const raw = optional(env, setting) ?? setting.default;
  if (raw === undefined) return undefined;
  if (!(setting.values as readonly string[]).includes(raw)) {
    throw new ConfigError(
      `${setting.name} must be one of ${setting.values.join(', ')}, got "${raw}"`,
    );
  }
  return raw as T;
}

export function url(env: Env, setting: Named<UrlSetting>, fallback?: string): string {
  const value = text(env, setting, fallback ?? setting.default);
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`${setting.name} must be an http(s) URL, got "${value}"`);
  }
  return value;
}

/** A setting holding a JSON array; `[]` when unset. The catalog's example shows the shape. */
export function jsonList(env: Env, setting: Named<JsonSetting>): unknown[] {
  const { name, example } = setting;
  const raw = optional(env, setting);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be JSON: ${example}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(`${name} must be a JSON array: ${example}`);
  return parsed;
}

/** A comma-separated list, trimmed, empty entries dropped; the catalog's default when unset. */
export function list(env: Env, setting: Named<ListSetting>, fallback?: string): string[] {
  return (optional(env, setting) ?? fallback ?? setting.default ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
