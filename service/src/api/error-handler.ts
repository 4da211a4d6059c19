import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authScheme } from '../auth/token.ts';
import { ApiError, type ErrorCode, errorCodes } from './errors.ts';
import type { ErrorBody } from './schemas.ts';

const fastifyCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
};

const fastifyMessages: Partial<Record<ErrorCode, (limit: number) => string>> = {
  PAYLOAD_TOO_LARGE: (limit) => `the body is larger than ${limit} bytes`,
  UNSUPPORTED_MEDIA_TYPE: () => 'send the body as Content-Type: application/json',
  INVALID_JSON: () => 'the body is not valid JSON: send a JSON object',
};

function send(reply: FastifyReply, status: number, error: ErrorBody['error']): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error });
}

/** Maps every error to `{ error: { code, message, ... } }`; 5xx bodies never carry details. */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError | ApiError, request: FastifyRequest, reply) => {
    if (error instanceof ApiError) {
      if (error.statusCode >= 500) {
        request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
        return send(reply, error.statusCode, {
          code: error.code,
          message: error.message,
          requestId: request.id,
        });
      }
      if (error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', authScheme);
      return send(reply, error.statusCode, {
        code: error.code,
        message: error.message,
        ...(error.reason === undefined ? {} : { reason: error.reason }),
        ...(error.details === undefined ? {} : { details: [...error.details] }),
      });
    }
    const mapped = error.code === undefined ? undefined : fastifyCodes[error.code];
    if (mapped !== undefined) {
      const message = fastifyMessages[mapped]?.(bodyLimit) ?? error.message;
      return send(reply, errorCodes[mapped].status, { code: mapped, message });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      request.log.info({ err: error }, 'bad request');
      return send(reply, error.statusCode, { code: 'BAD_REQUEST', message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, 500, {
      code: 'INTERNAL_ERROR',
      message: 'internal error; quote the request id when reporting it',
      requestId: request.id,
    });
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`,
    }),
  );
}
