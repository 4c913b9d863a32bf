// Consumer groups of a stream under /v1/streams/:key/groups (create, set ID, destroy, info,
// consumers, read, ack, pending, claim, autoclaim) and the multi-stream POST /v1/readgroup.
// Consumer state lives in the broker's PEL, never in HTTP: a consumer is just a name, and an
// entry read for a client that went away stays pending (XAUTOCLAIM recovers it), so delivery is
// at-least-once. Names in paths follow streams.ts (percent-encoded UTF-8, or `base64:`).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors, type CommandError } from '../../errors';
import type { Reply } from '../../commands/reply';
import { send } from '../codec';
import { ready, type HttpDeps } from '../deps';
import { errorBody } from '../errors';
import { run } from '../run';
import {
  answer,
  BLOCK_MS,
  BYTES,
  bytesParam,
  COUNT,
  emptyBodyIsObject,
  ENTRY_QUERY,
  entriesOut,
  FIELDS_AS,
  HTTP_DB,
  infoOut,
  intOut,
  nameParam,
  outOf,
  readOptions,
  STREAM_ID,
  STREAMS_BODY,
  streamsOut,
  streamsParam,
  textOut,
  valueOut,
  type Out,
} from './shapes';

/** Pending entries a detail query answers when it names no count. */
export const DEFAULT_PENDING_COUNT = 100;

type GroupParams = { key: string; group: string };
type ConsumerParams = GroupParams & { consumer: string };

const items = (r: Reply): readonly Reply[] => (r.t === 'array' ? r.v : []);

function names(request: FastifyRequest): { key: Buffer; group: Buffer } {
  const p = request.params as GroupParams;
  return { key: nameParam(p.key), group: nameParam(p.group, 'group') };
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: CommandError) {
  return send(request, reply, err.status, errorBody(err.message, err.status));
}

/** True when `key` holds a stream with `group` (read without a command: no durability wait). */
function groupExists(deps: HttpDeps, key: Buffer, group: Buffer): boolean {
  try {
    return ready(deps).broker.keyspace.stream(HTTP_DB, key)?.groups.get(group) !== undefined;
  } catch {
    return true; // another type: the command's own error already said so
  }
}

// ---- the group itself -------------------------------------------------------------------------

interface CreateBody {
  start?: string;
  mkStream?: boolean;
  entriesRead?: number;
}

async function create(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const b = request.body as CreateBody;
  const args: Array<string | Buffer> = ['XGROUP', 'CREATE', key, group, b.start ?? '$'];
  if (b.mkStream) args.push('MKSTREAM');
  if (b.entriesRead !== undefined) args.push('ENTRIESREAD', String(b.entriesRead));
  const r = await run(deps, reply, args);
  return answer(request, reply, r, 201, () => ({ created: true }));
}

interface SetIdBody {
  lastId: string;
  entriesRead?: number;
}

async function setId(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const b = request.body as SetIdBody;
  const args: Array<string | Buffer> = ['XGROUP', 'SETID', key, group, b.lastId];
  if (b.entriesRead !== undefined) args.push('ENTRIESREAD', String(b.entriesRead));
  const r = await run(deps, reply, args);
  return answer(request, reply, r, 200, () => ({ updated: true }));
}

async function destroy(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const r = await run(deps, reply, ['XGROUP', 'DESTROY', key, group]);
  if (r.t === 'int' && Number(r.v) === 0) {
    return sendError(request, reply, Errors.noGroupForKey(group, key));
  }
  return answer(request, reply, r, 200, () => ({ destroyed: intOut(r) }));
}

async function listGroups(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const key = nameParam((request.params as GroupParams).key);
  const r = await run(deps, reply, ['XINFO', 'GROUPS', key]);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({ groups: items(r).map((g) => infoOut(g, out)) }));
}

// ---- consumers --------------------------------------------------------------------------------

function consumerOut(c: Reply, out: Out) {
  const o = infoOut(c, out);
  const inactive = o.inactive === undefined ? {} : { inactiveMs: o.inactive };
  return { name: o.name, pending: o.pending, idleMs: o.idle, ...inactive };
}

