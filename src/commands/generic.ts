// The generic keyspace, server and connection commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN,
// DBSIZE, FLUSHALL, FLUSHDB, SWAPDB, RENAME, RENAMENX, PING, ECHO and TIME, as Redis 7.0
// replies.
import { globMatch } from '../broker/glob';
import { keyId, type Keyspace } from '../broker/keyspace';
import { Errors } from '../errors';
import { wallMicros } from '../clock';
import { int64Arg, isWord, toInt64 } from './args';
import type { Ctx } from './context';
import { arr, bulk, int, OK, simple, type Reply } from './reply';
import { runAlone } from './server';
import type { CommandRow, Flag, Handler } from './table';

/** Deleting a key also wakes its blocked clients, which then see it gone (as Redis does). */
async function deleteKeys(ctx: Ctx, keys: readonly Buffer[]): Promise<Reply> {
  const deleted = await ctx.broker.keyspace.deleteMany(ctx.db, keys);
  for (const key of deleted) ctx.broker.blocking.signal(keyId(ctx.db, key));
  ctx.afterLists();
  return int(deleted.length);
}

const del: Handler = (ctx, args) => deleteKeys(ctx, args.slice(1));

const exists: Handler = (ctx, args) => {
  let found = 0;
  for (const key of args.slice(1)) if (ctx.broker.keyspace.getForRead(ctx.db, key)) found++;
  return int(found);
};

const type: Handler = (ctx, args) =>
  simple(ctx.broker.keyspace.getForRead(ctx.db, args[1] as Buffer)?.type ?? 'none');

/** True when `pattern` selects every key: Redis skips matching for the one-byte `*`. */
const matchesAll = (pattern: Buffer) => pattern.length === 1 && pattern[0] === 0x2a;

const keys: Handler = (ctx, args) => {
  const pattern = args[1] as Buffer;
  const all = matchesAll(pattern);
  const out: Reply[] = [];
  for (const [id] of ctx.broker.keyspace.keys(ctx.db)) {
    const key = Buffer.from(id, 'latin1');
    if (all || globMatch(pattern, key)) out.push(bulk(key));
  }
  return arr(out);
};

const U64_MAX = (1n << 64n) - 1n;

/**
 * A SCAN cursor as Redis 7.0 reads it (strtoul, base 10): optional sign, digits, nothing after
 * (the string ends at its first NUL, as C sees it); empty is 0, `-n` wraps modulo 2^64; a
 * leading space, a missing digit or a value above 2^64-1 is an invalid cursor.
 */
export function parseCursor(arg: Buffer): bigint {
  const nul = arg.indexOf(0);
  const s = (nul < 0 ? arg : arg.subarray(0, nul)).toString('latin1');
  if (s.length === 0) return 0n;
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) throw Errors.invalidCursor();
  const v = BigInt(m[2] as string);
  if (v > U64_MAX) throw Errors.invalidCursor();
  return m[1] === '-' ? (U64_MAX + 1n - v) & U64_MAX : v;
}

interface ScanOptions {
  count: number;
  pattern: Buffer | null;
  type: string | null;
}

/** SCAN's options, checked left to right: the first bad one is the error (scanGenericCommand). */
function scanOptions(args: readonly Buffer[]): ScanOptions {
  const opts: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = 2; i < args.length; i += 2) {
    const word = args[i];
    const value = args[i + 1];
    if (value === undefined) throw Errors.syntax();
    if (isWord(word, 'COUNT')) {
      const count = int64Arg(value);
      if (count < 1n) throw Errors.syntax();
      opts.count = Number(count); // only a bound: precision past 2^53 does not matter
    } else if (isWord(word, 'MATCH')) {
      opts.pattern = matchesAll(value) ? null : value;
    } else if (isWord(word, 'TYPE')) {
      opts.type = value.toString('latin1').toLowerCase();
    } else {
      throw Errors.syntax();
    }
  }
  return opts;
}

