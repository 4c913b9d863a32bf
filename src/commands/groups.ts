// Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
// XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO (STREAM, GROUPS, CONSUMERS, HELP),
// as redis-server 7.0 parses and answers them: arguments are checked in Redis's order, so
// the same bad call gets the same error. Semantics live in src/broker/groups.ts.
import { StreamId } from '../../storage/id';
import {
  BLOCKED_READ_DEFAULT_COUNT,
  ENTRIES_READ_UNKNOWN,
  type ClaimOptions,
  type Count,
  type Group,
  type ReadEntry,
} from '../broker/groups';
import { keyId, type StreamValue } from '../broker/keyspace';
import { wakeOrder, wokenBy, WOKEN_NOW, type Woken } from '../broker/streams';
import { Errors, type CommandError } from '../errors';
import { int64Arg, intArg, isWord, toInt64 } from './args';
import type { Ctx } from './context';
import {
  arr,
  bulk,
  Latin1Bulk,
  fieldMap,
  int,
  map,
  NIL,
  NIL_ARRAY,
  OK,
  simple,
  type Reply,
} from './reply';
import { idText, parseId, parseIntervalId, parseStrictId } from './stream-ids';
import type { Blocked, CommandRow, Flag, Handler, HandlerResult } from './table';
import { KeyspaceEvents } from './keyspace-events';

/** XAUTOCLAIM COUNT's upper bound: LONG_MAX / max(sizeof(streamID), attempts factor 10). */
const XAUTOCLAIM_COUNT_MAX = 576_460_752_303_423_487n;
/** XINFO STREAM FULL's default COUNT. */
const XINFO_FULL_DEFAULT_COUNT = 10;

const idReply = (id: StreamId): Reply => new Latin1Bulk(idText(id));

/** One stream entry: [id, [field, value...]], or [id, nil-array] for a deleted pending entry. */
function entryReply(e: ReadEntry): Reply {
  return arr([idReply(e.id), e.fields ? arr(e.fields.map((f) => bulk(f))) : NIL_ARRAY]);
}

const countReply = (n: Count): Reply => int(typeof n === 'bigint' ? BigInt.asIntN(64, n) : n);

/** The stream at `key`; WRONGTYPE for another type. */
function streamAt(ctx: Ctx, key: Buffer): StreamValue | undefined {
  return ctx.broker.keyspace.stream(ctx.db, key);
}

/** streamAt for a command Redis counts as reading the key (Keyspace.getForRead). */
function streamRead(ctx: Ctx, key: Buffer): StreamValue | undefined {
  return ctx.broker.keyspace.streamForRead(ctx.db, key);
}

/** Readers see no group state less durable than the policy promises writers. */
function durableRead(ctx: Ctx, v: StreamValue): void {
  ctx.afterDurable(v.log, v.log.lastSeq);
}

export function helpReply(container: string, lines: readonly string[]): Reply {
  const head = `${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`;
  return arr([head, ...lines, 'HELP', '    Prints this help.'].map((l) => simple(l)));
}

// ---- XGROUP ----------------------------------------------------------------------------------

interface XgroupArgs {
  readonly key: Buffer;
  readonly name: Buffer;
  readonly value: StreamValue | undefined;
  readonly group: Group | undefined;
  readonly mkstream: boolean;
  readonly entriesRead: bigint;
}

/**
 * What xgroupCommand checks before its subcommand: options (MKSTREAM for CREATE, ENTRIESREAD
 * for CREATE and SETID), the key, and the group for the subcommands that need it.
 */
function xgroupArgs(ctx: Ctx, args: readonly Buffer[], sub: string): XgroupArgs {
  let mkstream = false;
  let entriesRead = ENTRIES_READ_UNKNOWN;
  for (let i = 5; i < args.length;) {
    if (sub === 'create' && isWord(args[i], 'MKSTREAM')) {
      mkstream = true;
      i++;
    } else if (
      (sub === 'create' || sub === 'setid') &&
      isWord(args[i], 'ENTRIESREAD') &&
      i + 1 < args.length
    ) {
      entriesRead = int64Arg(args[i + 1] as Buffer);
      if (entriesRead < 0n && entriesRead !== ENTRIES_READ_UNKNOWN) {
        throw Errors.entriesReadInvalid();
      }
      i += 2;
    } else {
      throw Errors.subcommandSyntax(args[1] as Buffer, 'xgroup');
    }
  }
  const key = args[2] as Buffer;
  const name = args[3] as Buffer;
  const value = streamAt(ctx, key);
  if (!mkstream && !value) throw Errors.xgroupNoKey();
  const group = value?.groups.get(name);
  if (!group && (sub === 'setid' || sub === 'createconsumer' || sub === 'delconsumer')) {
    throw Errors.noGroupForKey(name, key);
  }
  return { key, name, value, group, mkstream, entriesRead };
}

