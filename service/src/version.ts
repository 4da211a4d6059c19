/**
 * The one version number of acm-cert-export: package.json's `version`, shown by
 * `acm-cert-export --version`, the OpenAPI document and the image's label. A JSON import, so
 * the bundles (service/build.ts) carry it inlined and need no package.json beside them.
 */
import packageJson from '../../package.json' with { type: 'json' };

export const version: string = packageJson.version;
