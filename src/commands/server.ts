// The server-level commands, as Redis 7.0 replies: COMMAND (INFO, DOCS, COUNT, LIST, GETKEYS),
// INFO, CONFIG (GET, SET, RESETSTAT, REWRITE), OBJECT and FUNCTION, and the parameter store
// CONFIG reads and writes. COMMAND's replies are generated from the command table alone.
import assert from 'node:assert';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Broker } from '../broker/broker';
import { globMatch } from '../broker/glob';
import { Errors } from '../errors';
import { wallMicros } from '../clock';
import {
  NODE_MAX_BYTES,
  NODE_MAX_ENTRIES,
  SUBSCRIBER_OUTPUT_HARD_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_SECONDS,
} from '../limits';
import { isWord, toInt64 } from './args';
import type { Ctx, Session } from './context';
import { KeyspaceEvents } from './keyspace-events';
import { helpReply } from './groups';
import {
  arr,
  bulk,
  verbatim,
  EMPTY_ARRAY,
  fieldMap,
  int,
  map,
  NIL,
  OK,
  set,
  simple,
  type Reply,
} from './reply';
import type { CommandStats } from './stats';
import {
  arityOk,
  keyPositions,
  type CommandRow,
  type CommandTable,
  type Flag,
  type Handler,
} from './table';

/** The Redis version clients see: they pick features by it, and Sluice follows 7.0. */
export const REDIS_VERSION = '7.0.15';

/**
 * Sluice's own version, from the package.json of the package this file is in: the nearest one
 * above it (from source it is two levels up; the launcher's bundle sits deeper).
 */
function packageVersion(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'sluice') return typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      // no package.json here (or unreadable): look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export const SLUICE_VERSION = packageVersion();

/** Error texts of these commands, Redis's words (kept here until errors.ts takes them). */
const ServerErrors = {
  invalidCommand: () => Errors.other('ERR Invalid command specified'),
  noKeyArguments: () => Errors.other('ERR The command has no key arguments'),
  invalidArgCount: () => Errors.other('ERR Invalid number of arguments specified for command'),
  invalidArguments: () => Errors.other('ERR Invalid arguments specified for command'),
  unknownConfig: (name: string) =>
    Errors.other(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`),
  configSetFailed: (name: string, why: string) =>
    Errors.other(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`),
  lfuNotSelected: () =>
    Errors.other(
      'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note ' +
        'that when switching between policies at runtime LRU and LFU data will take some time ' +
        'to adjust.',
    ),
  lfuSelected: () =>
    Errors.other(
      'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when ' +
        'switching between policies at runtime LRU and LFU data will take some time to adjust.',
    ),
  functionFlushMode: () => Errors.other('ERR FUNCTION FLUSH only supports SYNC|ASYNC option'),
  libraryNameMissing: () => Errors.other('ERR library name argument was not given'),
  unknownArgument: (arg: Buffer) => Errors.other(`ERR Unknown argument ${arg.toString('latin1')}`),
} as const;

// ---- the server a handler runs in --------------------------------------------------------------

/** Connection figures for INFO, from the RESP server; HTTP requests are not connections. */
export interface ServerInfoSource {
  readonly tcpPort: number;
  connectedClients(): number;
  totalConnections(): number;
  pubsubClients(): number;
  /** The address the listener is bound to (CONFIG GET bind), when the front end says. */
  readonly bindAddress?: string;
  /** Connections refused (maxclients), when the front end counts them. */
  rejectedConnections?(): number;
  /** CONFIG RESETSTAT: the front end's counters start again from zero. */
  resetStats?(): void;
}

/** What INFO, CONFIG and COMMAND read from the dispatcher running them (Dispatcher has these). */
export interface ServerHost {
  readonly table: CommandTable;
  readonly stats: CommandStats;
  readonly config: ServerConfig;
  readonly serverInfo: ServerInfoSource | null;
  /** SHUTDOWN: stops the server gracefully (set by the server; null: nothing stops it). */
  readonly shutdownHandler: (() => void) | null;
  /** Runs `fn` with every other session's commands held back (SWAPDB, as EXEC does). */
  exclusive<T>(fn: () => Promise<T>, self?: Session): Promise<T>;
}

interface Registered {
  readonly host: ServerHost;
  /** Redis's run_id and master_replid: random per start, 40 hex digits. */
  readonly runId: string;
  readonly replId: string;
  readonly startedMs: number;
}

/**
 * Handlers see a Ctx (broker, session), not the dispatcher: the dispatcher registers itself
 * here under its broker. One dispatcher per broker; a later one replaces an earlier one.
 */
const hosts = new WeakMap<Broker, Registered>();

export function registerServerHost(broker: Broker, host: ServerHost): void {
  hosts.set(broker, {
    host,
    runId: crypto.randomBytes(20).toString('hex'),
    replId: crypto.randomBytes(20).toString('hex'),
    startedMs: Date.now(),
  });
}

function registered(ctx: Ctx): Registered {
  const r = hosts.get(ctx.broker);
  assert(r, 'server commands run on a broker without a registered dispatcher');
  return r;
}

/**
 * Runs `fn` alone: no other session's command starts until it is done. Inside EXEC the
 * transaction holds that already (waiting for it here would wait for ourselves).
 */
export function runAlone<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  return ctx.session.inExec ? fn() : registered(ctx).host.exclusive(fn, ctx.session);
}

/** The dispatcher serving `broker`, if one registered. */
export function serverHostOf(broker: Broker): ServerHost | null {
  return hosts.get(broker)?.host ?? null;
}

/** The parameters of the dispatcher serving `broker` (handlers read notify-keyspace-events). */
export function serverConfigOf(broker: Broker): ServerConfig | null {
  return hosts.get(broker)?.host.config ?? null;
}

// ---- configuration parameters ------------------------------------------------------------------

const EVENT_CLASSES: readonly (readonly [string, number])[] = [
  ['g', KeyspaceEvents.generic],
  ['$', KeyspaceEvents.string],
  ['l', KeyspaceEvents.list],
  ['s', KeyspaceEvents.set],
  ['h', KeyspaceEvents.hash],
  ['z', KeyspaceEvents.zset],
  ['x', KeyspaceEvents.expired],
  ['e', KeyspaceEvents.evicted],
  ['t', KeyspaceEvents.stream],
  ['d', KeyspaceEvents.module],
  ['n', KeyspaceEvents.newKey],
];
/** `A`: every class but key misses and new keys (Redis's NOTIFY_ALL). */
const EVENTS_ALL = EVENT_CLASSES.filter(([c]) => c !== 'n').reduce((all, [, bit]) => all | bit, 0);
const EVENT_BY_CHAR = new Map<string, number>([
  ...EVENT_CLASSES,
  ['A', EVENTS_ALL],
  ['K', KeyspaceEvents.keyspace],
  ['E', KeyspaceEvents.keyevent],
  ['m', KeyspaceEvents.keyMiss],
]);