const xgroupCreate: Handler = async (ctx, args) => {
  const a = xgroupArgs(ctx, args, 'create');
  if (args.length > 8) throw Errors.subcommandSyntax(args[1] as Buffer, 'xgroup');
  const idArg = args[4] as Buffer;
  const dollar = idArg.length === 1 && idArg[0] === 0x24;
  let lastId = dollar ? (a.value?.log.lastId ?? StreamId.ZERO) : parseStrictId(idArg);
  // MKSTREAM makes the stream only once nothing else can fail.
  const v = a.value ?? (await ctx.broker.keyspace.streamOrCreate(ctx.db, a.key));
  if (dollar) lastId = v.log.lastId;
  const made = await v.groups.create(v.log, a.name, lastId, a.entriesRead);
  if (!made) throw Errors.busyGroup();
  ctx.afterDurable(v.log, made.seq);
  return OK;
};

const xgroupSetId: Handler = async (ctx, args) => {
  const a = xgroupArgs(ctx, args, 'setid');
  if (args.length !== 5 && args.length !== 7) {
    throw Errors.subcommandSyntax(args[1] as Buffer, 'xgroup');
  }
  const v = a.value as StreamValue;
  const idArg = args[4] as Buffer;
  const dollar = idArg.length === 1 && idArg[0] === 0x24;
  const lastId = dollar ? v.log.lastId : parseId(idArg, 0n, false).id;
  const done = await v.groups.setId(v.log, a.group as Group, lastId, a.entriesRead);
  ctx.afterDurable(v.log, done.seq);
  return OK;
};

const xgroupDestroy: Handler = async (ctx, args) => {
  const a = xgroupArgs(ctx, args, 'destroy');
  const v = a.value as StreamValue;
  if (!a.group) return int(0);
  const done = await v.groups.destroy(v.log, a.group);
  ctx.afterDurable(v.log, done.seq);
  // Clients blocked on the group wake up and get NOGROUP.
  ctx.broker.blocking.signal(keyId(ctx.db, a.key));
  return int(1);
};

const xgroupCreateConsumer: Handler = async (ctx, args) => {
  const a = xgroupArgs(ctx, args, 'createconsumer');
  const v = a.value as StreamValue;
  const consumer = args[4] as Buffer;
  const done = await v.groups.createConsumer(v.log, a.group as Group, consumer, Date.now());
  ctx.afterDurable(v.log, done.seq);
  return int(done.created ? 1 : 0);
};

const xgroupDelConsumer: Handler = async (ctx, args) => {
  const a = xgroupArgs(ctx, args, 'delconsumer');
  const v = a.value as StreamValue;
  const done = await v.groups.deleteConsumer(v.log, a.group as Group, args[4] as Buffer);
  ctx.afterDurable(v.log, done.seq);
  if (done.seq > 0) ctx.noteEvent(KeyspaceEvents.stream, 'xgroup-delconsumer', args[2] as Buffer);
  return int(done.pending);
};

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

// ---- XREADGROUP --------------------------------------------------------------------------

interface XreadgroupArgs {
  readonly group: Buffer;
  readonly consumer: Buffer;
  /** 0: no limit. */
  readonly count: number;
  /** null: no BLOCK; 0: forever. */
  readonly blockMs: number | null;
  readonly noAck: boolean;
  readonly keys: Buffer[];
  /** The raw IDs, one per key. */
  readonly ids: Buffer[];
}

