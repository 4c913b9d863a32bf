// Server-Sent Events routes: a stream tail (GET /v1/streams/:key/events), a consumer-group
// feed (GET /v1/streams/:key/groups/:group/events) and pub/sub subscriptions to channels,
// patterns and shard channels on one connection (GET /v1/subscribe). The event stream itself
// (heartbeats, backpressure, output limits, shutdown) is sse-stream.ts; the feeds sse-feeds.ts.
//
// Events: `event: entry` with `id: <entry id>` and `data: {"id","fields":[f,v,...]}` (fields
// keep order and duplicates; null for a pending entry deleted from the stream); `event:
// message|pmessage|smessage` with `data: {"channel","pattern"?,"message"}`; `event: subscribed`
// once the subscriptions are in place; `event: error` with `{code, error}` before the stream
// ends on a failure (SLOWCONSUMER, NOGROUP...); `event: shutdown` when the server stops.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PubSubMessage, Subscriber, SubscriptionKind } from '../broker/pubsub';
import {
  DEFAULT_SSE_MAX_UNACKED,
  DEFAULT_SSE_READ_COUNT,
  MAX_SSE_MAX_UNACKED,
  MAX_SSE_READ_COUNT,
} from '../limits';
import { wireValue } from './codec';
import { ready, type HttpDeps } from './deps';
import { badRequest, HttpError, sendCommandError } from './errors';
import { nameParam } from './v1/shapes';
import { runGroupFeed, runTail, startGroupFeed, startTail } from './sse-feeds';
import { sseEvent, SseStream } from './sse-stream';

type Query = Record<string, string | string[] | undefined>;

/** EventSource sends `Accept: text/event-stream`; refuse only clients that exclude it. */
function checkAccept(request: FastifyRequest): void {
  const accept = request.headers.accept;
  if (accept === undefined || accept === '') return;
  if (/text\/event-stream|text\/\*|\*\/\*/.test(accept)) return;
  throw new HttpError(406, 'ERR not acceptable: this route sends text/event-stream');
}

/**
 * HEAD (fastify adds it to every GET route): the headers only. A HEAD response has no body, so
 * an event stream opened for it would never end.
 */
function answeredHead(request: FastifyRequest, reply: FastifyReply): boolean {
  if (request.method !== 'HEAD') return false;
  void reply.code(200).type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache');
  void reply.send();
  return true;
}

function oneParam(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(`${name} must be given once`);
  return v;
}

