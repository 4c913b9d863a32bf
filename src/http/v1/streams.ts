// The stream resources under /v1/streams/:key (append, range reads, XREAD long-poll, trim,
// delete, info) and the multi-stream read POST /v1/read; each route runs commands from the one
// command table and maps their replies to the friendly shapes of http-api.md 6.2.
//
// Names in paths: `:key` (and group and consumer names in groups.ts) is the percent-encoded
// UTF-8 of the name, so `orders%2F2024` is the key `orders/2024`. Fastify refuses percent
// escapes that are not UTF-8, so a name of other bytes is written `base64:<base64 or base64url>`
// (a name that itself begins with `base64:` must use that form too); bodies take any bytes
// directly (a string, {"base64": "..."} or MessagePack bin), and so does the command API.
//
// Entry fields are answered as a flat array [f1, v1, f2, v2, ...] so order and duplicate names
// survive; `?fieldsAs=object` answers {f: v} instead (last duplicate wins; a field name that is
// not UTF-8 is decoded lossily there). Requests may send fields either way. A batch append is
// a pipeline of XADDs (at most MAX_PIPELINE_COMMANDS entries), not a transaction; there is no
// Idempotency-Key yet, so a client that retries after a lost answer may append twice.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../../errors';
import { MAX_PIPELINE_COMMANDS } from '../../limits';
import type { Reply } from '../../commands/reply';
import { send } from '../codec';
import type { HttpDeps } from '../deps';
import { badRequest, errorBody, sendCommandError } from '../errors';
import { requestSession, run, runAll, runIn } from '../run';
import {
  answer,
  BLOCK_MS,
  BYTES,
  COUNT,
  emptyBodyIsObject,
  ENTRY_QUERY,
  entriesOut,
  entryOut,
  FIELDS_AS,
  fieldArgs,
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
  type FieldNames,
  type Out,
} from './shapes';

/** Entries a range read answers when the request names no count: a page, not the stream. */
export const DEFAULT_RANGE_COUNT = 100;

type KeyParams = { key: string };

interface TrimOptions {
  maxLen?: number;
  minId?: string;
  approx?: boolean;
  limit?: number;
}

interface AppendBody extends TrimOptions {
  fields?: unknown;
  id?: string;
  noMkStream?: boolean;
  entries?: Array<{ fields?: unknown; id?: string }>;
}

/** MAXLEN/MINID [~|=] threshold [LIMIT n], as XADD and XTRIM take them. */
function trimArgs(o: TrimOptions): string[] {
  const op = o.approx ? '~' : '=';
  const args: string[] = [];
  if (o.maxLen !== undefined) args.push('MAXLEN', op, String(o.maxLen));
  if (o.minId !== undefined) args.push('MINID', op, o.minId);
  if (o.limit !== undefined) args.push('LIMIT', String(o.limit));
  return args;
}

const TRIM_PROPS = {
  maxLen: { type: 'integer', minimum: 0 },
  minId: STREAM_ID,
  approx: { type: 'boolean', description: '`~`: trim whole nodes only (cheaper)' },
  limit: { type: 'integer', minimum: 0, description: 'with approx: entries evicted at most' },
} as const;

const ENTRY = {
  type: 'object',
  required: ['fields'],
  properties: {
    fields: { ...BYTES, description: '{f: v} or [f1, v1, f2, v2, ...]' },
    id: { ...STREAM_ID, description: 'default `*`: the next ID' },
  },
} as const;

const appendSchema = {
  tags: ['streams'],
  summary: 'XADD one entry ({fields}) or many ({entries}); 201 {id} or {ids}',
  body: {
    type: 'object',
    properties: {
      ...ENTRY.properties,
      entries: { type: 'array', minItems: 1, maxItems: MAX_PIPELINE_COMMANDS, items: ENTRY },
      noMkStream: { type: 'boolean' },
      ...TRIM_PROPS,
    },
  },
} as const;

