// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, as Redis 7.0 answers them
// (redis-cli --memkeys and GUIs call USAGE on every key they list).
//
// USAGE is an estimate of what the key takes in this process's memory, as Redis's is of what
// its allocator holds for it: the key itself, and
//   - a list: its values as V8 keeps them (each a latin1 string and a slot of the deque), found
//     by measuring the first SAMPLES x 128 values (0: all) and scaling to the length, as Redis
//     measures SAMPLES quicklist nodes of about that many small values each;
//   - a stream: its log's state, its segments' ID indexes, its consumer groups, consumers and
//     pending entries. Its entries are on disk and not counted.
// The constants are from measurements (bench/queues.ts: 118-129 bytes a queued 100-byte
// message; bench/streams.ts: 58 bytes a pending entry).
import type { Ctx } from './context';
import { intArg, isWord } from './args';
import { Errors } from '../errors';
import { helpReply } from './groups';
import { bulk, double, fieldMap, int, NIL, OK, verbatim, type Reply } from './reply';
import { serverRow } from './server';
import type { CommandRow, Handler } from './table';

/** A key's entry in its database's map and the value's object. */
const KEY_OVERHEAD_BYTES = 64;
/** A list value beyond its own bytes: a V8 string's header and its slot in the deque. */
const LIST_VALUE_OVERHEAD_BYTES = 24;
/** Values measured per SAMPLES unit (a Redis quicklist node holds about this many). */
const VALUES_PER_SAMPLE = 128;
/** What Redis samples when no SAMPLES is given. */
const DEFAULT_SAMPLES = 5;
/** A stream's log, counters and open segment. */
const STREAM_BASE_BYTES = 1024;
/** A segment's descriptor and its sparse ID index in memory. */
const SEGMENT_BYTES = 512;
const GROUP_BYTES = 256;
const CONSUMER_BYTES = 128;
const PENDING_ENTRY_BYTES = 58;

/** SAMPLES <count> options (after the key): how many to measure; Infinity for 0 (all). */
function samplesOf(args: readonly Buffer[]): number {
  let samples = DEFAULT_SAMPLES;
  for (let j = 3; j < args.length; j++) {
    if (!isWord(args[j], 'SAMPLES') || j + 1 >= args.length) throw Errors.syntax();
    const n = intArg(args[j + 1] as Buffer);
    if (n < 0) throw Errors.syntax();
    samples = n === 0 ? Infinity : n;
    j++;
  }
  return samples;
}

const memoryUsage: Handler = (ctx: Ctx, args) => {
  const samples = samplesOf(args);
  const key = args[2] as Buffer;
  const value = ctx.broker.keyspace.get(ctx.db, key);
  if (!value) return NIL;
  const own = key.length + KEY_OVERHEAD_BYTES;
  if (value.type === 'list') {
    const n = value.length;
    const measured = Math.min(n, samples * VALUES_PER_SAMPLE);
    let bytes = 0;
    for (let i = 0; i < measured; i++) bytes += value.at(i).length + LIST_VALUE_OVERHEAD_BYTES;
    return int(own + (measured === 0 ? 0 : Math.round((bytes / measured) * n)));
  }
  let bytes = own + STREAM_BASE_BYTES + value.log.segments.length * SEGMENT_BYTES;
  for (const g of value.groups.list()) {
    bytes += GROUP_BYTES + g.consumerCount * CONSUMER_BYTES + g.pel.size * PENDING_ENTRY_BYTES;
  }
  return int(bytes);
};

/** The process's resident memory when the commands were loaded (at start). */
const STARTUP_RSS_BYTES = process.memoryUsage().rss;
/** A key's share of a database's hash table in MEMORY STATS (Redis's dictEntry and slot). */
const TABLE_BYTES_PER_KEY = 32;

/**
 * MEMORY STATS in Redis 7.0's fields and order, from what Node knows of its own memory: the
 * resident set is `total.allocated` (as INFO's used_memory), its peak `peak.allocated`, V8's
 * heap the allocator's figures. What Sluice does not have (replication, Lua, cluster) is 0.
 */
