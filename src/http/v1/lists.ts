// Lists as queues under /v1/lists: push, pop (optionally blocking, one key or the first
// non-empty of several), move, peek, remove, delete. FIFO by default: push on the left, pop
// from the right. A value popped or moved for a client that went away before its answer is put
// back where it came from (best effort: a client that vanishes while the answer is being
// written can still lose it); the reliable queue is move to a processing list, then remove
// (LMOVE + LREM), as Redis documents. Names in paths follow streams.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from '../../commands/reply';
import type { HttpDeps } from '../deps';
import { badRequest } from '../errors';
import { clientGone, requestSession, run, runIn } from '../run';
import {
  answer,
  BLOCK_MS,
  BYTES,
  bytesList,
  bytesParam,
  cappedBlockMs,
  COUNT,
  emptyBodyIsObject,
  END,
  intOut,
  nameParam,
  outOf,
  valueOut,
} from './shapes';
import { deleteTyped } from './streams';

/** Values a peek answers when the request gives no stop: the first page, not the list. */
export const DEFAULT_PEEK_STOP = 99;

type End = 'left' | 'right';
type KeyParams = { key: string };

const items = (r: Reply): readonly Reply[] => (r.t === 'array' ? r.v : []);
const keyOf = (request: FastifyRequest) => nameParam((request.params as KeyParams).key);
const side = (end: End) => end.toUpperCase();

/**
 * A blocking timeout in the seconds B* commands take. The extra digit keeps the conversion
 * back to whole ms (trunc(seconds * 1000)) from landing a millisecond short.
 */
