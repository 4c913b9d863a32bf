// The RESP front end against a real redis-server 7, both driven by redis-benchmark (redis-tools)
// in the same run: PING, XADD, LPUSH, RPOP and PUBLISH (one subscriber) with 50 clients,
// unpipelined and with -P 16, under everysec and under always; then the memory of one large
// stream, Sluice's resident set against redis-server's used_memory. Sluice runs as a child
// process (startSluice) so the benchmark client, this script and the server share no event loop.
// Rows carry Sluice's figures (MB/s: request bytes on the wire) and redis-server's in the notes;
// after every run both servers' state is checked against what redis-benchmark had acknowledged.
// Before the measured runs of a phase, each server runs every command on keys of its own
// (warmUp), so what is measured is the steady state, not V8 compiling the command path: on a
// fresh server the first 100,000 unpipelined XADDs ran at 82-92k/s, the third 100,000 at
// 118-127k/s (12-03). redis-server gets the same runs.
//
// Usage: tsx bench/resp.ts [--full] [--stream-entries <n>]
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startSluice, type SluiceProcess } from '../src/index';
import type { Reply } from '../src/commands/reply';
import type { FsyncPolicy } from '../storage/stream-log';
import { startRedis, type RedisServer } from '../test/helpers/redis-server';
import { encodeCommand, RespClient } from '../test/helpers/resp-client';
import { MessageCounter } from './message-counter';
import {
  printTable,
  progress,
  REPO_ROOT,
  round,
  saveResults,
  throughputResult,
  withTarget,
  type BenchSize,
  type Result,
} from './harness';

const BENCH = 'resp';
const REDIS_BENCHMARK = 'redis-benchmark';
const CLIENTS = 50;
const PIPELINES = [1, 16] as const;
/** The fill is one long pipelined run; 50 x 16 divides every stream size used here. */
const FILL_CLIENTS = 50;
const FILL_PIPELINE = 16;
/** `-r`: __rand_int__ becomes a 12-digit number below this, so entries are not all alike. */
const FILL_RANDOM_RANGE = 1_000_000_000;
const FILL_VALUE = 'v'.repeat(90);
const FILL_ARGS = ['XADD', 'mem', '*', 'n', '__rand_int__', 'v', FILL_VALUE];
/** Field names and values of one filled entry: n, 12 digits, v, 90 bytes. */
const FILL_PAYLOAD_BYTES = 1 + 12 + 1 + 90;
/** How long a subscriber may lag behind the last PUBLISH reply before messages count as lost. */
const DELIVERY_WAIT_MS = 10_000;
const MB = 1024 * 1024;

/** Progress lines: on for the full size, off inside npm test. Problems are always reported. */
let log: (message: string) => void = progress;

interface Sizes {
  /** Requests per unpipelined case (rounded up to a multiple of the clients). */
  readonly requests: number;
  /** Requests per -P 16 case (rounded up to a multiple of clients x 16). */
  readonly pipelinedRequests: number;
  readonly streamEntries: number;
  /** One redis-benchmark run longer than this is killed and reported as a hang. */
  readonly runTimeoutMs: number;
  readonly fillTimeoutMs: number;
  /**
   * Run the everysec, always and memory phases at the same time, each on its own servers: for
   * the small size, which checks that everything works and whose figures mean nothing.
   */
  readonly concurrent: boolean;
}

const SIZES: Record<BenchSize, Sizes> = {
  small: {
    requests: 250,
    pipelinedRequests: 800,
    streamEntries: 4_000,
    runTimeoutMs: 60_000,
    fillTimeoutMs: 120_000,
    concurrent: true,
  },
  full: {
    requests: 100_000,
    pipelinedRequests: 400_000,
    streamEntries: 10_000_000,
    runTimeoutMs: 30 * 60_000,
    fillTimeoutMs: 4 * 3600_000,
    concurrent: false,
  },
};

interface Command {
  readonly name: string;
  readonly args: readonly string[];
}

