// Pub/sub over HTTP: publish to a channel (PUBLISH) or a shard channel (SPUBLISH), and list
// the active channels (PUBSUB CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB).
// Subscribing is an event stream (GET /v1/subscribe, src/http/sse.ts). Messages are never
// stored: fire and forget, a subscriber that is not connected misses them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from '../../commands/reply';
import type { Session } from '../../commands';
import { bytesOf, send, wantsMsgpack, wireValue } from '../codec';
import type { HttpDeps } from '../deps';
import { badRequest, sendCommandError } from '../errors';
import { requestSession, run, runIn } from '../run';
import { nameParam } from './shapes';

/**
 * The message of a publish: a raw text/plain or application/octet-stream body (a Buffer from
 * the parser, or nothing for an empty body), or `{message}` in JSON or MessagePack.
 */
function messageOf(request: FastifyRequest): Buffer {
  const body = request.body;
  if (Buffer.isBuffer(body)) return body;
  const type = request.headers['content-type'] ?? '';
  if (body === undefined && /^(text\/plain|application\/octet-stream)/.test(type)) {
    return Buffer.alloc(0);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('message' in body)) {
    throw badRequest('body must be {"message": ...} or a text/plain or octet-stream body');
  }
  const message = bytesOf((body as { message: unknown }).message);
  if (!message) throw badRequest('message must be a string, {"base64": ...} or bytes');
  return message;
}

function publishRoute(deps: HttpDeps, command: 'PUBLISH' | 'SPUBLISH') {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const channel = nameParam((request.params as { ch: string }).ch, 'channel');
    const r = await run(deps, reply, [command, channel, messageOf(request)]);
    if (r.t === 'error') return sendCommandError(request, reply, r);
    return send(request, reply, 200, { receivers: r.t === 'int' ? Number(r.v) : 0 });
  };
}

const bulks = (r: Reply): Buffer[] =>
  r.t === 'array' ? r.v.flatMap((x) => (x.t === 'bulk' ? [x.v] : [])) : [];

/** Active names of one kind and their subscriber counts, or the error reply. */
async function namesWithCounts(
  deps: HttpDeps,
  session: Session,
  kind: 'CHANNELS' | 'SHARDCHANNELS',
  pattern: Buffer | null,
): Promise<{ name: Buffer; subscribers: number }[] | (Reply & { t: 'error' })> {
  const names = await runIn(deps, session, ['PUBSUB', kind, ...(pattern ? [pattern] : [])]);
  if (names.t === 'error') return names;
  const list = bulks(names);
  if (list.length === 0) return [];
  const numsub = kind === 'CHANNELS' ? 'NUMSUB' : 'SHARDNUMSUB';
  const counts = await runIn(deps, session, ['PUBSUB', numsub, ...list]);
  if (counts.t === 'error') return counts;
  const flat = counts.t === 'array' ? counts.v : [];
  return list.map((name, i) => {
    const n = flat[2 * i + 1];
    return { name, subscribers: n?.t === 'int' ? Number(n.v) : 0 };
  });
}

function listRoute(deps: HttpDeps) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = (request.query as Record<string, unknown>)['pattern'];
    if (raw !== undefined && typeof raw !== 'string')
      throw badRequest('pattern must be given once');
    const pattern = raw === undefined ? null : nameParam(raw, 'pattern');
    const session = requestSession(deps, reply);
    const channels = await namesWithCounts(deps, session, 'CHANNELS', pattern);
    if (!Array.isArray(channels)) return sendCommandError(request, reply, channels);
    const shards = await namesWithCounts(deps, session, 'SHARDCHANNELS', pattern);
    if (!Array.isArray(shards)) return sendCommandError(request, reply, shards);
    const numpat = await runIn(deps, session, ['PUBSUB', 'NUMPAT']);
    if (numpat.t === 'error') return sendCommandError(request, reply, numpat);
    const msgpack = wantsMsgpack(request);
    const wire = (list: typeof channels) =>
      list.map((c) => ({ name: wireValue(c.name, msgpack), subscribers: c.subscribers }));
    return send(request, reply, 200, {
      channels: wire(channels),
      shardChannels: wire(shards),
      patterns: numpat.t === 'int' ? Number(numpat.v) : 0,
    });
  };
}

const tags = ['pubsub'];
const PUBLISH_BODY =
  'body {message} (JSON or MessagePack), or a raw text/plain or octet-stream body';

export function registerV1PubSub(app: FastifyInstance, deps: HttpDeps): void {
  const config = { write: true };
  app.post(
    '/v1/channels/:ch/messages',
    { schema: { tags, summary: `PUBLISH; ${PUBLISH_BODY}; {receivers}` }, config },
    publishRoute(deps, 'PUBLISH'),
  );
  app.post(
    '/v1/shard-channels/:ch/messages',
    { schema: { tags, summary: `SPUBLISH; ${PUBLISH_BODY}; {receivers}` }, config },
    publishRoute(deps, 'SPUBLISH'),
  );
  const list = {
    tags,
    summary: 'PUBSUB CHANNELS, SHARDCHANNELS, NUMSUB, NUMPAT; {channels, shardChannels, patterns}',
    querystring: { type: 'object', properties: { pattern: { type: 'string' } } },
  };
  app.get('/v1/channels', { schema: list }, listRoute(deps));
}