/** The options before STREAMS, in Redis's order of checks (xreadCommand). */
function xreadgroupArgs(args: readonly Buffer[]): XreadgroupArgs {
  let group: Buffer | null = null;
  let consumer: Buffer | null = null;
  let count = 0;
  let blockMs: number | null = null;
  let noAck = false;
  let streamsAt = 0;
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const word = args[i];
    if (isWord(word, 'BLOCK') && more > 0) {
      const ms = int64Arg(args[++i] as Buffer, Errors.blockTimeoutNotInteger);
      if (ms < 0n) throw Errors.timeoutNegative();
      blockMs = Number(ms);
    } else if (isWord(word, 'COUNT') && more > 0) {
      count = Math.max(0, intArg(args[++i] as Buffer));
    } else if (isWord(word, 'STREAMS') && more > 0) {
      streamsAt = i + 1;
      if ((args.length - streamsAt) % 2 !== 0) throw Errors.xreadUnbalanced();
      break;
    } else if (isWord(word, 'GROUP') && more >= 2) {
      group = args[i + 1] as Buffer;
      consumer = args[i + 2] as Buffer;
      i += 2;
    } else if (isWord(word, 'NOACK')) {
      noAck = true;
    } else {
      throw Errors.syntax();
    }
  }
  if (streamsAt === 0) throw Errors.syntax();
  if (!group || !consumer) throw Errors.xreadgroupNoGroup();
  const n = (args.length - streamsAt) / 2;
  const keys = args.slice(streamsAt, streamsAt + n);
  return { group, consumer, count, blockMs, noAck, keys, ids: args.slice(streamsAt + n) };
}

/** XREADGROUP's keys: those after STREAMS, the first half of what follows (movable keys). */
function xreadgroupKeys(args: readonly Buffer[]): number[] {
  for (let i = 1; i < args.length; i++) {
    if (isWord(args[i], 'STREAMS')) {
      const n = Math.floor((args.length - i - 1) / 2);
      return Array.from({ length: n }, (_, k) => i + 1 + k);
    }
    if (isWord(args[i], 'GROUP')) i += 2;
    else if (isWord(args[i], 'BLOCK') || isWord(args[i], 'COUNT')) i++;
  }
  return [];
}

/** A stream of the call: its value, group, and the history start (null: `>`). */
interface Target {
  readonly key: Buffer;
  readonly value: StreamValue;
  readonly group: Group;
  readonly after: StreamId | null;
}

/** Resolves every key and ID in order, as Redis does: the first bad one is the error. */
function xreadgroupTargets(ctx: Ctx, a: XreadgroupArgs): Target[] {
  const targets = a.keys.map((key, n) => {
    const value = streamRead(ctx, key);
    const group = value?.groups.get(a.group);
    if (!value || !group) throw Errors.noGroup(key, a.group, 'XREADGROUP');
    const idArg = a.ids[n] as Buffer;
    if (idArg.length === 1 && idArg[0] === 0x24) throw Errors.xreadgroupDollarId();
    if (idArg.length === 1 && idArg[0] === 0x3e) return { key, value, group, after: null };
    const id = parseStrictId(idArg);
    // Redis marks `>` as the top ID internally, so the top ID reads as `>`.
    return { key, value, group, after: id.equals(StreamId.MAX) ? null : id };
  });
  // Redis looks each stream up again to serve it (counted as a second read of it).
  for (const key of a.keys) ctx.broker.keyspace.getForRead(ctx.db, key);
  return targets;
}

/** [[key, entries]...] in RESP2, {key: entries} in RESP3. */
function streamsReply(ctx: Ctx, served: ReadonlyArray<readonly [Buffer, ReadEntry[]]>): Reply {
  const pairs = served.map(([key, entries]) => [bulk(key), arr(entries.map(entryReply))] as const);
  if (ctx.session.resp === 3) return map(pairs);
  return arr(pairs.map((p) => arr(p)));
}

/**
 * Runs `fn`, noting `xgroup-createconsumer` when it made `consumer` in `g`, as Redis's
 * streamCreateConsumer fires it for the consumers reads and claims create.
 */
async function creatingConsumer<T>(
  ctx: Ctx,
  key: Buffer,
  g: Group,
  consumer: Buffer,
  fn: () => Promise<T>,
): Promise<T> {
  const had = g.consumer(consumer) !== undefined;
  const out = await fn();
  if (!had && g.consumer(consumer) !== undefined) {
    ctx.noteEvent(KeyspaceEvents.stream, 'xgroup-createconsumer', key);
  }
  return out;
}

