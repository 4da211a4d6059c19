import { CliError } from './errors.ts';

/** `--target key=value`, split at the first `=`. */
export function parseTarget(value: string): { key: string; value: string } {
  const at = value.indexOf('=');
  if (at < 1 || at === value.length - 1) {
    throw new CliError(`--target must be key=value (e.g. env=dev), got "${value}"`);
  }
  return { key: value.slice(0, at), value: value.slice(at + 1) };
}
