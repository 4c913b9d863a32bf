// The stream data commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and XREAD.
// Arguments are checked in the order Redis 7 checks them (t_stream.c), so the first error a
// bad call meets is the one Redis gives; the semantics live in src/broker/streams.ts.
import { StreamId, U64_MAX } from '../../storage/id';
import type { StreamEntry } from '../../storage/records';
import {
  APPROX_TRIM_DEFAULT_LIMIT,
  streamRange,
  serveBlockedXread,
  wokenBy,
  WOKEN_NOW,
  type Woken,
  xadd,
  xaddMany,
  type XaddRequest,
  xdel,
  xreadAttempt,
  xsetid,
  xtrim,
  type IdSpec,
  type ReadAfter,
  type TrimArgs,
} from '../broker/streams';
import { BLOCKED_READ_DEFAULT_COUNT } from '../broker/groups';
import { Errors } from '../errors';
import { int64Arg, isWord, toInt64 } from './args';
import type { Ctx } from './context';
import { KeyspaceEvents } from './keyspace-events';
import {
  arr,
  bulk,
  Latin1Bulk,
  EMPTY_ARRAY,
  int,
  map,
  NIL,
  NIL_ARRAY,
  OK,
  type Reply,
} from './reply';
import { idText, parseId, parseIntervalId, parseStrictId } from './stream-ids';
import {
  Thrown,
  type BatchHandler,
  type Blocked,
  type CommandRow,
  type HandlerResult,
} from './table';

const NUMBER_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** An int64 as a JS number; counts and lengths never reach 2^53, so larger values clamp. */
function clampToNumber(v: bigint): number {
  return Number(v > NUMBER_MAX ? NUMBER_MAX : v);
}

/** An entry as Redis replies with it: [id, [field, value, ...]]. */
export function entryReply(e: StreamEntry): Reply {
  return arr([new Latin1Bulk(idText(e.id)), arr(e.fields.map((f) => bulk(f)))]);
}

function entriesReply(entries: readonly StreamEntry[]): Reply {
  return arr(entries.map(entryReply));
}

// ---- XADD and XTRIM options (streamParseAddOrTrimArgsOrReply) --------------------------------

interface AddTrimOptions {
  readonly trim: TrimArgs | null;
  readonly noMkStream: boolean;
  /** XADD: where the ID argument is (args.length when none was reached). */
  readonly idAt: number;
  readonly id: IdSpec | null;
}

interface TrimDraft {
  strategy: 'maxlen' | 'minid' | null;
  maxLen: bigint;
  minId: StreamId;
  approx: boolean;
}

/** MAXLEN|MINID [=|~] threshold at args[i]; returns the index of the threshold. */
function parseStrategy(args: readonly Buffer[], i: number, draft: TrimDraft): number {
  if (draft.strategy !== null) throw Errors.trimStrategiesTogether();
  const maxlen = isWord(args[i], 'MAXLEN');
  const moreArgs = args.length - 1 - i;
  const next = args[i + 1] as Buffer;
  let at = i + 1;
  draft.approx = false;
  if (moreArgs >= 2 && next.length === 1 && (next[0] === 0x7e || next[0] === 0x3d)) {
    draft.approx = next[0] === 0x7e; // '~'
    at++;
  }
  if (maxlen) {
    draft.maxLen = int64Arg(args[at] as Buffer);
    if (draft.maxLen < 0n) throw Errors.maxlenNegative();
    draft.strategy = 'maxlen';
  } else {
    draft.minId = parseStrictId(args[at] as Buffer);
    draft.strategy = 'minid';
  }
  return at;
}

