/**
 * The API routes the dashboard page may read through the proxy, and nothing else: each GET
 * below, with only the paging parameters. Everything that changes something (deploy, cancel,
 * reconcile, stop-managing) stays out of reach of the page and of anything else that can reach
 * the loopback port.
 */
const readRoutes: readonly RegExp[] = [
  /^\/v1\/certificates$/,
  /^\/v1\/certificates\/[^/]+\/deployments$/,
  /^\/v1\/deployments\/[^/]+$/,
  /^\/v1\/deployments\/[^/]+\/servers$/,
];

const maxCursorLength = 4096;

/** Decodes then re-encodes one path segment; undefined when it cannot be a name. */
function segment(raw: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (decoded === '' || decoded === '.' || decoded === '..') return undefined;
  return encodeURIComponent(decoded);
}

/**
 * The API path and query to forward for a page's `/api/…` request URL (path and query as the
 * browser sent them), or undefined when it is not one of the read routes. Segments are
 * re-encoded, and only `limit` (1-3 digits) and `cursor` are kept from the query.
 */
export function forwardedPath(requestUrl: string): string | undefined {
  const url = new URL(requestUrl, 'http://dashboard.invalid');
  if (!url.pathname.startsWith('/api/')) return undefined;
  const parts = url.pathname.slice('/api'.length).split('/').slice(1);
  const segments = parts.map(segment);
  if (segments.some((s) => s === undefined)) return undefined;
  const path = `/${segments.join('/')}`;
  if (!readRoutes.some((r) => r.test(path))) return undefined;
  const query = new URLSearchParams();
  const limit = url.searchParams.get('limit');
  if (limit !== null) {
    if (!/^[0-9]{1,3}$/.test(limit)) return undefined;
    query.set('limit', limit);
  }
  const cursor = url.searchParams.get('cursor');
  if (cursor !== null) {
    if (cursor === '' || cursor.length > maxCursorLength) return undefined;
    query.set('cursor', cursor);
  }
  const q = query.toString();
  return q === '' ? path : `${path}?${q}`;
}