async function listConsumers(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const r = await run(deps, reply, ['XINFO', 'CONSUMERS', key, group]);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({
    consumers: items(r).map((c) => consumerOut(c, out)),
  }));
}

async function createConsumer(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const consumer = nameParam((request.params as ConsumerParams).consumer, 'consumer');
  const r = await run(deps, reply, ['XGROUP', 'CREATECONSUMER', key, group, consumer]);
  const created = r.t === 'int' && Number(r.v) === 1;
  return answer(request, reply, r, created ? 201 : 200, () => ({ created }));
}

async function deleteConsumer(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const consumer = nameParam((request.params as ConsumerParams).consumer, 'consumer');
  const r = await run(deps, reply, ['XGROUP', 'DELCONSUMER', key, group, consumer]);
  return answer(request, reply, r, 200, () => ({ pending: intOut(r) }));
}

// ---- reading and acknowledging ----------------------------------------------------------------

interface ReadBody {
  consumer: unknown;
  count?: number;
  blockMs?: number;
  noAck?: boolean;
  id?: string;
}

/** GROUP g c [COUNT n] [BLOCK ms] [NOACK]: XREADGROUP's options. */
function groupReadArgs(deps: HttpDeps, group: Buffer, b: ReadBody): Array<string | Buffer> {
  const args: Array<string | Buffer> = ['XREADGROUP', 'GROUP', group];
  args.push(bytesParam(b.consumer, 'consumer'), ...readOptions(b, deps.config.maxBlockMs));
  if (b.noAck) args.push('NOACK');
  return args;
}

async function readGroup(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const b = request.body as ReadBody;
  const args = [...groupReadArgs(deps, group, b), 'STREAMS', key, b.id ?? '>'];
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({
    entries: streamsOut(r, out)[0]?.entries ?? [],
  }));
}

interface MultiReadBody extends ReadBody {
  group: unknown;
  streams: unknown;
}

async function readGroupMany(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const b = request.body as MultiReadBody;
  const { keys, ids } = streamsParam(b.streams, '>');
  const args = [
    ...groupReadArgs(deps, bytesParam(b.group, 'group'), b),
    'STREAMS',
    ...keys,
    ...ids,
  ];
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({ streams: streamsOut(r, out) }));
}

/** XACK; a missing group is 404 (XACK itself answers 0 for it, as for IDs already acked). */
async function ack(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const ids = (request.body as { ids: string[] }).ids;
  const r = await run(deps, reply, ['XACK', key, group, ...ids]);
  if (r.t === 'int' && Number(r.v) < ids.length && !groupExists(deps, key, group)) {
    return sendError(request, reply, Errors.noKeyOrGroup(key, group));
  }
  return answer(request, reply, r, 200, () => ({ acked: intOut(r) }));
}

// ---- pending entries and claims ---------------------------------------------------------------

interface PendingQuery {
  start?: string;
  end?: string;
  count?: number;
  consumer?: string;
  minIdleMs?: number;
}

function pendingSummary(r: Reply, out: Out) {
  const [count, minId, maxId, consumers] = items(r);
  return {
    count: intOut(count as Reply),
    minId: textOut(minId as Reply),
    maxId: textOut(maxId as Reply),
    consumers: items(consumers as Reply).map((c) => {
      const [name, n] = items(c);
      return { name: valueOut(name as Reply, out), pending: Number(textOut(n as Reply)) };
    }),
  };
}

function pendingDetail(r: Reply, out: Out) {
  return {
    pending: items(r).map((p) => {
      const [id, consumer, idleMs, deliveries] = items(p) as Reply[];
      return {
        id: textOut(id as Reply),
        consumer: valueOut(consumer as Reply, out),
        idleMs: intOut(idleMs as Reply),
        deliveries: intOut(deliveries as Reply),
      };
    }),
  };
}

