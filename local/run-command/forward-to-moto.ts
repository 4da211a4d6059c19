/**
 * Every request the stand-in does not answer itself goes to moto unchanged: same method,
 * path, headers (hop-by-hop ones aside) and body bytes, so moto sees what the SDK sent.
 */

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request } from 'node:http';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) kept[name] = value;
  }
  return kept;
}

export function forwardToMoto(
  motoEndpoint: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', motoEndpoint);
  const headers = endToEnd(req.headers);
  if (body.length > 0 || req.headers['content-length'] !== undefined) {
    headers['content-length'] = body.length;
  }
  return new Promise((resolveForward) => {
    const upstream = request(url, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
      answer.once('end', () => resolveForward());
      answer.once('error', () => resolveForward());
    });
    upstream.once('error', (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/x-amz-json-1.1' });
      }
      res.end(
        JSON.stringify({
          __type: 'InternalServerError',
          message: `moto is unreachable: ${error.message}`,
        }),
      );
      resolveForward();
    });
    upstream.end(body);
  });
}