/** keyspaceEventsStringToFlags: null on a character that is no class. */
export function parseKeyspaceEvents(text: string): number | null {
  let flags = 0;
  for (const c of text) {
    const bit = EVENT_BY_CHAR.get(c);
    if (bit === undefined) return null;
    flags |= bit;
  }
  return flags;
}

/** keyspaceEventsFlagsToString: `n` is written back only without `A`, as in Redis 7.0. */
export function formatKeyspaceEvents(flags: number): string {
  let out = '';
  if ((flags & EVENTS_ALL) === EVENTS_ALL) out += 'A';
  else for (const [c, bit] of EVENT_CLASSES) if (flags & bit) out += c;
  if (flags & KeyspaceEvents.keyspace) out += 'K';
  if (flags & KeyspaceEvents.keyevent) out += 'E';
  if (flags & KeyspaceEvents.keyMiss) out += 'm';
  return out;
}

/** A value CONFIG SET refuses; the message follows "CONFIG SET failed (...) - ". */
class BadValue extends Error {}

/** Turns a CONFIG SET value into the text CONFIG GET shows, or throws BadValue. */
type Parse = (value: string) => string;

interface ParamSpec {
  readonly name: string;
  /** Other names of the same value (Redis 7 renamed some parameters, keeping the old names). */
  readonly aliases?: readonly string[];
  /** The value at start, as CONFIG GET shows it (redis-server 7.0's default). */
  readonly initial?: string;
  readonly parse?: Parse;
  /** For parameters that mirror Sluice's state: its current value. */
  readonly read?: (origin: ConfigOrigin) => string;
  /** Why CONFIG SET refuses it (Redis's words for immutable and protected parameters). */
  readonly refuse?: string;
}

/** Where parameters that mirror Sluice's state read it. */
interface ConfigOrigin {
  readonly broker: Broker;
  readonly serverInfo: () => ServerInfoSource | null;
}

const IMMUTABLE = "can't set immutable config";
const PROTECTED = "can't set protected config";
const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I32_MAX = 2147483647n;
const I32_MIN = -2147483648n;
const U32_MAX = 4294967295n;

const MEMORY_UNITS = new Map<string, bigint>([
  ['', 1n],
  ['b', 1n],
  ['k', 1000n],
  ['kb', 1024n],
  ['m', 1000n ** 2n],
  ['mb', 1024n ** 2n],
  ['g', 1000n ** 3n],
  ['gb', 1024n ** 3n],
]);

/** Redis's memtoull: digits and a unit; no sign; saturates, then wraps like C on overflow. */
function memoryValue(text: string): bigint | null {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const mul = MEMORY_UNITS.get(text.slice(i).toLowerCase());
  if (mul === undefined || i >= 128) return null;
  const digits = i === 0 ? 0n : BigInt(text.slice(0, i));
  return ((digits > U64_MAX ? U64_MAX : digits) * mul) & U64_MAX;
}

/** C's strtoll with a check that nothing follows: leading blanks and a sign allowed. */
function strtoll(text: string): bigint | null {
  if (text === '') return 0n;
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(text);
  if (!m) return null;
  const v = BigInt(m[1] as string);
  return v > I64_MAX ? I64_MAX : v < -I64_MAX - 1n ? -I64_MAX - 1n : v;
}

function parseBool(value: string): string {
  const v = value.toLowerCase();
  if (v !== 'yes' && v !== 'no') throw new BadValue("argument must be 'yes' or 'no'");
  return v;
}

interface IntOptions {
  /** Accepts units (1kb, 2gb), as Redis's MEMORY_CONFIG numbers. */
  readonly memory?: boolean;
  /** Stored clamped to this range after the bounds check (hz: 1..500). */
  readonly clamp?: readonly [bigint, bigint];
}

function integer(min: bigint, max: bigint, opts: IntOptions = {}): Parse {
  return (value) => {
    let v = opts.memory ? memoryValue(value) : toInt64(Buffer.from(value, 'latin1'));
    if (v === null) {
      const what = opts.memory ? 'must be a memory value' : "couldn't be parsed into an integer";
      throw new BadValue(`argument ${what}`);
    }
    if (v < min || v > max) {
      throw new BadValue(`argument must be between ${min} and ${max} inclusive`);
    }
    if (opts.clamp) v = v < opts.clamp[0] ? opts.clamp[0] : v > opts.clamp[1] ? opts.clamp[1] : v;
    return String(v);
  };
}

function oneOf(choices: readonly string[]): Parse {
  return (value) => {
    const v = value.toLowerCase();
    if (choices.includes(v)) return v;
    throw new BadValue(`argument(s) must be one of the following: ${choices.join(', ')}`);
  };
}

/** Multi-word values are split on single spaces, as Redis's sdssplitlen does ("" is none). */
const words = (value: string): string[] => (value === '' ? [] : value.split(' '));

/** save: pairs of seconds (>= 1) and changes (>= 0); Sluice never writes RDB files. */
const parseSave: Parse = (value) => {
  const parts = words(value).map(strtoll);
  const invalid = () => new BadValue('Invalid save parameters');
  if (parts.length % 2 !== 0) throw invalid();
  parts.forEach((v, i) => {
    if (v === null || v < (i % 2 === 0 ? 1n : 0n)) throw invalid();
  });
  return parts.join(' ');
};

const BUFFER_CLASSES = new Map([
  ['normal', 'normal'],
  ['slave', 'slave'],
  ['replica', 'slave'],
  ['pubsub', 'pubsub'],
]);
/** Redis's defaults; the pubsub class is what Sluice enforces on subscribers. */
const DEFAULT_BUFFER_LIMITS =
  'normal 0 0 0 slave 268435456 67108864 60 ' +
  `pubsub ${SUBSCRIBER_OUTPUT_HARD_BYTES} ${SUBSCRIBER_OUTPUT_SOFT_BYTES} ` +
  `${SUBSCRIBER_OUTPUT_SOFT_SECONDS}`;

