import { TerminalError } from '../domain/errors.ts';

type Key = Record<string, unknown>;

/** Opaque pagination cursor: a DynamoDB LastEvaluatedKey in base64url JSON. */
export function encodeCursor(key: Key | undefined): string | undefined {
  return key === undefined ? undefined : Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  allowedKeys: readonly string[],
): Key | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new TerminalError('InvalidCursor', 'cursor is not one this service returned');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.entries(parsed).every(([k, v]) => allowedKeys.includes(k) && typeof v === 'string')
  ) {
    throw new TerminalError('InvalidCursor', 'cursor is not one this service returned');
  }
  return parsed as Key;
}