/** No query: XPENDING's summary. Any of start, end, count, consumer, minIdleMs: the detail. */
async function pending(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const q = request.query as PendingQuery;
  const detail = ['start', 'end', 'count', 'consumer', 'minIdleMs'].some((k) => k in q);
  const args: Array<string | Buffer> = ['XPENDING', key, group];
  if (detail) {
    if (q.minIdleMs !== undefined) args.push('IDLE', String(q.minIdleMs));
    args.push(q.start ?? '-', q.end ?? '+', String(q.count ?? DEFAULT_PENDING_COUNT));
    if (q.consumer !== undefined) args.push(nameParam(q.consumer, 'consumer'));
  }
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () =>
    detail ? pendingDetail(r, out) : pendingSummary(r, out),
  );
}

interface ClaimBody {
  consumer: unknown;
  minIdleMs: number;
  ids: string[];
  idleMs?: number;
  timeMs?: number;
  retryCount?: number;
  force?: boolean;
  justId?: boolean;
  lastId?: string;
}

function claimArgs(key: Buffer, group: Buffer, b: ClaimBody): Array<string | Buffer> {
  const args: Array<string | Buffer> = ['XCLAIM', key, group, bytesParam(b.consumer, 'consumer')];
  args.push(String(b.minIdleMs), ...b.ids);
  if (b.idleMs !== undefined) args.push('IDLE', String(b.idleMs));
  if (b.timeMs !== undefined) args.push('TIME', String(b.timeMs));
  if (b.retryCount !== undefined) args.push('RETRYCOUNT', String(b.retryCount));
  if (b.force) args.push('FORCE');
  if (b.justId) args.push('JUSTID');
  if (b.lastId !== undefined) args.push('LASTID', b.lastId);
  return args;
}

async function claim(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const b = request.body as ClaimBody;
  const r = await run(deps, reply, claimArgs(key, group, b));
  const out = outOf(request);
  return answer(request, reply, r, 200, () =>
    b.justId ? { ids: items(r).map(textOut) } : { entries: entriesOut(r, out) },
  );
}

interface AutoclaimBody {
  consumer: unknown;
  minIdleMs: number;
  start?: string;
  count?: number;
  justId?: boolean;
}

async function autoclaim(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { key, group } = names(request);
  const b = request.body as AutoclaimBody;
  const args: Array<string | Buffer> = ['XAUTOCLAIM', key, group];
  args.push(bytesParam(b.consumer, 'consumer'), String(b.minIdleMs), b.start ?? '0-0');
  if (b.count !== undefined) args.push('COUNT', String(b.count));
  if (b.justId) args.push('JUSTID');
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => {
    const [next, claimed, deleted] = items(r) as Reply[];
    const got = b.justId
      ? { ids: items(claimed as Reply).map(textOut) }
      : { entries: entriesOut(claimed as Reply, out) };
    return { next: textOut(next as Reply), ...got, deleted: items(deleted as Reply).map(textOut) };
  });
}

// ---- schemas and routes -----------------------------------------------------------------------

const tags = ['groups'];
const ENTRIES_READ = { type: 'integer', minimum: -1 } as const;
const IDS = { type: 'array', minItems: 1, items: STREAM_ID } as const;
const MS = { type: 'integer', minimum: 0 } as const;
const READ_PROPS = { consumer: BYTES, count: COUNT, blockMs: BLOCK_MS, noAck: { type: 'boolean' } };

