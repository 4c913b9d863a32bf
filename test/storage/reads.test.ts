import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../storage/store';
import { StreamId } from '../../storage/id';
import { nodeIo, type Io } from '../../storage/io';
import type { StreamEntry } from '../../storage/records';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-reads-'));
  dirs.push(d);
  return d;
}

/** Counts the bytes read from segment files. */
function countingIo(): Io & { bytesRead: number } {
  const io = {
    ...nodeIo,
    bytesRead: 0,
    async read(fd: number, buf: Buffer, off: number, len: number, pos: number) {
      const n = await nodeIo.read(fd, buf, off, len, pos);
      io.bytesRead += n;
      return n;
    },
  };
  return io;
}

const id = (ms: number, seq = 0) => new StreamId(BigInt(ms), BigInt(seq));
const value = (i: number) => Buffer.from(`value-${i}-`.padEnd(100, 'x'));

/** A small PRNG so failures replay. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('range reads', () => {
  it('reading 10 entries from the middle of a large stream touches a few KB', async () => {
    const root = await tempRoot();
    let store = await Store.open(root, { fsync: 'no', segmentBytes: 1 << 20 });
    const log = await store.create(Buffer.from('big'));
    const total = 200_000;
    for (let base = 0; base < total; base += 1000) {
      await log.append(() =>
        Array.from({ length: 1000 }, (_, j) => ({
          id: id(base + j + 1),
          fields: [Buffer.from('f'), value(base + j + 1)],
        })),
      );
    }
    await store.close();
    const io = countingIo();
    store = await Store.open(root, { fsync: 'no', segmentBytes: 1 << 20, io });
    const again = store.get(Buffer.from('big'))!;
    expect(again.segments.length).toBeGreaterThan(20);
    io.bytesRead = 0;
    const got = await again.read(id(123_457), StreamId.MAX, 10, false);
    expect(got.map((e) => Number(e.id.ms))).toEqual(
      Array.from({ length: 10 }, (_, i) => 123_457 + i),
    );
    expect(io.bytesRead).toBeLessThan(32 * 1024);
    io.bytesRead = 0;
    const back = await again.read(StreamId.ZERO, id(99_999), 10, true);
    expect(back.map((e) => Number(e.id.ms))).toEqual(
      Array.from({ length: 10 }, (_, i) => 99_999 - i),
    );
    expect(io.bytesRead).toBeLessThan(32 * 1024);
    await store.close();
  });

  it('forward and reverse reads match a model across segments, deletes and trims', async () => {
    const root = await tempRoot();
    const store = await Store.open(root, { fsync: 'no', segmentBytes: 8192 });
    const log = await store.create(Buffer.from('model'));
    const model: StreamEntry[] = [];
    const rand = rng(7);
    let ms = 1;
    for (let round = 0; round < 60; round++) {
      const n = 1 + Math.floor(rand() * 40);
      const batch = Array.from({ length: n }, () => {
        const seq = Math.floor(rand() * 3);
        const e = { id: id(ms, seq), fields: [Buffer.from('k'), value(ms)] };
        ms += 1 + Math.floor(rand() * 3);
        return e;
      });
      await log.append(() => batch);
      model.push(...batch);
      if (rand() < 0.3 && model.length > 0) {
        const victims = [0, 1, 2].map(() => model[Math.floor(rand() * model.length)]!.id);
        const expected = new Set(victims.map(String)).size;
        expect(await log.delete(victims)).toBe(expected);
        for (const v of victims) {
          const at = model.findIndex((e) => e.id.equals(v));
          if (at >= 0) model.splice(at, 1);
        }
      }
      if (rand() < 0.15) {
        const keep = Math.floor(model.length * 0.7);
        expect(await log.trim({ maxLen: keep, approx: false, limit: 0 })).toBe(model.length - keep);
        model.splice(0, model.length - keep);
      }
      expect(log.length).toBe(model.length);
      for (let q = 0; q < 5; q++) {
        const a = model[Math.floor(rand() * model.length)]?.id ?? StreamId.ZERO;
        const b = model[Math.floor(rand() * model.length)]?.id ?? StreamId.MAX;
        const [lo, hi] = a.compare(b) <= 0 ? [a, b] : [b, a];
        const count = Math.floor(rand() * 12);
        const want = model.filter((e) => e.id.compare(lo) >= 0 && e.id.compare(hi) <= 0);
        const fwd = await log.read(lo, hi, count, false);
        const rev = await log.read(lo, hi, count, true);
        const cut = (xs: StreamEntry[]) => (count > 0 ? xs.slice(0, count) : xs);
        expect(fwd.map((e) => e.id.toString())).toEqual(cut(want).map((e) => e.id.toString()));
        expect(rev.map((e) => e.id.toString())).toEqual(
          cut([...want].reverse()).map((e) => e.id.toString()),
        );
      }
    }
    expect(log.segments.length).toBeGreaterThan(1);
    await store.close();
  });
});

describe('commands split over frames', () => {
  it('torn tail: a crash inside a split command drops the whole command on restart', async () => {
    const root = await tempRoot();
    const store = await Store.open(root, { fsync: 'always', segmentBytes: 1 << 24 });
    const log = await store.create(Buffer.from('split'));
    await log.append(() => [{ id: id(1), fields: [Buffer.from('f'), value(1)] }]);
    await log.append(() =>
      Array.from({ length: 500 }, (_, j) => ({
        id: id(j + 2),
        fields: [Buffer.from('f'), value(j)],
      })),
    );
    // A crash copy: what a kill -9 leaves, then cut inside the run of frames of the big append.
    const copy = await tempRoot();
    await fs.cp(root, copy, { recursive: true });
    await fs.rm(path.join(copy, 'LOCK'), { force: true });
    await store.close();
    const streamDir = path.join(
      copy,
      'streams',
      (await fs.readdir(path.join(copy, 'streams')))[0]!,
    );
    for (const f of await fs.readdir(streamDir)) {
      if (f.startsWith('checkpoint.')) await fs.rm(path.join(streamDir, f));
    }
    const seg = path.join(streamDir, '00000000000000000001.seg');
    const bytes = await fs.readFile(seg);
    const frames: Array<{ pos: number; flags: number }> = [];
    // Up to the zeros the file was grown by under `always` (storage/size-ahead.ts).
    for (let pos = 0; pos < bytes.length && bytes.readUInt32LE(pos) > 0;) {
      frames.push({ pos, flags: bytes.readUInt16LE(pos + 10) });
      pos += bytes.readUInt32LE(pos);
    }
    const continued = frames.filter((f) => (f.flags & 4) !== 0);
    expect(continued.length).toBeGreaterThan(2);
    // Cut at a frame boundary in the middle of the run: every remaining frame checks.
    await fs.truncate(seg, continued[Math.floor(continued.length / 2)]!.pos);
    const again = await Store.open(copy, { fsync: 'always', segmentBytes: 1 << 24 });
    const log2 = again.get(Buffer.from('split'))!;
    expect(again.reports.get('split')!.labels).toContain('TORN_TAIL');
    expect(log2.length).toBe(1);
    expect(log2.lastId.toString()).toBe('1-0');
    const all = await log2.read(StreamId.ZERO, StreamId.MAX, 0, false);
    expect(all.map((e) => e.id.toString())).toEqual(['1-0']);
    await log2.append(() => [{ id: id(2), fields: [Buffer.from('f'), value(2)] }]);
    await again.close();
  });
});