const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}5`;

/** LMPOP (or BLMPOP when blocking): [key, [values]] or nil; one form for one key or many. */
function popArgs(deps: HttpDeps, keys: Buffer[], end: End, count?: number, blockMs?: number) {
  const args: Array<string | Buffer> =
    blockMs === undefined
      ? ['LMPOP']
      : ['BLMPOP', seconds(cappedBlockMs(blockMs, deps.config.maxBlockMs))];
  args.push(String(keys.length), ...keys, side(end));
  if (count !== undefined) args.push('COUNT', String(count));
  return args;
}

/** Values popped from `end` go back on it, in their old order. */
async function pushBack(deps: HttpDeps, key: Buffer, end: End, values: readonly Buffer[]) {
  const args = [end === 'left' ? 'LPUSH' : 'RPUSH', key, ...[...values].reverse()];
  const r = await runIn(deps, deps.session(), args);
  if (r.t === 'error') {
    deps.logger.error('could not put back values popped for a client that left', { err: r.v });
  }
}

interface Popped {
  key: Buffer | null;
  values: Buffer[];
}

function popped(r: Reply): Popped {
  const [key, values] = items(r);
  if (!key || key.t !== 'bulk') return { key: null, values: [] };
  const bulks = items(values as Reply).flatMap((v) => (v.t === 'bulk' ? [v.v] : []));
  return { key: key.v, values: bulks };
}

interface PopBody {
  end?: End;
  count?: number;
  blockMs?: number;
}

/** Pops, then gives the values back when the client is gone by the time they are ready. */
async function popFrom(
  deps: HttpDeps,
  reply: FastifyReply,
  keys: Buffer[],
  b: PopBody,
): Promise<{ r: Reply; p: Popped }> {
  const end = b.end ?? 'right';
  const r = await run(deps, reply, popArgs(deps, keys, end, b.count, b.blockMs));
  const p = popped(r);
  if (p.key && p.values.length > 0 && clientGone(reply)) {
    await pushBack(deps, p.key, end, p.values);
  }
  return { r, p };
}

async function pop(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const { r, p } = await popFrom(deps, reply, [keyOf(request)], request.body as PopBody);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({
    values: p.values.map((v) => valueOut({ t: 'bulk', v }, out)),
  }));
}

async function popMany(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const b = request.body as PopBody & { keys: unknown };
  const { r, p } = await popFrom(deps, reply, bytesList(b.keys, 'keys'), b);
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({
    key: p.key ? valueOut({ t: 'bulk', v: p.key }, out) : null,
    values: p.values.map((v) => valueOut({ t: 'bulk', v }, out)),
  }));
}

interface PushBody {
  values?: unknown;
  value?: unknown;
  end?: End;
  onlyIfExists?: boolean;
}

async function push(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const b = request.body as PushBody;
  if (b.values === undefined && b.value === undefined) throw badRequest('values is required');
  if (b.values !== undefined && b.value !== undefined) {
    throw badRequest('give either value (one) or values (many), not both');
  }
  const values =
    b.values === undefined ? [bytesParam(b.value, 'value')] : bytesList(b.values, 'values');
  const cmd = `${(b.end ?? 'left') === 'left' ? 'L' : 'R'}PUSH${b.onlyIfExists ? 'X' : ''}`;
  const r = await run(deps, reply, [cmd, keyOf(request), ...values]);
  return answer(request, reply, r, 200, () => ({ length: intOut(r) }));
}

interface MoveBody {
  destination: unknown;
  from?: End;
  to?: End;
  blockMs?: number;
}

/** LMOVE (BLMOVE when blocking); a value moved for a client that left is moved back. */
async function move(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const b = request.body as MoveBody;
  const src = keyOf(request);
  const dst = bytesParam(b.destination, 'destination');
  const from = b.from ?? 'right';
  const to = b.to ?? 'left';
  const args: Array<string | Buffer> = [b.blockMs === undefined ? 'LMOVE' : 'BLMOVE'];
  args.push(src, dst, side(from), side(to));
  if (b.blockMs !== undefined) {
    args.push(seconds(cappedBlockMs(b.blockMs, deps.config.maxBlockMs)));
  }
  const r = await run(deps, reply, args);
  if (r.t === 'bulk' && clientGone(reply)) {
    await runIn(deps, deps.session(), ['LMOVE', dst, src, side(to), side(from)]);
  }
  const out = outOf(request);
  return answer(request, reply, r, 200, () => ({ value: valueOut(r, out) }));
}

async function peek(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const key = keyOf(request);
  const q = request.query as { start?: number; stop?: number };
  const session = requestSession(deps, reply);
  const start = String(q.start ?? 0);
  const stop = String(q.stop ?? DEFAULT_PEEK_STOP);
  const [len, range] = await Promise.all([
    runIn(deps, session, ['LLEN', key]),
    runIn(deps, session, ['LRANGE', key, start, stop]),
  ]);
  const out = outOf(request);
  const failed = len.t === 'error' ? len : range;
  return answer(request, reply, failed, 200, () => ({
    length: intOut(len),
    values: items(range).map((v) => valueOut(v, out)),
  }));
}

async function remove(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const b = request.body as { value: unknown; count?: number };
  const value = bytesParam(b.value, 'value');
  const r = await run(deps, reply, ['LREM', keyOf(request), String(b.count ?? 1), value]);
  return answer(request, reply, r, 200, () => ({ removed: intOut(r) }));
}

const tags = ['lists'];
const POP_PROPS = {
  end: { ...END, description: 'default right (FIFO with push on the left)' },
  count: COUNT,
  blockMs: BLOCK_MS,
};
const SCHEMAS = {
  push: {
    tags,
    summary: 'LPUSH/RPUSH (X with onlyIfExists); {length}',
    body: {
      type: 'object',
      properties: {
        values: { type: 'array', minItems: 1, items: BYTES },
        value: BYTES,
        end: { ...END, description: 'default left' },
        onlyIfExists: { type: 'boolean' },
      },
    },
  },
  pop: {
    tags,
    summary: 'Pop (blockMs: wait for a value); {values}, [] on timeout',
    body: { type: 'object', properties: POP_PROPS },
  },
  popMany: {
    tags,
    summary: 'Pop from the first non-empty of keys (LMPOP/BLMPOP); {key, values}',
    body: {
      type: 'object',
      required: ['keys'],
      properties: { keys: { type: 'array', minItems: 1, items: BYTES }, ...POP_PROPS },
    },
  },
  move: {
    tags,
    summary: 'LMOVE/BLMOVE to destination; {value}, null when empty or on timeout',
    body: {
      type: 'object',
      required: ['destination'],
      properties: {
        destination: BYTES,
        from: { ...END, description: 'default right' },
        to: { ...END, description: 'default left' },
        blockMs: BLOCK_MS,
      },
    },
  },
  peek: {
    tags,
    summary: 'LLEN and LRANGE start..stop (default 0..99), nothing removed',
    querystring: {
      type: 'object',
      properties: { start: { type: 'integer' }, stop: { type: 'integer' } },
    },
  },
  remove: {
    tags,
    summary: 'LREM count value (count 0: all; negative: from the right); {removed}',
    body: {
      type: 'object',
      required: ['value'],
      properties: { value: BYTES, count: { type: 'integer', default: 1 } },
    },
  },
} as const;

type Handler = (deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const del: Handler = (deps, request, reply) => deleteTyped(deps, request, reply, 'list');

export function registerV1Lists(app: FastifyInstance, deps: HttpDeps): void {
  const k = '/v1/lists/:key';
  const w = { write: true };
  const optional = { config: w, preValidation: emptyBodyIsObject };
  const routes: Array<[string, string, object, Handler]> = [
    ['POST', `${k}/push`, { schema: SCHEMAS.push, config: w }, push],
    ['POST', `${k}/pop`, { schema: SCHEMAS.pop, ...optional }, pop],
    ['POST', '/v1/lists/pop', { schema: SCHEMAS.popMany, config: w }, popMany],
    ['POST', `${k}/move`, { schema: SCHEMAS.move, config: w }, move],
    ['GET', k, { schema: SCHEMAS.peek }, peek],
    ['POST', `${k}/remove`, { schema: SCHEMAS.remove, config: w }, remove],
    ['DELETE', k, { schema: { tags, summary: 'DEL the list; {deleted}' }, config: w }, del],
  ];
  for (const [method, url, options, handler] of routes) {
    app.route({ method, url, ...options, handler: (req, rep) => handler(deps, req, rep) });
  }
}
