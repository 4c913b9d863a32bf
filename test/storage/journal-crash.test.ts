// Real crashes of the journal: a child process (fixtures/journal-child.ts) appends from four
// concurrent appenders under fsync 'always', compacts all the time, and is killed with SIGKILL,
// (a) at random moments, run after run on the same directory, and (b) at each compaction step,
// from inside (onCompactStep). Every acknowledged record must survive, in order, with nothing
// invented, and what a restart recovers must never be lost later.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type CompactStep } from '../../storage/journal';
import { APPENDERS_COUNT, ListOwner } from './fixtures/journal-child';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'journal-child.ts');
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Independent directories killed in parallel: CHAINS_COUNT * KILLS_PER_CHAIN kills in all. */
const CHAINS_COUNT = 2;
const KILLS_PER_CHAIN = 11;
const KILL_DELAY_MIN_MS = 5;
const KILL_DELAY_MAX_MS = 250;
/** A child that has not acknowledged anything (or killed itself) by then is stuck. */
const STUCK_TIMEOUT_MS = 30_000;
/** What a crash of the process (not of the disk) may leave; anything else is a bug. */
const ALLOWED_LABELS = new Set(['FRESH', 'TORN_TAIL', 'ZERO_TAIL', 'TEMP_FILE', 'ORPHAN_FILE']);

const live = new Set<ChildProcess>();
const dirs: string[] = [];

afterEach(async () => {
  for (const child of [...live]) {
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGKILL');
      await closed;
    }
    live.delete(child);
  }
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-journal-crash-'));
  dirs.push(dir);
  return dir;
}

/** Seeded, so a failing sequence of kill delays can be replayed with JOURNAL_CRASH_SEED. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface Run {
  /** Records the child recovered at its start. */
  readonly start: number;
  readonly labels: string[];
  /** Highest acknowledged n per appender (-1: none). */
  readonly acked: number[];
  readonly compactions: number;
}

/**
 * Runs the child until it dies of SIGKILL: `killAfterMs` after its first acknowledgement, or
 * (null) by its own hand at a compaction step.
 */
async function runChild(root: string, run: number, mode: string, killAfterMs: number | null) {
  const ackFile = path.join(root, `acks.${run}`);
  const args = ['--import', 'tsx', FIXTURE, path.join(root, 'journal'), ackFile, `${run}`, mode];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stuck = setTimeout(() => child.kill('SIGKILL'), STUCK_TIMEOUT_MS);
  if (killAfterMs !== null) {
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), killAfterMs));
  }
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(stuck);
  live.delete(child);
  if (signal !== 'SIGKILL') throw new Error(`run ${run} ended with ${code}/${signal}:\n${stderr}`);
  const acks = await fs.readFile(ackFile, 'utf8').catch(() => null);
  if (acks === null) throw new Error(`run ${run} (${mode}) was killed before it started`);
  return parseRun(acks);
}

function parseRun(text: string): Run {
  const lines = text.split('\n');
  lines.pop(); // empty after the last newline, or a line the kill cut: not an acknowledgement
  let start = -1;
  let compactions = 0;
  const labels: string[] = [];
  const acked = Array.from({ length: APPENDERS_COUNT }, () => -1);
  for (const line of lines) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'S') start = Number(a);
    else if (kind === 'L') labels.push(a as string);
    else if (kind === 'C') compactions = Number(a);
    else if (kind === 'A') acked[Number(a)] = Math.max(acked[Number(a)] as number, Number(b));
    else throw new Error(`bad ack line: ${line}`);
  }
  if (start < 0) throw new Error('the child never reported its start');
  return { start, labels, acked, compactions };
}

/** Problems with the recovered `items` given the runs so far (empty when all is well). */
function checkItems(items: readonly string[], runs: readonly Run[]): string[] {
  const problems: string[] = [];
  const next = new Map<string, number>();
  let lastRun = 0;
  for (const [i, item] of items.entries()) {
    const [run, app, n] = item.split('.').map(Number) as [number, number, number];
    if (!(run < runs.length && app < APPENDERS_COUNT)) problems.push(`invented ${item}`);
    if (run < lastRun) problems.push(`${item} at ${i} after records of run ${lastRun}`);
    lastRun = Math.max(lastRun, run);
    const key = `${run}.${app}`;
    if (n !== (next.get(key) ?? 0)) problems.push(`${item} at ${i}: expected n ${next.get(key)}`);
    next.set(key, n + 1);
  }
  runs.forEach((r, run) => {
    r.acked.forEach((ackedN, app) => {
      const have = (next.get(`${run}.${app}`) ?? 0) - 1;
      if (have < ackedN) problems.push(`run ${run} app ${app}: acked ${ackedN}, have ${have}`);
      if (have > ackedN + 1) problems.push(`run ${run} app ${app}: ${have} > acked ${ackedN} + 1`);
    });
    const before = items.filter((item) => Number(item.split('.')[0]) < run).length;
    if (r.start !== before) problems.push(`run ${run} started with ${r.start}, now ${before}`);
  });
  return problems;
}