/** client-output-buffer-limit: `class hard soft seconds` groups; classes not named keep theirs. */
function bufferLimitsParser(current: () => string): Parse {
  return (value) => {
    const parts = words(value);
    if (parts.length % 4 !== 0) {
      throw new BadValue('Wrong number of arguments in buffer limit configuration.');
    }
    const limits = new Map<string, string>();
    const old = words(current());
    for (let i = 0; i < old.length; i += 4) {
      limits.set(old[i] as string, old.slice(i, i + 4).join(' '));
    }
    for (let i = 0; i < parts.length; i += 4) {
      const cls = BUFFER_CLASSES.get((parts[i] as string).toLowerCase());
      if (cls === undefined) {
        throw new BadValue('Invalid client class specified in buffer limit configuration.');
      }
      const hard = memoryValue(parts[i + 1] as string);
      const soft = memoryValue(parts[i + 2] as string);
      const seconds = strtoll(parts[i + 3] as string);
      if (hard === null || soft === null || seconds === null || seconds < 0n) {
        throw new BadValue(
          'Error in hard, soft or soft_seconds setting in buffer limit configuration.',
        );
      }
      limits.set(cls, `${cls} ${hard} ${soft} ${seconds}`);
    }
    return ['normal', 'slave', 'pubsub'].map((c) => limits.get(c)).join(' ');
  };
}