const xreadgroup: Handler = async (ctx, args) => {
  const a = xreadgroupArgs(args);
  const targets = xreadgroupTargets(ctx, a);
  const served: Array<readonly [Buffer, ReadEntry[]]> = [];
  for (const t of targets) {
    const groups = t.value.groups;
    const r = await creatingConsumer(ctx, t.key, t.group, a.consumer, () =>
      t.after
        ? groups.readHistory(t.value.log, t.group, a.consumer, t.after, a.count)
        : groups.readNew(t.value.log, t.group, a.consumer, a.count, a.noAck),
    );
    ctx.afterDurable(t.value.log, r.seq);
    if (t.after || r.entries.length > 0) served.push([t.key, r.entries]);
  }
  if (served.length > 0) return streamsReply(ctx, served);
  if (a.blockMs === null) return NIL_ARRAY;
  return blockedRead(ctx, a, targets);
};

/**
 * Before a blocked read tries again: a key deleted (or holding another type) or a group
 * destroyed since the call is an error, as Redis unblocks those clients with one. The group is
 * looked up again by name, as Redis does: through the stream that holds the key now (SWAPDB,
 * RENAME onto it), and a group destroyed and created again (in one EXEC) is the one read.
 */
function checkTargets(ctx: Ctx, a: XreadgroupArgs, targets: Target[]): void {
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as Target;
    const now = ctx.broker.keyspace.get(ctx.db, t.key);
    if (now?.type !== 'stream') throw Errors.unblockedStreamGone();
    const group = now.groups.get(a.group);
    if (!group) throw Errors.unblockedGroupGone();
    if (now !== t.value || group !== t.group) targets[i] = { ...t, value: now, group };
  }
}

/**
 * Waits for new entries. On each wake the keys are checked (checkTargets), then, as Redis 7.0
 * serves the key that became ready, the first stream from the signalled key on whose last ID at
 * the wake passed its group's last-delivered ID is served alone: the entries that existed then,
 * or none when they were deleted meanwhile (the consumer is created all the same).
 */
function blockedRead(ctx: Ctx, a: XreadgroupArgs, called: readonly Target[]): Blocked {
  const count = a.count > 0 ? a.count : BLOCKED_READ_DEFAULT_COUNT;
  const targets = [...called];
  const keys = targets.map((t) => t.key);
  let woken: Woken | null = null;
  const serveFirst = async (w: Woken): Promise<HandlerResult | null> => {
    for (const i of wakeOrder(targets.length, w.first)) {
      const t = targets[i] as Target;
      const end = w.upTo?.[i] ?? t.value.log.lastId;
      if (end.compare(t.group.lastId) <= 0) continue;
      const groups = t.value.groups;
      const r = await creatingConsumer(ctx, t.key, t.group, a.consumer, () =>
        groups.readNew(t.value.log, t.group, a.consumer, count, a.noAck, end, true),
      );
      ctx.afterDurable(t.value.log, r.seq);
      return streamsReply(ctx, [[t.key, r.entries]]);
    }
    return null;
  };
  const blocked: Blocked = {
    t: 'blocked',
    keys,
    timeoutMs: a.blockMs ?? 0,
    onTimeout: NIL_ARRAY,
    onWake: (key) => {
      woken = wokenBy(ctx.broker, ctx.db, keys, key);
    },
    retry: async (): Promise<HandlerResult> => {
      const w = woken ?? WOKEN_NOW;
      woken = null;
      checkTargets(ctx, a, targets);
      // Woken by no new entry (an XTRIM, say): later ones, if any, were signalled too.
      const served =
        (await serveFirst(w)) ?? (w.upTo !== null ? await serveFirst(WOKEN_NOW) : null);
      return served ?? blocked;
    },
  };
  return blocked;
}

// ---- XACK --------------------------------------------------------------------------------

const xack: Handler = async (ctx, args) => {
  const v = streamRead(ctx, args[1] as Buffer);
  const g = v?.groups.get(args[2] as Buffer);
  // No key or group: nothing to acknowledge, and the IDs are not even parsed.
  if (!v || !g) return int(0);
  const ids = args.slice(3).map((a) => parseStrictId(a));
  const done = await v.groups.ack(v.log, g, ids);
  ctx.afterDurable(v.log, done.seq);
  return int(done.count);
};

// ---- XPENDING ----------------------------------------------------------------------------

/** An interval's start: `(` excludes it (the next ID), as XRANGE and XPENDING read it. */
function rangeStart(arg: Buffer): StreamId {
  const { id, exclude } = parseIntervalId(arg, 0n);
  if (!exclude) return id;
  const next = id.next();
  if (!next) throw Errors.rangeStartInvalid();
  return next;
}

