import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.ts';
import type { KnownCredentials } from './sigv4-front.ts';

export interface ImdsStandIn {
  /** For AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  readonly endpoint: string;
  /** Each request as "METHOD path" and whether it carried a valid token. */
  readonly requests: { line: string; token: boolean }[];
  stop(): Promise<void>;
}

/**
 * EC2 instance metadata as an instance that requires IMDSv2 serves it: a token from
 * `PUT /latest/api/token` (with a TTL header), and every GET without a valid token refused with
 * 401. With a role, `/latest/meta-data/iam/security-credentials/` lists it and
 * `…/<role>` serves its credentials; without one, both answer 404, as EC2 does. `delayMs`: each
 * answer comes that late (a client that is watched while it waits).
 */
export async function startImdsStandIn(
  role?: { name: string; credentials: KnownCredentials },
  options: { delayMs?: number } = {},
): Promise<ImdsStandIn> {
  const tokens = new Set<string>();
  const requests: ImdsStandIn['requests'] = [];
  const base = '/latest/meta-data/iam/security-credentials/';

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const token = req.headers['x-aws-ec2-metadata-token'];
    const valid = typeof token === 'string' && tokens.has(token);
    requests.push({ line: `${req.method} ${req.url}`, token: valid });
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(ttl >= 1 && ttl <= 21600)) return send(400, '');
      const issued = randomUUID();
      tokens.add(issued);
      return send(200, issued);
    }
    if (req.method !== 'GET') return send(405, '');
    if (!valid) return send(401, '');
    if (role === undefined) return send(404, '');
    if (req.url === base) return send(200, role.name);
    if (req.url === `${base}${role.name}`) {
      return send(
        200,
        JSON.stringify({
          Code: 'Success',
          LastUpdated: new Date().toISOString(),
          Type: 'AWS-HMAC',
          AccessKeyId: role.credentials.accessKeyId,
          SecretAccessKey: role.credentials.secretAccessKey,
          Token: role.credentials.sessionToken,
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    }
    return send(404, '');
  };

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => handle(req, res), options.delayMs ?? 0));
  });
  return { ...(await listenOnLoopback(server)), requests };
}
