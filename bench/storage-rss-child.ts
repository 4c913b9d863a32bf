// Child process of bench/storage.ts: times Store.open of a data directory in a fresh process
// and reports its resident memory, or appends and then dies by SIGKILL (a real crash) so the
// next open has a tail to recover. Prints one JSON line on stdout.
//
// Usage: node --expose-gc --import tsx bench/storage-rss-child.ts <dir> [--crash <entries>]
import { Store } from '../storage/store';
import { StreamId } from '../storage/id';
import type { StreamEntry } from '../storage/records';

/** What the parent reads from the last stdout line in open mode. */
export interface OpenReport {
  readonly openMs: number;
  readonly closeMs: number;
  readonly rssBeforeBytes: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly gcExposed: boolean;
  readonly streams: number;
  readonly length: number;
  readonly segments: number;
  readonly framesReplayed: number;
  readonly bytesScanned: number;
  readonly fromCheckpoint: boolean;
  readonly labels: string[];
}

const CRASH_BATCH = 100;
const CRASH_IN_FLIGHT = 8;
const FIELDS = [Buffer.from('payload'), Buffer.alloc(93, 0x78)];

function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}

async function openAndReport(dir: string): Promise<OpenReport> {
  collect();
  const rssBeforeBytes = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const store = await Store.open(dir, { fsync: 'no' });
  const openMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const gcExposed = collect();
  const mem = process.memoryUsage();
  const logs = [...store.keys()];
  const report = [...store.reports.values()][0];
  const t1 = process.hrtime.bigint();
  const summary = {
    streams: logs.length,
    length: logs.reduce((n, l) => n + l.length, 0),
    segments: logs.reduce((n, l) => n + l.segments.length, 0),
  };
  await store.close();
  return {
    openMs,
    closeMs: Number(process.hrtime.bigint() - t1) / 1e6,
    rssBeforeBytes,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    gcExposed,
    ...summary,
    framesReplayed: report?.framesReplayed ?? 0,
    bytesScanned: report?.bytesScanned ?? 0,
    fromCheckpoint: report?.fromCheckpoint ?? false,
    labels: report?.labels ?? [],
  };
}

function batchAfter(last: StreamId): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (let i = 1; i <= CRASH_BATCH; i++) {
    out.push({ id: new StreamId(last.ms + BigInt(i), 0n), fields: FIELDS });
  }
  return out;
}

/** Appends `entries` more to the first stream, then kills this process without closing. */
async function appendAndCrash(dir: string, entries: number): Promise<never> {
  const store = await Store.open(dir, { fsync: 'no' });
  const log = [...store.keys()][0];
  if (!log) throw new Error(`no stream in ${dir}`);
  let claimed = 0;
  const appender = async () => {
    while (claimed < entries) {
      claimed += CRASH_BATCH;
      await log.append(batchAfter);
    }
  };
  await Promise.all(Array.from({ length: CRASH_IN_FLIGHT }, appender));
  process.stdout.write(JSON.stringify({ appended: claimed, length: log.length }) + '\n');
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => {});
}

async function main(): Promise<void> {
  const [dir, flag, count] = process.argv.slice(2);
  if (!dir) throw new Error('usage: storage-rss-child.ts <dir> [--crash <entries>]');
  if (flag === '--crash') await appendAndCrash(dir, Number(count));
  else process.stdout.write(JSON.stringify(await openAndReport(dir)) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
