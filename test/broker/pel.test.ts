// The pending entries list structure: behaviour against a plain model under random operations
// (chunk splits, merges and growth included), owner indexes, u64 counts, column export, and
// its memory cost per entry with a million entries.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CHUNK_MAX_ENTRIES, Pel, wrapCount } from '../../src/broker/pel';
import { StreamId, U64_MAX } from '../../storage/id';

interface ModelEntry {
  id: StreamId;
  owner: number;
  deliveryMs: number;
  deliveries: number | bigint;
}

/** The obvious implementation: a map, sorted on demand. */
class Model {
  readonly m = new Map<string, ModelEntry>();
  sorted(): ModelEntry[] {
    return [...this.m.values()].sort((a, b) => a.id.compare(b.id));
  }
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** IDs spread over both u32 words of ms and seq, so word order is exercised. */
function randomId(r: () => number): StreamId {
  const pick = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 40n, U64_MAX];
  const ms = (pick[Math.floor(r() * pick.length)] as bigint) + BigInt(Math.floor(r() * 50));
  const seq = (pick[Math.floor(r() * pick.length)] as bigint) + BigInt(Math.floor(r() * 3));
  return new StreamId(ms > U64_MAX ? U64_MAX : ms, seq > U64_MAX ? U64_MAX : seq);
}

function all(pel: Pel): ModelEntry[] {
  const out: ModelEntry[] = [];
  pel.scan(StreamId.ZERO, (c) => {
    out.push({ id: c.id(), owner: c.owner, deliveryMs: c.deliveryMs, deliveries: c.deliveries });
    return true;
  });
  return out;
}

function owned(pel: Pel, owner: number): string[] {
  const out: string[] = [];
  pel.scanOwner(owner, StreamId.ZERO, (c) => {
    expect(c.owner).toBe(owner);
    out.push(c.id().toString());
    return true;
  });
  return out;
}

function check(pel: Pel, model: Model, owners: number): void {
  const want = model.sorted();
  expect(pel.size).toBe(want.length);
  expect(all(pel)).toEqual(want);
  expect(pel.first()?.toString() ?? null).toBe(want[0]?.id.toString() ?? null);
  expect(pel.last()?.toString() ?? null).toBe(want[want.length - 1]?.id.toString() ?? null);
  for (let o = 0; o < owners; o++) {
    const mine = want.filter((e) => e.owner === o).map((e) => e.id.toString());
    expect(owned(pel, o)).toEqual(mine);
    expect(pel.ownedCount(o)).toBe(mine.length);
  }
}

