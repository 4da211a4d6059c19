import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCodes } from '../../../src/api/errors.ts';
import { openApiJson } from '../../../src/api/openapi.ts';
import { type TestApi, testApi } from './support/harness.ts';

const docs = (name: string) =>
  readFile(new URL(`../../../../docs/${name}`, import.meta.url), 'utf8');

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe('OpenAPI', () => {
  it('docs/openapi.json is what the app generates (run `npm run openapi` after API changes)', async () => {
    expect(JSON.parse(await docs('openapi.json'))).toEqual(JSON.parse(await openApiJson()));
  });

  it('is served at /openapi.json without credentials', async () => {
    api = testApi();
    const res = await api.call(undefined, 'GET', '/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/export-cert',
      '/healthz',
      '/readyz',
      '/v1/certificates',
      '/v1/certificates/{arn}/deployments',
      '/v1/certificates/{arn}/targets',
      '/v1/certificates/{arn}/targets/{key}/{value}/{certName}',
      '/v1/deployments',
      '/v1/deployments/dry-run',
      '/v1/deployments/{id}',
      '/v1/deployments/{id}/cancel',
      '/v1/deployments/{id}/servers',
      '/v1/reconcile',
    ]);
    expect(doc.paths['/v1/deployments'].post.security).toEqual([{ AcmCertExport: [] }]);
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
  });
});

describe('docs/api.md', () => {
  it('lists every error code with its HTTP status', async () => {
    const text = await docs('api.md');
    for (const [code, { status }] of Object.entries(errorCodes)) {
      expect(text, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });
});
