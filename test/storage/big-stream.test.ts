// A stream several times larger than the heap of the process that writes, reads and recovers
// it: memory must stay flat as the stream grows, and recovery must stream the segments rather
// than load them. The work runs in a child with --max-old-space-size=64.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'big-stream.ts');
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const STREAM_MEGABYTES = 300;
const VALUE_BYTES = 1024;
const SEGMENT_BYTES = 32 * 1024 * 1024;
const MB = 1024 * 1024;
// Measured peak RSS of a child (Node 20, 2 cores): ~150 MB whether the stream is 100, 300 or
// 600 MB (node + tsx + V8 start at ~75 MB; the rest is read and write buffers and a heap that
// the 64 MB cap keeps small). 250 MB leaves room for a slow GC on a loaded machine and is
// still below what holding a 300 MB stream would take.
const PEAK_RSS_BOUND_BYTES = 250 * MB;
// Between the first and last quarter of the write the RSS measured grows ~25 MB (buffers
// warming up); keeping the written entries would add ~225 MB.
const WRITE_GROWTH_BOUND_BYTES = 96 * MB;

interface Sample {
  readonly stage: string;
  readonly rssBytes: number;
  readonly heapBytes: number;
}

interface ChildRun {
  readonly samples: Sample[];
  readonly result: Record<string, unknown>;
  readonly peakRssBytes: number;
  readonly peakHeapBytes: number;
}

const live = new Set<ChildProcess>();
let tmp: string | null = null;

afterEach(async () => {
  for (const child of [...live]) {
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGKILL');
    await closed;
    live.delete(child);
  }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  tmp = null;
});

async function runChild(dir: string, phase: 'write' | 'reopen'): Promise<ChildRun> {
  const args = ['--max-old-space-size=64', '--import', 'tsx', FIXTURE, dir, phase];
  const child = spawn(process.execPath, [...args, String(STREAM_MEGABYTES)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  live.delete(child);
  expect({ code, signal, stderr }, `${phase} child failed`).toEqual({
    code: 0,
    signal: null,
    stderr: '',
  });
  const samples: Sample[] = [];
  let result: Record<string, unknown> | null = null;
  for (const line of stdout.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    if (tag === 'M') {
      samples.push({ stage: rest[0] ?? '', rssBytes: Number(rest[1]), heapBytes: Number(rest[2]) });
    } else if (tag === 'R') result = JSON.parse(rest.join(' ')) as Record<string, unknown>;
  }
  if (!result) throw new Error(`${phase} child printed no result:\n${stdout}`);
  const peakRssBytes = Math.max(...samples.map((s) => s.rssBytes));
  const peakHeapBytes = Math.max(...samples.map((s) => s.heapBytes));
  return { samples, result, peakRssBytes, peakHeapBytes };
}

async function removeCheckpoints(dir: string): Promise<number> {
  const streams = path.join(dir, 'streams');
  let removed = 0;
  for (const stream of await fs.readdir(streams)) {
    for (const name of await fs.readdir(path.join(streams, stream))) {
      if (!name.startsWith('checkpoint.')) continue;
      await fs.rm(path.join(streams, stream, name));
      removed++;
    }
  }
  return removed;
}

const mbPerS = (bytes: number, ms: number) => (bytes / MB / (Math.max(ms, 1) / 1000)).toFixed(0);
const maxRss = (samples: readonly Sample[]) => Math.max(...samples.map((s) => s.rssBytes));

/** Peak RSS of the last quarter of the write minus that of the first: flat when streaming. */
function writeGrowthBytes(run: ChildRun): number {
  const writes = run.samples.filter((s) => s.stage === 'write');
  expect(writes.length).toBeGreaterThanOrEqual(8);
  const quarter = Math.floor(writes.length / 4);
  return maxRss(writes.slice(-quarter)) - maxRss(writes.slice(0, quarter));
}

interface Report {
  labels: string[];
  framesReplayed: number;
  bytesScanned: number;
  fromCheckpoint: boolean;
}

const mb = (bytes: number) => String(Math.round(bytes / MB));

/** One stderr line with the speeds and memory seen, for the record. */
function summary(write: ChildRun, reopen: ChildRun, rescan: ChildRun): string {
  const w = write.result as Record<string, number>;
  const dataBytes = (w.entriesCount as number) * VALUE_BYTES;
  const tail = reopen.result.report as Report;
  const full = rescan.result.report as Report;
  const rescanMs = rescan.result.openMs as number;
  return (
    `big stream: ${STREAM_MEGABYTES} MB, ${w.entriesCount} entries in ${w.segmentsCount} ` +
    `segments; write ${mbPerS(dataBytes, w.writeMs as number)} MB/s, forward scan ` +
    `${mbPerS(dataBytes, w.scanMs as number)} MB/s, 200 range reads ${w.rangeMs} ms; ` +
    `recovery from checkpoint ${reopen.result.openMs} ms (${mb(tail.bytesScanned)} MB ` +
    `scanned), full-scan recovery ${rescanMs} ms (${mbPerS(full.bytesScanned, rescanMs)} MB/s); ` +
    `peak RSS write/reopen/rescan ${mb(write.peakRssBytes)}/${mb(reopen.peakRssBytes)}/` +
    `${mb(rescan.peakRssBytes)} MB, peak heap ${mb(write.peakHeapBytes)} MB, ` +
    `write RSS growth ${mb(writeGrowthBytes(write))} MB\n`
  );
}

describe('big stream', () => {
  it('writes, scans and recovers 300 MB in a 64 MB heap with flat memory', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-big-'));
    const dir = path.join(tmp, 'data');
    const entriesCount = (STREAM_MEGABYTES * MB) / VALUE_BYTES;

    const write = await runChild(dir, 'write');
    expect(write.result).toMatchObject({ entriesCount, reversed: 40_000 });
    expect(write.result.segmentsCount).toBeGreaterThanOrEqual(9);
    expect(write.peakRssBytes).toBeLessThan(PEAK_RSS_BOUND_BYTES);
    expect(writeGrowthBytes(write)).toBeLessThan(WRITE_GROWTH_BOUND_BYTES);

    // The writer exited without closing: recovery starts at the last roll's checkpoint.
    const reopen = await runChild(dir, 'reopen');
    const tail = reopen.result.report as Report;
    expect(reopen.result).toMatchObject({ entriesCount, reversed: 5000 });
    expect(tail).toMatchObject({ labels: [], fromCheckpoint: true });
    expect(tail.bytesScanned).toBeLessThanOrEqual(SEGMENT_BYTES + MB);
    expect(reopen.peakRssBytes).toBeLessThan(PEAK_RSS_BOUND_BYTES);

    // Without checkpoints recovery scans all 300 MB, still in the same memory.
    expect(await removeCheckpoints(dir)).toBeGreaterThan(0);
    const rescan = await runChild(dir, 'reopen');
    const full = rescan.result.report as Report;
    expect(rescan.result).toMatchObject({ entriesCount, reversed: 5000 });
    expect(full).toMatchObject({ labels: [], fromCheckpoint: false });
    expect(full.bytesScanned).toBeGreaterThan(STREAM_MEGABYTES * MB);
    expect(rescan.peakRssBytes).toBeLessThan(PEAK_RSS_BOUND_BYTES);

    process.stderr.write(summary(write, reopen, rescan));
  }, 120_000);
});