/** One XADD per entry, in order: options first, then the ID, then the fields. */
function appendArgs(key: Buffer, body: AppendBody): Array<Array<string | Buffer>> {
  const entries = body.entries ?? [{ fields: body.fields, id: body.id }];
  if (body.entries && (body.fields !== undefined || body.id !== undefined)) {
    throw badRequest('give either fields (one entry) or entries (many), not both');
  }
  if (!body.entries && body.fields === undefined) throw badRequest('fields is required');
  const head = [XADD, key, ...[...(body.noMkStream ? ['NOMKSTREAM'] : []), ...trimArgs(body)]];
  const names: FieldNames = new Map();
  return entries.map((e) => {
    const args: Array<string | Buffer> = head.slice();
    args.push(e.id ?? AUTO_ID);
    for (const f of fieldArgs(e.fields, names)) args.push(f);
    return args;
  });
}

const XADD = Buffer.from('XADD');
const AUTO_ID = Buffer.from('*');

/** Why an XADD added nothing: its error, or nil (NOMKSTREAM and no stream). */
function failure(r: Reply): { message: string; status: number } {
  if (r.t === 'error') return { message: r.v, status: r.status ?? 400 };
  const err = Errors.noSuchKey();
  return { message: err.message, status: err.status };
}

/**
 * Runs the XADDs of one request together: they are applied in order (per-key FIFO locks) and
 * share group commits. Not atomic: on an error the answer is that error with `ids` (null where
 * an entry was not added), so the client knows what was stored.
 */
async function append(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const key = nameParam((request.params as KeyParams).key);
  const body = request.body as AppendBody;
  const all = appendArgs(key, body);
  const session = requestSession(deps, reply);
  const replies = await runAll(deps, session, all);
  const ids = replies.map((r) => (r.t === 'bulk' ? textOut(r) : null));
  const failed = replies.find((r) => r.t !== 'bulk');
  if (failed) {
    const { message, status } = failure(failed);
    if (!body.entries) return send(request, reply, status, errorBody(message, status));
    return send(request, reply, status, { ...errorBody(message, status), ids });
  }
  return send(request, reply, 201, body.entries ? { ids } : { id: ids[0] });
}

interface RangeQuery {
  start?: string;
  end?: string;
  count?: number;
  order?: 'asc' | 'desc';
}

const rangeSchema = {
  tags: ['streams'],
  summary: 'XRANGE / XREVRANGE: a page of entries; `next` continues it',
  querystring: {
    type: 'object',
    properties: {
      start: { ...STREAM_ID, default: '-' },
      end: { ...STREAM_ID, default: '+' },
      count: { ...COUNT, default: DEFAULT_RANGE_COUNT },
      order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
      fieldsAs: FIELDS_AS,
    },
  },
} as const;

/**
 * Entries from `start` to `end` (inclusive; `(id` excludes), oldest first or newest first
 * (`order=desc`). A full page answers `next`: the exclusive bound to pass as `start` (asc) or
 * `end` (desc) for the following page; null when the range is done.
 */
async function range(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const key = nameParam((request.params as KeyParams).key);
  const q = request.query as RangeQuery;
  const count = q.count ?? DEFAULT_RANGE_COUNT;
  const start = q.start ?? '-';
  const end = q.end ?? '+';
  const args =
    q.order === 'desc'
      ? ['XREVRANGE', key, end, start, 'COUNT', String(count)]
      : ['XRANGE', key, start, end, 'COUNT', String(count)];
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => {
    const entries = entriesOut(r, out);
    const last = entries[entries.length - 1];
    const next = entries.length === count && last?.id ? `(${last.id}` : null;
    return { entries, next };
  });
}

const infoSchema = {
  tags: ['streams'],
  summary: 'XINFO STREAM: length, groups, first and last entry, counters; 404 when missing',
  querystring: ENTRY_QUERY,
} as const;

function streamInfo(r: Reply, out: Out) {
  const entry = (v: Reply) => (v.t === 'array' ? entryOut(v, out) : null);
  return infoOut(r, out, { 'first-entry': entry, 'last-entry': entry });
}

interface ReadQuery {
  after?: string;
  count?: number;
  blockMs?: number;
}

const readSchema = {
  tags: ['streams'],
  summary: 'XREAD: entries after an ID; blockMs long-polls (timeout: entries [])',
  querystring: {
    type: 'object',
    properties: {
      after: { ...STREAM_ID, default: '$', description: '`$`: only entries added from now on' },
      count: COUNT,
      blockMs: BLOCK_MS,
      fieldsAs: FIELDS_AS,
    },
  },
} as const;