const memoryStats: Handler = (ctx: Ctx) => {
  const usage = process.memoryUsage();
  const total = usage.rss;
  const peak = Math.max(total, process.resourceUsage().maxRSS * 1024);
  const keyspace = ctx.broker.keyspace;
  const dbs: Array<readonly [string, Reply]> = [];
  let keys = 0;
  let tables = 0;
  for (let db = 0; db < keyspace.databases; db++) {
    const n = keyspace.size(db);
    if (n === 0) continue;
    keys += n;
    tables += n * TABLE_BYTES_PER_KEY;
    const overhead = [
      ['overhead.hashtable.main', int(n * TABLE_BYTES_PER_KEY)],
      ['overhead.hashtable.expires', int(0)],
      ['overhead.hashtable.slot-to-keys', int(0)],
    ] as const;
    dbs.push([`db.${db}`, fieldMap(overhead)]);
  }
  const startup = Math.min(STARTUP_RSS_BYTES, total);
  const overheadTotal = startup + tables;
  const dataset = Math.max(0, total - overheadTotal);
  const net = total - startup;
  const ratio = (a: number, b: number) => double(b > 0 ? a / b : 0);
  return fieldMap([
    ['peak.allocated', int(peak)],
    ['total.allocated', int(total)],
    ['startup.allocated', int(startup)],
    ['replication.backlog', int(0)],
    ['clients.slaves', int(0)],
    ['clients.normal', int(0)],
    ['cluster.links', int(0)],
    ['aof.buffer', int(0)],
    ['lua.caches', int(0)],
    ['functions.caches', int(0)],
    ...dbs,
    ['overhead.total', int(overheadTotal)],
    ['keys.count', int(keys)],
    ['keys.bytes-per-key', int(keys > 0 ? Math.floor(net / keys) : 0)],
    ['dataset.bytes', int(dataset)],
    ['dataset.percentage', ratio(dataset * 100, net)],
    ['peak.percentage', ratio(total * 100, peak)],
    ['allocator.allocated', int(usage.heapUsed)],
    ['allocator.active', int(usage.heapTotal)],
    ['allocator.resident', int(total)],
    ['allocator-fragmentation.ratio', ratio(usage.heapTotal, usage.heapUsed)],
    ['allocator-fragmentation.bytes', int(usage.heapTotal - usage.heapUsed)],
    ['allocator-rss.ratio', ratio(total, usage.heapTotal)],
    ['allocator-rss.bytes', int(total - usage.heapTotal)],
    ['rss-overhead.ratio', double(1)],
    ['rss-overhead.bytes', int(0)],
    ['fragmentation', double(1)],
    ['fragmentation.bytes', int(0)],
  ]);
};

const MEMORY_HELP = [
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

/** Redis's answer when it finds nothing to report (Sluice has no allocator report of its own). */
const DOCTOR_ALL_GOOD =
  "Hi Sam, I can't find any memory issue in your instance. " +
  'I can only account for what occurs on this base.\n';

const memorySubcommands: CommandRow[] = [
  serverRow('memory|usage', {
    arity: -3,
    flags: ['readonly'],
    keyRange: [2, 2, 1],
    handler: memoryUsage,
    summary: 'Estimates the memory usage of a key.',
    since: '4.0.0',
  }),
  serverRow('memory|doctor', {
    arity: 2,
    handler: (): Reply => verbatim(DOCTOR_ALL_GOOD),
    summary: 'Outputs a memory problems report.',
    since: '4.0.0',
  }),
  serverRow('memory|malloc-stats', {
    arity: 2,
    handler: (): Reply => bulk('Stats not supported for the current allocator'),
    summary: 'Returns the allocator statistics.',
    since: '4.0.0',
  }),
  serverRow('memory|purge', {
    arity: 2,
    handler: (): Reply => OK,
    summary: 'Asks the allocator to release memory.',
    since: '4.0.0',
  }),
  serverRow('memory|stats', {
    arity: 2,
    handler: memoryStats,
    summary: 'Returns details about memory usage.',
    since: '4.0.0',
  }),
  serverRow('memory|help', {
    arity: 2,
    flags: ['loading', 'stale'],
    handler: (): Reply => helpReply('MEMORY', MEMORY_HELP),
    summary: 'Outputs helpful text about memory usage commands.',
    since: '4.0.0',
  }),
];

export const memoryRows: CommandRow[] = [
  serverRow('memory', {
    arity: -2,
    subcommands: memorySubcommands,
    summary: 'A container for memory diagnostics commands.',
    since: '4.0.0',
  }),
];