const parseKeyspaceEventsValue: Parse = (value) => {
  const flags = parseKeyspaceEvents(value);
  if (flags === null) {
    throw new BadValue("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  }
  return formatKeyspaceEvents(flags);
};

const bool = (name: string, initial: 'yes' | 'no'): ParamSpec => ({
  name,
  initial,
  parse: parseBool,
});

const num = (name: string, initial: string, min: bigint, max: bigint, o?: IntOptions) => ({
  name,
  initial,
  parse: integer(min, max, o),
});

const MAXMEMORY_POLICIES = [
  ...['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'],
  ...['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'],
];

/** Sluice's fsync policy under Redis's name: the policies are the same three. */
const fsyncPolicy = (origin: ConfigOrigin): string => origin.broker.store.fsync;

/**
 * The parameters. Sluice's own state is read-only (the fsync policy is fixed when the stores
 * open); the common Redis tunables that clients and test suites set are stored and reported
 * but change nothing, except notify-keyspace-events, which keyspace notifications read.
 */
function paramSpecs(bufferLimits: () => string): ParamSpec[] {
  return [
    { name: 'fsync', read: fsyncPolicy, refuse: IMMUTABLE },
    { name: 'appendfsync', read: fsyncPolicy, refuse: IMMUTABLE },
    { name: 'databases', read: (o) => String(o.broker.keyspace.databases), refuse: IMMUTABLE },
    { name: 'dir', read: (o) => o.broker.store.dataDir.root, refuse: PROTECTED },
    {
      name: 'requirepass',
      read: () => '',
      refuse: `${IMMUTABLE} (Sluice's password is its --token option)`,
    },
    { name: 'bind', read: (o) => o.serverInfo()?.bindAddress ?? '', refuse: IMMUTABLE },
    { name: 'port', read: (o) => String(o.serverInfo()?.tcpPort ?? 0), refuse: IMMUTABLE },
    { name: 'appendfilename', initial: 'appendonly.aof', refuse: IMMUTABLE },
    { name: 'dbfilename', initial: 'dump.rdb', refuse: PROTECTED },
    // Sluice snapshots nothing and always journals: "" and "yes" tell the truth at start.
    { name: 'save', initial: '', parse: parseSave },
    bool('appendonly', 'yes'),
    num('maxclients', '10000', 1n, U32_MAX),
    num('maxmemory', '0', 0n, U64_MAX, { memory: true }),
    { name: 'maxmemory-policy', initial: 'noeviction', parse: oneOf(MAXMEMORY_POLICIES) },
    num('timeout', '0', 0n, I32_MAX),
    num('tcp-keepalive', '300', 0n, I32_MAX),
    num('hz', '10', 0n, I32_MAX, { clamp: [1n, 500n] }),
    {
      name: 'loglevel',
      initial: 'notice',
      parse: oneOf(['debug', 'verbose', 'notice', 'warning']),
    },
    { name: 'notify-keyspace-events', initial: '', parse: parseKeyspaceEventsValue },
    { ...num('busy-reply-threshold', '5000', 0n, I64_MAX), aliases: ['lua-time-limit'] },
    num('slowlog-log-slower-than', '10000', -1n, I64_MAX),
    num('slowlog-max-len', '128', 0n, I64_MAX),
    bool('latency-tracking', 'yes'),
    // The node sizes Sluice's approximate trims emulate (fixed: setting them changes nothing).
    num('stream-node-max-bytes', String(NODE_MAX_BYTES), 0n, I64_MAX, { memory: true }),
    num('stream-node-max-entries', String(NODE_MAX_ENTRIES), 0n, I64_MAX),
    {
      ...num('list-max-listpack-size', '-2', I32_MIN, I32_MAX),
      aliases: ['list-max-ziplist-size'],
    },
    num('list-compress-depth', '0', 0n, I32_MAX),
    bool('protected-mode', 'yes'),
    {
      name: 'client-output-buffer-limit',
      initial: DEFAULT_BUFFER_LIMITS,
      parse: bufferLimitsParser(bufferLimits),
    },
    bool('lazyfree-lazy-user-del', 'no'),
    bool('activedefrag', 'no'),
  ];
}

/** A name CONFIG knows: each alias is its own entry over the primary's value, as in Redis. */
interface ConfigEntry {
  readonly name: string;
  readonly spec: ParamSpec;
}

/** CONFIG GET/SET's parameters. Names are case-insensitive; values are text. */
export class ServerConfig {
  private readonly entries = new Map<string, ConfigEntry>();
  /** Stored values by primary name. */
  private readonly values = new Map<string, string>();
  private keyspaceEventFlags = 0;
  private readonly origin: ConfigOrigin;

  constructor(broker: Broker, serverInfo: () => ServerInfoSource | null) {
    this.origin = { broker, serverInfo };
    for (const spec of paramSpecs(() => this.valueOf('client-output-buffer-limit'))) {
      for (const name of [spec.name, ...(spec.aliases ?? [])]) {
        this.entries.set(name, { name, spec });
      }
      if (spec.initial !== undefined) this.values.set(spec.name, spec.initial);
    }
  }

  /** notify-keyspace-events as KeyspaceEvents bits: 0 while notifications are off. */
  get keyspaceEvents(): number {
    return this.keyspaceEventFlags;
  }

  /** A parameter's value by any of its names; undefined for an unknown name. */
  get(name: string): string | undefined {
    const entry = this.entries.get(name.toLowerCase());
    return entry && this.read(entry.spec);
  }

  /**
   * CONFIG GET: [name, value] for each pattern. A pattern without glob characters is a name,
   * answered as typed; a glob matches names case-insensitively. Each parameter once.
   */
  match(patterns: readonly string[]): [string, string][] {
    const out = new Map<string, [string, string]>();
    for (const pattern of patterns) {
      if (!/[[*?]/.test(pattern)) {
        const entry = this.entries.get(pattern.toLowerCase());
        if (entry && !out.has(entry.name)) out.set(entry.name, [pattern, this.read(entry.spec)]);
        continue;
      }
      const glob = Buffer.from(pattern, 'latin1');
      for (const entry of this.entries.values()) {
        if (out.has(entry.name) || !globMatch(glob, Buffer.from(entry.name), true)) continue;
        out.set(entry.name, [entry.name, this.read(entry.spec)]);
      }
    }
    return [...out.values()];
  }

  /**
   * CONFIG SET, all or nothing, checked in Redis's order: names first (unknown, immutable,
   * repeated: the first problem wins), then values left to right.
   */
  set(pairs: readonly (readonly [string, string])[]): void {
    const chosen: ConfigEntry[] = [];
    for (const [name] of pairs) {
      const entry = this.entries.get(name.toLowerCase());
      if (!entry) throw ServerErrors.unknownConfig(name);
      if (entry.spec.refuse !== undefined) {
        throw ServerErrors.configSetFailed(name, entry.spec.refuse);
      }
      if (chosen.includes(entry)) throw ServerErrors.configSetFailed(name, 'duplicate parameter');
      chosen.push(entry);
    }
    const parsed = chosen.map((entry, i) => {
      const parse = entry.spec.parse;
      assert(parse, `settable parameter ${entry.name} has no parser`);
      try {
        return parse((pairs[i] as readonly [string, string])[1]);
      } catch (err) {
        if (err instanceof BadValue) throw ServerErrors.configSetFailed(entry.name, err.message);
        throw err;
      }
    });
    chosen.forEach((entry, i) => this.values.set(entry.spec.name, parsed[i] as string));
    // The flags of the value given, not of the one shown: `A` hides `n` there.
    const at = chosen.findIndex((e) => e.spec.name === 'notify-keyspace-events');
    if (at < 0) return;
    const events = parseKeyspaceEvents((pairs[at] as readonly [string, string])[1]);
    assert(events !== null, 'a notify-keyspace-events value that was accepted parses');
    this.keyspaceEventFlags = events;
  }

  private read(spec: ParamSpec): string {
    return spec.read ? spec.read(this.origin) : this.valueOf(spec.name);
  }

  private valueOf(primary: string): string {
    const v = this.values.get(primary);
    assert(v !== undefined, `no stored value for ${primary}`);
    return v;
  }
}

// ---- COMMAND -----------------------------------------------------------------------------------

/** COMMAND INFO's flag order (Redis's addReplyCommandFlags); every Flag has a place. */
const FLAG_RANK: Record<Flag, number> = {
  write: 0,
  readonly: 1,
  denyoom: 2,
  admin: 3,
  pubsub: 4,
  noscript: 5,
  blocking: 6,
  loading: 7,
  stale: 8,
  fast: 9,
  no_auth: 10,
  may_replicate: 11,
  no_async_loading: 12,
  no_multi: 13,
  movablekeys: 14,
  allow_busy: 15,
};

/** ACL categories in Redis's order (ACLCommandCategories). */
const CATEGORY_ORDER = [
  ...['keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap'],
  ...['hyperloglog', 'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking'],
  ...['dangerous', 'connection', 'transaction', 'scripting'],
];

/** The category a command's group implies (Redis's command files name it for each command). */
const GROUP_CATEGORY: Record<string, string> = {
  generic: 'keyspace',
  string: 'string',
  list: 'list',
  set: 'set',
  'sorted-set': 'sortedset',
  hash: 'hash',
  bitmap: 'bitmap',
  hyperloglog: 'hyperloglog',
  geo: 'geo',
  stream: 'stream',
  pubsub: 'pubsub',
  connection: 'connection',
  transactions: 'transaction',
  scripting: 'scripting',
};

/**
 * Categories Redis's command files add that neither the group nor the flags imply, by command
 * (a container's entry covers its subcommands).
 */
const EXTRA_CATEGORIES: Record<string, readonly string[]> = {
  keys: ['dangerous'],
  dbsize: ['keyspace'],
  flushall: ['keyspace', 'dangerous'],
  lastsave: ['admin', 'dangerous'],
  flushdb: ['keyspace', 'dangerous'],
  swapdb: ['keyspace', 'dangerous'],
  info: ['dangerous'],
  command: ['connection'],
};

/** A row's ACL categories, without the `@`: explicit ones, then those the flags imply. */
export function aclCategories(row: CommandRow): string[] {
  const cats = new Set<string>();
  const container = row.name.split('|')[0] as string;
  for (const c of EXTRA_CATEGORIES[row.name] ?? EXTRA_CATEGORIES[container] ?? []) cats.add(c);
  const groupCategory = GROUP_CATEGORY[row.group];
  if (!row.subcommands && groupCategory !== undefined) cats.add(groupCategory);
  const has = (f: Flag) => row.flags.includes(f);
  if (has('write')) cats.add('write');
  if (has('readonly') && !cats.has('scripting')) cats.add('read');
  if (has('admin')) cats.add('admin').add('dangerous');
  if (has('pubsub')) cats.add('pubsub');
  if (has('fast')) cats.add('fast');
  if (has('blocking')) cats.add('blocking');
  if (!cats.has('fast')) cats.add('slow');
  return CATEGORY_ORDER.filter((c) => cats.has(c));
}

/** Key-spec flags for the row's keys: pub/sub commands name channels (not keys) there. */
function keySpecFlags(row: CommandRow): string[] {
  if (row.flags.includes('pubsub')) return ['not_key'];
  return row.flags.includes('write') ? ['RW'] : ['RO'];
}

/** True when some argument of the row is a key (COMMAND GETKEYS refuses rows without). */
function hasKeys(row: CommandRow): boolean {
  return row.keys !== undefined || (row.firstKey > 0 && !row.flags.includes('pubsub'));
}

/**
 * One key spec from the row's range, equivalent for finding keys to Redis's (which splits some
 * ranges into one spec per key and adds access flags). Movable keys have no spec here:
 * clients ask COMMAND GETKEYS, as the movablekeys flag tells them.
 */
function keySpecs(row: CommandRow): Reply {
  if (row.firstKey <= 0) return set([]);
  const lastkey = row.lastKey < 0 ? row.lastKey : row.lastKey - row.firstKey;
  const spec = fieldMap([
    ['flags', set(keySpecFlags(row).map(simple))],
    [
      'begin_search',
      fieldMap([
        ['type', bulk('index')],
        ['spec', fieldMap([['index', int(row.firstKey)]])],
      ]),
    ],
    [
      'find_keys',
      fieldMap([
        ['type', bulk('range')],
        [
          'spec',
          fieldMap([
            ['lastkey', int(lastkey)],
            ['keystep', int(row.keyStep)],
            ['limit', int(0)],
          ]),
        ],
      ]),
    ],
  ]);
  return set([spec]);
}

/** Replies built once per row: the table does not change while the server runs. */
const infoCache = new WeakMap<CommandRow, Reply>();

/** COMMAND INFO's entry: name, arity, flags, keys, categories, tips, key specs, subcommands. */
function commandInfo(row: CommandRow): Reply {
  const cached = infoCache.get(row);
  if (cached) return cached;
  const flags = [...row.flags].sort((a, b) => FLAG_RANK[a] - FLAG_RANK[b]);
  const reply = arr([
    bulk(row.name),
    int(row.arity),
    set(flags.map(simple)),
    int(row.firstKey),
    int(row.lastKey),
    int(row.keyStep),
    set(aclCategories(row).map((c) => simple(`@${c}`))),
    set([]),
    keySpecs(row),
    row.subcommands ? arr(row.subcommands.map(commandInfo)) : set([]),
  ]);
  infoCache.set(row, reply);
  return reply;
}

/** COMMAND DOCS's entry: what redis-cli reads for its help; Sluice rows have no argument lists. */
function commandDocs(row: CommandRow): Reply {
  const fields: [string, Reply][] = [
    ['summary', bulk(row.summary)],
    ['since', bulk(row.since)],
    ['group', bulk(row.group)],
  ];
  if (row.subcommands) {
    fields.push(['subcommands', map(row.subcommands.map((s) => [bulk(s.name), commandDocs(s)]))]);
  }
  return fieldMap(fields);
}

const lower = (b: Buffer): string => b.toString('latin1').toLowerCase();

/** A command by full name (`xgroup|create`), as COMMAND INFO and DOCS look names up. */
function rowByFullName(table: CommandTable, name: Buffer): CommandRow | undefined {
  const full = lower(name);
  return full.includes('|') ? table.sub(full) : table.get(full);
}

/** The row a call runs (lookupCommandLogic): a container alone is the container itself. */
function rowOfCall(table: CommandTable, call: readonly Buffer[]): CommandRow | undefined {
  const base = table.get(lower(call[0] as Buffer));
  if (!base || !base.subcommands || call.length === 1) return base;
  return table.sub(`${base.name}|${lower(call[1] as Buffer)}`);
}

function allRows(table: CommandTable): CommandRow[] {
  return [...table.all()];
}

const commandAll: Handler = (ctx) => arr(allRows(registered(ctx).host.table).map(commandInfo));

const commandCount: Handler = (ctx) => int(registered(ctx).host.table.size);

const commandInfoHandler: Handler = (ctx, args) => {
  const table = registered(ctx).host.table;
  if (args.length === 2) return arr(allRows(table).map(commandInfo));
  return arr(
    args.slice(2).map((name) => {
      const row = rowByFullName(table, name);
      return row ? commandInfo(row) : NIL;
    }),
  );
};

/** Unknown names are left out of the map. */
const commandDocsHandler: Handler = (ctx, args) => {
  const table = registered(ctx).host.table;
  const rows =
    args.length === 2
      ? allRows(table)
      : args.slice(2).flatMap((name) => rowByFullName(table, name) ?? []);
  return map(rows.map((row) => [bulk(row.name), commandDocs(row)] as const));
};

/** getKeysSubcommandImpl: the keys of `call`, checked in Redis's order. */
function callKeys(table: CommandTable, call: readonly Buffer[]): [CommandRow, number[]] {
  const row = rowOfCall(table, call);
  if (!row) throw ServerErrors.invalidCommand();
  if (!hasKeys(row)) throw ServerErrors.noKeyArguments();
  if (!arityOk(row.arity, call.length)) throw ServerErrors.invalidArgCount();
  const positions = keyPositions(row, call);
  if (positions.length === 0) throw ServerErrors.invalidArguments();
  return [row, positions];
}

const commandGetKeys: Handler = (ctx, args) => {
  const call = args.slice(2);
  const [, positions] = callKeys(registered(ctx).host.table, call);
  return arr(positions.map((i) => bulk(call[i] as Buffer)));
};

const commandGetKeysAndFlags: Handler = (ctx, args) => {
  const call = args.slice(2);
  const [row, positions] = callKeys(registered(ctx).host.table, call);
  const flags = set(keySpecFlags(row).map(simple));
  return arr(positions.map((i) => arr([bulk(call[i] as Buffer), flags])));
};

/** COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]: subcommands listed after theirs. */
const commandList: Handler = (ctx, args) => {
  let keep: (row: CommandRow) => boolean = () => true;
  if (args.length === 5 && isWord(args[2], 'FILTERBY')) {
    const value = args[4] as Buffer;
    if (isWord(args[3], 'MODULE')) {
      keep = () => false; // Sluice loads no modules
    } else if (isWord(args[3], 'ACLCAT')) {
      const category = lower(value);
      keep = (row) => aclCategories(row).includes(category);
    } else if (isWord(args[3], 'PATTERN')) {
      keep = (row) => globMatch(value, Buffer.from(row.name, 'latin1'), true);
    } else {
      throw Errors.syntax();
    }
  } else if (args.length !== 2) {
    throw Errors.syntax();
  }
  const names: Reply[] = [];
  for (const row of registered(ctx).host.table.all()) {
    if (keep(row)) names.push(bulk(row.name));
    for (const sub of row.subcommands ?? []) if (keep(sub)) names.push(bulk(sub.name));
  }
  return arr(names);
};

const COMMAND_HELP = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

// ---- INFO --------------------------------------------------------------------------------------

interface InfoInput {
  readonly ctx: Ctx;
  readonly server: Registered;
  readonly nowMs: number;
}

/** Redis's bytesToHuman: B below 1 KiB, else two decimals and K, M, G, T or P. */
export function bytesToHuman(n: bigint | number): string {
  const v = BigInt(n);
  if (v < 1024n) return `${v}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  for (let i = 0; i < units.length; i++) {
    if (v < 1024n ** BigInt(i + 2)) return `${(Number(v) / 1024 ** (i + 1)).toFixed(2)}${units[i]}`;
  }
  return `${v}B`;
}

function serverSection({ server }: InfoInput): string[] {
  const uptimeSeconds = Math.floor((Date.now() - server.startedMs) / 1000);
  const hz = server.host.config.get('hz') ?? '10';
  const usec = wallMicros();
  return [
    `redis_version:${REDIS_VERSION}`,
    'redis_git_sha1:00000000',
    'redis_git_dirty:0',
    'redis_mode:standalone',
    `sluice_version:${SLUICE_VERSION}`,
    `os:${os.type()} ${os.release()} ${os.machine()}`,
    `arch_bits:${os.arch().includes('64') ? 64 : 32}`,
    `process_id:${process.pid}`,
    'process_supervised:no',
    `run_id:${server.runId}`,
    `tcp_port:${server.host.serverInfo?.tcpPort ?? 0}`,
    `server_time_usec:${usec}`,
    `uptime_in_seconds:${uptimeSeconds}`,
    `uptime_in_days:${Math.floor(uptimeSeconds / 86400)}`,
    `hz:${hz}`,
    `configured_hz:${hz}`,
    `executable:${path.resolve(process.argv[1] ?? process.execPath)}`,
    'config_file:',
  ];
}

function clientsSection({ ctx, server }: InfoInput): string[] {
  const source = server.host.serverInfo;
  return [
    `connected_clients:${source?.connectedClients() ?? 0}`,
    'cluster_connections:0',
    `maxclients:${server.host.config.get('maxclients')}`,
    `blocked_clients:${ctx.broker.blocking.blockedCount}`,
    'tracking_clients:0',
    `pubsub_clients:${source?.pubsubClients() ?? ctx.broker.pubsub.subscriberCount}`,
  ];
}

function memorySection({ server }: InfoInput): string[] {
  const rss = process.memoryUsage().rss;
  const total = os.totalmem();
  const maxmemory = server.host.config.get('maxmemory') ?? '0';
  return [
    `used_memory:${rss}`,
    `used_memory_human:${bytesToHuman(rss)}`,
    `used_memory_rss:${rss}`,
    `used_memory_rss_human:${bytesToHuman(rss)}`,
    `total_system_memory:${total}`,
    `total_system_memory_human:${bytesToHuman(total)}`,
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${bytesToHuman(BigInt(maxmemory))}`,
    `maxmemory_policy:${server.host.config.get('maxmemory-policy')}`,
  ];
}

/** Sluice journals every change: the journal stands in for Redis's AOF here. */
function persistenceSection({ ctx }: InfoInput): string[] {
  const journal = ctx.broker.journal.stats();
  return [
    'loading:0',
    'async_loading:0',
    `rdb_changes_since_last_save:${journal.records}`,
    'rdb_bgsave_in_progress:0',
    `rdb_last_save_time:${Math.floor(ctx.broker.lastSyncAllMs / 1000)}`,
    'rdb_last_bgsave_status:ok',
    'aof_enabled:1',
    'aof_rewrite_in_progress:0',
    'aof_rewrite_scheduled:0',
    `aof_rewrites:${journal.compactions}`,
    `aof_last_write_status:${ctx.broker.journal.writeFailure ? 'err' : 'ok'}`,
    `sluice_fsync:${ctx.broker.store.fsync}`,
    `sluice_journal_log_bytes:${journal.logBytes}`,
    `sluice_journal_snapshot_bytes:${journal.snapshotBytes}`,
    `sluice_journal_records:${journal.records}`,
    `sluice_journal_compactions:${journal.compactions}`,
  ];
}

function statsSection({ ctx, server, nowMs }: InfoInput): string[] {
  const { stats, serverInfo } = server.host;
  const pubsub = ctx.broker.pubsub;
  return [
    `total_connections_received:${serverInfo?.totalConnections() ?? 0}`,
    `total_commands_processed:${stats.totalCommands}`,
    `instantaneous_ops_per_sec:${stats.opsPerSecond(nowMs)}`,
    `rejected_connections:${serverInfo?.rejectedConnections?.() ?? 0}`,
    'expired_keys:0',
    'evicted_keys:0',
    `keyspace_hits:${ctx.broker.keyspace.readHits}`,
    `keyspace_misses:${ctx.broker.keyspace.readMisses}`,
    `pubsub_channels:${pubsub.activeNames('channel', null).length}`,
    `pubsub_patterns:${pubsub.patternCount}`,
    `pubsubshard_channels:${pubsub.activeNames('shard', null).length}`,
    `total_error_replies:${stats.totalErrorReplies}`,
  ];
}

function replicationSection({ server }: InfoInput): string[] {
  return [
    'role:master',
    'connected_slaves:0',
    'master_failover_state:no-failover',
    `master_replid:${server.replId}`,
    `master_replid2:${'0'.repeat(40)}`,
    'master_repl_offset:0',
    'second_repl_offset:-1',
    'repl_backlog_active:0',
  ];
}

function cpuSection(): string[] {
  const cpu = process.cpuUsage();
  return [
    `used_cpu_sys:${(cpu.system / 1e6).toFixed(6)}`,
    `used_cpu_user:${(cpu.user / 1e6).toFixed(6)}`,
    'used_cpu_sys_children:0.000000',
    'used_cpu_user_children:0.000000',
  ];
}

function commandstatsSection({ server }: InfoInput): string[] {
  const lines: string[] = [];
  for (const [name, c] of server.host.stats.commandEntries()) {
    if (c.calls === 0 && c.rejectedCalls === 0 && c.failedCalls === 0) continue;
    const perCall = c.calls === 0 ? 0 : c.usec / c.calls;
    lines.push(
      `cmdstat_${name}:calls=${c.calls},usec=${Math.round(c.usec)},` +
        `usec_per_call=${perCall.toFixed(2)},rejected_calls=${c.rejectedCalls},` +
        `failed_calls=${c.failedCalls}`,
    );
  }
  return lines;
}

function errorstatsSection({ server }: InfoInput): string[] {
  return server.host.stats.errorEntries().map(([code, n]) => `errorstat_${code}:count=${n}`);
}

function keyspaceSection({ ctx }: InfoInput): string[] {
  const keyspace = ctx.broker.keyspace;
  const lines: string[] = [];
  for (let db = 0; db < keyspace.databases; db++) {
    const keys = keyspace.size(db);
    if (keys > 0) lines.push(`db${db}:keys=${keys},expires=0,avg_ttl=0`);
  }
  return lines;
}

interface InfoSection {
  readonly name: string;
  readonly title: string;
  readonly lines: (input: InfoInput) => string[];
  /** In `INFO` and `INFO default`; every section is in `all` and `everything`. */
  readonly byDefault: boolean;
}

/** Redis's sections in its order (7.0 has no latency percentiles here: Sluice keeps none). */
const INFO_SECTIONS: readonly InfoSection[] = [
  { name: 'server', title: 'Server', lines: serverSection, byDefault: true },
  { name: 'clients', title: 'Clients', lines: clientsSection, byDefault: true },
  { name: 'memory', title: 'Memory', lines: memorySection, byDefault: true },
  { name: 'persistence', title: 'Persistence', lines: persistenceSection, byDefault: true },
  { name: 'stats', title: 'Stats', lines: statsSection, byDefault: true },
  { name: 'replication', title: 'Replication', lines: replicationSection, byDefault: true },
  { name: 'cpu', title: 'CPU', lines: cpuSection, byDefault: true },
  { name: 'modules', title: 'Modules', lines: () => [], byDefault: true },
  { name: 'commandstats', title: 'Commandstats', lines: commandstatsSection, byDefault: false },
  { name: 'errorstats', title: 'Errorstats', lines: errorstatsSection, byDefault: true },
  { name: 'cluster', title: 'Cluster', lines: () => ['cluster_enabled:0'], byDefault: true },
  { name: 'keyspace', title: 'Keyspace', lines: keyspaceSection, byDefault: true },
];

/** The sections INFO's arguments name, case-insensitively; unknown names add nothing. */
function chosenSections(args: readonly Buffer[]): Set<string> {
  const chosen = new Set<string>();
  const add = (all: boolean) => {
    for (const s of INFO_SECTIONS) if (all || s.byDefault) chosen.add(s.name);
  };
  if (args.length === 1) add(false);
  for (const arg of args.slice(1)) {
    const name = lower(arg);
    if (name === 'default') add(false);
    else if (name === 'all' || name === 'everything') add(true);
    else chosen.add(name);
  }
  return chosen;
}

/** INFO text: `# Title` and `field:value` lines ending in CRLF, a blank line between sections. */
const info: Handler = (ctx, args) => {
  const chosen = chosenSections(args);
  const input: InfoInput = { ctx, server: registered(ctx), nowMs: performance.now() };
  const parts = INFO_SECTIONS.filter((s) => chosen.has(s.name)).map((s) =>
    [`# ${s.title}`, ...s.lines(input)].map((line) => `${line}\r\n`).join(''),
  );
  return verbatim(parts.join('\r\n'));
};

// ---- CONFIG ------------------------------------------------------------------------------------

const latin1 = (b: Buffer): string => b.toString('latin1');

const configGet: Handler = (ctx, args) => {
  const found = registered(ctx).host.config.match(args.slice(2).map(latin1));
  return map(found.map(([name, value]) => [bulk(name), bulk(value)] as const));
};

const configSet: Handler = (ctx, args) => {
  if (args.length % 2 !== 0) throw Errors.syntax();
  const pairs: [string, string][] = [];
  for (let i = 2; i < args.length; i += 2) {
    pairs.push([latin1(args[i] as Buffer), latin1(args[i + 1] as Buffer)]);
  }
  registered(ctx).host.config.set(pairs);
  return OK;
};

const configResetStat: Handler = (ctx) => {
  const { host } = registered(ctx);
  host.stats.reset();
  host.serverInfo?.resetStats?.();
  ctx.broker.keyspace.readHits = 0;
  ctx.broker.keyspace.readMisses = 0;
  return OK;
};

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

// ---- OBJECT ------------------------------------------------------------------------------------

/** Redis 7.0's encodings of the types Sluice has. */
const ENCODINGS: Record<string, string> = { stream: 'stream', list: 'quicklist' };

const LFU_POLICIES = new Set(['volatile-lfu', 'allkeys-lfu']);

function lfuPolicy(ctx: Ctx): boolean {
  return LFU_POLICIES.has(registered(ctx).host.config.get('maxmemory-policy') ?? '');
}

/** OBJECT subcommands: a missing key is a null reply, whatever is asked. */
function objectOf(ask: (ctx: Ctx, type: string) => Reply): Handler {
  return (ctx, args) => {
    const value = ctx.broker.keyspace.getForRead(ctx.db, args[2] as Buffer);
    return value ? ask(ctx, value.type) : NIL;
  };
}

const objectEncoding = objectOf((_ctx, type) => bulk(ENCODINGS[type] ?? type));
/** Sluice tracks neither access frequency nor idle time: what Redis says for a fresh key. */
const objectFreq = objectOf((ctx) => {
  if (!lfuPolicy(ctx)) throw ServerErrors.lfuNotSelected();
  return int(0);
});
const objectIdletime = objectOf((ctx) => {
  if (lfuPolicy(ctx)) throw ServerErrors.lfuSelected();
  return int(0);
});
const objectRefcount = objectOf(() => int(1));

const OBJECT_HELP = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

// ---- FUNCTION ----------------------------------------------------------------------------------

/** Sluice has no functions: FLUSH empties nothing, after Redis's argument checks. */
const functionFlush: Handler = (_ctx, args) => {
  if (args.length > 3) throw Errors.subcommandSyntax(args[1] as Buffer, 'function');
  if (args.length === 3 && !isWord(args[2], 'SYNC') && !isWord(args[2], 'ASYNC')) {
    throw ServerErrors.functionFlushMode();
  }
  return OK;
};

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: no libraries. */
const functionList: Handler = (_ctx, args) => {
  let withCode = false;
  let libraryName = false;
  for (let i = 2; i < args.length; i++) {
    if (!withCode && isWord(args[i], 'WITHCODE')) {
      withCode = true;
    } else if (!libraryName && isWord(args[i], 'LIBRARYNAME')) {
      if (i >= args.length - 1) throw ServerErrors.libraryNameMissing();
      libraryName = true;
      i++;
    } else {
      throw ServerErrors.unknownArgument(args[i] as Buffer);
    }
  }
  return EMPTY_ARRAY;
};

const FUNCTION_HELP = [
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries (Sluice has none).',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries (Sluice has none: a no-op).',
];

// ---- rows --------------------------------------------------------------------------------------

interface RowSpec {
  readonly arity: number;
  readonly flags?: readonly Flag[];
  readonly keyRange?: readonly [number, number, number];
  /** A container's own handler runs when it is called without a subcommand (COMMAND). */
  readonly handler?: Handler;
  readonly subcommands?: readonly CommandRow[];
  readonly summary: string;
  readonly since: string;
}

function rowsOf(group: string) {
  return (name: string, spec: RowSpec): CommandRow => {
    const { keyRange, flags, ...rest } = spec;
    const [firstKey, lastKey, keyStep] = keyRange ?? [0, 0, 0];
    return { name, flags: flags ?? [], firstKey, lastKey, keyStep, group, ...rest };
  };
}

/** A row of Redis's `server` group (memory.ts makes its rows with it too). */
export const serverRow = rowsOf('server');
const genericRow = rowsOf('generic');
const scriptingRow = rowsOf('scripting');
const LOADING_STALE: readonly Flag[] = ['loading', 'stale'];
const ADMIN: readonly Flag[] = ['admin', 'noscript', 'loading', 'stale'];
const OBJECT_KEY = { arity: 3, flags: ['readonly'], keyRange: [2, 2, 1] } as const;

const commandRows: CommandRow[] = [
  serverRow('command|count', {
    arity: 2,
    flags: LOADING_STALE,
    handler: commandCount,
    summary: 'Returns a count of commands.',
    since: '2.8.13',
  }),
  serverRow('command|list', {
    arity: -2,
    flags: LOADING_STALE,
    handler: commandList,
    summary: 'Returns a list of command names.',
    since: '7.0.0',
  }),
  serverRow('command|info', {
    arity: -2,
    flags: LOADING_STALE,
    handler: commandInfoHandler,
    summary: 'Returns information about one, multiple or all commands.',
    since: '2.8.13',
  }),
  serverRow('command|docs', {
    arity: -2,
    flags: LOADING_STALE,
    handler: commandDocsHandler,
    summary: 'Returns documentary information about one, multiple or all commands.',
    since: '7.0.0',
  }),
  serverRow('command|getkeys', {
    arity: -4,
    flags: LOADING_STALE,
    handler: commandGetKeys,
    summary: 'Extracts the key names from an arbitrary command.',
    since: '2.8.13',
  }),
  serverRow('command|getkeysandflags', {
    arity: -4,
    flags: LOADING_STALE,
    handler: commandGetKeysAndFlags,
    summary: 'Extracts the key names and access flags for an arbitrary command.',
    since: '7.0.0',
  }),
  serverRow('command|help', {
    arity: 2,
    flags: LOADING_STALE,
    handler: () => helpReply('COMMAND', COMMAND_HELP),
    summary: 'Returns helpful text about the different subcommands.',
    since: '5.0.0',
  }),
];

const configRows: CommandRow[] = [
  serverRow('config|get', {
    arity: -3,
    flags: ADMIN,
    handler: configGet,
    summary: 'Returns the effective values of configuration parameters.',
    since: '2.0.0',
  }),
  serverRow('config|set', {
    arity: -4,
    flags: ADMIN,
    handler: configSet,
    summary: 'Sets configuration parameters in-flight.',
    since: '2.0.0',
  }),
  serverRow('config|resetstat', {
    arity: 2,
    flags: ADMIN,
    handler: configResetStat,
    summary: 'Resets the server metrics.',
    since: '2.0.0',
  }),
  serverRow('config|rewrite', {
    arity: 2,
    flags: ADMIN,
    handler: () => OK, // Sluice's settings are its command line: there is no file to write
    summary: 'Persists the effective configuration to file.',
    since: '2.8.0',
  }),
  serverRow('config|help', {
    arity: 2,
    flags: LOADING_STALE,
    handler: () => helpReply('CONFIG', CONFIG_HELP),
    summary: 'Returns helpful text about the different subcommands.',
    since: '5.0.0',
  }),
];

const objectRows: CommandRow[] = [
  genericRow('object|encoding', {
    ...OBJECT_KEY,
    handler: objectEncoding,
    summary: 'Returns the internal encoding of a Redis object.',
    since: '2.2.3',
  }),
  genericRow('object|freq', {
    ...OBJECT_KEY,
    handler: objectFreq,
    summary: 'Returns the logarithmic access frequency counter of a Redis object.',
    since: '4.0.0',
  }),
  genericRow('object|idletime', {
    ...OBJECT_KEY,
    handler: objectIdletime,
    summary: 'Returns the time since the last access to a Redis object.',
    since: '2.2.3',
  }),
  genericRow('object|refcount', {
    ...OBJECT_KEY,
    handler: objectRefcount,
    summary: 'Returns the reference count of a value of a key.',
    since: '2.2.3',
  }),
  genericRow('object|help', {
    arity: 2,
    flags: LOADING_STALE,
    handler: () => helpReply('OBJECT', OBJECT_HELP),
    summary: 'Returns helpful text about the different subcommands.',
    since: '6.2.0',
  }),
];

const functionRows: CommandRow[] = [
  scriptingRow('function|flush', {
    arity: -2,
    flags: ['write', 'noscript'],
    handler: functionFlush,
    summary: 'Deletes all libraries and functions.',
    since: '7.0.0',
  }),
  scriptingRow('function|list', {
    arity: -2,
    flags: ['noscript'],
    handler: functionList,
    summary: 'Returns information about all libraries.',
    since: '7.0.0',
  }),
  scriptingRow('function|help', {
    arity: 2,
    flags: LOADING_STALE,
    handler: () => helpReply('FUNCTION', FUNCTION_HELP),
    summary: 'Returns helpful text about the different subcommands.',
    since: '7.0.0',
  }),
];

export const serverRows: CommandRow[] = [
  serverRow('command', {
    arity: -1,
    flags: LOADING_STALE,
    handler: commandAll,
    subcommands: commandRows,
    summary: 'Returns detailed information about all commands.',
    since: '2.8.13',
  }),
  serverRow('info', {
    arity: -1,
    flags: LOADING_STALE,
    handler: info,
    summary: 'Returns information and statistics about the server.',
    since: '1.0.0',
  }),
  serverRow('config', {
    arity: -2,
    subcommands: configRows,
    summary: 'A container for server configuration commands.',
    since: '2.0.0',
  }),
  genericRow('object', {
    arity: -2,
    subcommands: objectRows,
    summary: 'A container for object introspection commands.',
    since: '2.2.3',
  }),
  scriptingRow('function', {
    arity: -2,
    subcommands: functionRows,
    summary: 'A container for function commands.',
    since: '7.0.0',
  }),
];