const scan: Handler = (ctx, args) => {
  const cursor = parseCursor(args[1] as Buffer);
  const opts = scanOptions(args);
  const keyspace: Keyspace = ctx.broker.keyspace;
  const step = keyspace.scan(ctx.db, cursor, opts.count);
  const out: Reply[] = [];
  for (const key of step.keys) {
    if (opts.pattern && !globMatch(opts.pattern, key)) continue;
    // Redis compares the type name case-insensitively; an unknown name matches nothing.
    // Redis reads each key's type through lookupKeyRead (a counted read).
    if (opts.type !== null && keyspace.getForRead(ctx.db, key)?.type !== opts.type) continue;
    out.push(bulk(key));
  }
  return arr([bulk(step.next.toString()), arr(out)]);
};

const dbsize: Handler = (ctx) => int(ctx.broker.keyspace.size(ctx.db));

/** FLUSHALL/FLUSHDB take nothing or one of ASYNC and SYNC (getFlushCommandFlags). */
function checkFlushArgs(args: readonly Buffer[]): void {
  if (args.length === 1) return;
  if (args.length === 2 && (isWord(args[1], 'ASYNC') || isWord(args[1], 'SYNC'))) return;
  throw Errors.syntax();
}

/** Rounds of FLUSH before keys still appearing count as written after it (no livelock). */
const FLUSH_ROUNDS_MAX = 8;

/**
 * Empties databases. The keys present are locked and deleted with their files, then the
 * databases are looked at again: a key created or renamed meanwhile by a command that held
 * its own locks is deleted by the next round, so a flush never returns with a key that
 * existed before it ran. ASYNC waits too: a stream's directory must be gone before a new
 * stream may take its name. A SWAPDB between rounds moves the databases: the later rounds
 * follow the data flushed first (its physical database), wherever it is then.
 */
async function flush(ctx: Ctx, dbs: readonly number[]): Promise<Reply> {
  const keyspace = ctx.broker.keyspace;
  const physical = dbs.map((db) => keyspace.physicalDb(db));
  for (let round = 0; round < FLUSH_ROUNDS_MAX; round++) {
    // With the keys present, those a command is working on: a RENAME under way has taken its
    // source out and not yet put its destination in; locking them waits for it to finish.
    const busy = [...ctx.broker.locks.busyKeys()];
    const doomed = physical
      .map((p) => keyspace.logicalDb(p))
      .map((db) => {
        const names = new Set([...keyspace.keys(db)].map(([id]) => id));
        for (const id of busy) if (id.charCodeAt(0) === db) names.add(id.slice(1));
        return { db, keys: [...names].map((id) => Buffer.from(id, 'latin1')) };
      })
      .filter(({ keys: ks }) => ks.length > 0);
    if (doomed.length === 0) break;
    const ids = doomed.flatMap(({ db, keys: ks }) => ks.map((k) => keyId(db, k)));
    await ctx.broker.locks.run(ids, async () => {
      for (const { db, keys: ks } of doomed) await keyspace.deleteMany(db, ks);
    });
    for (const id of ids) ctx.broker.blocking.signal(id);
  }
  ctx.afterLists();
  return OK;
}

/**
 * Runs `fn` as an EXEC is run: alone, as one unit (Broker.runUnit). The streams it deletes keep
 * their directories until the unit's end, named in its intent. Inside an EXEC, the EXEC's own
 * unit covers it.
 */
async function asUnit(ctx: Ctx, fn: () => Promise<Reply>): Promise<Reply> {
  if (ctx.session.inExec) return fn();
  return runAlone(ctx, async () => {
    const locks = ctx.broker.locks;
    // runAlone waits for other sessions' commands, not for this session's (an HTTP pipeline
    // may have some at work): one holding locks finishes before writes are held, or it would
    // wait for the unit, and the unit for its locks.
    for (let busy = [...locks.busyKeys()]; busy.length > 0; busy = [...locks.busyKeys()]) {
      await locks.run(busy, () => Promise.resolve());
    }
    const { value, listSeq } = await ctx.broker.runUnit(fn);
    if (listSeq > 0) await ctx.broker.lists.whenDurable(listSeq);
    return value;
  });
}

const flushall: Handler = (ctx, args) => {
  checkFlushArgs(args);
  const all = Array.from({ length: ctx.broker.keyspace.databases }, (_, db) => db);
  return asUnit(ctx, () => flush(ctx, all));
};