/** RPOP follows LPUSH and pops exactly what it pushed, so every RPOP returns an element. */
const COMMANDS: readonly Command[] = [
  { name: 'PING', args: ['PING'] },
  { name: 'XADD', args: ['XADD', 'bench', '*', 'f', 'v'] },
  { name: 'LPUSH', args: ['LPUSH', 'queue', 'v'] },
  { name: 'RPOP', args: ['RPOP', 'queue'] },
  { name: 'PUBLISH', args: ['PUBLISH', 'ch', 'msg'] },
];

/** Minimum Sluice ops/s as a percentage of redis-server's, by policy and pipelining. */
function targetPct(policy: FsyncPolicy, pipeline: number): number {
  if (policy === 'always') return 100;
  return pipeline === 1 ? 70 : 50;
}

// ---- processes ------------------------------------------------------------------------

/** Sluice children still running: killed if this process exits without stopping them. */
const liveSluices = new Set<SluiceProcess>();
let exitHookInstalled = false;

function track(sluice: SluiceProcess): void {
  liveSluices.add(sluice);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of liveSluices) {
      if (s.pid !== undefined) tryKill(s.pid);
      rmSync(s.dataDir, { recursive: true, force: true });
    }
  });
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

interface Pair {
  readonly policy: FsyncPolicy;
  readonly sluice: SluiceProcess;
  readonly redis: RedisServer;
}

/** Sluice (--fsync policy) and redis-server (AOF, appendfsync policy, no RDB), side by side. */
async function startPair(policy: FsyncPolicy): Promise<Pair> {
  const redisArgs = ['--appendonly', 'yes', '--appendfsync', policy, '--save', ''];
  const [sluice, redis] = await Promise.allSettled([
    startSluice({ fsync: policy }),
    startRedis({ args: redisArgs }),
  ]);
  if (sluice.status === 'fulfilled') track(sluice.value);
  if (sluice.status === 'fulfilled' && redis.status === 'fulfilled') {
    return { policy, sluice: sluice.value, redis: redis.value };
  }
  await stopBoth(
    sluice.status === 'fulfilled' ? sluice.value : null,
    redis.status === 'fulfilled' ? redis.value : null,
  );
  const failed: unknown =
    sluice.status === 'rejected'
      ? sluice.reason
      : redis.status === 'rejected'
        ? redis.reason
        : null;
  throw failed instanceof Error ? failed : new Error(String(failed));
}

/** Kills both (SIGKILL: nothing here needs a clean shutdown) and removes their directories. */
async function stopBoth(sluice: SluiceProcess | null, redis: RedisServer | null): Promise<void> {
  const stopSluice = async (s: SluiceProcess) => {
    await s.kill();
    await fs.rm(s.dataDir, { recursive: true, force: true });
    liveSluices.delete(s);
  };
  await Promise.all([sluice && stopSluice(sluice), redis?.stop()]);
}

async function withPair<T>(policy: FsyncPolicy, fn: (pair: Pair) => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const pair = await startPair(policy);
  log(`started Sluice and redis-server (${policy}) in ${secondsFrom(t0)} s`);
  try {
    return await fn(pair);
  } finally {
    await stopBoth(pair.sluice, pair.redis);
  }
}

function secondsFrom(t0: number): string {
  return ((Date.now() - t0) / 1000).toFixed(1);
}

// ---- redis-benchmark ------------------------------------------------------------------

interface RunOptions {
  readonly requests: number;
  readonly pipeline: number;
  readonly clients: number;
  readonly timeoutMs: number;
  readonly randomRange?: number;
}

interface Figures {
  readonly requestsPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly wallSeconds: number;
}

function benchmarkArgv(port: number, args: readonly string[], o: RunOptions): string[] {
  const argv = ['-h', '127.0.0.1', '-p', String(port), '-c', String(o.clients)];
  argv.push('-n', String(o.requests), '-P', String(o.pipeline), '--csv');
  if (o.randomRange !== undefined) argv.push('-r', String(o.randomRange));
  return [...argv, ...args];
}

/** The command line as one could paste it into a shell, for error reports. */
function shellLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w.,:/=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [REDIS_BENCHMARK, ...argv.map(quote)].join(' ');
}

/**
 * Runs redis-benchmark (asynchronously: a subscriber in this process keeps reading). It exits
 * non-zero on the first error reply, which is reported with the exact command line.
 */
