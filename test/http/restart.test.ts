// The end-to-end restart test through HTTP: a real server process (the package's embedding API)
// under fsync `always` is killed with SIGKILL while XADDs are in flight, restarted on the same
// directory, and must still hold every acknowledged entry, with a pending list that is exactly
// the entries delivered and not acknowledged. Several rounds, so recovery runs over recovery.
import { afterAll, describe, expect, it } from 'vitest';
import { startSluice, type SluiceProcess } from '../../src/index';
import { socketRequest, type Answer } from './v1-fixture';

const ROUNDS = 3;
const BATCHES = 6;
const STREAM = '/v1/streams/orders';
const GROUP = `${STREAM}/groups/workers`;

let broker: SluiceProcess | null = null;
afterAll(async () => {
  await broker?.destroy();
});

const call = (method: string, url: string, body?: unknown): Promise<Answer> =>
  socketRequest((broker as SluiceProcess).url, method, url, body).answer;

interface Model {
  /** Acknowledged XADDs: id -> the `n` field written. */
  readonly added: Map<string, string>;
  /** Delivered to the consumer and not acknowledged. */
  readonly pending: Set<string>;
  written: number;
}

/** Appends in batches and singles; resolves with what was acknowledged. */
async function produce(model: Model, count: number): Promise<void> {
  const one = async () => {
    const n = String(model.written++);
    const r = await call('POST', `${STREAM}/entries`, { fields: ['n', n, 'pad', 'x'.repeat(64)] });
    expect(r.status).toBe(201);
    model.added.set(r.body.id, n);
  };
  const batch = async () => {
    const ns = Array.from({ length: 10 }, () => String(model.written++));
    const r = await call('POST', `${STREAM}/entries`, {
      entries: ns.map((n) => ({ fields: ['n', n] })),
    });
    expect(r.status).toBe(201);
    r.body.ids.forEach((id: string, i: number) => model.added.set(id, ns[i] as string));
  };
  await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 === 0 ? one() : batch())));
}

/** Reads new entries for the consumer and acknowledges every other one. */
async function consume(model: Model): Promise<void> {
  for (;;) {
    const r = await call('POST', `${GROUP}/read`, { consumer: 'c1', count: 50 });
    expect(r.status).toBe(200);
    const ids: string[] = r.body.entries.map((e: { id: string }) => e.id);
    if (ids.length === 0) return;
    for (const id of ids) model.pending.add(id);
    const acked = ids.filter((_, i) => i % 2 === 0);
    const a = await call('POST', `${GROUP}/ack`, { ids: acked });
    expect(a.body).toEqual({ acked: acked.length });
    for (const id of acked) model.pending.delete(id);
  }
}

/** Appends one entry at a time until the server is gone; returns how many were answered. */
async function writeUntilKilled(model: Model): Promise<number> {
  let answered = 0;
  for (;;) {
    const n = `w${model.written++}`;
    try {
      const r = await call('POST', `${STREAM}/entries`, { fields: ['n', n] });
      if (r.status !== 201) return answered;
      model.added.set(r.body.id, n);
      answered++;
    } catch {
      return answered; // connection refused or reset: the process is gone
    }
  }
}

async function allEntries(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let start = '-';
  for (;;) {
    const r = await call('GET', `${STREAM}/entries?count=500&start=${encodeURIComponent(start)}`);
    for (const e of r.body.entries) found.set(e.id, e.fields[1]);
    if (r.body.next === null) return found;
    start = r.body.next;
  }
}

async function check(model: Model): Promise<void> {
  const found = await allEntries();
  for (const [id, n] of model.added) expect(found.get(id), `entry ${id}`).toBe(n);
  const r = await call('GET', `${GROUP}/pending?count=100000`);
  const pending = r.body.pending.map((p: { id: string; consumer: string }) => p.id);
  const cmp = (a: string, b: string) => {
    const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
    const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
    return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
  };
  expect(pending).toEqual([...model.pending].sort(cmp));
  expect(r.body.pending.every((p: { consumer: string }) => p.consumer === 'c1')).toBe(true);
}

describe('kill -9 and restart through HTTP', () => {
  it('keeps every acknowledged entry and exactly the unacknowledged deliveries', async () => {
    broker = await startSluice({ fsync: 'always' });
    const model: Model = { added: new Map(), pending: new Set(), written: 0 };
    expect((await call('PUT', GROUP, { start: '0', mkStream: true })).status).toBe(201);
    for (let round = 0; round < ROUNDS; round++) {
      await produce(model, BATCHES);
      await consume(model);
      await produce(model, BATCHES); // produced, not yet delivered
      // Writers keep appending while the process is killed: those answered must survive.
      const writers = Array.from({ length: 4 }, () => writeUntilKilled(model));
      await new Promise((r) => setTimeout(r, 150));
      await broker.kill();
      const answered = await Promise.all(writers);
      expect(answered.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      await broker.restart();
      await check(model);
    }
    await consume(model);
    await check(model);
    expect(model.added.size).toBeGreaterThan(ROUNDS * BATCHES * 5);
    expect(model.pending.size).toBeGreaterThan(0);
  });
});