function rangeEnd(arg: Buffer): StreamId {
  const { id, exclude } = parseIntervalId(arg, (1n << 64n) - 1n);
  if (!exclude) return id;
  const prev = id.prev();
  if (!prev) throw Errors.rangeEndInvalid();
  return prev;
}

const xpending: Handler = (ctx, args) => {
  const argc = args.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) throw Errors.syntax();
  let range: { start: StreamId; end: StreamId; count: number; minIdleMs: number } | null = null;
  let consumer: Buffer | null = null;
  if (argc >= 6) {
    let at = 3;
    let minIdleMs = 0;
    if (isWord(args[3], 'IDLE')) {
      minIdleMs = intArg(args[4] as Buffer);
      if (argc < 8) throw Errors.syntax();
      at += 2;
    }
    const count = Math.max(0, intArg(args[at + 2] as Buffer));
    const start = rangeStart(args[at] as Buffer);
    const end = rangeEnd(args[at + 1] as Buffer);
    range = { start, end, count, minIdleMs };
    if (at + 3 < argc) consumer = args[at + 3] as Buffer;
  }
  const key = args[1] as Buffer;
  const v = streamRead(ctx, key);
  const g = v?.groups.get(args[2] as Buffer);
  if (!v || !g) throw Errors.noKeyOrGroup(key, args[2] as Buffer);
  durableRead(ctx, v);
  if (!range) return pendingSummaryReply(v, g);
  const rows = v.groups.pendingRange(g, range, consumer);
  return arr(
    rows.map((r) =>
      arr([idReply(r.id), bulk(r.consumer), int(r.idleMs), countReply(r.deliveries)]),
    ),
  );
};

function pendingSummaryReply(v: StreamValue, g: Group): Reply {
  const s = v.groups.pendingSummary(g);
  if (s.count === 0) return arr([int(0), NIL, NIL, NIL_ARRAY]);
  return arr([
    int(s.count),
    idReply(s.first as StreamId),
    idReply(s.last as StreamId),
    arr(s.consumers.map((c) => arr([bulk(c.name), bulk(String(c.count))]))),
  ]);
}

// ---- XCLAIM and XAUTOCLAIM ---------------------------------------------------------------

/** Redis parses an ID with string2ull; a failure here means "options start". */
function tryStrictId(arg: Buffer): StreamId | null {
  try {
    return parseStrictId(arg);
  } catch {
    return null;
  }
}

interface XclaimArgs {
  readonly ids: StreamId[];
  readonly options: ClaimOptions;
}

/** XCLAIM's IDs, then its options (xclaimCommand): the first non-ID starts the options. */
function xclaimArgs(args: readonly Buffer[]): XclaimArgs {
  const idle = toInt64(args[4] as Buffer);
  if (idle === null) throw Errors.claimMinIdle('XCLAIM');
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    const id = tryStrictId(args[j] as Buffer);
    if (!id) break;
    ids.push(id);
  }
  let delivery: ((nowMs: number) => number) | null = null;
  let retryCount: bigint | null = null;
  let force = false;
  let justId = false;
  let lastId: StreamId | null = null;
  const value = (option: 'IDLE' | 'TIME' | 'RETRYCOUNT') =>
    int64Arg(args[++j] as Buffer, () => Errors.xclaimOptionValue(option));
  for (; j < args.length; j++) {
    const opt = args[j] as Buffer;
    const more = args.length - 1 - j > 0;
    if (isWord(opt, 'FORCE')) force = true;
    else if (isWord(opt, 'JUSTID')) justId = true;
    else if (isWord(opt, 'IDLE') && more) {
      const ms = Number(value('IDLE'));
      delivery = (now) => now - ms;
    } else if (isWord(opt, 'TIME') && more) {
      const at = Number(value('TIME'));
      delivery = () => at;
    } else if (isWord(opt, 'RETRYCOUNT') && more) {
      const n = value('RETRYCOUNT');
      retryCount = n >= 0n ? n : null;
    } else if (isWord(opt, 'LASTID') && more) lastId = parseStrictId(args[++j] as Buffer);
    else throw Errors.xclaimUnknownOption(opt);
  }
  // A bogus delivery time (negative or in the future) becomes now, as Redis does.
  const deliveryMs = (now: number) => {
    const t = delivery ? delivery(now) : now;
    return t < 0 || t > now ? now : t;
  };
  const minIdleMs = idle < 0n ? 0 : Number(idle);
  return { ids, options: { minIdleMs, deliveryMs, retryCount, force, justId, lastId } };
}

