// Lists as queues through the command table (no network): LPUSH + BRPOP pairs per second,
// journal bytes per operation, restart time after many operations against a restart of the
// same final lists, and the memory of 1M queued 100-byte messages.
//
// Usage: tsx bench/queues.ts [--full]   (memory figures want --expose-gc)
import { Broker } from '../src/broker/broker';
import { buildCommandTable, Dispatcher, type Session } from '../src/commands';
import type { Reply } from '../src/commands/reply';
import type { FsyncPolicy } from '../storage/stream-log';
import {
  Latencies,
  nowNs,
  printTable,
  progress,
  secondsSince,
  throughputResult,
  withTempDir,
  type BenchSize,
  type Result,
} from './harness';

const MSG = Buffer.alloc(100, 'm');
const B = (s: string) => Buffer.from(s);
let sessionIds = 0;

async function open(dir: string, fsync: FsyncPolicy = 'everysec') {
  const broker = await Broker.open({ dataDir: dir, fsync });
  const dispatcher = new Dispatcher(buildCommandTable(), broker, { maxBlockMs: Infinity });
  const session = (): Session => ({ id: ++sessionIds, db: 0, name: null, resp: 2 });
  const run = async (s: Session, args: Buffer[]): Promise<Reply> => {
    const r = await dispatcher.execute(s, args);
    if (r.t === 'error') throw new Error(`bench command failed: ${r.v}`);
    return r;
  };
  return { broker, dispatcher, session, run };
}

type Opened = Awaited<ReturnType<typeof open>>;

/** Producers LPUSH, consumers BRPOP (blocking), until `pairs` messages went through. */
async function pairsCase(o: Opened, pairs: number, label: string): Promise<Result> {
  const lat = new Latencies();
  const consumers = 10;
  const producers = 10;
  let produced = 0;
  let consumed = 0;
  const t0 = nowNs();
  const consume = async () => {
    const s = o.session();
    while (consumed < pairs) {
      const start = nowNs();
      const r = await o.run(s, [B('BRPOP'), B('q'), B('1')]);
      if (r.t === 'array') {
        consumed++;
        lat.add(Number(nowNs() - start) / 1e6);
      }
    }
  };
  const produce = async () => {
    const s = o.session();
    while (produced < pairs) {
      produced++;
      await o.run(s, [B('LPUSH'), B('q'), MSG]);
    }
  };
  await Promise.all([
    ...Array.from({ length: consumers }, consume),
    ...Array.from({ length: producers }, produce),
  ]);
  return throughputResult({
    bench: 'queues',
    name: `LPUSH + BRPOP pairs, 10 producers, 10 consumers, ${label}`,
    ops: pairs,
    entries: pairs,
    seconds: secondsSince(t0),
    payloadBytes: pairs * MSG.length,
    latencies: lat,
  });
}

/** Push/pop pairs through one session in batches, then restart; compare with a fresh restart. */
async function restartCase(dir: string, ops: number): Promise<Result> {
  let o = await open(dir, 'everysec');
  const s = o.session();
  const t0 = nowNs();
  const batch = 1000;
  for (let done = 0; done < ops; done += 2 * batch) {
    const pushes = Array.from({ length: batch }, (_, i) =>
      o.run(s, [B('RPUSH'), B(`q${i % 10}`), MSG]),
    );
    await Promise.all(pushes);
    await Promise.all(
      Array.from({ length: batch }, (_, i) => o.run(s, [B('LPOP'), B(`q${i % 10}`)])),
    );
  }
  // A final state: 10 lists of 1000 messages each.
  for (let i = 0; i < 10_000; i++) await o.run(s, [B('RPUSH'), B(`q${i % 10}`), MSG]);
  const seconds = secondsSince(t0);
  const stats = o.broker.journal.stats();
  await o.broker.close();
  const r0 = nowNs();
  o = await open(dir, 'everysec');
  const restartMs = secondsSince(r0) * 1000;
  await o.broker.close();
  return throughputResult({
    bench: 'queues',
    name: `${ops} push/pop operations, then restart`,
    ops,
    entries: ops,
    seconds,
    payloadBytes: ops * MSG.length,
    notes: {
      restartMs: Math.round(restartMs),
      journalBytesPerOp: Math.round((stats.logBytes + stats.snapshotBytes) / (ops + 10_000)),
      compactions: stats.compactions,
    },
  });
}

async function freshRestartCase(dir: string): Promise<Result> {
  let o = await open(dir, 'everysec');
  const s = o.session();
  for (let i = 0; i < 10_000; i++) await o.run(s, [B('RPUSH'), B(`q${i % 10}`), MSG]);
  await o.broker.close();
  const r0 = nowNs();
  o = await open(dir, 'everysec');
  const restartMs = secondsSince(r0) * 1000;
  await o.broker.close();
  return throughputResult({
    bench: 'queues',
    name: 'restart of the same final lists, written fresh',
    ops: 1,
    entries: 10_000,
    seconds: restartMs / 1000,
    payloadBytes: 0,
    notes: { restartMs: Math.round(restartMs) },
  });
}

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function memoryCase(dir: string, n: number): Promise<Result> {
  const o = await open(dir, 'no');
  const s = o.session();
  const before = heap();
  const t0 = nowNs();
  for (let done = 0; done < n; done += 1000) {
    await o.run(s, [B('RPUSH'), B('big'), ...Array.from({ length: 1000 }, () => Buffer.from(MSG))]);
  }
  const seconds = secondsSince(t0);
  const after = heap();
  await o.broker.close();
  return throughputResult({
    bench: 'queues',
    name: `memory of ${n} queued 100-byte messages`,
    ops: n / 1000,
    entries: n,
    seconds,
    payloadBytes: n * MSG.length,
    notes: {
      bytesPerMessage: Math.round((after - before) / n),
      gcExposed: (globalThis as { gc?: unknown }).gc ? 'yes' : 'no (run with --expose-gc)',
    },
  });
}

export async function runQueuesBench(size: BenchSize): Promise<Result[]> {
  const full = size === 'full';
  const results: Result[] = [];
  progress('LPUSH + BRPOP');
  await withTempDir('sluice-bench-q1-', async (dir) => {
    const o = await open(dir, 'everysec');
    results.push(await pairsCase(o, full ? 200_000 : 2_000, 'everysec'));
    await o.broker.close();
  });
  await withTempDir('sluice-bench-q2-', async (dir) => {
    const o = await open(dir, 'always');
    results.push(await pairsCase(o, full ? 50_000 : 1_000, 'always'));
    await o.broker.close();
  });
  progress('restart after many operations');
  await withTempDir('sluice-bench-q3-', async (dir) => {
    results.push(await restartCase(dir, full ? 10_000_000 : 20_000));
  });
  await withTempDir('sluice-bench-q4-', async (dir) => results.push(await freshRestartCase(dir)));
  progress('memory');
  await withTempDir('sluice-bench-q5-', async (dir) => {
    results.push(await memoryCase(dir, full ? 1_000_000 : 20_000));
  });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size: BenchSize = process.argv.includes('--full') ? 'full' : 'small';
  runQueuesBench(size).then(
    (r) => printTable(`queues (${size})`, r),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
