/**
 * List paging as the SSM API does it: MaxResults within the operation's bounds, and an opaque
 * NextToken (here the offset of the next item) that is absent on the last page.
 */
import { optionalNumber, optionalString, SsmApiError } from './wire.ts';

export interface PageBounds {
  readonly min: number;
  readonly max: number;
  /** MaxResults when the caller gives none. */
  readonly default: number;
}

export function page<T>(items: readonly T[], input: Record<string, unknown>, bounds: PageBounds) {
  const maxResults = optionalNumber(input, 'MaxResults') ?? bounds.default;
  if (maxResults < bounds.min || maxResults > bounds.max) {
    const limit =
      maxResults < bounds.min
        ? `greater than or equal to ${bounds.min}`
        : `less than or equal to ${bounds.max}`;
    throw new SsmApiError(
      'ValidationException',
      `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${limit}`,
    );
  }
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString());
  if (token === '' || !Number.isInteger(start) || start < 0) {
    throw new SsmApiError('InvalidNextToken', 'The specified token is not valid');
  }
  const slice = items.slice(start, start + maxResults);
  const next = start + maxResults < items.length ? start + maxResults : undefined;
  return {
    slice,
    ...(next === undefined ? {} : { NextToken: Buffer.from(String(next)).toString('base64url') }),
  };
}