const SCHEMAS = {
  create: {
    tags,
    summary: 'XGROUP CREATE (start: `$` new entries only, `0` everything); 201',
    body: {
      type: 'object',
      properties: {
        start: { ...STREAM_ID, default: '$' },
        mkStream: { type: 'boolean' },
        entriesRead: ENTRIES_READ,
      },
    },
  },
  setId: {
    tags,
    summary: "XGROUP SETID: move the group's last-delivered ID",
    body: {
      type: 'object',
      required: ['lastId'],
      properties: { lastId: STREAM_ID, entriesRead: ENTRIES_READ },
    },
  },
  read: {
    tags,
    summary: 'XREADGROUP for one consumer: `>` new entries (default) or its history from an ID',
    querystring: ENTRY_QUERY,
    body: {
      type: 'object',
      required: ['consumer'],
      properties: { ...READ_PROPS, id: { ...STREAM_ID, default: '>' } },
    },
  },
  readMany: {
    tags,
    summary: 'XREADGROUP over several streams; {streams: [{key, entries}]}',
    querystring: ENTRY_QUERY,
    body: {
      type: 'object',
      required: ['group', 'consumer', 'streams'],
      properties: { ...READ_PROPS, group: BYTES, streams: STREAMS_BODY },
    },
  },
  ack: {
    tags,
    summary: 'XACK; {acked}',
    body: { type: 'object', required: ['ids'], properties: { ids: IDS } },
  },
  pending: {
    tags,
    summary: 'XPENDING: the summary, or with any query parameter the entries',
    querystring: {
      type: 'object',
      properties: {
        start: STREAM_ID,
        end: STREAM_ID,
        count: COUNT,
        consumer: { type: 'string' },
        minIdleMs: MS,
      },
    },
  },
  claim: {
    tags,
    summary: 'XCLAIM: take pending entries idle for minIdleMs; {entries} or {ids}',
    querystring: ENTRY_QUERY,
    body: {
      type: 'object',
      required: ['consumer', 'minIdleMs', 'ids'],
      properties: {
        consumer: BYTES,
        minIdleMs: MS,
        ids: IDS,
        idleMs: MS,
        timeMs: MS,
        retryCount: MS,
        force: { type: 'boolean' },
        justId: { type: 'boolean' },
        lastId: STREAM_ID,
      },
    },
  },
  autoclaim: {
    tags,
    summary: 'XAUTOCLAIM: scan the PEL from start; {next, entries or ids, deleted}',
    querystring: ENTRY_QUERY,
    body: {
      type: 'object',
      required: ['consumer', 'minIdleMs'],
      properties: {
        consumer: BYTES,
        minIdleMs: MS,
        start: STREAM_ID,
        count: COUNT,
        justId: { type: 'boolean' },
      },
    },
  },
} as const;

type Handler = (deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerV1Groups(app: FastifyInstance, deps: HttpDeps): void {
  const g = '/v1/streams/:key/groups/:group';
  const c = `${g}/consumers/:consumer`;
  const w = { write: true };
  const info = { tags, querystring: { type: 'object', properties: { fieldsAs: FIELDS_AS } } };
  const routes: Array<[string, string, object, Handler]> = [
    ['PUT', g, { schema: SCHEMAS.create, config: w, preValidation: emptyBodyIsObject }, create],
    ['PATCH', g, { schema: SCHEMAS.setId, config: w }, setId],
    ['DELETE', g, { schema: { tags, summary: 'XGROUP DESTROY' }, config: w }, destroy],
    [
      'GET',
      '/v1/streams/:key/groups',
      { schema: { ...info, summary: 'XINFO GROUPS' } },
      listGroups,
    ],
    ['GET', `${g}/consumers`, { schema: { tags, summary: 'XINFO CONSUMERS' } }, listConsumers],
    ['PUT', c, { schema: { tags, summary: 'XGROUP CREATECONSUMER' }, config: w }, createConsumer],
    ['DELETE', c, { schema: { tags, summary: 'XGROUP DELCONSUMER' }, config: w }, deleteConsumer],
    ['POST', `${g}/read`, { schema: SCHEMAS.read, config: w }, readGroup],
    ['POST', `${g}/ack`, { schema: SCHEMAS.ack, config: w }, ack],
    ['GET', `${g}/pending`, { schema: SCHEMAS.pending }, pending],
    ['POST', `${g}/claim`, { schema: SCHEMAS.claim, config: w }, claim],
    ['POST', `${g}/autoclaim`, { schema: SCHEMAS.autoclaim, config: w }, autoclaim],
    ['POST', '/v1/readgroup', { schema: SCHEMAS.readMany, config: w }, readGroupMany],
  ];
  for (const [method, url, options, handler] of routes) {
    app.route({ method, url, ...options, handler: (req, rep) => handler(deps, req, rep) });
  }
}