async function readOne(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const key = nameParam((request.params as KeyParams).key);
  const q = request.query as ReadQuery;
  const args = ['XREAD', ...readOptions(q, deps.config.maxBlockMs), 'STREAMS', key, q.after ?? '$'];
  const r = await run(deps, reply, args);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({
    entries: streamsOut(r, out)[0]?.entries ?? [],
  }));
}

interface MultiReadBody {
  streams: unknown;
  count?: number;
  blockMs?: number;
}

const multiReadSchema = {
  tags: ['streams'],
  summary: 'XREAD over several streams; answers {streams: [{key, entries}]} ([] on timeout)',
  querystring: ENTRY_QUERY,
  body: {
    type: 'object',
    required: ['streams'],
    properties: { streams: STREAMS_BODY, count: COUNT, blockMs: BLOCK_MS },
  },
} as const;

async function readMany(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as MultiReadBody;
  const { keys, ids } = streamsParam(body.streams, '$');
  const r = await run(deps, reply, [
    'XREAD',
    ...readOptions(body, deps.config.maxBlockMs),
    'STREAMS',
    ...keys,
    ...ids,
  ]);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({ streams: streamsOut(r, out) }));
}

/**
 * Deletes `key` when it holds a value of `type` (or nothing): the resource routes never delete
 * a key of another type by accident (409 WRONGTYPE instead). Shared with lists.ts.
 */
export async function deleteTyped(
  deps: HttpDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  type: 'stream' | 'list',
) {
  const key = nameParam((request.params as KeyParams).key);
  const session = requestSession(deps, reply);
  const t = await runIn(deps, session, ['TYPE', key]);
  if (t.t === 'error') return sendCommandError(request, reply, t);
  const found = textOut(t);
  if (found !== 'none' && found !== type) {
    const err = Errors.wrongType();
    return send(request, reply, err.status, errorBody(err.message, err.status));
  }
  const r = await runIn(deps, session, ['DEL', key]);
  return answer(request, reply, r, 200, () => ({ deleted: intOut(r) }));
}

export function registerV1Streams(app: FastifyInstance, deps: HttpDeps): void {
  const write = { write: true };
  const base = '/v1/streams/:key';
  app.post(`${base}/entries`, { schema: appendSchema, config: write }, (req, rep) =>
    append(deps, req, rep),
  );
  app.get(`${base}/entries`, { schema: rangeSchema }, (req, rep) => range(deps, req, rep));
  app.delete<{ Params: KeyParams & { id: string } }>(
    `${base}/entries/:id`,
    { schema: { tags: ['streams'], summary: 'XDEL one entry; {deleted}' }, config: write },
    async (req, rep) => {
      const r = await run(deps, rep, ['XDEL', nameParam(req.params.key), req.params.id]);
      return answer(req, rep, r, 200, () => ({ deleted: intOut(r) }));
    },
  );
  app.post<{ Params: KeyParams; Body: TrimOptions }>(
    `${base}/trim`,
    {
      schema: {
        tags: ['streams'],
        summary: 'XTRIM by maxLen or minId; {trimmed}',
        body: { type: 'object', properties: TRIM_PROPS },
      },
      config: write,
      preValidation: emptyBodyIsObject,
    },
    async (req, rep) => {
      if (req.body.maxLen === undefined && req.body.minId === undefined) {
        throw badRequest('maxLen or minId is required');
      }
      const r = await run(deps, rep, ['XTRIM', nameParam(req.params.key), ...trimArgs(req.body)]);
      return answer(req, rep, r, 200, () => ({ trimmed: intOut(r) }));
    },
  );
  app.get<{ Params: KeyParams }>(base, { schema: infoSchema }, async (req, rep) => {
    const r = await run(deps, rep, ['XINFO', 'STREAM', nameParam(req.params.key)]);
    return answer(req, rep, r, 200, () => streamInfo(r, outOf(req)));
  });
  app.get(`${base}/read`, { schema: readSchema }, (req, rep) => readOne(deps, req, rep));
  app.delete(
    base,
    { schema: { tags: ['streams'], summary: 'DEL the stream; {deleted}' }, config: write },
    (req, rep) => deleteTyped(deps, req, rep, 'stream'),
  );
  app.post('/v1/read', { schema: multiReadSchema }, (req, rep) => readMany(deps, req, rep));
}
