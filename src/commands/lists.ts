// The list commands, Redis's message queues, as Redis 7.0 replies: pushes and pops at both
// ends (with COUNT), LMPOP, moves (LMOVE, RPOPLPUSH: circular and reliable queues), reads by
// index and range, LPOS, LSET, LINSERT, LREM, LTRIM, and the blocking forms (BLPOP, BRPOP,
// BLMOVE, BRPOPLPUSH, BLMPOP). Arguments are checked in the order Redis checks them, so the
// same bad call gets the same error. A blocked pop is served synchronously by the push that
// feeds it (Blocked.serve), oldest waiter first, before any other client sees the values.
import { keyId, type Keyspace } from '../broker/keyspace';
import { Side, type ListValue, type Lists } from '../broker/lists';
import { Errors, type CommandError } from '../errors';
import { int64Arg, intArg, isWord } from './args';
import type { Ctx } from './context';
import {
  arr,
  bulk,
  EMPTY_ARRAY,
  errorReply,
  int,
  Latin1Bulk,
  NIL,
  NIL_ARRAY,
  OK,
  type Reply,
} from './reply';
import {
  defineRow,
  type BatchHandler,
  type Blocked,
  type CommandRow,
  type Flag,
  type Handler,
  type HandlerResult,
  type RowSpec,
} from './table';

const idOf = (key: Buffer) => key.toString('latin1');
const value = (s: string): Reply => new Latin1Bulk(s);
const keyspace = (ctx: Ctx): Keyspace => ctx.broker.keyspace;
const lists = (ctx: Ctx): Lists => ctx.broker.lists;

/** LEFT or RIGHT (getListPositionFromObjectOrReply). */
function sideArg(arg: Buffer | undefined): Side {
  if (isWord(arg, 'LEFT')) return Side.Left;
  if (isWord(arg, 'RIGHT')) return Side.Right;
  throw Errors.syntax();
}

