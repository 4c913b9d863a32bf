// The operational surface: liveness (/healthz) and readiness (/readyz) probes, Prometheus
// metrics (/metrics), the OpenAPI document (/openapi.json; the docs page /docs is served by
// @fastify/swagger-ui, registered in app.ts) and server info (/v1/info).
import type { FastifyInstance } from 'fastify';
import { send } from './codec';
import { ready, type HttpDeps } from './deps';
import { keysByType, streamSegmentBytes } from './metrics';
import { SLUICE_VERSION } from '../commands/server';

export const VERSION = SLUICE_VERSION;

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
};

/** INFO-like figures for /v1/info and the CLI. */
export function serverInfo(deps: HttpDeps, startedAt: number) {
  const { broker } = ready(deps);
  const journal = broker.journal.stats();
  return {
    version: VERSION,
    node: process.version,
    pid: process.pid,
    uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
    persistence: {
      fsync: deps.config.fsync,
      dataDir: deps.config.dataDir,
      streamSegmentBytes: streamSegmentBytes(broker),
      journal: {
        logBytes: journal.logBytes,
        snapshotBytes: journal.snapshotBytes,
        records: journal.records,
        compactions: journal.compactions,
        writeFailure: broker.journal.writeFailure?.message ?? null,
      },
    },
    keyspace: keysByType(broker),
    clients: { blocked: broker.blocking.blockedCount },
    pubsub: {
      channels: broker.pubsub.activeNames('channel', null).length,
      shardChannels: broker.pubsub.activeNames('shard', null).length,
      patterns: broker.pubsub.patternCount,
      subscribers: broker.pubsub.subscriberCount,
    },
    limits: { maxBlockMs: deps.config.maxBlockMs, bodyLimitBytes: deps.config.bodyLimitBytes },
  };
}

function registerProbes(app: FastifyInstance, deps: HttpDeps): void {
  const probe = { public: true, always: true };
  app.get(
    '/healthz',
    {
      config: probe,
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: { 200: statusSchema },
      },
    },
    (request, reply) => send(request, reply, 200, { status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        tags: ['operations'],
        summary: 'Readiness: 200 once recovery is done, 503 while recovering or stopping',
        response: { 200: statusSchema, 503: statusSchema },
      },
    },
    (request, reply) => {
      if (deps.state === 'ready') return send(request, reply, 200, { status: 'ready' });
      const reason = deps.state === 'recovering' ? 'recovering' : 'shutting_down';
      reply.header('retry-after', '1');
      return send(request, reply, 503, { status: 'unavailable', reason });
    },
  );
}

export function registerOps(app: FastifyInstance, deps: HttpDeps): void {
  const startedAt = Date.now();
  registerProbes(app, deps);
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => {
      const { registry } = deps.metrics;
      const text = await registry.metrics();
      return reply.code(200).type(registry.contentType).send(text);
    },
  );
  app.get(
    '/openapi.json',
    { config: { public: true }, schema: { hide: true } },
    (_request, reply) =>
      reply.code(200).type('application/json; charset=utf-8').send(app.swagger()),
  );
  app.get(
    '/v1/info',
    {
      schema: { tags: ['operations'], summary: 'Server info: version, uptime, keys, persistence' },
    },
    (request, reply) => send(request, reply, 200, serverInfo(deps, startedAt)),
  );
}