const flushdb: Handler = (ctx, args) => {
  checkFlushArgs(args);
  return asUnit(ctx, () => flush(ctx, [ctx.db]));
};

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** A SWAPDB index as getIntFromObjectOrReply reads it: a string2ll integer that fits an int. */
function dbIndexArg(arg: Buffer, which: 'first' | 'second'): number {
  const v = toInt64(arg);
  if (v === null || v < INT32_MIN || v > INT32_MAX) throw Errors.invalidDbIndex(which);
  return Number(v);
}

/**
 * SWAPDB (swapdbCommand, dbSwapDatabases): both indexes are parsed, then both checked; a
 * database swapped with itself is OK and touches nothing. The swap runs alone: other sessions'
 * commands are held back (runAlone), and the keys of both databases are locked, which waits
 * out the commands at work on them. The locks are held through the swap's fdatasync
 * (lists.swap), an exception to "no lock across a durability wait": nothing may act on either
 * database until the swap is durable and done.
 */
const swapdb: Handler = async (ctx, args) => {
  const a = dbIndexArg(args[1] as Buffer, 'first');
  const b = dbIndexArg(args[2] as Buffer, 'second');
  const n = ctx.broker.keyspace.databases;
  if (a < 0 || a >= n || b < 0 || b >= n) throw Errors.dbIndexOutOfRange();
  if (a === b) return OK;
  await runAlone(ctx, async () => {
    const { keyspace, lists, locks } = ctx.broker;
    await locks.run(keyspace.lockIds([a, b]), () => lists.swap(a, b));
    wakeSwapped(ctx, a, b);
  });
  return OK;
};

/**
 * After a swap, clients blocked on a key of either database that holds a value in one of them
 * (so it now has one, or lost it) are woken and try the key's new value, as Redis's
 * scanDatabaseForReadyKeys and scanDatabaseForDeletedKeys signal them: a BLPOP is served from
 * a list that came in, an XREADGROUP whose stream went away ends with UNBLOCKED.
 */
function wakeSwapped(ctx: Ctx, a: number, b: number): void {
  const { keyspace, blocking } = ctx.broker;
  const woken: string[] = [];
  for (const id of blocking.waitedKeys()) {
    const db = id.charCodeAt(0);
    if (db !== a && db !== b) continue;
    const key = id.slice(1);
    if (keyspace.typeOf(a, key) !== undefined || keyspace.typeOf(b, key) !== undefined) {
      woken.push(id);
    }
  }
  for (const id of woken) blocking.signal(id);
}

/** RENAME k k: Redis answers at once, changing (and announcing, and touching) nothing. */
export function renamesOntoItself(args: readonly Buffer[]): boolean {
  return (args[1] as Buffer).equals(args[2] as Buffer);
}

/** RENAME and RENAMENX (renameGenericCommand): a stream's files and groups move with it. */
async function rename(ctx: Ctx, args: readonly Buffer[], nx: boolean): Promise<Reply> {
  const from = args[1] as Buffer;
  const to = args[2] as Buffer;
  const keyspace = ctx.broker.keyspace;
  if (!keyspace.get(ctx.db, from)) throw Errors.noSuchKey();
  if (renamesOntoItself(args)) return nx ? int(0) : OK;
  if (nx && keyspace.get(ctx.db, to)) return int(0);
  await keyspace.rename(ctx.db, from, to);
  ctx.broker.blocking.signal(keyId(ctx.db, from));
  ctx.broker.blocking.signal(keyId(ctx.db, to));
  ctx.afterLists();
  return nx ? int(1) : OK;
}

const PONG = simple('PONG');

/** PING's arity is -1, but more than one argument is an arity error from the handler. */
const ping: Handler = (_ctx, args) => {
  if (args.length > 2) throw Errors.arity('ping');
  return args.length === 1 ? PONG : bulk(args[1] as Buffer);
};

const echo: Handler = (_ctx, args) => bulk(args[1] as Buffer);