const xclaim: Handler = async (ctx, args) => {
  const key = args[1] as Buffer;
  const v = streamRead(ctx, key);
  const g = v?.groups.get(args[2] as Buffer);
  if (!v || !g) throw Errors.noKeyOrGroup(key, args[2] as Buffer);
  const a = xclaimArgs(args);
  const consumer = args[3] as Buffer;
  const done = await creatingConsumer(ctx, key, g, consumer, () =>
    v.groups.claim(v.log, g, consumer, a.ids, a.options),
  );
  ctx.afterDurable(v.log, done.seq);
  const out = done.claimed.map((e) => (a.options.justId ? idReply(e.id) : entryReply(e)));
  return arr(out);
};

const xautoclaim: Handler = async (ctx, args) => {
  ctx.broker.keyspace.getForRead(ctx.db, args[1] as Buffer); // before the arguments, as in Redis
  const idle = toInt64(args[4] as Buffer);
  if (idle === null) throw Errors.claimMinIdle('XAUTOCLAIM');
  const start = rangeStart(args[5] as Buffer);
  let count = 100;
  let justId = false;
  for (let j = 6; j < args.length; j++) {
    if (isWord(args[j], 'COUNT') && j + 1 < args.length) {
      const n = toInt64(args[++j] as Buffer);
      if (n === null || n < 1n || n > XAUTOCLAIM_COUNT_MAX) throw Errors.xautoclaimCount();
      count = Number(n);
    } else if (isWord(args[j], 'JUSTID')) justId = true;
    else throw Errors.syntax();
  }
  const key = args[1] as Buffer;
  const v = streamAt(ctx, key);
  const g = v?.groups.get(args[2] as Buffer);
  if (!v || !g) throw Errors.noKeyOrGroup(key, args[2] as Buffer);
  const minIdleMs = idle < 0n ? 0 : Number(idle);
  const scan = { minIdleMs, start, count, justId };
  const consumer = args[3] as Buffer;
  const done = await creatingConsumer(ctx, key, g, consumer, () =>
    v.groups.autoClaim(v.log, g, consumer, scan),
  );
  ctx.afterDurable(v.log, done.seq);
  const claimed = done.claimed.map((e) => (justId ? idReply(e.id) : entryReply(e)));
  return arr([idReply(done.next), arr(claimed), arr(done.deleted.map(idReply))]);
};

// ---- XINFO -------------------------------------------------------------------------------

/** XINFO's key: it must exist ("no such key") and be a stream. */
function xinfoStream(ctx: Ctx, key: Buffer): StreamValue {
  const v = streamRead(ctx, key);
  if (!v) throw Errors.noSuchKey();
  durableRead(ctx, v);
  return v;
}

const optionalInt = (n: bigint | null): Reply => (n === null ? NIL : int(n));

/** Radix tree sizes are Redis memory layout; these mimic 100-entry listpack nodes. */
function radixFields(v: StreamValue): Array<[string, Reply]> {
  const keys = Math.ceil(v.log.length / 100);
  return [
    ['radix-tree-keys', int(keys)],
    ['radix-tree-nodes', int(keys + 1)],
  ];
}

function counterFields(v: StreamValue): Array<[string, Reply]> {
  const log = v.log;
  return [
    ['length', int(log.length)],
    ...radixFields(v),
    ['last-generated-id', idReply(log.lastId)],
    ['max-deleted-entry-id', idReply(log.maxDeletedId)],
    ['entries-added', int(log.entriesAdded)],
    ['recorded-first-entry-id', idReply(log.firstId)],
  ];
}

/** XINFO STREAM's options come after the key check: [FULL [COUNT n]]; the count or null. */
function xinfoStreamCount(args: readonly Buffer[]): number | null {
  const opts = args.length - 3;
  if (opts === 0) return null;
  const bad = (): CommandError => Errors.subcommandSyntax(args[1] as Buffer, 'xinfo');
  if ((opts !== 1 && opts !== 3) || !isWord(args[3], 'FULL')) throw bad();
  if (opts === 1) return XINFO_FULL_DEFAULT_COUNT;
  if (!isWord(args[4], 'COUNT')) throw bad();
  const n = intArg(args[5] as Buffer);
  return n < 0 ? XINFO_FULL_DEFAULT_COUNT : n;
}

