// Stream and consumer-group commands through the command table (no network): XADD, XRANGE of
// 10, XREADGROUP COUNT 10 + XACK, and the memory of a large pending entries list.
//
// Usage: tsx bench/streams.ts [--full]   (the PEL memory case wants --expose-gc for a clean figure)
import { Broker } from '../src/broker/broker';
import { buildCommandTable, Dispatcher, type Session } from '../src/commands';
import type { Reply } from '../src/commands/reply';
import { StreamId } from '../storage/id';
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

const VALUE = Buffer.alloc(90, 'v');
const B = (s: string) => Buffer.from(s);

interface Bench {
  readonly broker: Broker;
  readonly dispatcher: Dispatcher;
  readonly session: Session;
}

async function open(dir: string): Promise<Bench> {
  const broker = await Broker.open({ dataDir: dir, fsync: 'everysec' });
  const dispatcher = new Dispatcher(buildCommandTable(), broker, { maxBlockMs: Infinity });
  return { broker, dispatcher, session: { id: 1, db: 0, name: null, resp: 2 } };
}

function check(r: Reply): Reply {
  if (r.t === 'error') throw new Error(`bench command failed: ${r.v}`);
  return r;
}

/** Runs `op` from `concurrency` loops until `total` calls are done; latency per call. */
async function drive(total: number, concurrency: number, op: (i: number) => Promise<unknown>) {
  const lat = new Latencies();
  let next = 0;
  const t0 = nowNs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = nowNs();
        await op(i);
        lat.add(Number(nowNs() - s) / 1e6);
      }
    }),
  );
  return { seconds: secondsSince(t0), lat };
}

async function xaddCase(b: Bench, n: number): Promise<Result> {
  const call = (i: number) =>
    b.dispatcher.execute(b.session, [
      B('XADD'),
      B('s'),
      B('*'),
      B('n'),
      B(String(i)),
      B('v'),
      VALUE,
    ]);
  check(await call(0));
  const { seconds, lat } = await drive(n, 50, async (i) => check(await call(i)));
  return throughputResult({
    bench: 'streams',
    name: 'XADD 1 entry, 50 concurrent, everysec',
    ops: n,
    entries: n,
    seconds,
    payloadBytes: n * 100,
    latencies: lat,
  });
}

async function xrangeCase(b: Bench, n: number, streamLen: number): Promise<Result> {
  const { seconds, lat } = await drive(n, 50, async () => {
    const start = 1 + Math.floor(Math.random() * (streamLen - 10));
    check(
      await b.dispatcher.execute(b.session, [
        B('XRANGE'),
        B('r'),
        B(`${start}`),
        B('+'),
        B('COUNT'),
        B('10'),
      ]),
    );
  });
  return throughputResult({
    bench: 'streams',
    name: `XRANGE COUNT 10 at random IDs of ${streamLen} entries`,
    ops: n,
    entries: n * 10,
    seconds,
    payloadBytes: n * 10 * 100,
    latencies: lat,
  });
}

async function fillStream(b: Bench, key: string, n: number): Promise<void> {
  const value = await b.broker.keyspace.streamOrCreate(0, B(key));
  for (let base = 0; base < n; base += 1000) {
    const count = Math.min(1000, n - base);
    await value.log.append(() =>
      Array.from({ length: count }, (_, j) => ({
        id: new StreamId(BigInt(base + j + 1), 0n),
        fields: [B('n'), VALUE],
      })),
    );
  }
}

async function groupCase(b: Bench, n: number): Promise<Result> {
  await fillStream(b, 'g', n * 10);
  check(
    await b.dispatcher.execute(b.session, [B('XGROUP'), B('CREATE'), B('g'), B('grp'), B('0')]),
  );
  const read = [
    B('XREADGROUP'),
    B('GROUP'),
    B('grp'),
    B('c'),
    B('COUNT'),
    B('10'),
    B('STREAMS'),
    B('g'),
    B('>'),
  ];
  const { seconds, lat } = await drive(n, 10, async () => {
    const r = check(await b.dispatcher.execute(b.session, read));
    const ids = entryIds(r);
    check(await b.dispatcher.execute(b.session, [B('XACK'), B('g'), B('grp'), ...ids]));
  });
  return throughputResult({
    bench: 'streams',
    name: 'XREADGROUP COUNT 10 + XACK, 10 consumers',
    ops: n,
    entries: n * 10,
    seconds,
    payloadBytes: n * 10 * 100,
    latencies: lat,
  });
}

/** The entry IDs of an XREADGROUP reply ([[key, [[id, fields]...]]]). */
function entryIds(r: Reply): Buffer[] {
  const streams = r.t === 'array' ? r.v : r.t === 'map' ? r.v.map(([, v]) => v) : [];
  const out: Buffer[] = [];
  for (const s of streams) {
    const entries = s.t === 'array' && s.v.length === 2 ? s.v[1] : s;
    if (entries?.t !== 'array') continue;
    for (const e of entries.v) if (e.t === 'array' && e.v[0]?.t === 'bulk') out.push(e.v[0].v);
  }
  return out;
}

function gcHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

async function pelCase(b: Bench, n: number): Promise<Result> {
  await fillStream(b, 'p', n);
  check(
    await b.dispatcher.execute(b.session, [B('XGROUP'), B('CREATE'), B('p'), B('grp'), B('0')]),
  );
  const before = gcHeap();
  const t0 = nowNs();
  for (let done = 0; done < n; done += 10_000) {
    const read = ['XREADGROUP', 'GROUP', 'grp', 'c', 'COUNT', '10000', 'STREAMS', 'p', '>'];
    check(await b.dispatcher.execute(b.session, read.map(B)));
  }
  const seconds = secondsSince(t0);
  const after = gcHeap();
  const pending = check(await b.dispatcher.execute(b.session, ['XPENDING', 'p', 'grp'].map(B)));
  const count = pending.t === 'array' && pending.v[0]?.t === 'int' ? Number(pending.v[0].v) : -1;
  return throughputResult({
    bench: 'streams',
    name: `PEL of ${n} pending entries`,
    ops: n / 10_000,
    entries: n,
    seconds,
    payloadBytes: n * 100,
    notes: {
      pending: count,
      bytesPerPendingEntry: Math.round((after - before) / n),
      gcExposed: (globalThis as { gc?: unknown }).gc ? 'yes' : 'no (run with --expose-gc)',
    },
  });
}

export async function runStreamsBench(size: BenchSize): Promise<Result[]> {
  const n = size === 'full' ? 200_000 : 2_000;
  const results: Result[] = [];
  await withTempDir('sluice-bench-streams-', async (dir) => {
    const b = await open(dir);
    try {
      progress('XADD');
      results.push(await xaddCase(b, n));
      progress('XRANGE');
      await fillStream(b, 'r', n);
      results.push(await xrangeCase(b, n, n));
      progress('XREADGROUP + XACK');
      results.push(await groupCase(b, n / 10));
      progress('PEL memory');
      results.push(await pelCase(b, size === 'full' ? 1_000_000 : 20_000));
    } finally {
      await b.broker.close();
    }
  });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size: BenchSize = process.argv.includes('--full') ? 'full' : 'small';
  runStreamsBench(size).then(
    (r) => printTable(`streams (${size})`, r),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
