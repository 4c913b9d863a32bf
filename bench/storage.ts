// Storage benchmark: append throughput and latency under each fsync policy, random range
// reads from a large stream, restart time after a clean stop and after a real crash, and the
// resident memory of a process that opened a large stream.
//
// Usage: tsx bench/storage.ts [--full]   (small size by default; `npm run bench` runs full)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../storage/store';
import { StreamId } from '../storage/id';
import type { StreamEntry } from '../storage/records';
import type { FsyncPolicy, StreamLog } from '../storage/stream-log';
import {
  Latencies,
  nowNs,
  msSince,
  percentileOfSorted,
  printTable,
  progress,
  REPO_ROOT,
  round,
  saveResults,
  secondsSince,
  seededRandom,
  throughputResult,
  withTarget,
  withTempDir,
  type BenchSize,
  type Result,
  type TargetSpec,
} from './harness';
import type { OpenReport } from './storage-rss-child';

const BENCH = 'storage';
const KEY = Buffer.from('bench');
/** One field and a value: 7 + 93 = 100 bytes of payload an entry. */
const FIELDS: readonly Buffer[] = [Buffer.from('payload'), Buffer.alloc(93, 0x78)];
const ENTRY_PAYLOAD_BYTES = 100;
const CHILD = fileURLToPath(new URL('./storage-rss-child.ts', import.meta.url));
/** Batch and in-flight appends that build big streams: frames near FRAME_TARGET_BYTES. */
const BUILD_BATCH = 100;
const BUILD_IN_FLIGHT = 8;
const READ_COUNT = 10;
const MB = 1024 * 1024;

interface SizeConfig {
  readonly appendMs: number;
  readonly warmupMs: number;
  readonly readMs: number;
  readonly readStreamEntries: number;
  readonly restartEntries: readonly number[];
  readonly restartRuns: number;
  readonly crashEntries: number;
}

const SIZES: Record<BenchSize, SizeConfig> = {
  small: {
    appendMs: 150,
    warmupMs: 30,
    readMs: 200,
    readStreamEntries: 20_000,
    restartEntries: [10_000, 100_000],
    restartRuns: 1,
    crashEntries: 2_000,
  },
  full: {
    appendMs: 5000,
    warmupMs: 1000,
    readMs: 10_000,
    readStreamEntries: 10_000_000,
    restartEntries: [1_000_000, 10_000_000],
    restartRuns: 3,
    crashEntries: 200_000,
  },
};

interface AppendSpec {
  readonly fsync: FsyncPolicy;
  readonly appenders: number;
  readonly batch: number;
  readonly target?: TargetSpec;
}

const APPEND_SPECS: readonly AppendSpec[] = [
  { fsync: 'no', appenders: 1, batch: 1 },
  { fsync: 'no', appenders: 50, batch: 1 },
  { fsync: 'no', appenders: 1, batch: 100, target: entriesPerSecAtLeast(500_000) },
  { fsync: 'no', appenders: 1, batch: 1000, target: entriesPerSecAtLeast(500_000) },
  { fsync: 'everysec', appenders: 1, batch: 1 },
  { fsync: 'everysec', appenders: 50, batch: 1 },
  { fsync: 'always', appenders: 1, batch: 1 },
  { fsync: 'always', appenders: 50, batch: 1, target: entriesPerSecAtLeast(50_000) },
];

function entriesPerSecAtLeast(value: number): TargetSpec {
  return { metric: 'entriesPerSec', op: '>=', value };
}

interface Ctx {
  readonly size: BenchSize;
  readonly cfg: SizeConfig;
  progress(message: string): void;
}

// ---- appends --------------------------------------------------------------------------

const makers = new Map<number, (last: StreamId) => StreamEntry[]>();

