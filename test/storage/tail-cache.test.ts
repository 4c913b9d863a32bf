// The segments' cached tails (storage/tail-cache.ts): recent entries are read from memory, a
// range that starts in the file and ends in the cache is read once, and with a budget far
// too small for the data every read still matches the same stream read back from its files.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../storage/store';
import { StreamId } from '../../storage/id';
import { nodeIo, type Io } from '../../storage/io';
import type { StreamEntry } from '../../storage/records';
import { TailBudget, type TailOwner } from '../../storage/tail-cache';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-tail-'));
  dirs.push(d);
  return d;
}

/** Counts read calls on segment files. */
function countingIo(): Io & { reads: number } {
  const io = {
    ...nodeIo,
    reads: 0,
    async read(fd: number, buf: Buffer, off: number, len: number, pos: number) {
      io.reads++;
      return nodeIo.read(fd, buf, off, len, pos);
    },
  };
  return io;
}

const id = (ms: number, seq = 0) => new StreamId(BigInt(ms), BigInt(seq));
const entry = (ms: number, size = 40): StreamEntry => ({
  id: id(ms),
  fields: [Buffer.from('f'), Buffer.from(`v${ms}-`.padEnd(size, 'x'))],
});
const ids = (xs: readonly StreamEntry[]) => xs.map((e) => e.id.toString());
const fieldsOf = (xs: readonly StreamEntry[]) => xs.map((e) => Buffer.concat(e.fields).toString());

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('tail cache', () => {
  it('serves entries written by this process without reading the file', async () => {
    const io = countingIo();
    const store = await Store.open(await tempRoot(), { fsync: 'no', io });
    const log = await store.create(Buffer.from('s'));
    for (let ms = 1; ms <= 200; ms++) await log.append(() => [entry(ms)]);
    io.reads = 0;
    const fwd = await log.read(id(50), id(59), 0, false);
    const rev = await log.read(StreamId.ZERO, StreamId.MAX, 5, true);
    expect(ids(fwd)).toEqual(Array.from({ length: 10 }, (_, i) => `${50 + i}-0`));
    expect(ids(rev)).toEqual(['200-0', '199-0', '198-0', '197-0', '196-0']);
    expect(fieldsOf(fwd)[0]).toBe(fieldsOf([entry(50)])[0]);
    expect(io.reads).toBe(0);
    await store.close();
  });

  it('reads a range that starts before the cached tail and ends in it once', async () => {
    const root = await tempRoot();
    let store = await Store.open(root, { fsync: 'no' });
    let log = await store.create(Buffer.from('s'));
    for (let ms = 1; ms <= 100; ms++) await log.append(() => [entry(ms)]);
    await store.close();
    // Reopened, the old entries are only in the file and the new ones also in memory.
    const io = countingIo();
    store = await Store.open(root, { fsync: 'no', io });
    log = store.get(Buffer.from('s'))!;
    for (let ms = 101; ms <= 150; ms++) await log.append(() => [entry(ms)]);
    io.reads = 0;
    const all = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
    expect(ids(all)).toEqual(Array.from({ length: 150 }, (_, i) => `${i + 1}-0`));
    expect(io.reads).toBeGreaterThan(0);
    const back = await log.read(id(95), id(105), 0, true);
    expect(ids(back)).toEqual(Array.from({ length: 11 }, (_, i) => `${105 - i}-0`));
    io.reads = 0;
    expect(ids(await log.read(id(120), id(150), 0, false))).toHaveLength(31);
    expect(io.reads).toBe(0);
    await store.close();
  });

  it('with a tiny budget, reads match a model across rolls, deletes and trims', async () => {
    const root = await tempRoot();
    const opts = { fsync: 'no' as const, segmentBytes: 8192, tailCacheBytes: 12 * 1024 };
    const store = await Store.open(root, opts);
    const rand = rng(11);
    const keys = ['a', 'b', 'c'].map((k) => Buffer.from(k));
    const logs = await Promise.all(keys.map((k) => store.create(k)));
    const models: StreamEntry[][] = keys.map(() => []);
    let ms = 1;
    for (let round = 0; round < 300; round++) {
      const k = Math.floor(rand() * keys.length);
      const log = logs[k]!;
      const model = models[k]!;
      const n = 1 + Math.floor(rand() * 30);
      const batch = Array.from({ length: n }, () => entry(ms++, 20 + Math.floor(rand() * 400)));
      await log.append(() => batch);
      model.push(...batch);
      if (rand() < 0.1 && model.length > 0) {
        const victim = model[Math.floor(rand() * model.length)]!;
        expect(await log.delete([victim.id])).toBe(1);
        model.splice(model.indexOf(victim), 1);
      }
      if (rand() < 0.05) {
        const keep = Math.floor(model.length / 2);
        await log.trim({ maxLen: keep, approx: false, limit: 0 });
        model.splice(0, model.length - keep);
      }
      const a = model[Math.floor(rand() * model.length)]?.id ?? StreamId.ZERO;
      const b = model[Math.floor(rand() * model.length)]?.id ?? StreamId.MAX;
      const [lo, hi] = a.compare(b) <= 0 ? [a, b] : [b, a];
      const count = Math.floor(rand() * 40);
      const want = model.filter((e) => e.id.compare(lo) >= 0 && e.id.compare(hi) <= 0);
      const cut = (xs: StreamEntry[]) => (count > 0 ? xs.slice(0, count) : xs);
      expect(fieldsOf(await log.read(lo, hi, count, false))).toEqual(fieldsOf(cut(want)));
      expect(fieldsOf(await log.read(lo, hi, count, true))).toEqual(
        fieldsOf(cut([...want].reverse())),
      );
    }
    expect(logs.every((l) => l.segments.length > 3)).toBe(true);
    await store.close();
    // Read back from the files alone, the cache off: the same entries.
    const cold = await Store.open(root, { ...opts, tailCacheBytes: 0 });
    for (const [k, key] of keys.entries()) {
      const all = await cold.get(key)!.read(StreamId.ZERO, StreamId.MAX, 0, false);
      expect(fieldsOf(all)).toEqual(fieldsOf(models[k]!));
    }
    await cold.close();
  });

  it('keeps all tails within the budget, the least recently used going first', () => {
    const budget = new TailBudget(256 * 1024, 128 * 1024);
    const owners: TailOwner[] = Array.from({ length: 20 }, () => ({ tail: null }));
    const frame = Buffer.alloc(1000, 1);
    const ends = owners.map(() => 0);
    for (let round = 0; round < 400; round++) {
      const i = round % owners.length;
      budget.written(owners[i]!, ends[i]!, [frame], frame.length);
      ends[i]! += frame.length;
      expect(budget.bytes).toBeLessThanOrEqual(256 * 1024);
      const held = owners.reduce((n, o) => n + (o.tail?.held ?? 0), 0);
      expect(held).toBe(budget.bytes);
    }
    const one = owners[0]!;
    // A write that does not follow the cached end starts the tail anew.
    budget.written(one, ends[0]! + 5, [frame], frame.length);
    expect(one.tail!.start).toBe(ends[0]! + 5);
    expect(one.tail!.blockAt(ends[0]! + 5)!.used).toBe(frame.length);
    budget.drop(one);
    expect(one.tail).toBeNull();
  });
});
