// Shared benchmark helpers: timing, latency percentiles, the result record, the printed table
// and the saved JSON (machine, Node version, commit) that STYLE.md rule 14 asks for.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type BenchSize = 'small' | 'full';

/** A goal a result is checked against; `actual` is the measured figure of `metric`. */
export interface Target {
  readonly metric: string;
  readonly op: '>=' | '<';
  readonly value: number;
  readonly actual: number;
  readonly met: boolean;
}

/**
 * One measured case. Rates are null where they mean nothing (a restart is timed, not
 * counted per second); latencies are null when no per-operation samples were taken.
 */
export interface Result {
  readonly bench: string;
  readonly name: string;
  readonly ops: number;
  readonly entries: number;
  readonly seconds: number;
  readonly opsPerSec: number | null;
  readonly entriesPerSec: number | null;
  /** Entry payload (field and value bytes) per second, in 10^6 bytes. */
  readonly mbPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly target: Target | null;
  readonly notes: Readonly<Record<string, number | string>>;
}

export interface TargetSpec {
  readonly metric: string;
  readonly op: '>=' | '<';
  readonly value: number;
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function msSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/** Latency samples in milliseconds, kept in a growing typed array (no per-sample objects). */
export class Latencies {
  private samples = new Float64Array(1024);
  count = 0;

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = ms;
  }

  /** Nearest-rank percentiles (p in 0..100) of the samples so far; null without samples. */
  percentiles(...ps: number[]): Array<number | null> {
    if (this.count === 0) return ps.map(() => null);
    const sorted = this.samples.slice(0, this.count).sort();
    return ps.map((p) => percentileOfSorted(sorted, p));
  }
}

export function percentileOfSorted(sorted: Float64Array, p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface MeasuredRun {
  readonly bench: string;
  readonly name: string;
  readonly ops: number;
  readonly entries: number;
  readonly seconds: number;
  readonly payloadBytes: number;
  readonly latencies?: Latencies;
  readonly target?: TargetSpec;
  readonly notes?: Record<string, number | string>;
}

/** A throughput result: rates from counts and elapsed time, percentiles from the samples. */
export function throughputResult(run: MeasuredRun): Result {
  const [p50 = null, p99 = null] = run.latencies ? run.latencies.percentiles(50, 99) : [];
  const result: Result = {
    bench: run.bench,
    name: run.name,
    ops: run.ops,
    entries: run.entries,
    seconds: round(run.seconds, 3),
    opsPerSec: round(run.ops / run.seconds, 1),
    entriesPerSec: round(run.entries / run.seconds, 1),
    mbPerSec: round(run.payloadBytes / 1e6 / run.seconds, 2),
    p50Ms: p50 === null ? null : round(p50, 4),
    p99Ms: p99 === null ? null : round(p99, 4),
    target: null,
    notes: run.notes ?? {},
  };
  return run.target ? withTarget(result, run.target) : result;
}

/** Checks `spec.metric` (a numeric field of the result or of its notes) against the goal. */
export function withTarget(result: Result, spec: TargetSpec): Result {
  const fields = result as unknown as Record<string, unknown>;
  const raw = fields[spec.metric] ?? result.notes[spec.metric];
  const actual = typeof raw === 'number' ? raw : NaN;
  const met = spec.op === '>=' ? actual >= spec.value : actual < spec.value;
  return { ...result, target: { ...spec, actual, met } };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---- printing -------------------------------------------------------------------------

const COLUMNS = ['case', 'ops/s', 'entries/s', 'MB/s', 'p50 ms', 'p99 ms', 'target', 'notes'];

function fmt(x: number | null, digits = 0): string {
  if (x === null || !Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function fmtLatency(x: number | null): string {
  if (x === null) return '-';
  return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0);
}

function fmtTarget(t: Target | null): string {
  if (!t) return '';
  return `${t.metric} ${t.op} ${fmt(t.value)}: ${t.met ? 'MET' : 'MISSED'}`;
}

function fmtNotes(notes: Readonly<Record<string, number | string>>): string {
  return Object.entries(notes)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v, 2) : v}`)
    .join(' ');
}

/** The results as an aligned text table. */
export function formatTable(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.name,
    fmt(r.opsPerSec),
    fmt(r.entriesPerSec),
    fmt(r.mbPerSec, 1),
    fmtLatency(r.p50Ms),
    fmtLatency(r.p99Ms),
    fmtTarget(r.target),
    fmtNotes(r.notes),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i >= 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(COLUMNS), rule, ...rows.map(line)].join('\n') + '\n';
}

export function printTable(title: string, results: readonly Result[]): void {
  process.stdout.write(`\n${title}\n${formatTable(results)}`);
}

/** Progress lines go to stderr so stdout holds only the tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---- saving ---------------------------------------------------------------------------

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface SavedRun {
  readonly machine: string;
  readonly cores: number;
  readonly totalmem: number;
  readonly platform: string;
  readonly node: string;
  readonly commit: string;
  /** Tracked files differed from `commit` when the run started: the figures are not its own. */
  readonly dirty: boolean;
  readonly date: string;
  readonly size: BenchSize;
  readonly results: readonly Result[];
}

function git(args: readonly string[]): string | null {
  try {
    const out = execFileSync('git', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.toString().trim();
  } catch {
    return null;
  }
}

export function gitCommit(): string {
  return git(['rev-parse', '--short', 'HEAD']) || 'unknown';
}

export function gitDirty(): boolean {
  return (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
}

export function describeRun(size: BenchSize, results: readonly Result[]): SavedRun {
  const cpus = os.cpus();
  return {
    machine: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    totalmem: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: gitCommit(),
    dirty: gitDirty(),
    date: new Date().toISOString(),
    size,
    results,
  };
}

/**
 * Writes `<name>-<date>.json` and `<name>-latest.json` under bench/results/ (tmp, then rename,
 * so a reader never sees half a file). Returns the dated file's path.
 */
export async function saveResults(
  name: string,
  size: BenchSize,
  results: readonly Result[],
): Promise<string> {
  const run = describeRun(size, results);
  const text = JSON.stringify(run, null, 2) + '\n';
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const stamp = run.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const dated = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  for (const file of [dated, path.join(RESULTS_DIR, `${name}-latest.json`)]) {
    await fs.writeFile(`${file}.tmp`, text);
    await fs.rename(`${file}.tmp`, file);
  }
  return dated;
}

// ---- data directories and randomness --------------------------------------------------

/** Runs `fn` with a fresh directory under os.tmpdir(), removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Seeded PRNG (mulberry32) in [0, 1): runs pick the same random IDs every time. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