/** The `make` callback for `batch` entries with IDs (last ms + 1 .. + batch)-0. */
function batchMaker(batch: number): (last: StreamId) => StreamEntry[] {
  let make = makers.get(batch);
  if (!make) {
    make = (last) => {
      const out = new Array<StreamEntry>(batch);
      for (let i = 0; i < batch; i++) {
        out[i] = { id: new StreamId(last.ms + BigInt(i + 1), 0n), fields: FIELDS };
      }
      return out;
    };
    makers.set(batch, make);
  }
  return make;
}

interface AppendPlan {
  readonly log: StreamLog;
  readonly appenders: number;
  readonly batch: number;
  /** Stop claiming work at this time, or once this many entries are claimed. */
  readonly untilNs?: bigint;
  readonly totalEntries?: number;
  readonly latencies: Latencies | null;
}

/** Runs `appenders` loops, each awaiting its own append before the next. */
async function runAppenders(plan: AppendPlan): Promise<number> {
  const make = batchMaker(plan.batch);
  const { log, latencies, untilNs, totalEntries } = plan;
  let appends = 0;
  let claimed = 0;
  const more = () =>
    totalEntries !== undefined ? claimed < totalEntries : nowNs() < (untilNs as bigint);
  const appender = async () => {
    while (more()) {
      claimed += plan.batch;
      const t0 = nowNs();
      await log.append(make);
      latencies?.add(msSince(t0));
      appends++;
    }
  };
  await Promise.all(Array.from({ length: plan.appenders }, appender));
  return appends;
}

function appendName(s: AppendSpec): string {
  const batch = s.batch > 1 ? ` batch=${s.batch}` : '';
  return `append fsync=${s.fsync} appenders=${s.appenders}${batch}`;
}

async function appendCase(ctx: Ctx, spec: AppendSpec): Promise<Result> {
  return withTempDir('sluice-bench-append-', async (dir) => {
    const store = await Store.open(dir, { fsync: spec.fsync });
    try {
      const log = await store.create(KEY);
      const base = { log, appenders: spec.appenders, batch: spec.batch };
      const warmupNs = BigInt(ctx.cfg.warmupMs) * 1_000_000n;
      await runAppenders({ ...base, untilNs: nowNs() + warmupNs, latencies: null });
      const latencies = new Latencies();
      const t0 = nowNs();
      const untilNs = t0 + BigInt(ctx.cfg.appendMs) * 1_000_000n;
      const appends = await runAppenders({ ...base, untilNs, latencies });
      const seconds = secondsSince(t0);
      const entries = appends * spec.batch;
      return throughputResult({
        bench: BENCH,
        name: appendName(spec),
        ops: appends,
        entries,
        seconds,
        payloadBytes: entries * ENTRY_PAYLOAD_BYTES,
        latencies,
        ...(spec.target ? { target: spec.target } : {}),
      });
    } finally {
      await store.close();
    }
  });
}

// ---- building a big stream and reading it -------------------------------------------

async function buildStream(dir: string, entries: number): Promise<{ store: Store; row: Result }> {
  const store = await Store.open(dir, { fsync: 'no' });
  const log = await store.create(KEY);
  const t0 = nowNs();
  const totalEntries = entries - (entries % BUILD_BATCH);
  const plan = { log, appenders: BUILD_IN_FLIGHT, batch: BUILD_BATCH, totalEntries };
  const appends = await runAppenders({ ...plan, latencies: null });
  const seconds = secondsSince(t0);
  const logBytes = log.segments.reduce((n, s) => n + s.size, 0);
  const row = throughputResult({
    bench: BENCH,
    name: `build ${label(entries)} fsync=no batch=${BUILD_BATCH} in-flight=${BUILD_IN_FLIGHT}`,
    ops: appends,
    entries: log.length,
    seconds,
    payloadBytes: log.length * ENTRY_PAYLOAD_BYTES,
    notes: {
      logMB: round(logBytes / MB, 1),
      logBytesPerEntry: round(logBytes / log.length, 1),
      segments: log.segments.length,
    },
  });
  return { store, row };
}