const xinfoStreamHandler: Handler = async (ctx, args) => {
  const v = xinfoStream(ctx, args[2] as Buffer);
  const count = xinfoStreamCount(args);
  const log = v.log;
  if (count === null) {
    const [first] = await log.read(StreamId.ZERO, StreamId.MAX, 1, false);
    const [last] = await log.read(StreamId.ZERO, StreamId.MAX, 1, true);
    return fieldMap([
      ...counterFields(v),
      ['groups', int(v.groups.size)],
      ['first-entry', first ? entryReply(first) : NIL],
      ['last-entry', last ? entryReply(last) : NIL],
    ]);
  }
  const entries = await log.read(StreamId.ZERO, StreamId.MAX, count, false);
  const groups = v.groups.fullInfo(log, count).map((g) =>
    fieldMap([
      ['name', bulk(g.name)],
      ['last-delivered-id', idReply(g.lastId)],
      ['entries-read', optionalInt(g.entriesRead)],
      ['lag', optionalInt(g.lag)],
      ['pel-count', int(g.pending)],
      ['pending', arr(g.pel.map((p) => arr([idReply(p.id), bulk(p.consumer), ...pelTail(p)])))],
      ['consumers', arr(g.consumers.map((c) => consumerFull(c)))],
    ]),
  );
  return fieldMap([
    ...counterFields(v),
    ['entries', arr(entries.map(entryReply))],
    ['groups', arr(groups)],
  ]);
};

function pelTail(p: { deliveryMs: number; deliveries: Count }): Reply[] {
  return [int(p.deliveryMs), countReply(p.deliveries)];
}

function consumerFull(c: {
  name: Buffer;
  seenMs: number;
  pending: number;
  pel: Array<{ id: StreamId; deliveryMs: number; deliveries: Count }>;
}): Reply {
  return fieldMap([
    ['name', bulk(c.name)],
    ['seen-time', int(c.seenMs)],
    ['pel-count', int(c.pending)],
    ['pending', arr(c.pel.map((p) => arr([idReply(p.id), ...pelTail(p)])))],
  ]);
}

const xinfoGroups: Handler = (ctx, args) => {
  const v = xinfoStream(ctx, args[2] as Buffer);
  return arr(
    v.groups.groupsInfo(v.log).map((g) =>
      fieldMap([
        ['name', bulk(g.name)],
        ['consumers', int(g.consumers)],
        ['pending', int(g.pending)],
        ['last-delivered-id', idReply(g.lastId)],
        ['entries-read', optionalInt(g.entriesRead)],
        ['lag', optionalInt(g.lag)],
      ]),
    ),
  );
};

const xinfoConsumers: Handler = (ctx, args) => {
  const key = args[2] as Buffer;
  const v = xinfoStream(ctx, key);
  const g = v.groups.get(args[3] as Buffer);
  if (!g) throw Errors.noGroupForKey(args[3] as Buffer, key);
  return arr(
    v.groups.consumersInfo(g).map((c) =>
      fieldMap([
        ['name', bulk(c.name)],
        ['pending', int(c.pending)],
        ['idle', int(c.idleMs)],
      ]),
    ),
  );
};

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

// ---- the rows ----------------------------------------------------------------------------

interface RowSpec {
  readonly arity: number;
  readonly flags: readonly Flag[];
  /** [first, last, step]; absent: no keys. */
  readonly keyRange?: readonly [number, number, number];
  readonly keys?: (args: readonly Buffer[]) => number[];
  readonly handler?: Handler;
  readonly subcommands?: readonly CommandRow[];
  readonly summary: string;
  readonly since: string;
}

function row(name: string, spec: RowSpec): CommandRow {
  const { keyRange, ...rest } = spec;
  const [firstKey, lastKey, keyStep] = keyRange ?? [0, 0, 0];
  return { name, firstKey, lastKey, keyStep, group: 'stream', ...rest };
}

const KEY2: readonly [number, number, number] = [2, 2, 1];
const KEY1: readonly [number, number, number] = [1, 1, 1];