function listParam(q: Query, name: string): string[] {
  const v = q[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Integers arrive coerced by the route's schema; checked again for callers without one. */
function intParam(q: Query, name: string, fallback: number, max: number): number {
  const v = oneParam(q, name);
  if (v === undefined) return fallback;
  const n = /^\d{1,9}$/.test(String(v)) ? Number(v) : NaN;
  if (!(n >= 1 && n <= max)) throw badRequest(`${name} must be an integer from 1 to ${max}`);
  return n;
}

const pathName = (request: FastifyRequest, name: string) =>
  nameParam((request.params as Record<string, string>)[name] ?? '', name);

async function streamEvents(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  checkAccept(request);
  const q = request.query as Query;
  const feed = { key: pathName(request, 'key'), count: countParam(q) };
  // EventSource reconnects to the same URL with Last-Event-ID: the header wins over ?after=.
  const header = request.headers['last-event-id'];
  if (answeredHead(request, reply)) return reply;
  const resumeAt = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  const after = resumeAt ?? oneParam(q, 'after') ?? '$';
  const start = await startTail(deps, reply, feed, after);
  if ('error' in start) return sendCommandError(request, reply, start.error);
  const stream = new SseStream(deps, reply);
  stream.open();
  const done = runTail(stream, feed, start.cursor, start.first);
  await done.catch((err) => internal(deps, stream, err));
}

/** After the response was taken from fastify its error handler cannot answer: end here. */
function internal(deps: HttpDeps, stream: SseStream, err: unknown): void {
  deps.logger.error('SSE feed failed', { err: String(err) });
  stream.fail('ERR', `ERR internal error: ${err instanceof Error ? err.message : String(err)}`);
}

const countParam = (q: Query) => intParam(q, 'count', DEFAULT_SSE_READ_COUNT, MAX_SSE_READ_COUNT);

async function groupEvents(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  checkAccept(request);
  const q = request.query as Query;
  const consumer = oneParam(q, 'consumer');
  if (!consumer) throw badRequest('consumer is required');
  const feed = {
    key: pathName(request, 'key'),
    group: pathName(request, 'group'),
    consumer: nameParam(consumer, 'consumer'),
    count: countParam(q),
    maxUnacked: intParam(q, 'maxUnacked', DEFAULT_SSE_MAX_UNACKED, MAX_SSE_MAX_UNACKED),
  };
  if (answeredHead(request, reply)) return reply;
  const start = await startGroupFeed(deps, reply, feed);
  if ('error' in start) return sendCommandError(request, reply, start.error);
  const stream = new SseStream(deps, reply);
  stream.open();
  const done = runGroupFeed(stream, feed, start.first);
  await done.catch((err) => internal(deps, stream, err));
}

// ---- pub/sub ------------------------------------------------------------------------------

/**
 * The last message's event text: publish hands the same message object to every subscriber
 * of a name, so a hundred subscribers cost one JSON encoding.
 */
let lastMessage: PubSubMessage | null = null;
let lastText = '';

function forgetLastMessage(): void {
  lastMessage = null;
  lastText = '';
}

function messageEvent(m: PubSubMessage): string {
  if (m === lastMessage) return lastText;
  const data = JSON.stringify({
    channel: wireValue(m.channel, false),
    ...(m.kind === 'pmessage' ? { pattern: wireValue(m.pattern, false) } : {}),
    message: wireValue(m.payload, false),
  });
  // Deliveries of one publish are synchronous: forget it after them, not to pin its payload.
  if (lastMessage === null) queueMicrotask(forgetLastMessage);
  lastMessage = m;
  lastText = sseEvent(m.kind, data);
  return lastText;
}

const SUBSCRIBE_PARAMS: readonly (readonly [string, SubscriptionKind])[] = [
  ['channel', 'channel'],
  ['pattern', 'pattern'],
  ['shardChannel', 'shard'],
];

function subscribe(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply): void {
  checkAccept(request);
  const q = request.query as Query;
  const names = SUBSCRIBE_PARAMS.map(([param, kind]) => [kind, listParam(q, param)] as const);
  if (names.every(([, list]) => list.length === 0)) {
    throw badRequest('give at least one channel, pattern or shardChannel');
  }
  if (answeredHead(request, reply)) return;
  const { pubsub } = ready(deps).broker;
  const stream = new SseStream(deps, reply);
  const sub: Subscriber = {
    id: deps.sessionId(),
    deliver: (m) => stream.push(messageEvent(m)),
  };
  // Subscribed before the headers go out: a client that saw the response misses nothing.
  for (const [kind, list] of names)
    for (const n of list) pubsub.subscribe(sub, kind, Buffer.from(n));
  stream.onEnd(() => pubsub.removeAll(sub));
  stream.open();
  const [channels, patterns, shardChannels] = names.map(([, list]) => [...new Set(list)]);
  stream.write(sseEvent('subscribed', JSON.stringify({ channels, patterns, shardChannels })));
}

const NAMES = { type: 'array', items: { type: 'string' } } as const;
const COUNT = { type: 'integer', minimum: 1, maximum: MAX_SSE_READ_COUNT } as const;
const EVENTS = 'text/event-stream: ';

const SCHEMAS = {
  tail: {
    tags: ['events'],
    summary: `${EVENTS}entries added after an ID (XREAD); resumes from Last-Event-ID`,
    querystring: {
      type: 'object',
      properties: {
        after: { type: 'string', description: 'entry ID to start after; default `$` (new only)' },
        count: { ...COUNT, description: 'entries per read' },
      },
    },
  },
  group: {
    tags: ['events'],
    summary: `${EVENTS}a consumer's pending entries, then new ones, at most maxUnacked unacked`,
    querystring: {
      type: 'object',
      required: ['consumer'],
      properties: {
        consumer: { type: 'string' },
        maxUnacked: { type: 'integer', minimum: 1, maximum: MAX_SSE_MAX_UNACKED },
        count: COUNT,
      },
    },
  },
  subscribe: {
    tags: ['pubsub'],
    summary: `${EVENTS}messages of channels, patterns and shard channels (not stored)`,
    querystring: {
      type: 'object',
      properties: { channel: NAMES, pattern: NAMES, shardChannel: NAMES },
    },
  },
} as const;

export function registerSse(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/v1/streams/:key/events', { schema: SCHEMAS.tail }, (request, reply) =>
    streamEvents(deps, request, reply),
  );
  // XREADGROUP moves entries into the pending list: a write, refused to the read-only token.
  app.get(
    '/v1/streams/:key/groups/:group/events',
    { schema: SCHEMAS.group, config: { write: true } },
    (request, reply) => groupEvents(deps, request, reply),
  );
  app.get('/v1/subscribe', { schema: SCHEMAS.subscribe }, async (request, reply) =>
    subscribe(deps, request, reply),
  );
}
