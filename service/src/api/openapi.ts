import pino from 'pino';
import { anonymousAuthenticator } from '../auth/authenticator.ts';
import { buildApp } from './app.ts';
import type { ApiDependencies } from './dependencies.ts';

const unavailable = async (): Promise<never> => {
  throw new Error('not available while generating the OpenAPI document');
};

/**
 * The OpenAPI document of the app, built without any AWS dependency (for docs/openapi.json).
 * It does not depend on the configuration.
 */
export async function openApiDocument(): Promise<unknown> {
  const deps: ApiDependencies = {
    config: {
      api: { enabled: true, host: '127.0.0.1', port: 0, bodyLimit: 16 * 1024, deadlineSeconds: 25 },
      auth: {
        mode: 'none',
        audience: 'acm-cert-export',
        stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
        maxTokenAgeSeconds: 300,
        principals: [],
      },
      secrets: { prefix: 'acm-passphrase/', deletionRecoveryDays: 7 },
      allowedCertificateArns: [],
      policy: {
        targetTagKeys: ['env'],
        allowedReloadCommands: [],
        certificateRegions: ['us-east-1'],
      },
    },
    ports: {
      jobs: { send: unavailable },
      deployments: {
        create: unavailable,
        get: unavailable,
        save: unavailable,
        listByCertificate: unavailable,
      },
      mappings: {
        get: unavailable,
        list: unavailable,
        listByCertificate: unavailable,
        deleteUnlocked: unavailable,
      },
      servers: { listJobResults: unavailable, installed: unavailable, forgetMapping: unavailable },
      secrets: { scheduleDeletion: unavailable },
      readiness: { check: unavailable },
      certificates: { describe: unavailable },
      commands: { managedNodesTagged: unavailable },
    },
    clock: { now: () => new Date(0) },
    logger: pino({ level: 'silent' }),
    authenticator: anonymousAuthenticator,
  };
  const app = buildApp(deps);
  await app.ready();
  const document = app.swagger();
  await app.close();
  return document;
}

/** The document as committed: 2-space JSON with a final newline. */
export async function openApiJson(): Promise<string> {
  return `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
}