/** Random 10-entry range reads starting at IDs picked uniformly from 1-0 .. entries-0. */
async function readCase(ctx: Ctx, log: StreamLog, entries: number): Promise<Result> {
  const random = seededRandom(42);
  const readOnce = async (latencies: Latencies | null): Promise<number> => {
    const start = new StreamId(BigInt(1 + Math.floor(random() * entries)), 0n);
    const t0 = nowNs();
    const got = await log.read(start, StreamId.MAX, READ_COUNT, false);
    latencies?.add(msSince(t0));
    return got.length;
  };
  const warmupUntil = nowNs() + BigInt(ctx.cfg.warmupMs) * 1_000_000n;
  while (nowNs() < warmupUntil) await readOnce(null);
  const latencies = new Latencies();
  const t0 = nowNs();
  const until = t0 + BigInt(ctx.cfg.readMs) * 1_000_000n;
  let reads = 0;
  let got = 0;
  while (nowNs() < until) {
    got += await readOnce(latencies);
    reads++;
  }
  const seconds = secondsSince(t0);
  return throughputResult({
    bench: BENCH,
    name: `read ${READ_COUNT} entries at random IDs of ${label(entries)}`,
    ops: reads,
    entries: got,
    seconds,
    payloadBytes: got * ENTRY_PAYLOAD_BYTES,
    latencies,
    notes: { entriesPerRead: round(got / Math.max(1, reads), 2) },
  });
}

// ---- restarts and memory, in child processes -------------------------------------------

interface ChildOutput {
  readonly stdout: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function runChild(args: readonly string[]): Promise<ChildOutput> {
  const argv = ['--expose-gc', '--import', 'tsx', CHILD, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') {
        reject(new Error(`bench child ${args.join(' ')} failed (${code}): ${stderr.trim()}`));
      } else resolve({ stdout, code, signal });
    });
  });
}

