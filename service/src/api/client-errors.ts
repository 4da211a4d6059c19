import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { errorCodes } from './errors.ts';

/** Node's limit on the request line and headers together (http.maxHeaderSize), 16 KiB. */
const headerLimitKiB = 16;

function answer(code: keyof typeof errorCodes, message: string): { status: number; body: string } {
  return { status: errorCodes[code].status, body: JSON.stringify({ error: { code, message } }) };
}

function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; body: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return answer(
        'HEADERS_TOO_LARGE',
        `the request headers are larger than ${headerLimitKiB} KiB; an acm-cert-export token is about 2 KiB: check the Authorization header`,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return answer('REQUEST_TIMEOUT', 'the request was not received in time');
    default:
      return answer('BAD_REQUEST', 'the HTTP request is malformed');
  }
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers over the limit, a
 * malformed request line, a timeout) get the API's own error shape, `{ error: { code, message } }`,
 * instead of Fastify's default body.
 */
export function clientErrorHandler(log: FastifyBaseLogger) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, body } = clientErrorAnswer(error);
    log.info({ code: error.code }, `client error answered with ${status}`);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
