import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Secrets Manager's public endpoint as a server reaches it, in front of the emulator: HTTPS on
 * port 443 of a loopback address of its own, for the host name
 * `secretsmanager.<region>.amazonaws.com`, with a certificate of a test CA of its own that the
 * server trusts. A container that maps that name to `address` (podman `--add-host`) reads the
 * secret exactly as a real server does: no endpoint setting (which Debian 11's and 12's AWS
 * CLIs, 1.19 and 2.9, would ignore: AWS_ENDPOINT_URL came with botocore 1.31 and CLI 2.13), the
 * certificate and the host name verified. Each request goes on unchanged to `upstream` (the
 * SigV4-checking front of ssm/test/support/sigv4-front.ts, which records it).
 */

const exec = promisify(execFile);

export interface AwsFront {
  /** The loopback address the name resolves to in the containers. */
  readonly address: string;
  readonly hostName: string;
  /** The test CA's certificate (PEM): what the server adds to its trust store. */
  readonly caCertificate: string;
  stop(): Promise<void>;
}

async function openssl(args: string[]) {
  await exec('openssl', args);
}

/** A CA and a server certificate for `hostName` (SAN, serverAuth, key identifiers). */
async function certificates(dir: string, hostName: string) {
  const p = (name: string) => join(dir, name);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=acm-cert-export test AWS front CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    `/CN=${hostName}`,
  ]);
  await writeFile(
    p('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=DNS:${hostName}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid:always',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.pem'),
  ]);
  return {
    ca: await readFile(p('ca.pem'), 'utf8'),
    key: await readFile(p('server.key'), 'utf8'),
    cert: await readFile(p('server.pem'), 'utf8'),
  };
}

export async function startAwsFront(upstream: string, region = 'us-east-1'): Promise<AwsFront> {
  const hostName = `secretsmanager.${region}.amazonaws.com`;
  const dir = await mkdtemp(join(tmpdir(), 'acm-aws-front-'));
  const material = await certificates(dir, hostName).finally(() =>
    rm(dir, { recursive: true, force: true }),
  );
  const target = new URL(upstream);
  const server: Server = createServer({ key: material.key, cert: material.cert }, (req, res) => {
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`front: ${error.message}`);
    });
    req.pipe(forward);
  });
  // 443 on an address of 127/8 of its own: the CLI has no port setting either.
  let address = '';
  for (let attempt = 0; ; attempt++) {
    address = `127.${randomInt(64, 250)}.${randomInt(1, 250)}.${randomInt(1, 250)}`;
    try {
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(443, address, () => {
          server.off('error', reject);
          resolveListen();
        });
      });
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  return {
    address,
    hostName,
    caCertificate: material.ca,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
