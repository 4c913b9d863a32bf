// The fastify application: content types (JSON, MessagePack, raw bodies), Bearer auth, the
// readiness gate, one error format, and the route modules. Every route module is a function
// `(app, deps) => void`; they share the codec (codec.ts) and the error format (errors.ts).
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { decodeMsgpack, MSGPACK_TYPES, send } from './codec';
import type { HttpDeps } from './deps';
import { registerAuth } from './auth';
import { errorBody, registerErrors } from './errors';
import { registerCommandApi } from './command-api';
import { registerOps } from './ops';
import { registerSse } from './sse';
import { registerV1Streams } from './v1/streams';
import { registerV1Groups } from './v1/groups';
import { registerV1Lists } from './v1/lists';
import { registerV1PubSub } from './v1/pubsub';
import { registerV1Keys } from './v1/keys';
import { VERSION } from './ops';

export type RouteModule = (app: FastifyInstance, deps: HttpDeps) => void | Promise<void>;

/** Route modules in registration order; static routes win over the command API's params. */
const MODULES: readonly RouteModule[] = [
  registerOps,
  registerCommandApi,
  registerV1Streams,
  registerV1Groups,
  registerV1Lists,
  registerV1PubSub,
  registerV1Keys,
  registerSse,
];

export async function buildApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.config.bodyLimitBytes,
    routerOptions: { maxParamLength: 64 * 1024 },
    // Long-polls are capped by maxBlockMs; leave room above it before a request times out.
    requestTimeout: deps.config.maxBlockMs + 30_000,
    keepAliveTimeout: 72_000,
    forceCloseConnections: 'idle',
    // While closing, requests still reach the readiness gate (auth.ts), which answers 503 in
    // the one error format; fastify's own closing reply has another shape.
    return503OnClosing: false,
    // A path that is not valid percent-encoded UTF-8 never reaches a route or the error handler.
    frameworkErrors: (err, request, reply) => {
      const message = `ERR invalid request: ${err.message}`;
      return send(request, reply, 400, errorBody(message, 400));
    },
  });
  registerParsers(app);
  registerErrors(app, deps);
  registerAuth(app, deps);
  // Before the route modules: swagger collects every route added after it (onRoute).
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Sluice',
        version: VERSION,
        description:
          'Durable streams, lists and pub/sub with Redis semantics. Command API ' +
          '(Upstash-compatible) at POST / and /pipeline; resource API under /v1.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const mod of MODULES) await mod(app, deps);
  return app;
}

function registerParsers(app: FastifyInstance): void {
  app.addContentTypeParser(
    [...MSGPACK_TYPES],
    { parseAs: 'buffer' },
    (_req, body: Buffer, done) => {
      try {
        done(null, decodeMsgpack(body));
      } catch {
        done(Object.assign(new Error('ERR invalid MessagePack body'), { statusCode: 400 }));
      }
    },
  );
  app.addContentTypeParser(
    ['text/plain', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body: Buffer, done) => done(null, body),
  );
  // `curl -d '["PING"]'` (as Upstash's docs show) sends this type: the body is JSON all the same.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
}