describe('Pel', () => {
  it('matches a sorted map under random sets, deletes and owner removals', () => {
    const r = rng(7);
    const pel = new Pel();
    const model = new Model();
    const owners = 5;
    for (let step = 0; step < 20_000; step++) {
      const id = randomId(r);
      const op = r();
      if (op < 0.55) {
        const e = { id, owner: Math.floor(r() * owners), deliveryMs: step, deliveries: step % 7 };
        pel.set(e.id, e.owner, e.deliveryMs, e.deliveries);
        model.m.set(id.toString(), e);
      } else if (op < 0.95) {
        const had = model.m.get(id.toString());
        expect(pel.delete(id)).toBe(had ? had.owner : -1);
        model.m.delete(id.toString());
      } else if (op < 0.96) {
        const o = Math.floor(r() * owners);
        const mine = [...model.m.values()].filter((e) => e.owner === o);
        expect(pel.deleteOwner(o)).toBe(mine.length);
        for (const e of mine) model.m.delete(e.id.toString());
      }
      if (step % 2_000 === 0) check(pel, model, owners);
    }
    check(pel, model, owners);
  });

  it('keeps order across many chunks when IDs arrive in order and leave at random', () => {
    const r = rng(11);
    const pel = new Pel();
    const model = new Model();
    const n = CHUNK_MAX_ENTRIES * 9 + 17;
    for (let i = 0; i < n; i++) {
      const id = new StreamId(1000n + BigInt(i), 0n);
      pel.set(id, i % 3, i, 1);
      model.m.set(id.toString(), { id, owner: i % 3, deliveryMs: i, deliveries: 1 });
    }
    check(pel, model, 3);
    for (const e of [...model.m.values()]) {
      if (r() < 0.7) {
        pel.delete(e.id);
        model.m.delete(e.id.toString());
      }
    }
    check(pel, model, 3);
    // Inserting in the middle of full chunks splits them.
    for (let i = 0; i < n; i += 2) {
      const id = new StreamId(1000n + BigInt(i), 5n);
      pel.set(id, 1, -i, 2);
      model.m.set(id.toString(), { id, owner: 1, deliveryMs: -i, deliveries: 2 });
    }
    check(pel, model, 3);
  });

  it('get, has and after find entries and their successors', () => {
    const pel = new Pel();
    const ids = [new StreamId(1n, 0n), new StreamId(1n, 5n), new StreamId(9n, 0n)];
    ids.forEach((id, i) => pel.set(id, i, 100 + i, i + 1));
    expect(pel.get(new StreamId(1n, 5n))).toEqual({
      id: new StreamId(1n, 5n),
      owner: 1,
      deliveryMs: 101,
      deliveries: 2,
    });
    expect(pel.get(new StreamId(1n, 4n))).toBeNull();
    expect(pel.has(new StreamId(9n, 0n))).toBe(true);
    expect(pel.after(new StreamId(1n, 0n))?.toString()).toBe('1-5');
    expect(pel.after(new StreamId(1n, 1n))?.toString()).toBe('1-5');
    expect(pel.after(new StreamId(9n, 0n))).toBeNull();
    expect(pel.after(StreamId.ZERO)?.toString()).toBe('1-0');
  });

  it('moving an entry to another owner updates both owner indexes', () => {
    const pel = new Pel();
    const id = new StreamId(5n, 5n);
    pel.set(id, 0, 1, 1);
    pel.set(id, 3, 2, 2);
    expect(pel.ownedCount(0)).toBe(0);
    expect(pel.ownedCount(3)).toBe(1);
    expect(owned(pel, 3)).toEqual(['5-5']);
    expect(pel.delete(id)).toBe(3);
    expect(pel.ownedCount(3)).toBe(0);
  });

  it('scans stop when the visitor says so and start at the given ID', () => {
    const pel = new Pel();
    for (let i = 1; i <= 10; i++) pel.set(new StreamId(BigInt(i), 0n), i % 2, i, 1);
    const seen: string[] = [];
    pel.scan(new StreamId(4n, 0n), (c) => {
      seen.push(c.id().toString());
      return seen.length < 3;
    });
    expect(seen).toEqual(['4-0', '5-0', '6-0']);
    const odd: string[] = [];
    pel.scanOwner(1, new StreamId(4n, 0n), (c) => (odd.push(c.id().toString()), true));
    expect(odd).toEqual(['5-0', '7-0', '9-0']);
  });

  it('delivery counts are exact u64 values past 2^32 and wrap at 2^64', () => {
    const pel = new Pel();
    const a = new StreamId(1n, 0n);
    const b = new StreamId(2n, 0n);
    pel.set(a, 0, 1, 2n ** 63n - 1n);
    pel.set(b, 0, 1, 0xffff_fffe);
    expect(pel.get(a)?.deliveries).toBe(2n ** 63n - 1n);
    expect(pel.get(b)?.deliveries).toBe(0xffff_fffe);
    pel.set(b, 0, 1, wrapCount(0xffff_fffe + 1));
    expect(pel.get(b)?.deliveries).toBe(0xffff_ffffn);
    expect(wrapCount(U64_MAX + 1n)).toBe(0);
    // A big count replaced by a small one leaves nothing behind in the side map.
    pel.set(a, 0, 1, 3);
    expect(pel.get(a)?.deliveries).toBe(3);
    const cols = pel.exportColumns();
    expect(cols.big.map(([id, n]) => [StreamId.read(id, 0).toString(), n])).toEqual([
      ['2-0', 0xffff_ffffn],
    ]);
  });

  it('exports columns that import into an equal PEL', () => {
    const r = rng(3);
    const pel = new Pel();
    for (let i = 0; i < 3000; i++) {
      pel.set(randomId(r), Math.floor(r() * 4), Math.floor(r() * 1e12), i === 7 ? 2n ** 40n : i);
    }
    const copy = new Pel();
    copy.importColumns(pel.exportColumns());
    expect(all(copy)).toEqual(all(pel));
    for (let o = 0; o < 4; o++) expect(owned(copy, o)).toEqual(owned(pel, o));
  });

  it('refuses columns out of order or of mismatched lengths', () => {
    const pel = new Pel();
    pel.set(new StreamId(2n, 0n), 0, 1, 1);
    pel.set(new StreamId(1n, 0n), 0, 1, 1);
    const cols = pel.exportColumns();
    const swapped = Buffer.concat([cols.ids.subarray(16), cols.ids.subarray(0, 16)]);
    expect(() => new Pel().importColumns({ ...cols, ids: swapped })).toThrow(/order/);
    expect(() => new Pel().importColumns({ ...cols, times: Buffer.alloc(8) })).toThrow(/length/);
  });

  it('holds a million pending entries in under 80 bytes each', () => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const usage = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const n = 1_000_000;
    const before = usage();
    const pel = new Pel();
    const base = 1_700_000_000_000n;
    for (let i = 0; i < n; i++) {
      pel.set(new StreamId(base + BigInt(i >> 3), BigInt(i & 7)), i % 10, 1.7e12 + i, 1);
    }
    const perEntry = (usage() - before) / n;
    // Acking every other entry leaves half-full chunks, which merge back.
    for (let i = 0; i < n; i += 2) pel.delete(new StreamId(base + BigInt(i >> 3), BigInt(i & 7)));
    const perEntryAfterAcks = (usage() - before) / pel.size;
    console.info(
      `PEL memory: ${perEntry.toFixed(1)} bytes/entry for ${n} entries, ` +
        `${perEntryAfterAcks.toFixed(1)} after acknowledging every other one`,
    );
    expect(pel.size).toBe(n / 2);
    expect(perEntry).toBeLessThan(80);
    expect(perEntryAfterAcks).toBeLessThan(80);
  });
});