/** Opens the journal in this process, checks it, closes it; returns its labels. */
async function verify(root: string, runs: readonly Run[]): Promise<string[]> {
  const owner = new ListOwner();
  const journal = await Journal.open(path.join(root, 'journal'), owner, { fsync: 'always' });
  expect(checkItems(owner.items, runs)).toEqual([]);
  await journal.close();
  return journal.recovery.labels;
}

async function killChain(seed: number): Promise<void> {
  const random = makeRandom(seed);
  const root = await tempDir();
  const runs: Run[] = [];
  const labels: string[] = [];
  for (let run = 0; run < KILLS_PER_CHAIN; run++) {
    const delay = KILL_DELAY_MIN_MS + random() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS);
    const result = await runChild(root, run, 'random', Math.round(delay));
    runs.push(result);
    labels.push(...result.labels);
    // Most crashes are recovered by the next child; some by this process in between.
    if (run % 3 === 2) labels.push(...(await verify(root, runs)));
  }
  labels.push(...(await verify(root, runs)));
  expect(labels.filter((l) => !ALLOWED_LABELS.has(l))).toEqual([]);
  expect(runs.reduce((sum, r) => sum + r.compactions, 0)).toBeGreaterThan(KILLS_PER_CHAIN);
  expect(runs.reduce((sum, r) => sum + r.acked.filter((n) => n >= 0).length, 0)).toBeGreaterThan(
    KILLS_PER_CHAIN * 2,
  );
}

/** Leftover a kill right after each step must leave, and the parts listed after recovery. */
const STEPS: Array<{ step: CompactStep; leftover: string | null; parts: number }> = [
  { step: 'BEGIN', leftover: null, parts: 1 },
  { step: 'PART_CREATED', leftover: 'ORPHAN_FILE', parts: 1 },
  { step: 'SWITCHED', leftover: null, parts: 2 },
  { step: 'SNAPSHOT_WRITING', leftover: 'TEMP_FILE', parts: 2 },
  { step: 'SNAPSHOT_SYNCED', leftover: 'TEMP_FILE', parts: 2 },
  { step: 'SNAPSHOT_RENAMED', leftover: 'ORPHAN_FILE', parts: 2 },
  { step: 'MANIFEST_WRITTEN', leftover: 'ORPHAN_FILE', parts: 1 },
  { step: 'DONE', leftover: null, parts: 1 },
];

async function killAtStep(step: CompactStep, leftover: string | null, parts: number) {
  const root = await tempDir();
  const run = await runChild(root, 0, `kill-at:${step}`, null);
  const dir = path.join(root, 'journal');
  const owner = new ListOwner();
  const journal = await Journal.open(dir, owner, { fsync: 'always' });
  expect(checkItems(owner.items, [run])).toEqual([]);
  const labels = journal.recovery.labels;
  expect(labels.filter((l) => !ALLOWED_LABELS.has(l))).toEqual([]);
  if (leftover) expect(labels).toContain(leftover);
  const files = await fs.readdir(dir);
  expect(files.filter((n) => n.startsWith('wal.')).length).toBe(parts);
  expect(files.filter((n) => !/^(MANIFEST|snap\.\d+|wal\.\d+\.\d+)$/.test(n))).toEqual([]);
  // The recovered journal goes on: append, compact, and a restart has all of it.
  owner.items.push('after');
  journal.append(Buffer.from('after'));
  await journal.compact();
  await journal.close();
  const again = new ListOwner();
  await (await Journal.open(dir, again)).close();
  expect(again.items).toEqual(owner.items);
}

describe('journal crashes (kill -9 of a real process)', () => {
  it('acknowledged records survive kills at random moments, in order, none invented', async () => {
    const seed = Number(process.env.JOURNAL_CRASH_SEED ?? Date.now() % 2 ** 31);
    const chains = Array.from({ length: CHAINS_COUNT }, (_, i) => killChain(seed + i));
    const results = await Promise.allSettled(chains);
    for (const r of results)
      if (r.status === 'rejected') throw new Error(`seed ${seed}: ${r.reason}`);
  });

  it('a kill at each compaction step recovers the full state', async () => {
    // One step at a time: eight children starting at once on a loaded 2-core machine can
    // take longer than the stuck timeout just to load.
    for (const s of STEPS) await killAtStep(s.step, s.leftover, s.parts);
  }, 240_000);
});
