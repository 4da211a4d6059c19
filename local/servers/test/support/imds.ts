import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * EC2's instance metadata service as an instance with IMDSv2 required sees it, on a loopback
 * port (a server reaches it through AWS_EC2_METADATA_SERVICE_ENDPOINT): `PUT /latest/api/token`
 * with a TTL header gives a token; every GET without a valid token is 401. It serves the role's
 * credentials (`iam/security-credentials/`), the instance id and the region, and records each
 * request (method, path, token valid or not).
 */

export interface MetadataCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly token: 'valid' | 'invalid' | 'none';
}

export interface Imds {
  /** e.g. `http://127.0.0.1:41234/` */
  readonly endpoint: string;
  readonly requests: ImdsRequest[];
  stop(): Promise<void>;
}

export interface ImdsOptions {
  readonly credentials: MetadataCredentials;
  readonly roleName?: string;
  readonly instanceId?: string;
  readonly region?: string;
}

export async function startImds(options: ImdsOptions): Promise<Imds> {
  const roleName = options.roleName ?? 'web-server-role';
  const instanceId = options.instanceId ?? 'i-0123456789abcdef0';
  const region = options.region ?? 'us-east-1';
  const tokens = new Set<string>();
  const requests: ImdsRequest[] = [];
  const meta = '/latest/meta-data/';
  const documents: Record<string, () => string> = {
    [`${meta}iam/security-credentials/`]: () => roleName,
    [`${meta}iam/security-credentials/${roleName}`]: () =>
      JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Type: 'AWS-HMAC',
        AccessKeyId: options.credentials.accessKeyId,
        SecretAccessKey: options.credentials.secretAccessKey,
        Token: options.credentials.sessionToken,
        Expiration: new Date(Date.now() + 6 * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      }),
    [`${meta}instance-id`]: () => instanceId,
    [`${meta}placement/region`]: () => region,
    '/latest/dynamic/instance-identity/document': () =>
      JSON.stringify({ instanceId, region, accountId: '123456789012' }),
  };

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://imds').pathname;
    const header = req.headers['x-aws-ec2-metadata-token'];
    const token = header === undefined ? 'none' : tokens.has(String(header)) ? 'valid' : 'invalid';
    requests.push({ method: req.method ?? '', path, token });
    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
        res.writeHead(400).end();
        return;
      }
      const issued = randomBytes(24).toString('base64');
      tokens.add(issued);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(issued);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (token !== 'valid') {
      res.writeHead(401).end();
      return;
    }
    const document = documents[path];
    if (document === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(document());
  };

  const server = createServer(answer);
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    requests,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