/** A count that must be >= 0 (getPositiveLongFromObjectOrReply). */
function positiveArg(arg: Buffer, err?: () => CommandError): number {
  const v = int64Arg(arg, err);
  if (v < 0n) throw (err ?? Errors.mustBePositive)();
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** A count in [1, LONG_MAX] whose errors all read `err` (getRangeLongFromObjectOrReply). */
function atLeastOneArg(arg: Buffer, err: () => CommandError): number {
  const v = int64Arg(arg, err);
  if (v < 1n) throw err();
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** What C's strtold accepts, whole (Redis rejects leading spaces and trailing bytes). */
const DECIMAL = String.raw`(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`;
const HEX = String.raw`0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?`;
const LONG_DOUBLE = new RegExp(`^[+-]?(?:${DECIMAL}|inf(?:inity)?|${HEX})$`, 'i');

function parseHexFloat(s: string): number {
  const m = /^([+-]?)0x([0-9a-f]*)\.?([0-9a-f]*)(?:p([+-]?\d+))?$/i.exec(s) as RegExpExecArray;
  const digits = `${m[2]}${m[3]}`;
  const mantissa = digits.length > 0 ? parseInt(digits, 16) : 0;
  const exp = Number(m[4] ?? 0) - 4 * (m[3] as string).length;
  return (m[1] === '-' ? -1 : 1) * mantissa * 2 ** exp;
}

/** 2^63: C's (long long) cast of a larger double is LLONG_MIN on x86, hence "negative". */
const LLONG_LIMIT = 2 ** 63;

/**
 * A blocking timeout in seconds, as Redis 7.0.15's getTimeoutFromObjectOrReply reads it: a
 * long double, times 1000, rounded up to whole ms (since 7.0.8, so 0.0001 waits 1 ms rather
 * than forever). Returns ms; 0 blocks forever.
 */
export function timeoutArg(arg: Buffer): number {
  const s = arg.toString('latin1');
  if (!LONG_DOUBLE.test(s)) throw Errors.timeoutNotFloat();
  const lower = s.toLowerCase();
  const seconds = lower.includes('0x')
    ? parseHexFloat(s)
    : lower.includes('inf')
      ? (s.startsWith('-') ? -1 : 1) * Infinity
      : Number(s);
  const ms = Math.ceil(seconds * 1000);
  if (!(ms < LLONG_LIMIT) || ms < 0) throw Errors.timeoutNegative();
  return ms;
}

// ---- pushes and pops ------------------------------------------------------------------------

function pushCommand(side: Side, onlyIfExists: boolean): Handler {
  return (ctx, args) => {
    const key = args[1] as Buffer;
    const list = keyspace(ctx).list(ctx.db, key);
    if (onlyIfExists && !list) return int(0);
    const values = args.slice(2).map(idOf);
    const length = lists(ctx).push(ctx.db, idOf(key), side, values);
    ctx.afterLists();
    return int(length);
  };
}

/** LPOP/RPOP k 0: an empty array, and nothing popped (no event, WATCH not touched). */
export function popsNothing(cmd: string, reply: Reply): boolean {
  return (cmd === 'lpop' || cmd === 'rpop') && reply.t === 'array' && reply.v.length === 0;
}

function popCommand(side: Side, name: string): Handler {
  return (ctx, args) => {
    if (args.length > 3) throw Errors.arity(name);
    const count = args.length === 3 ? positiveArg(args[2] as Buffer, Errors.mustBePositive) : -1;
    const key = args[1] as Buffer;
    const list = keyspace(ctx).list(ctx.db, key);
    if (!list) return count >= 0 ? NIL_ARRAY : NIL;
    if (count === 0) return EMPTY_ARRAY;
    const popped = lists(ctx).pop(ctx.db, idOf(key), side, count < 0 ? 1 : count);
    ctx.afterLists();
    return count < 0 ? value(popped[0] as string) : arr(popped.map(value));
  };
}

/** A batch takes values up to this many bytes in all: one journal record stays small. */
const BATCH_MAX_BYTES = 1 << 20;

/**
 * Consecutive LPUSH/RPUSH calls on one key as one push of all their values (the same list and
 * one journal record); each call answers the length after its own values. Not while a client
 * is blocked on the key: it would be served once, after all of them.
 */
function pushBatch(side: Side): BatchHandler {
  return (ctx, calls) => {
    const key = (calls[0] as readonly Buffer[])[1] as Buffer;
    const id = idOf(key);
    if (ctx.broker.blocking.isWaited(keyId(ctx.db, key))) return null;
    const length = keyspace(ctx).list(ctx.db, key)?.length ?? 0;
    const values: string[] = [];
    const lengths: Reply[] = [];
    let bytes = 0;
    for (const args of calls) {
      for (let i = 2; i < args.length; i++) {
        const v = args[i] as Buffer;
        bytes += v.length;
        values.push(idOf(v));
      }
      lengths.push(int(length + values.length));
    }
    if (bytes > BATCH_MAX_BYTES) return null;
    lists(ctx).push(ctx.db, id, side, values);
    ctx.afterLists();
    return lengths;
  };
}

/** Consecutive LPOP/RPOP calls (no count) on one key as one pop of as many values. */
function popBatch(side: Side): BatchHandler {
  return (ctx, calls) => {
    if (calls.some((args) => args.length !== 2)) return null;
    const key = (calls[0] as readonly Buffer[])[1] as Buffer;
    const list = keyspace(ctx).list(ctx.db, key);
    if (!list) return calls.map(() => NIL);
    const n = Math.min(calls.length, list.length);
    const popped = lists(ctx).pop(ctx.db, idOf(key), side, n);
    ctx.afterLists();
    return calls.map((_, i) => (i < n ? value(popped[i] as string) : NIL));
  };
}

/** LMOVE's core once both sides are known: null when the source is missing. */
function moveOnce(ctx: Ctx, src: Buffer, dst: Buffer, from: Side, to: Side): Reply {
  const source = keyspace(ctx).list(ctx.db, src);
  if (!source || source.length === 0) return NIL;
  keyspace(ctx).list(ctx.db, dst); // WRONGTYPE before anything moves
  const moved = lists(ctx).move(ctx.db, idOf(src), idOf(dst), from, to);
  ctx.afterLists();
  return value(moved);
}

const lmove: Handler = (ctx, args) => {
  const from = sideArg(args[3]);
  const to = sideArg(args[4]);
  return moveOnce(ctx, args[1] as Buffer, args[2] as Buffer, from, to);
};

const rpoplpush: Handler = (ctx, args) =>
  moveOnce(ctx, args[1] as Buffer, args[2] as Buffer, Side.Right, Side.Left);

interface MpopSpec {
  readonly keys: Buffer[];
  readonly side: Side;
  readonly count: number;
}

/** LMPOP/BLMPOP arguments from `numkeysAt` on (lmpopGenericCommand). */
function parseMpop(args: readonly Buffer[], numkeysAt: number): MpopSpec {
  const numkeys = atLeastOneArg(args[numkeysAt] as Buffer, Errors.numkeysPositive);
  const sideAt = numkeysAt + numkeys + 1;
  if (sideAt >= args.length) throw Errors.syntax();
  const side = sideArg(args[sideAt]);
  let count = -1;
  for (let j = sideAt + 1; j < args.length; j++) {
    if (count === -1 && isWord(args[j], 'COUNT') && j + 1 < args.length) {
      count = atLeastOneArg(args[++j] as Buffer, Errors.countPositive);
    } else throw Errors.syntax();
  }
  const keys = args.slice(numkeysAt + 1, sideAt) as Buffer[];
  return { keys, side, count: count === -1 ? 1 : count };
}

/** Pops from the first non-empty list of `keys`: [key, [values]], or null when all are empty. */
function mpopOnce(ctx: Ctx, spec: MpopSpec): Reply | null {
  for (const key of spec.keys) {
    const list = keyspace(ctx).list(ctx.db, key);
    if (!list || list.length === 0) continue;
    const popped = lists(ctx).pop(ctx.db, idOf(key), spec.side, spec.count);
    ctx.afterLists();
    return arr([bulk(key), arr(popped.map(value))]);
  }
  return null;
}

const lmpop: Handler = (ctx, args) => mpopOnce(ctx, parseMpop(args, 1)) ?? NIL_ARRAY;

// ---- blocking forms ---------------------------------------------------------------------------

/**
 * A blocked command: `serveKey(id)` takes data from the signalled key (its latin1 id within the
 * database) or returns null to stay blocked; `attempt` is run again after a missed wake-up.
 */
function blockOn(
  ctx: Ctx,
  keys: readonly Buffer[],
  timeoutMs: number,
  attempt: () => HandlerResult,
  onTimeout: Reply,
  serveKey: (id: string) => Reply | null,
): Blocked {
  return {
    t: 'blocked',
    keys,
    timeoutMs,
    retry: attempt,
    onTimeout,
    serve: (keyId) => (keyId.charCodeAt(0) === ctx.db ? serveKey(keyId.slice(1)) : null),
  };
}

/** A non-empty list at `id`, or undefined (another type or nothing: stay blocked). */
function ready(ctx: Ctx, id: string): ListValue | undefined {
  const list = keyspace(ctx).listById(ctx.db, id);
  return list && list.length > 0 ? list : undefined;
}

function blockingPop(side: Side): Handler {
  return (ctx, args) => {
    const timeoutMs = timeoutArg(args[args.length - 1] as Buffer);
    const keys = args.slice(1, -1) as Buffer[];
    const popFrom = (key: Buffer): Reply => {
      const [v] = lists(ctx).pop(ctx.db, idOf(key), side, 1);
      ctx.afterLists();
      return arr([bulk(key), value(v as string)]);
    };
    const attempt = (): HandlerResult => {
      for (const key of keys) {
        const list = keyspace(ctx).list(ctx.db, key);
        if (list && list.length > 0) return popFrom(key);
      }
      return blockOn(ctx, keys, timeoutMs, attempt, NIL_ARRAY, (id) =>
        ready(ctx, id) ? popFrom(Buffer.from(id, 'latin1')) : null,
      );
    };
    return attempt();
  };
}

/** BLMOVE and BRPOPLPUSH: block on the source only (blmoveGenericCommand). */
function blockingMove(
  ctx: Ctx,
  src: Buffer,
  dst: Buffer,
  sides: readonly [Side, Side],
  timeoutMs: number,
): HandlerResult {
  const attempt = (): HandlerResult => {
    if (keyspace(ctx).list(ctx.db, src)) return moveOnce(ctx, src, dst, sides[0], sides[1]);
    // Redis 7.0 answers a timed-out BLMOVE with a null array, like the other blocking pops,
    // but one inside MULTI with a null bulk string.
    const blocked = blockOn(ctx, [src], timeoutMs, attempt, NIL_ARRAY, (id) => {
      if (id !== idOf(src) || !ready(ctx, id)) return null;
      // Redis unblocks the client with WRONGTYPE when the destination is of another type.
      const dstType = keyspace(ctx).typeOf(ctx.db, idOf(dst));
      if (dstType !== undefined && dstType !== 'list') {
        const err = Errors.wrongType();
        return errorReply(err.message, err.status);
      }
      return moveOnce(ctx, src, dst, sides[0], sides[1]);
    });
    return { ...blocked, onDenied: NIL };
  };
  return attempt();
}

const blmove: Handler = (ctx, args) => {
  const sides = [sideArg(args[3]), sideArg(args[4])] as const;
  const timeoutMs = timeoutArg(args[5] as Buffer);
  return blockingMove(ctx, args[1] as Buffer, args[2] as Buffer, sides, timeoutMs);
};

const brpoplpush: Handler = (ctx, args) => {
  const timeoutMs = timeoutArg(args[3] as Buffer);
  const sides = [Side.Right, Side.Left] as const;
  return blockingMove(ctx, args[1] as Buffer, args[2] as Buffer, sides, timeoutMs);
};

const blmpop: Handler = (ctx, args) => {
  const spec = parseMpop(args, 2);
  const timeoutMs = timeoutArg(args[1] as Buffer);
  const attempt = (): HandlerResult =>
    mpopOnce(ctx, spec) ??
    blockOn(ctx, spec.keys, timeoutMs, attempt, NIL_ARRAY, (id) =>
      ready(ctx, id) ? mpopOnce(ctx, { ...spec, keys: [Buffer.from(id, 'latin1')] }) : null,
    );
  return attempt();
};

// ---- reads ------------------------------------------------------------------------------------

const llen: Handler = (ctx, args) => {
  const list = keyspace(ctx).listForRead(ctx.db, args[1] as Buffer);
  ctx.afterLists();
  return int(list?.length ?? 0);
};

/** A Redis index (negative from the end) resolved against `length`; -1 when outside. */
function resolveIndex(index: number, length: number): number {
  const i = index < 0 ? length + index : index;
  return i >= 0 && i < length ? i : -1;
}

const lindex: Handler = (ctx, args) => {
  const list = keyspace(ctx).listForRead(ctx.db, args[1] as Buffer);
  if (!list) return NIL;
  const i = resolveIndex(intArg(args[2] as Buffer), list.length);
  ctx.afterLists();
  return i < 0 ? NIL : value(list.at(i));
};

/** LRANGE/LTRIM's range: [start, end] clamped, or null when empty. */
function resolveRange(start: number, end: number, length: number): [number, number] | null {
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return null;
  return [start, Math.min(end, length - 1)];
}

const lrange: Handler = (ctx, args) => {
  const start = intArg(args[2] as Buffer);
  const end = intArg(args[3] as Buffer);
  const list = keyspace(ctx).listForRead(ctx.db, args[1] as Buffer);
  if (!list) return EMPTY_ARRAY;
  const range = resolveRange(start, end, list.length);
  ctx.afterLists();
  if (!range) return EMPTY_ARRAY;
  const out: Reply[] = [];
  for (let i = range[0]; i <= range[1]; i++) out.push(value(list.at(i)));
  return arr(out);
};

interface LposOptions {
  rank: number;
  count: number;
  maxlen: number;
}

function parseLpos(args: readonly Buffer[]): LposOptions {
  const opts: LposOptions = { rank: 1, count: -1, maxlen: 0 };
  for (let j = 3; j < args.length; j++) {
    const more = j + 1 < args.length;
    if (isWord(args[j], 'RANK') && more) {
      opts.rank = intArg(args[++j] as Buffer);
      if (opts.rank === 0) throw Errors.lposRankZero();
    } else if (isWord(args[j], 'COUNT') && more) {
      opts.count = positiveArg(args[++j] as Buffer, Errors.lposCountNegative);
    } else if (isWord(args[j], 'MAXLEN') && more) {
      opts.maxlen = positiveArg(args[++j] as Buffer, Errors.lposMaxlenNegative);
    } else throw Errors.syntax();
  }
  return opts;
}

const lpos: Handler = (ctx, args) => {
  const opts = parseLpos(args);
  const list = keyspace(ctx).listForRead(ctx.db, args[1] as Buffer);
  if (!list) return opts.count !== -1 ? EMPTY_ARRAY : NIL;
  ctx.afterLists();
  const wanted = idOf(args[2] as Buffer);
  const fromTail = opts.rank < 0;
  const rank = Math.abs(opts.rank);
  const length = list.length;
  const found: number[] = [];
  let matches = 0;
  for (let k = 0; k < length && (opts.maxlen === 0 || k < opts.maxlen); k++) {
    const i = fromTail ? length - 1 - k : k;
    if (list.at(i) !== wanted || ++matches < rank) continue;
    found.push(i);
    if (opts.count === -1 || (opts.count > 0 && matches - rank + 1 >= opts.count)) break;
  }
  if (opts.count !== -1) return arr(found.map((i) => int(i)));
  return found.length > 0 ? int(found[0] as number) : NIL;
};

// ---- changes in place -------------------------------------------------------------------------

const lset: Handler = (ctx, args) => {
  const key = args[1] as Buffer;
  const list = keyspace(ctx).list(ctx.db, key);
  if (!list) throw Errors.noSuchKey();
  const i = resolveIndex(intArg(args[2] as Buffer), list.length);
  if (i < 0) throw Errors.indexOutOfRange();
  lists(ctx).set(ctx.db, idOf(key), i, idOf(args[3] as Buffer));
  ctx.afterLists();
  return OK;
};

const linsert: Handler = (ctx, args) => {
  const after = isWord(args[2], 'AFTER');
  if (!after && !isWord(args[2], 'BEFORE')) throw Errors.syntax();
  const key = args[1] as Buffer;
  const list = keyspace(ctx).list(ctx.db, key);
  if (!list) return int(0);
  const pivot = idOf(args[3] as Buffer);
  for (let i = 0; i < list.length; i++) {
    if (list.at(i) !== pivot) continue;
    const length = lists(ctx).insert(ctx.db, idOf(key), after ? i + 1 : i, idOf(args[4] as Buffer));
    ctx.afterLists();
    return int(length);
  }
  return int(-1);
};

const lrem: Handler = (ctx, args) => {
  const count = intArg(args[2] as Buffer);
  const key = args[1] as Buffer;
  if (!keyspace(ctx).list(ctx.db, key)) return int(0);
  const removed = lists(ctx).rem(ctx.db, idOf(key), count, idOf(args[3] as Buffer));
  ctx.afterLists();
  return int(removed);
};

const ltrim: Handler = (ctx, args) => {
  const start = intArg(args[2] as Buffer);
  const end = intArg(args[3] as Buffer);
  const key = args[1] as Buffer;
  const list = keyspace(ctx).list(ctx.db, key);
  if (!list) return OK;
  const range = resolveRange(start, end, list.length) ?? [1, 0];
  if (range[0] !== 0 || range[1] !== list.length - 1) {
    lists(ctx).trim(ctx.db, idOf(key), range[0], range[1]);
  }
  ctx.afterLists();
  return OK;
};

// ---- the rows ---------------------------------------------------------------------------------

/** Key positions of LMPOP (numkeys at 1) and BLMPOP (numkeys at 2). */
function mpopKeys(numkeysAt: number) {
  return (args: readonly Buffer[]): number[] => {
    const n = Number(args[numkeysAt]?.toString('latin1'));
    if (!Number.isInteger(n) || n < 1 || numkeysAt + n >= args.length) return [];
    return Array.from({ length: n }, (_, i) => numkeysAt + 1 + i);
  };
}

/** A list row: the one key at 1 unless it says otherwise. */
const row = (name: string, spec: Omit<RowSpec, 'group'>): CommandRow =>
  defineRow(name, { group: 'list', keyRange: spec.keys ? undefined : [1, 1, 1], ...spec });

const PUSH: readonly Flag[] = ['write', 'denyoom', 'fast'];

export const listsRows: CommandRow[] = [
  row('lpush', {
    arity: -3,
    flags: PUSH,
    handler: pushCommand(Side.Left, false),
    batch: pushBatch(Side.Left),
    summary: 'Prepends one or more elements to a list. Creates the key if it does not exist.',
    since: '1.0.0',
  }),
  row('rpush', {
    arity: -3,
    flags: PUSH,
    handler: pushCommand(Side.Right, false),
    batch: pushBatch(Side.Right),
    summary: 'Appends one or more elements to a list. Creates the key if it does not exist.',
    since: '1.0.0',
  }),
  row('lpushx', {
    arity: -3,
    flags: PUSH,
    handler: pushCommand(Side.Left, true),
    summary: 'Prepends one or more elements to a list only when the list exists.',
    since: '2.2.0',
  }),
  row('rpushx', {
    arity: -3,
    flags: PUSH,
    handler: pushCommand(Side.Right, true),
    summary: 'Appends an element to a list only when the list exists.',
    since: '2.2.0',
  }),
  row('lpop', {
    arity: -2,
    flags: ['write', 'fast'],
    handler: popCommand(Side.Left, 'lpop'),
    batch: popBatch(Side.Left),
    summary: 'Returns the first elements in a list after removing it.',
    since: '1.0.0',
  }),
  row('rpop', {
    arity: -2,
    flags: ['write', 'fast'],
    handler: popCommand(Side.Right, 'rpop'),
    batch: popBatch(Side.Right),
    summary: 'Returns and removes the last elements of a list.',
    since: '1.0.0',
  }),
  row('llen', {
    arity: 2,
    flags: ['readonly', 'fast'],
    handler: llen,
    summary: 'Returns the length of a list.',
    since: '1.0.0',
  }),
  row('lrange', {
    arity: 4,
    flags: ['readonly'],
    handler: lrange,
    summary: 'Returns a range of elements from a list.',
    since: '1.0.0',
  }),
  row('lindex', {
    arity: 3,
    flags: ['readonly'],
    handler: lindex,
    summary: 'Returns an element from a list by its index.',
    since: '1.0.0',
  }),
  row('lset', {
    arity: 4,
    flags: ['write', 'denyoom'],
    handler: lset,
    summary: 'Sets the value of an element in a list by its index.',
    since: '1.0.0',
  }),
  row('linsert', {
    arity: 5,
    flags: ['write', 'denyoom'],
    handler: linsert,
    summary: 'Inserts an element before or after another element in a list.',
    since: '2.2.0',
  }),
  row('lrem', {
    arity: 4,
    flags: ['write'],
    handler: lrem,
    summary: 'Removes elements from a list.',
    since: '1.0.0',
  }),
  row('ltrim', {
    arity: 4,
    flags: ['write'],
    handler: ltrim,
    summary: 'Removes elements from both ends a list.',
    since: '1.0.0',
  }),
  row('lpos', {
    arity: -3,
    flags: ['readonly'],
    handler: lpos,
    summary: 'Returns the index of matching elements in a list.',
    since: '6.0.6',
  }),
  row('lmove', {
    arity: 5,
    flags: ['write', 'denyoom'],
    keyRange: [1, 2, 1],
    handler: lmove,
    summary: 'Returns an element after popping it from one list and pushing it to another.',
    since: '6.2.0',
  }),
  row('rpoplpush', {
    arity: 3,
    flags: ['write', 'denyoom'],
    keyRange: [1, 2, 1],
    handler: rpoplpush,
    summary: 'Returns the last element of a list after removing and pushing it to another list.',
    since: '1.2.0',
  }),
  row('lmpop', {
    arity: -4,
    flags: ['write', 'movablekeys'],
    keys: mpopKeys(1),
    handler: lmpop,
    summary: 'Returns multiple elements from a list after removing them.',
    since: '7.0.0',
  }),
  row('blpop', {
    arity: -3,
    flags: ['write', 'noscript', 'blocking'],
    keyRange: [1, -2, 1],
    handler: blockingPop(Side.Left),
    summary: 'Removes and returns the first element in a list. Blocks until one is available.',
    since: '2.0.0',
  }),
  row('brpop', {
    arity: -3,
    flags: ['write', 'noscript', 'blocking'],
    keyRange: [1, -2, 1],
    handler: blockingPop(Side.Right),
    summary: 'Removes and returns the last element in a list. Blocks until one is available.',
    since: '2.0.0',
  }),
  row('blmove', {
    arity: 6,
    flags: ['write', 'denyoom', 'noscript', 'blocking'],
    keyRange: [1, 2, 1],
    handler: blmove,
    summary: 'Pops an element from a list, pushes it to another list and returns it.',
    since: '6.2.0',
  }),
  row('brpoplpush', {
    arity: 4,
    flags: ['write', 'denyoom', 'noscript', 'blocking'],
    keyRange: [1, 2, 1],
    handler: brpoplpush,
    summary: 'Pops an element from a list, pushes it to another list and returns it.',
    since: '2.2.0',
  }),
  row('blmpop', {
    arity: -5,
    flags: ['write', 'blocking', 'movablekeys'],
    keys: mpopKeys(2),
    handler: blmpop,
    summary: 'Pops the first element from one of multiple lists. Blocks until one is available.',
    since: '7.0.0',
  }),
];