function lastJsonLine<T>(out: ChildOutput): T {
  const lines = out.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

async function openInChild(dir: string): Promise<OpenReport> {
  return lastJsonLine<OpenReport>(await runChild([dir]));
}

async function crashInChild(dir: string, entries: number): Promise<void> {
  const out = await runChild([dir, '--crash', String(entries)]);
  if (out.signal !== 'SIGKILL') throw new Error('the crash child exited instead of being killed');
}

/** A timing-only result: `openMs` samples as p50/p99 (of a few runs: p99 is the slowest). */
function restartResult(name: string, reports: readonly OpenReport[], entries: number): Result {
  const sorted = Float64Array.from(reports.map((r) => r.openMs)).sort();
  const last = reports[reports.length - 1] as OpenReport;
  const labels = [...new Set(reports.flatMap((r) => r.labels))];
  const maxOf = (f: (r: OpenReport) => number) => Math.max(...reports.map(f));
  return {
    bench: BENCH,
    name,
    ops: reports.length,
    entries,
    seconds: round(sorted.reduce((a, b) => a + b, 0) / 1000, 3),
    opsPerSec: null,
    entriesPerSec: null,
    mbPerSec: null,
    p50Ms: round(percentileOfSorted(sorted, 50), 2),
    p99Ms: round(percentileOfSorted(sorted, 99), 2),
    target: null,
    notes: {
      runsMs: reports.map((r) => round(r.openMs, 1)).join('/'),
      segments: last.segments,
      maxFramesReplayed: maxOf((r) => r.framesReplayed),
      maxScannedMB: round(maxOf((r) => r.bytesScanned) / MB, 1),
      fullScans: reports.filter((r) => !r.fromCheckpoint).length,
      ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
    },
  };
}

function rssResult(entries: number, report: OpenReport, target: boolean): Result {
  const row: Result = {
    bench: BENCH,
    name: `rss after open of ${label(entries)}`,
    ops: 1,
    entries: report.length,
    seconds: round(report.openMs / 1000, 3),
    opsPerSec: null,
    entriesPerSec: null,
    mbPerSec: null,
    p50Ms: null,
    p99Ms: null,
    target: null,
    notes: {
      rssMB: round(report.rssBytes / MB, 1),
      rssBeforeOpenMB: round(report.rssBeforeBytes / MB, 1),
      heapUsedMB: round(report.heapUsedBytes / MB, 1),
      gc: report.gcExposed ? 'forced' : 'unavailable',
    },
  };
  return target ? withTarget(row, { metric: 'rssMB', op: '<', value: 150 }) : row;
}

/** Clean restarts (the parent closed the store), then crash-and-restart cycles. */
async function restartCases(ctx: Ctx, dir: string, entries: number): Promise<Result[]> {
  const largest = Math.max(...ctx.cfg.restartEntries);
  const clean: OpenReport[] = [];
  for (let i = 0; i < ctx.cfg.restartRuns; i++) clean.push(await openInChild(dir));
  const crashed: OpenReport[] = [];
  for (let i = 0; i < ctx.cfg.restartRuns; i++) {
    ctx.progress(`crash ${i + 1}/${ctx.cfg.restartRuns}: append ${ctx.cfg.crashEntries}, kill -9`);
    await crashInChild(dir, ctx.cfg.crashEntries);
    crashed.push(await openInChild(dir));
  }
  const crashLabel = `${label(entries)} (+${label(ctx.cfg.crashEntries)} unflushed tail)`;
  return [
    restartResult(`restart clean ${label(entries)}`, clean, entries),
    restartResult(`restart after kill -9 ${crashLabel}`, crashed, entries),
    rssResult(entries, clean[clean.length - 1] as OpenReport, entries === largest),
  ];
}

// ---- orchestration ------------------------------------------------------------------

function label(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

/** Builds one stream of `entries`, then runs what needs a stream of that size on it. */
async function streamPhase(ctx: Ctx, entries: number): Promise<Result[]> {
  return withTempDir('sluice-bench-stream-', async (dir) => {
    ctx.progress(`building a stream of ${label(entries)} entries`);
    const { store, row } = await buildStream(dir, entries);
    const rows = [row];
    try {
      if (entries === ctx.cfg.readStreamEntries) {
        ctx.progress(`random reads on ${label(entries)}`);
        const log = store.get(KEY) as StreamLog;
        rows.push(await readCase(ctx, log, entries));
      }
    } finally {
      await store.close();
    }
    if (ctx.cfg.restartEntries.includes(entries)) {
      ctx.progress(`restarts of ${label(entries)} in child processes`);
      rows.push(...(await restartCases(ctx, dir, entries)));
    }
    return rows;
  });
}

/** Adds to the largest clean restart how many times longer it took than the smallest. */
function compareRestarts(results: Result[]): Result[] {
  const clean = results.filter((r) => r.name.startsWith('restart clean'));
  if (clean.length < 2) return results;
  const [small, large] = [clean[0] as Result, clean[clean.length - 1] as Result];
  const ratio = round((large.p50Ms ?? NaN) / (small.p50Ms ?? NaN), 2);
  return results.map((r) =>
    r === large ? { ...r, notes: { ...r.notes, p50VsSmallest: ratio } } : r,
  );
}

export async function runStorageBench(size: BenchSize): Promise<Result[]> {
  const ctx: Ctx = {
    size,
    cfg: SIZES[size],
    progress: size === 'full' ? progress : () => {},
  };
  const results: Result[] = [];
  for (const spec of APPEND_SPECS) {
    ctx.progress(appendName(spec));
    results.push(await appendCase(ctx, spec));
  }
  const sizes = [...new Set([ctx.cfg.readStreamEntries, ...ctx.cfg.restartEntries])];
  for (const entries of sizes.sort((a, b) => a - b)) {
    results.push(...(await streamPhase(ctx, entries)));
  }
  return compareRestarts(results);
}

async function main(): Promise<void> {
  const size: BenchSize = process.argv.includes('--full') ? 'full' : 'small';
  const results = await runStorageBench(size);
  printTable(`storage (${size})`, results);
  const file = await saveResults(size === 'full' ? BENCH : `${BENCH}-${size}`, size, results);
  process.stdout.write(`saved ${path.relative(REPO_ROOT, file)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