function parseAddOrTrim(args: readonly Buffer[], isXadd: boolean): AddTrimOptions {
  const draft: TrimDraft = { strategy: null, maxLen: 0n, minId: StreamId.ZERO, approx: false };
  let limit: bigint | null = null;
  let noMkStream = false;
  let id: IdSpec | null = null;
  let i = 2;
  for (; i < args.length; i++) {
    const arg = args[i] as Buffer;
    const moreArgs = args.length - 1 - i;
    if (isXadd && arg.length === 1 && arg[0] === 0x2a) {
      id = { kind: 'auto' };
      break;
    } else if ((isWord(arg, 'MAXLEN') || isWord(arg, 'MINID')) && moreArgs > 0) {
      i = parseStrategy(args, i, draft);
    } else if (isWord(arg, 'LIMIT') && moreArgs > 0) {
      limit = int64Arg(args[++i] as Buffer);
      if (limit < 0n) throw Errors.limitNegative();
    } else if (isXadd && isWord(arg, 'NOMKSTREAM')) {
      noMkStream = true;
    } else if (isXadd) {
      const parsed = parseId(arg, 0n, true, true);
      id = parsed.seqGiven
        ? { kind: 'explicit', id: parsed.id }
        : { kind: 'seq-auto', ms: parsed.id.ms };
      break;
    } else throw Errors.syntax();
  }
  if (limit !== null && limit !== 0n && draft.strategy === null) {
    throw Errors.limitWithoutStrategy();
  }
  if (!isXadd && draft.strategy === null) throw Errors.xtrimNoStrategy();
  if (limit !== null && !draft.approx) throw Errors.limitWithoutApprox();
  return { trim: trimArgs(draft, limit), noMkStream, idAt: i, id };
}

function trimArgs(draft: TrimDraft, limit: bigint | null): TrimArgs | null {
  if (draft.strategy === null) return null;
  const cap = draft.approx
    ? limit === null
      ? APPROX_TRIM_DEFAULT_LIMIT
      : clampToNumber(limit)
    : 0;
  if (draft.strategy === 'maxlen') {
    return {
      strategy: 'maxlen',
      maxLen: clampToNumber(draft.maxLen),
      approx: draft.approx,
      limit: cap,
    };
  }
  return { strategy: 'minid', minId: draft.minId, approx: draft.approx, limit: cap };
}

// ---- handlers -------------------------------------------------------------------------------

function xaddRequest(args: readonly Buffer[]): XaddRequest {
  const opts = parseAddOrTrim(args, true);
  const fieldsAt = opts.idAt + 1;
  const pairs = args.length - fieldsAt;
  if (pairs < 2 || pairs % 2 === 1 || opts.id === null) throw Errors.arity('xadd');
  return {
    id: opts.id,
    fields: args.slice(fieldsAt),
    noMkStream: opts.noMkStream,
    trim: opts.trim,
  };
}

function xaddCommand(ctx: Ctx, args: readonly Buffer[]): Reply | Promise<Reply> {
  const key = args[1] as Buffer;
  const req = xaddRequest(args);
  if (!req.trim) {
    const id = xadd(ctx.broker, ctx, ctx.db, key, req);
    return id instanceof Promise ? id.then(xaddReply) : xaddReply(id);
  }
  // An XADD that trimmed fires `xtrim` after `xadd` (the key's lock holds the length still).
  const lengthBefore = ctx.broker.keyspace.stream(ctx.db, key)?.log.length ?? 0;
  const trimmed = (id: StreamId | null): Reply => {
    const after = ctx.broker.keyspace.stream(ctx.db, key)?.log.length ?? 0;
    if (id !== null && after <= lengthBefore) ctx.noteEvent(KeyspaceEvents.stream, 'xtrim', key);
    return xaddReply(id);
  };
  const id = xadd(ctx.broker, ctx, ctx.db, key, req);
  return id instanceof Promise ? id.then(trimmed) : trimmed(id);
}