const xgroupRows: CommandRow[] = [
  row('xgroup|create', {
    arity: -5,
    flags: ['write', 'denyoom'],
    keyRange: KEY2,
    handler: xgroupCreate,
    summary: 'Create a consumer group.',
    since: '5.0.0',
  }),
  row('xgroup|setid', {
    arity: -5,
    flags: ['write'],
    keyRange: KEY2,
    handler: xgroupSetId,
    summary: 'Set a consumer group to an arbitrary last delivered ID value.',
    since: '5.0.0',
  }),
  row('xgroup|destroy', {
    arity: 4,
    flags: ['write'],
    keyRange: KEY2,
    handler: xgroupDestroy,
    summary: 'Destroy a consumer group.',
    since: '5.0.0',
  }),
  row('xgroup|createconsumer', {
    arity: 5,
    flags: ['write', 'denyoom'],
    keyRange: KEY2,
    handler: xgroupCreateConsumer,
    summary: 'Create a consumer in a consumer group.',
    since: '6.2.0',
  }),
  row('xgroup|delconsumer', {
    arity: 5,
    flags: ['write'],
    keyRange: KEY2,
    handler: xgroupDelConsumer,
    summary: 'Delete a consumer from a consumer group.',
    since: '5.0.0',
  }),
  row('xgroup|help', {
    arity: 2,
    flags: ['loading', 'stale'],
    handler: () => helpReply('XGROUP', XGROUP_HELP),
    summary: 'Show helpful text about the different subcommands',
    since: '5.0.0',
  }),
];

const xinfoRows: CommandRow[] = [
  row('xinfo|stream', {
    arity: -3,
    flags: ['readonly'],
    keyRange: KEY2,
    handler: xinfoStreamHandler,
    summary: 'Get information about a stream',
    since: '5.0.0',
  }),
  row('xinfo|groups', {
    arity: 3,
    flags: ['readonly'],
    keyRange: KEY2,
    handler: xinfoGroups,
    summary: 'List the consumer groups of a stream',
    since: '5.0.0',
  }),
  row('xinfo|consumers', {
    arity: 4,
    flags: ['readonly'],
    keyRange: KEY2,
    handler: xinfoConsumers,
    summary: 'List the consumers in a consumer group',
    since: '5.0.0',
  }),
  row('xinfo|help', {
    arity: 2,
    flags: ['loading', 'stale'],
    handler: () => helpReply('XINFO', XINFO_HELP),
    summary: 'Show helpful text about the different subcommands',
    since: '5.0.0',
  }),
];

export const groupsRows: CommandRow[] = [
  row('xgroup', {
    arity: -2,
    flags: [],
    subcommands: xgroupRows,
    summary: 'A container for consumer groups commands',
    since: '5.0.0',
  }),
  row('xreadgroup', {
    arity: -7,
    flags: ['write', 'blocking', 'movablekeys'],
    keys: xreadgroupKeys,
    handler: xreadgroup,
    summary:
      'Return new entries from a stream using a consumer group, or access the history of the ' +
      'pending entries for a given consumer. Can block.',
    since: '5.0.0',
  }),
  row('xack', {
    arity: -4,
    flags: ['write', 'fast'],
    keyRange: KEY1,
    handler: xack,
    summary:
      'Marks a pending message as correctly processed, effectively removing it from the ' +
      'pending entries list of the consumer group.',
    since: '5.0.0',
  }),
  row('xpending', {
    arity: -3,
    flags: ['readonly'],
    keyRange: KEY1,
    handler: xpending,
    summary:
      'Return information and entries from a stream consumer group pending entries list, ' +
      'that are messages fetched but never acknowledged.',
    since: '5.0.0',
  }),
  row('xclaim', {
    arity: -6,
    flags: ['write', 'fast'],
    keyRange: KEY1,
    handler: xclaim,
    summary:
      'Changes (or acquires) ownership of a message in a consumer group, as if the message ' +
      'was delivered to the specified consumer.',
    since: '5.0.0',
  }),
  row('xautoclaim', {
    arity: -6,
    flags: ['write', 'fast'],
    keyRange: KEY1,
    handler: xautoclaim,
    summary:
      'Changes (or acquires) ownership of messages in a consumer group, as if the messages ' +
      'were delivered to the specified consumer.',
    since: '6.2.0',
  }),
  row('xinfo', {
    arity: -2,
    flags: [],
    subcommands: xinfoRows,
    summary: 'A container for stream introspection commands',
    since: '5.0.0',
  }),
];