function redisBenchmark(port: number, args: readonly string[], o: RunOptions): Promise<Figures> {
  const argv = benchmarkArgv(port, args, o);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const options = { timeout: o.timeoutMs, killSignal: 'SIGKILL' as const, maxBuffer: MB };
    execFile(REDIS_BENCHMARK, argv, options, (err, stdout, stderr) => {
      const line = shellLine(argv);
      if (err) {
        reject(
          new Error(`${line} failed: ${failure(err, o.timeoutMs)}\n${stderr}${stdout}`.trim()),
        );
        return;
      }
      if (stderr.trim() !== '') progress(`${line}: ${stderr.trim()}`);
      try {
        const wallSeconds = (Date.now() - started) / 1000;
        resolve({ ...parseCsv(stdout, line, o.requests / wallSeconds), wallSeconds });
      } catch (parseErr) {
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
      }
    });
  });
}

function failure(err: Error & { code?: unknown; killed?: boolean }, timeoutMs: number): string {
  if (err.code === 'ENOENT')
    return `${REDIS_BENCHMARK} not found on PATH (apt-get install redis-tools)`;
  if (err.killed) return `no result after ${timeoutMs} ms (a hang?), killed`;
  return typeof err.code === 'number' ? `exit code ${err.code}` : err.message;
}

/**
 * `--csv` prints a header row and one row of quoted fields per test. A run shorter than its
 * clock's resolution reports `inf` requests/s: the rate from the wall time (`byWall`) stands in.
 */
function parseCsv(stdout: string, line: string, byWall: number): Omit<Figures, 'wallSeconds'> {
  const rows = stdout
    .split('\n')
    .filter((l) => l.startsWith('"'))
    .map((l) => [...l.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? ''));
  const [header, row] = [rows[0] ?? [], rows[rows.length - 1] ?? []];
  const field = (name: string): number | null => {
    const i = header.indexOf(name);
    const v = i < 0 || rows.length < 2 ? NaN : Number(row[i]);
    return Number.isFinite(v) ? v : null;
  };
  const rpsAt = header.indexOf('rps');
  const infinite = rpsAt >= 0 && rows.length > 1 && row[rpsAt] === 'inf';
  const requestsPerSec = infinite ? byWall : field('rps');
  if (requestsPerSec === null || !(requestsPerSec > 0) || !Number.isFinite(requestsPerSec)) {
    throw new Error(`${line}: no requests/s in its output:\n${stdout}`);
  }
  return { requestsPerSec, p50Ms: field('p50_latency_ms'), p99Ms: field('p99_latency_ms') };
}

/** Rounds up so every client sends whole pipelines (redis-benchmark overshoots otherwise). */
function requestsFor(sizes: Sizes, pipeline: number): number {
  const wanted = pipeline === 1 ? sizes.requests : sizes.pipelinedRequests;
  const unit = CLIENTS * pipeline;
  return Math.ceil(wanted / unit) * unit;
}

// ---- checks ---------------------------------------------------------------------------

async function query(port: number, ...args: string[]): Promise<Reply> {
  const client = await RespClient.connect(port);
  try {
    return await client.call(...args);
  } finally {
    await client.close();
  }
}

async function integerOf(port: number, ...args: string[]): Promise<number> {
  const r = await query(port, ...args);
  if (r.t !== 'int') throw new Error(`${args.join(' ')}: expected an integer, got ${show(r)}`);
  return Number(r.v);
}

function show(r: Reply): string {
  return JSON.stringify(r, (_k, v: unknown) =>
    typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString() : v,
  );
}

/** One RESP2 subscriber to `ch`, counting the messages it has read. */
interface Subscriber {
  received(): number;
  close(): Promise<void>;
}

/**
 * A raw socket and a byte-level counter (message-counter.ts says why not RespClient): the
 * measuring subscriber takes as little as it can of the CPU the server under test needs.
 */