/** XADDs to one existing stream, none trimming: one storage command (see xaddMany). */
const xaddBatch: BatchHandler = (ctx, calls) => {
  const key = (calls[0] as readonly Buffer[])[1] as Buffer;
  const value = ctx.broker.keyspace.stream(ctx.db, key);
  if (!value) return null;
  const parsed = calls.map((args) => {
    try {
      return xaddRequest(args);
    } catch (err) {
      return new Thrown(err);
    }
  });
  const reqs = parsed.map((p) => (p instanceof Thrown ? null : p));
  const ids = xaddMany(ctx.broker, ctx, ctx.db, key, value, reqs);
  if (ids === null) return null;
  return ids.map((id, i) => {
    if (id === null) return parsed[i] as Thrown;
    return id instanceof StreamId ? new Latin1Bulk(idText(id)) : new Thrown(id);
  });
};

const xaddReply = (id: StreamId | null): Reply => (id === null ? NIL : new Latin1Bulk(idText(id)));

async function xtrimCommand(ctx: Ctx, args: readonly Buffer[]): Promise<Reply> {
  const opts = parseAddOrTrim(args, false);
  const value = ctx.broker.keyspace.stream(ctx.db, args[1] as Buffer);
  if (!value) return int(0);
  return int(await xtrim(ctx, value, opts.trim as TrimArgs));
}

function xlenCommand(ctx: Ctx, args: readonly Buffer[]): Reply {
  const value = ctx.broker.keyspace.streamForRead(ctx.db, args[1] as Buffer);
  return int(value ? value.log.length : 0);
}

/** XRANGE and XREVRANGE (xrangeGenericCommand). */
function rangeCommand(reverse: boolean) {
  return async (ctx: Ctx, args: readonly Buffer[]): Promise<Reply> => {
    const first = parseIntervalId((reverse ? args[3] : args[2]) as Buffer, 0n);
    const start = first.exclude ? first.id.next() : first.id;
    if (start === null) throw Errors.rangeStartInvalid();
    const second = parseIntervalId((reverse ? args[2] : args[3]) as Buffer, U64_MAX);
    const end = second.exclude ? second.id.prev() : second.id;
    if (end === null) throw Errors.rangeEndInvalid();
    let count = -1n;
    for (let j = 4; j < args.length; j++) {
      if (!isWord(args[j], 'COUNT') || j + 1 >= args.length) throw Errors.syntax();
      count = int64Arg(args[++j] as Buffer);
      if (count < 0n) count = 0n;
    }
    const value = ctx.broker.keyspace.streamForRead(ctx.db, args[1] as Buffer);
    if (!value) return EMPTY_ARRAY;
    if (count === 0n) return NIL_ARRAY;
    const n = count < 0n ? 0 : clampToNumber(count);
    return entriesReply(await streamRange(value, start, end, n, reverse));
  };
}

async function xdelCommand(ctx: Ctx, args: readonly Buffer[]): Promise<Reply> {
  // Redis looks the key up before it parses the IDs: a missing key answers 0 whatever they are.
  const value = ctx.broker.keyspace.stream(ctx.db, args[1] as Buffer);
  if (!value) return int(0);
  const ids = args.slice(2).map((a) => parseStrictId(a));
  return int(await xdel(ctx, value, ids));
}

async function xsetidCommand(ctx: Ctx, args: readonly Buffer[]): Promise<Reply> {
  const lastId = parseStrictId(args[2] as Buffer);
  let entriesAdded: bigint | null = null;
  let maxDeletedId: StreamId | null = null;
  for (let i = 3; i < args.length; i += 2) {
    const more = i + 1 < args.length;
    if (isWord(args[i], 'ENTRIESADDED') && more) {
      entriesAdded = int64Arg(args[i + 1] as Buffer);
      if (entriesAdded < 0n) throw Errors.xsetidEntriesAddedNegative();
    } else if (isWord(args[i], 'MAXDELETEDID') && more) {
      const id = parseStrictId(args[i + 1] as Buffer);
      if (lastId.compare(id) < 0) throw Errors.xsetidBelowGivenMaxDeleted();
      maxDeletedId = id.isZero() ? null : id;
    } else throw Errors.syntax();
  }
  const value = ctx.broker.keyspace.stream(ctx.db, args[1] as Buffer);
  if (!value) throw Errors.noSuchKey();
  await xsetid(ctx, value, { lastId, entriesAdded, maxDeletedId });
  return OK;
}

