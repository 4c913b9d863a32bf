// One error format for every route: `{"error": "<Redis-style message>", "code": "<first
// word>", "statusCode": <status>}`. Command errors keep the catalog's status (src/errors.ts:
// 400 syntax, 404 missing key or group, 409 WRONGTYPE or BUSYGROUP, 503 storage down); fastify's
// own (bad JSON, 413, 415, 404 route) are mapped to the same shape, never a crash.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from '../commands/reply';
import { send } from './codec';
import type { HttpDeps } from './deps';

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly statusCode: number;
}

export function errorBody(message: string, statusCode: number): ErrorBody {
  const space = message.indexOf(' ');
  return { error: message, code: space < 0 ? message : message.slice(0, space), statusCode };
}

/** An HTTP-level refusal a route throws (bad request body, auth, missing key...). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (detail: string) => new HttpError(400, `ERR invalid request: ${detail}`);

/** Sends an error reply of the command table with its catalog status. */
export function sendCommandError(
  request: FastifyRequest,
  reply: FastifyReply,
  r: Reply & { t: 'error' },
) {
  const status = r.status ?? 400;
  return send(request, reply, status, errorBody(r.v, status));
}

/** Fastify's codes for bodies it refused, as Redis-style messages. */
function fastifyMessage(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'ERR request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'ERR unsupported media type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'ERR invalid request: empty JSON body';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return `ERR invalid request: ${err.message}`;
    default:
      return err.message.startsWith('ERR ') ? err.message : `ERR invalid request: ${err.message}`;
  }
}

export function registerErrors(app: FastifyInstance, deps: HttpDeps): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500 && !(err instanceof HttpError)) {
      deps.logger.error('http handler failed', { url: request.url, err: String(err) });
      return send(request, reply, 500, errorBody(`ERR internal error: ${err.message}`, 500));
    }
    const message = err instanceof HttpError ? err.message : fastifyMessage(err);
    return send(request, reply, status, errorBody(message, status));
  });
  app.setNotFoundHandler((request, reply) =>
    send(request, reply, 404, errorBody(`ERR no route ${request.method} ${request.url}`, 404)),
  );
}