async function subscribe(port: number): Promise<Subscriber> {
  const counter = new MessageCounter();
  const socket = net.connect(port, '127.0.0.1');
  // Set by the data handler: a holder, so the checks below see it change.
  const state: { failure: Error | null } = { failure: null };
  socket.on('data', (chunk: Buffer) => {
    try {
      if (!state.failure) counter.feed(chunk);
    } catch (err) {
      state.failure = err as Error;
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(encodeCommand(['SUBSCRIBE', 'ch']));
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  while (counter.frames === 0 && !state.failure && Date.now() < deadline) await sleep(5);
  if (state.failure || counter.frames === 0) {
    socket.destroy();
    throw new Error(`SUBSCRIBE ch: ${state.failure?.message ?? 'no reply'}`);
  }
  return {
    received: () => {
      if (state.failure) throw state.failure;
      return counter.messages;
    },
    close: () => {
      socket.end();
      return closed;
    },
  };
}

interface Progress {
  /** Requests of this command acknowledged so far, this run included. */
  readonly soFar: number;
  /** Requests of this command over all its runs in the phase. */
  readonly total: number;
}

/** 'ok', or what the server's state says went wrong after the acknowledged requests. */
async function checkState(
  port: number,
  cmd: Command,
  p: Progress,
  sub: Subscriber,
): Promise<string> {
  const expect = async (want: number, what: string, got: () => Promise<number>) => {
    const value = await got();
    return value === want ? 'ok' : `${what} is ${value}, expected ${want}`;
  };
  switch (cmd.name) {
    case 'XADD':
      return expect(p.soFar, 'XLEN bench', () => integerOf(port, 'XLEN', 'bench'));
    case 'LPUSH':
      return expect(p.soFar, 'LLEN queue', () => integerOf(port, 'LLEN', 'queue'));
    case 'RPOP':
      return expect(p.total - p.soFar, 'LLEN queue', () => integerOf(port, 'LLEN', 'queue'));
    case 'PUBLISH':
      return expect(p.soFar, 'messages received', async () => {
        const deadline = Date.now() + DELIVERY_WAIT_MS;
        while (sub.received() < p.soFar && Date.now() < deadline) await sleep(10);
        return sub.received();
      });
    default:
      return 'ok';
  }
}

// ---- throughput cases -----------------------------------------------------------------

interface Side {
  readonly label: 'Sluice' | 'Redis';
  readonly port: number;
  readonly subscriber: Subscriber;
}

interface Measured {
  readonly figures: Figures;
  readonly check: string;
}

async function measure(side: Side, cmd: Command, o: RunOptions, p: Progress): Promise<Measured> {
  const figures = await redisBenchmark(side.port, cmd.args, o);
  const checkStarted = Date.now();
  const check = await checkState(side.port, cmd, p, side.subscriber);
  const checkSeconds = (Date.now() - checkStarted) / 1000;
  (check === 'ok' ? log : progress)(
    `  ${side.label}: ${Math.round(figures.requestsPerSec)} ops/s, ` +
      `${figures.wallSeconds.toFixed(1)} s run, ${checkSeconds.toFixed(1)} s check: ${check}`,
  );
  return { figures, check };
}

function caseName(cmd: Command, pipeline: number, policy: FsyncPolicy): string {
  const mode = pipeline === 1 ? 'unpipelined' : `-P ${pipeline}`;
  return `${cmd.name} ${mode}, ${CLIENTS} clients, ${policy}`;
}

function caseResult(
  name: string,
  requests: number,
  request: Buffer,
  sluice: Measured,
  redis: Measured,
  target: number,
): Result {
  const s = sluice.figures;
  const r = redis.figures;
  const seconds = requests / s.requestsPerSec;
  const checks = sluice.check === 'ok' && redis.check === 'ok';
  const base = throughputResult({
    bench: BENCH,
    name,
    ops: requests,
    entries: requests,
    seconds,
    payloadBytes: requests * request.length,
    notes: {
      redisOpsPerSec: r.requestsPerSec,
      redisP50Ms: r.p50Ms ?? '-',
      redisP99Ms: r.p99Ms ?? '-',
      pctOfRedis: round((100 * s.requestsPerSec) / r.requestsPerSec, 1),
      check: checks ? 'ok' : `Sluice: ${sluice.check}; Redis: ${redis.check}`,
    },
  });
  const result = { ...base, opsPerSec: s.requestsPerSec, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
  return withTarget(result, { metric: 'pctOfRedis', op: '>=', value: target });
}

async function commandCases(
  pair: Pair,
  sides: readonly [Side, Side],
  cmd: Command,
  sizes: Sizes,
): Promise<Result[]> {
  const total = PIPELINES.reduce((sum, p) => sum + requestsFor(sizes, p), 0);
  const request = encodeCommand([...cmd.args]);
  const results: Result[] = [];
  let soFar = 0;
  for (const pipeline of PIPELINES) {
    const requests = requestsFor(sizes, pipeline);
    soFar += requests;
    const o = { requests, pipeline, clients: CLIENTS, timeoutMs: sizes.runTimeoutMs };
    const name = caseName(cmd, pipeline, pair.policy);
    log(name);
    const sluice = await measure(sides[0], cmd, o, { soFar, total });
    const redis = await measure(sides[1], cmd, o, { soFar, total });
    const target = targetPct(pair.policy, pipeline);
    results.push(caseResult(name, requests, request, sluice, redis, target));
  }
  return results;
}

/** Requests of each warm-up run, as a multiple of the measured unpipelined run's. */
const WARM_UP_FACTOR = 2;

/** Runs every command unpipelined and pipelined, on keys no check reads; figures dropped. */
async function warmUp(side: Side, sizes: Sizes): Promise<void> {
  const t0 = Date.now();
  for (const cmd of COMMANDS) {
    const args =
      cmd.args.length > 1 ? [cmd.args[0]!, `warm:${cmd.args[1]!}`, ...cmd.args.slice(2)] : cmd.args;
    for (const pipeline of PIPELINES) {
      const requests = requestsFor(sizes, pipeline) * (pipeline === 1 ? WARM_UP_FACTOR : 1);
      const o = { requests, pipeline, clients: CLIENTS, timeoutMs: sizes.runTimeoutMs };
      await redisBenchmark(side.port, args, o);
    }
  }
  log(`  ${side.label}: warmed up in ${secondsFrom(t0)} s`);
}

async function throughputPhase(policy: FsyncPolicy, sizes: Sizes): Promise<Result[]> {
  return withPair(policy, async (pair) => {
    const subs: Subscriber[] = [];
    try {
      subs.push(await subscribe(pair.sluice.respPort));
      subs.push(await subscribe(pair.redis.port));
      const sides: [Side, Side] = [
        { label: 'Sluice', port: pair.sluice.respPort, subscriber: subs[0]! },
        { label: 'Redis', port: pair.redis.port, subscriber: subs[1]! },
      ];
      for (const side of sides) await warmUp(side, sizes);
      const results: Result[] = [];
      for (const cmd of COMMANDS) results.push(...(await commandCases(pair, sides, cmd, sizes)));
      return results;
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });
}

// ---- memory ---------------------------------------------------------------------------

async function residentBytes(pid: number | undefined): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (kb === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

async function redisMemory(port: number): Promise<{ used: number; rss: number }> {
  const info = await query(port, 'INFO', 'memory');
  const text = info.t === 'bulk' ? info.v.toString() : '';
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1]);
  return { used: field('used_memory'), rss: field('used_memory_rss') };
}

async function fill(port: number, entries: number, sizes: Sizes): Promise<number> {
  const o: RunOptions = {
    requests: entries,
    pipeline: FILL_PIPELINE,
    clients: FILL_CLIENTS,
    timeoutMs: sizes.fillTimeoutMs,
    randomRange: FILL_RANDOM_RANGE,
  };
  const figures = await redisBenchmark(port, FILL_ARGS, o);
  const length = await integerOf(port, 'XLEN', 'mem');
  if (length !== entries) throw new Error(`XLEN mem is ${length} after ${entries} XADDs`);
  return figures.wallSeconds;
}

function entriesLabel(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  return n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

const toMB = (bytes: number) => round(bytes / MB, 1);

async function memoryCase(sizes: Sizes): Promise<Result> {
  const unit = FILL_CLIENTS * FILL_PIPELINE;
  const n = Math.ceil(sizes.streamEntries / unit) * unit;
  return withPair('everysec', async (pair) => {
    const idleRss = await residentBytes(pair.sluice.pid);
    const idleRedis = await redisMemory(pair.redis.port);
    log(`fill Sluice with ${entriesLabel(n)} entries`);
    const sluiceSeconds = await fill(pair.sluice.respPort, n, sizes);
    await sleep(1500); // the everysec flush and any settling of buffers
    const filledRss = await residentBytes(pair.sluice.pid);
    log(`fill Redis with ${entriesLabel(n)} entries`);
    const redisSeconds = await fill(pair.redis.port, n, sizes);
    const redis = await redisMemory(pair.redis.port);
    log('restart Sluice on the filled directory');
    await pair.sluice.stop();
    await pair.sluice.restart();
    const restartedRss = await residentBytes(pair.sluice.pid);
    const length = await integerOf(pair.sluice.respPort, 'XLEN', 'mem');
    return throughputResult({
      bench: BENCH,
      name: `memory of a ${entriesLabel(n)}-entry stream (Sluice RSS vs Redis used_memory)`,
      ops: n,
      entries: n,
      seconds: sluiceSeconds,
      payloadBytes: n * FILL_PAYLOAD_BYTES,
      notes: {
        sluiceRssMB: toMB(filledRss),
        sluiceIdleRssMB: toMB(idleRss),
        sluiceRssAfterRestartMB: toMB(restartedRss),
        redisUsedMemoryMB: toMB(redis.used),
        redisIdleUsedMemoryMB: toMB(idleRedis.used),
        redisRssMB: toMB(redis.rss),
        rssVsUsedMemory: round(filledRss / redis.used, 2),
        redisFillPerSec: round(n / redisSeconds, 0),
        check: length === n ? 'ok' : `XLEN mem after restart is ${length}, expected ${n}`,
      },
    });
  });
}

// ---- entry points ---------------------------------------------------------------------

export async function runRespBench(
  size: BenchSize,
  overrides: Partial<Sizes> = {},
): Promise<Result[]> {
  const sizes = { ...SIZES[size], ...overrides };
  log = size === 'full' ? progress : () => {};
  const phases = [
    () => throughputPhase('everysec', sizes),
    () => throughputPhase('always', sizes),
    async () => [await memoryCase(sizes)],
  ];
  if (!sizes.concurrent) {
    const results: Result[] = [];
    for (const phase of phases) results.push(...(await phase()));
    return results;
  }
  // Every phase cleans up its own servers; wait for all of them before reporting a failure.
  const settled = await Promise.allSettled(phases.map((phase) => phase()));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
}

/** The throughput rows side by side: what the README and the closing note show. */
export function formatComparison(results: readonly Result[]): string {
  const rows = results
    .filter((r) => typeof r.notes['redisOpsPerSec'] === 'number')
    .map((r) => [
      r.name,
      fmtInt(r.opsPerSec),
      fmtInt(r.notes['redisOpsPerSec'] as number),
      ((r.notes['pctOfRedis'] as number) / 100).toFixed(2),
      r.target ? `>= ${(r.target.value / 100).toFixed(1)}` : '',
      r.target?.met ? 'yes' : 'no',
      `${r.p50Ms ?? '-'} / ${r.notes['redisP50Ms']}`,
    ]);
  const head = ['case', 'Sluice ops/s', 'Redis ops/s', 'ratio', 'target', 'met', 'p50 ms S / R'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fmtInt(x: number | null): string {
  return x === null ? '-' : Math.round(x).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const size: BenchSize = process.argv.includes('--full') ? 'full' : 'small';
  const at = process.argv.indexOf('--stream-entries');
  const streamEntries = at > 0 ? Number(process.argv[at + 1]) : SIZES[size].streamEntries;
  if (!(streamEntries > 0)) throw new Error('--stream-entries wants a positive number');
  const overrides = { streamEntries };
  const results = await runRespBench(size, overrides);
  printTable(`resp (${size})`, results);
  process.stdout.write(`\n${formatComparison(results)}\n`);
  const file = await saveResults(size === 'full' ? BENCH : `${BENCH}-${size}`, size, results);
  process.stdout.write(`saved ${path.relative(REPO_ROOT, file)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