// ---- XREAD ----------------------------------------------------------------------------------

/**
 * Key positions of XREAD and XREADGROUP (Redis xreadGetKeys): the first half of the arguments
 * after STREAMS; none when the call is malformed.
 */
export function xreadKeyPositions(args: readonly Buffer[]): number[] {
  let streamsAt = -1;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (isWord(arg, 'BLOCK') || isWord(arg, 'COUNT')) i++;
    else if (isWord(arg, 'GROUP')) i += 2;
    else if (isWord(arg, 'NOACK')) continue;
    else {
      if (isWord(arg, 'STREAMS')) streamsAt = i;
      break;
    }
  }
  const n = args.length - streamsAt - 1;
  if (streamsAt < 0 || n === 0 || n % 2 !== 0) return [];
  return Array.from({ length: n / 2 }, (_, k) => streamsAt + 1 + k);
}

interface XreadOptions {
  /** -1: no BLOCK; 0: forever. */
  readonly blockMs: number;
  /** 0: no limit. */
  readonly count: number;
  readonly streamsAt: number;
}

function parseXreadOptions(args: readonly Buffer[]): XreadOptions {
  let blockMs = -1;
  let count = 0;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    const moreArgs = args.length - i - 1;
    if (isWord(arg, 'BLOCK') && moreArgs > 0) {
      const v = toInt64(args[++i] as Buffer);
      if (v === null) throw Errors.blockTimeoutNotInteger();
      if (v < 0n) throw Errors.timeoutNegative();
      blockMs = clampToNumber(v);
    } else if (isWord(arg, 'COUNT') && moreArgs > 0) {
      const v = int64Arg(args[++i] as Buffer);
      count = v < 0n ? 0 : clampToNumber(v);
    } else if (isWord(arg, 'STREAMS') && moreArgs > 0) {
      if ((args.length - i - 1) % 2 !== 0) throw Errors.xreadUnbalanced();
      return { blockMs, count, streamsAt: i + 1 };
    } else if (isWord(arg, 'GROUP') && moreArgs >= 2) {
      throw Errors.xreadGroupOption();
    } else if (isWord(arg, 'NOACK')) {
      throw Errors.xreadNoackOption();
    } else throw Errors.syntax();
  }
  throw Errors.syntax(); // STREAMS is mandatory
}

/** XREAD's IDs, each checked after its key's type, as Redis does; `$` resolved now. */
function resolveReadIds(ctx: Ctx, keys: readonly Buffer[], ids: readonly Buffer[]): ReadAfter[] {
  return ids.map((arg, i) => {
    const value = ctx.broker.keyspace.streamForRead(ctx.db, keys[i] as Buffer);
    if (arg.length === 1 && arg[0] === 0x24) return value ? value.log.lastId : StreamId.ZERO;
    if (arg.length === 1 && arg[0] === 0x3e) throw Errors.xreadGreaterId();
    // `+` (the last entry) is Redis 7.4's; like 7.4 it is resolved again at every attempt.
    if (arg.length === 1 && arg[0] === 0x2b) return 'last-entry';
    return parseStrictId(arg);
  });
}

/** The reply of a read that served streams: RESP2 [[key, entries]...], RESP3 {key: entries}. */
export function servedStreamsReply(ctx: Ctx, served: ReadonlyArray<[Buffer, StreamEntry[]]>) {
  const pairs = served.map(([key, entries]) => [bulk(key), entriesReply(entries)] as const);
  return ctx.session.resp === 3 ? map(pairs) : arr(pairs.map(([k, v]) => arr([k, v])));
}

