import { describe, expect, it } from 'vitest';
import { forwardedPath } from '../../../src/dashboard/read-routes.ts';

const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-123456789012';
const enc = encodeURIComponent;

describe('the read routes the dashboard forwards', () => {
  it.each([
    ['/api/v1/certificates', '/v1/certificates'],
    ['/api/v1/certificates?limit=100', '/v1/certificates?limit=100'],
    ['/api/v1/certificates?limit=2&cursor=abc%3D', '/v1/certificates?limit=2&cursor=abc%3D'],
    [
      `/api/v1/certificates/${enc(arn)}/deployments?limit=10`,
      `/v1/certificates/${enc(arn)}/deployments?limit=10`,
    ],
    ['/api/v1/deployments/6f1c2b9e-1', '/v1/deployments/6f1c2b9e-1'],
    [
      '/api/v1/deployments/6f1c2b9e-1/servers?cursor=x',
      '/v1/deployments/6f1c2b9e-1/servers?cursor=x',
    ],
    // Only the paging parameters go on.
    ['/api/v1/certificates?limit=5&verbose=1&x=%0d%0a', '/v1/certificates?limit=5'],
    // Segments are re-encoded: what reaches the API is one segment each.
    ['/api/v1/deployments/a%20b', '/v1/deployments/a%20b'],
  ])('%s → %s', (url, path) => {
    expect(forwardedPath(url)).toBe(path);
  });

  it.each([
    ['not under /api', '/v1/certificates'],
    ['a route that changes something', '/api/v1/deployments/j-1/cancel'],
    ['the reconciliation', '/api/v1/reconcile'],
    ['a mapping (stop-managing)', `/api/v1/certificates/${enc(arn)}/targets/env/dev/web`],
    ['the dry run', '/api/v1/deployments'],
    ['a dot segment', '/api/v1/deployments/%2E%2E'],
    ['an empty segment', '/api/v1/deployments//servers'],
    ['a bad escape', '/api/v1/deployments/%E0%A4%A'],
    ['a limit that is not a number', '/api/v1/certificates?limit=1e3'],
    ['an empty cursor', '/api/v1/certificates?cursor='],
    ['a cursor longer than the API takes', `/api/v1/certificates?cursor=${'a'.repeat(4097)}`],
    ['the health probe', '/api/healthz'],
  ])('refuses %s', (_what, url) => {
    expect(forwardedPath(url)).toBeUndefined();
  });
});