/** TIME: Unix time as two bulk strings, seconds and microseconds. */
const time: Handler = () => {
  const us = wallMicros();
  return arr([bulk((us / 1_000_000n).toString()), bulk((us % 1_000_000n).toString())]);
};

interface RowSpec {
  readonly arity: number;
  readonly flags: readonly Flag[];
  readonly keyRange?: readonly [number, number, number];
  readonly handler: Handler;
  readonly group: string;
  readonly summary: string;
  readonly since: string;
}

function row(name: string, spec: RowSpec): CommandRow {
  const { keyRange, ...rest } = spec;
  const [firstKey, lastKey, keyStep] = keyRange ?? [0, 0, 0];
  return { name, firstKey, lastKey, keyStep, ...rest };
}

export const genericRows: CommandRow[] = [
  row('del', {
    arity: -2,
    flags: ['write'],
    keyRange: [1, -1, 1],
    handler: del,
    group: 'generic',
    summary: 'Deletes one or more keys.',
    since: '1.0.0',
  }),
  row('unlink', {
    arity: -2,
    flags: ['write', 'fast'],
    keyRange: [1, -1, 1],
    handler: del,
    group: 'generic',
    summary: 'Asynchronously deletes one or more keys.',
    since: '4.0.0',
  }),
  row('exists', {
    arity: -2,
    flags: ['readonly', 'fast'],
    keyRange: [1, -1, 1],
    handler: exists,
    group: 'generic',
    summary: 'Determines whether one or more keys exist.',
    since: '1.0.0',
  }),
  row('type', {
    arity: 2,
    flags: ['readonly', 'fast'],
    keyRange: [1, 1, 1],
    handler: type,
    group: 'generic',
    summary: 'Determines the type of value stored at a key.',
    since: '1.0.0',
  }),
  row('keys', {
    arity: 2,
    flags: ['readonly'],
    handler: keys,
    group: 'generic',
    summary: 'Returns all key names that match a pattern.',
    since: '1.0.0',
  }),
  row('scan', {
    arity: -2,
    flags: ['readonly'],
    handler: scan,
    group: 'generic',
    summary: 'Iterates over the key names in the database.',
    since: '2.8.0',
  }),
  row('dbsize', {
    arity: 1,
    flags: ['readonly', 'fast'],
    handler: dbsize,
    group: 'server',
    summary: 'Returns the number of keys in the database.',
    since: '1.0.0',
  }),
  row('flushall', {
    arity: -1,
    flags: ['write'],
    handler: flushall,
    group: 'server',
    summary: 'Removes all keys from all databases.',
    since: '1.0.0',
  }),
  row('flushdb', {
    arity: -1,
    flags: ['write'],
    handler: flushdb,
    group: 'server',
    summary: 'Remove all keys from the current database.',
    since: '1.0.0',
  }),
  row('swapdb', {
    arity: 3,
    flags: ['write', 'fast'],
    handler: swapdb,
    group: 'server',
    summary: 'Swaps two Redis databases.',
    since: '4.0.0',
  }),
  row('rename', {
    arity: 3,
    flags: ['write'],
    keyRange: [1, 2, 1],
    handler: (ctx, args) => rename(ctx, args, false),
    group: 'generic',
    summary: 'Renames a key and overwrites the destination.',
    since: '1.0.0',
  }),
  row('renamenx', {
    arity: 3,
    flags: ['write', 'fast'],
    keyRange: [1, 2, 1],
    handler: (ctx, args) => rename(ctx, args, true),
    group: 'generic',
    summary: "Renames a key only when the target key name doesn't exist.",
    since: '1.0.0',
  }),
  row('ping', {
    arity: -1,
    flags: ['fast'],
    handler: ping,
    group: 'connection',
    summary: "Returns the server's liveliness response.",
    since: '1.0.0',
  }),
  row('echo', {
    arity: 2,
    flags: ['loading', 'stale', 'fast'],
    handler: echo,
    group: 'connection',
    summary: 'Returns the given string.',
    since: '1.0.0',
  }),
  row('time', {
    arity: 1,
    flags: ['loading', 'stale', 'fast'],
    handler: time,
    group: 'server',
    summary: 'Returns the server time.',
    since: '2.6.0',
  }),
];