async function xreadCommand(ctx: Ctx, args: readonly Buffer[]): Promise<HandlerResult> {
  const opts = parseXreadOptions(args);
  const n = (args.length - opts.streamsAt) / 2;
  const keys = args.slice(opts.streamsAt, opts.streamsAt + n);
  const after = resolveReadIds(ctx, keys, args.slice(opts.streamsAt + n));
  // Redis looks each stream up again to serve it (counted as a second read of it).
  for (const key of keys) ctx.broker.keyspace.getForRead(ctx.db, key);
  const served = await xreadAttempt(ctx.broker, ctx.db, keys, after, opts.count);
  if (served.length > 0) return servedStreamsReply(ctx, served);
  if (opts.blockMs < 0) return NIL_ARRAY;
  // Served once blocked: one stream, at most COUNT or XREAD_BLOCKED_DEFAULT_COUNT entries.
  const count = opts.count > 0 ? opts.count : BLOCKED_READ_DEFAULT_COUNT;
  let woken: Woken | null = null;
  const blocked: Blocked = {
    t: 'blocked',
    keys,
    timeoutMs: opts.blockMs,
    retry: async () => {
      const w = woken ?? WOKEN_NOW;
      woken = null;
      const serve = (at: Woken) => serveBlockedXread(ctx.broker, ctx.db, keys, after, count, at);
      // Woken by no new entry (an XTRIM, say): later ones, if any, were signalled too.
      const one = (await serve(w)) ?? (w.upTo !== null ? await serve(WOKEN_NOW) : null);
      return one ? servedStreamsReply(ctx, [one]) : blocked;
    },
    onWake: (key) => {
      woken = wokenBy(ctx.broker, ctx.db, keys, key);
    },
    onTimeout: NIL_ARRAY,
  };
  return blocked;
}

// ---- the rows -------------------------------------------------------------------------------

const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const streamsRows: CommandRow[] = [
  {
    name: 'xadd',
    arity: -5,
    flags: ['write', 'denyoom', 'fast'],
    ...key1,
    handler: xaddCommand,
    batch: xaddBatch,
    group: 'stream',
    summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
    since: '5.0.0',
  },
  {
    name: 'xlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...key1,
    handler: xlenCommand,
    group: 'stream',
    summary: 'Return the number of messages in a stream.',
    since: '5.0.0',
  },
  {
    name: 'xrange',
    arity: -4,
    flags: ['readonly'],
    ...key1,
    handler: rangeCommand(false),
    group: 'stream',
    summary: 'Returns the messages from a stream within a range of IDs.',
    since: '5.0.0',
  },
  {
    name: 'xrevrange',
    arity: -4,
    flags: ['readonly'],
    ...key1,
    handler: rangeCommand(true),
    group: 'stream',
    summary: 'Returns the messages from a stream within a range of IDs in reverse order.',
    since: '5.0.0',
  },
  {
    name: 'xdel',
    arity: -3,
    flags: ['write', 'fast'],
    ...key1,
    handler: xdelCommand,
    group: 'stream',
    summary: 'Returns the number of messages after removing them from a stream.',
    since: '5.0.0',
  },
  {
    name: 'xtrim',
    arity: -4,
    flags: ['write'],
    ...key1,
    handler: xtrimCommand,
    group: 'stream',
    summary: 'Deletes messages from the beginning of a stream.',
    since: '5.0.0',
  },
  {
    name: 'xsetid',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...key1,
    handler: xsetidCommand,
    group: 'stream',
    summary: 'An internal command for replicating stream values.',
    since: '5.0.0',
  },
  {
    name: 'xread',
    arity: -4,
    flags: ['readonly', 'blocking', 'movablekeys'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    keys: xreadKeyPositions,
    handler: xreadCommand,
    group: 'stream',
    summary:
      'Returns messages from multiple streams with IDs greater than the ones requested. ' +
      'Blocks until a message is available otherwise.',
    since: '5.0.0',
  },
];
