// The pending entries list (PEL) of one consumer group: every delivered, unacknowledged entry
// ID with its owner (a consumer slot), last delivery time and delivery count, in ID order, plus
// each owner's own IDs in ID order (what XREADGROUP history, XPENDING <consumer> and
// XGROUP DELCONSUMER walk).
//
// Why hand-written: a PEL may hold millions of IDs, and any structure with a JS object per
// entry (a StreamId is an object holding two BigInts; sorted-btree keeps keys and values in
// per-node arrays of such objects) costs well over 100 bytes per entry. Here entries live in
// typed-array columns inside sorted chunks of at most CHUNK_MAX_ENTRIES: an ID is four u32 words
// (ms high, ms low, seq high, seq low, so word order is ID order), the owner a u32, the time an
// f64, the count a u32. The group index costs 32 bytes per entry and an owner's index 16, when
// chunks are full; appends in ID order (the usual delivery) fill chunks completely, and a chunk
// emptied to half merges with a neighbour. Lookups are a binary search over chunks then
// inside one: O(log n); inserts and removals move at most CHUNK_MAX_ENTRIES entries and, when a
// chunk splits or goes, one slot of the chunk array (n / CHUNK_MAX_ENTRIES references).
//
// Delivery counts are u64 in Redis (RETRYCOUNT may set any int64): counts from 2^32 - 1 up
// live in a side map keyed by ID, the column holding the BIG_COUNT marker.
import assert from 'node:assert';
import { StreamId, U64_MAX } from '../../storage/id';

/** Entries per chunk at most: a split or merge moves at most this many. */
export const CHUNK_MAX_ENTRIES = 512;
/** A new chunk's capacity: small groups stay small; capacity doubles up to the maximum. */
const CHUNK_FIRST_CAPACITY = 8;
/** Count column marker: the real count is in the side map. */
const BIG_COUNT = 0xffffffff;
const WORD = 0x1_0000_0000n;

/** Writes `id` as four u32 words at `out[at..at+4)`. */
function putWords(id: StreamId, out: Uint32Array, at: number): void {
  out[at] = Number(id.ms / WORD);
  out[at + 1] = Number(id.ms % WORD);
  out[at + 2] = Number(id.seq / WORD);
  out[at + 3] = Number(id.seq % WORD);
}

function wordsToId(w: Uint32Array, at: number): StreamId {
  const ms = BigInt(w[at] as number) * WORD + BigInt(w[at + 1] as number);
  return new StreamId(ms, BigInt(w[at + 2] as number) * WORD + BigInt(w[at + 3] as number));
}

function compareWords(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k] as number;
    const y = b[bi + k] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A sorted run of IDs with optional payload columns (owner, time, count). */
class Chunk {
  n = 0;
  ids: Uint32Array;
  owners: Uint32Array | null;
  times: Float64Array | null;
  counts: Uint32Array | null;

  constructor(
    public cap: number,
    readonly payload: boolean,
  ) {
    this.ids = new Uint32Array(cap * 4);
    this.owners = payload ? new Uint32Array(cap) : null;
    this.times = payload ? new Float64Array(cap) : null;
    this.counts = payload ? new Uint32Array(cap) : null;
  }

  /** Doubles the capacity (up to the maximum), keeping the entries. */
  grow(): void {
    const cap = Math.min(this.cap * 2, CHUNK_MAX_ENTRIES);
    assert(cap > this.cap, 'a full chunk at the maximum splits instead of growing');
    const old = { ids: this.ids, owners: this.owners, times: this.times, counts: this.counts };
    this.cap = cap;
    this.ids = new Uint32Array(cap * 4);
    this.ids.set(old.ids);
    if (this.payload) {
      this.owners = new Uint32Array(cap);
      this.owners.set(old.owners as Uint32Array);
      this.times = new Float64Array(cap);
      this.times.set(old.times as Float64Array);
      this.counts = new Uint32Array(cap);
      this.counts.set(old.counts as Uint32Array);
    }
  }

  /** Moves entries [from, n) to start at `to` inside this chunk (to make or close a gap). */
  shift(from: number, to: number): void {
    const len = this.n - from;
    this.ids.copyWithin(to * 4, from * 4, (from + len) * 4);
    if (this.payload) {
      (this.owners as Uint32Array).copyWithin(to, from, from + len);
      (this.times as Float64Array).copyWithin(to, from, from + len);
      (this.counts as Uint32Array).copyWithin(to, from, from + len);
    }
  }

  /** Copies `len` entries of `src` from `from` into this chunk at `to`. */
  copyFrom(src: Chunk, from: number, to: number, len: number): void {
    this.ids.set(src.ids.subarray(from * 4, (from + len) * 4), to * 4);
    if (this.payload) {
      (this.owners as Uint32Array).set((src.owners as Uint32Array).subarray(from, from + len), to);
      (this.times as Float64Array).set((src.times as Float64Array).subarray(from, from + len), to);
      (this.counts as Uint32Array).set((src.counts as Uint32Array).subarray(from, from + len), to);
    }
  }
}

/** A position in a ChunkList: chunk index and entry index. */
interface Pos {
  ci: number;
  pos: number;
}

/** IDs in order, as a list of sorted chunks (see the top of the file). */
class ChunkList {
  readonly chunks: Chunk[] = [];
  size = 0;

  constructor(readonly payload: boolean) {}

  /** The first position whose ID is >= key (ci === chunks.length when none); found: equal. */
  seek(key: Uint32Array, at: Pos): boolean {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid] as Chunk;
      if (compareWords(c.ids, (c.n - 1) * 4, key, 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    at.ci = lo;
    at.pos = 0;
    if (lo === chunks.length) return false;
    const c = chunks[lo] as Chunk;
    let a = 0;
    let b = c.n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (compareWords(c.ids, mid * 4, key, 0) < 0) a = mid + 1;
      else b = mid;
    }
    at.pos = a;
    return compareWords(c.ids, a * 4, key, 0) === 0;
  }

  /** Inserts `key` (absent) at the position seek found; `at` then points at the new entry. */
  insertAt(key: Uint32Array, at: Pos): void {
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push(new Chunk(CHUNK_FIRST_CAPACITY, this.payload));
      at.ci = 0;
      at.pos = 0;
    }
    if (at.ci === chunks.length) {
      // Beyond the last ID: append to the last chunk, or start a new one when it is full so
      // that IDs delivered in order leave full chunks behind.
      at.ci = chunks.length - 1;
      at.pos = (chunks[at.ci] as Chunk).n;
      const last = chunks[at.ci] as Chunk;
      if (last.n === CHUNK_MAX_ENTRIES) {
        chunks.push(new Chunk(CHUNK_FIRST_CAPACITY, this.payload));
        at.ci++;
        at.pos = 0;
      }
    }
    let c = chunks[at.ci] as Chunk;
    if (c.n === c.cap && c.cap < CHUNK_MAX_ENTRIES) c.grow();
    if (c.n === c.cap) {
      const half = c.n >>> 1;
      const right = new Chunk(CHUNK_MAX_ENTRIES, this.payload);
      right.copyFrom(c, half, 0, c.n - half);
      right.n = c.n - half;
      c.n = half;
      chunks.splice(at.ci + 1, 0, right);
      if (at.pos > half) {
        at.ci++;
        at.pos -= half;
        c = right;
      }
    }
    c.shift(at.pos, at.pos + 1);
    c.ids.set(key, at.pos * 4);
    c.n++;
    this.size++;
  }

  /**
   * Removes the entry at `at`. A chunk left at most half full merges with a neighbour they
   * both fit in, so no two neighbours are both half empty: chunks stay over half full.
   */
  removeAt(at: Pos): void {
    const chunks = this.chunks;
    const c = chunks[at.ci] as Chunk;
    c.shift(at.pos + 1, at.pos);
    c.n--;
    this.size--;
    if (c.n === 0) {
      chunks.splice(at.ci, 1);
      return;
    }
    if (c.n > CHUNK_MAX_ENTRIES / 2) return;
    const next = chunks[at.ci + 1];
    const prev = chunks[at.ci - 1];
    if (next && c.n + next.n <= CHUNK_MAX_ENTRIES) this.merge(at.ci);
    else if (prev && c.n + prev.n <= CHUNK_MAX_ENTRIES) this.merge(at.ci - 1);
  }

  /** Appends chunk ci + 1 to chunk ci. */
  private merge(ci: number): void {
    const left = this.chunks[ci] as Chunk;
    const right = this.chunks[ci + 1] as Chunk;
    while (left.cap < left.n + right.n) left.grow();
    left.copyFrom(right, 0, left.n, right.n);
    left.n += right.n;
    this.chunks.splice(ci + 1, 1);
  }

  /** Moves `at` to the next entry; false at the end. */
  next(at: Pos): boolean {
    at.pos++;
    const c = this.chunks[at.ci];
    if (c && at.pos < c.n) return true;
    at.ci++;
    at.pos = 0;
    return at.ci < this.chunks.length;
  }

  valid(at: Pos): boolean {
    return at.ci < this.chunks.length && at.pos < (this.chunks[at.ci] as Chunk).n;
  }
}

/** Read access to the entry a scan stands on; valid only during the visit. */
export class PelCursor {
  chunk: Chunk | null = null;
  pos = 0;

  constructor(private readonly pel: Pel) {}

  id(): StreamId {
    return wordsToId((this.chunk as Chunk).ids, this.pos * 4);
  }
  get owner(): number {
    return ((this.chunk as Chunk).owners as Uint32Array)[this.pos] as number;
  }
  get deliveryMs(): number {
    return ((this.chunk as Chunk).times as Float64Array)[this.pos] as number;
  }
  /** The delivery count: a number below 2^32 - 1, a bigint from there (u64 in Redis). */
  get deliveries(): number | bigint {
    const n = ((this.chunk as Chunk).counts as Uint32Array)[this.pos] as number;
    return n === BIG_COUNT ? this.pel.bigCount(this.chunk as Chunk, this.pos) : n;
  }
}

/** One entry as a value (get, and callers that keep entries). */
export interface PendingEntry {
  readonly id: StreamId;
  readonly owner: number;
  readonly deliveryMs: number;
  readonly deliveries: number | bigint;
}

/** Wraps a delivery count to u64, as Redis's uint64_t counter does. */
export function wrapCount(n: number | bigint): number | bigint {
  if (typeof n === 'number' && n < BIG_COUNT) return n;
  const big = BigInt.asUintN(64, BigInt(n));
  return big < BigInt(BIG_COUNT) ? Number(big) : big;
}

/** A PEL as flat columns (checkpoints); see Pel.exportColumns. */
export interface PelColumns {
  readonly ids: Buffer;
  readonly owners: Buffer;
  readonly times: Buffer;
  readonly counts: Buffer;
  readonly big: ReadonlyArray<readonly [Buffer, bigint]>;
}

export class Pel {
  private readonly main = new ChunkList(true);
  /** Each owner slot's IDs; undefined for slots without entries. */
  private readonly owned: (ChunkList | undefined)[] = [];
  private readonly big = new Map<string, bigint>();
  private readonly key = new Uint32Array(4);
  private readonly at: Pos = { ci: 0, pos: 0 };
  private readonly ownAt: Pos = { ci: 0, pos: 0 };

  get size(): number {
    return this.main.size;
  }

  /** Pending entries owned by `owner`. */
  ownedCount(owner: number): number {
    return this.owned[owner]?.size ?? 0;
  }

  has(id: StreamId): boolean {
    putWords(id, this.key, 0);
    return this.main.seek(this.key, this.at);
  }

  get(id: StreamId): PendingEntry | null {
    putWords(id, this.key, 0);
    if (!this.main.seek(this.key, this.at)) return null;
    const cursor = this.cursorAt(this.at);
    return {
      id,
      owner: cursor.owner,
      deliveryMs: cursor.deliveryMs,
      deliveries: cursor.deliveries,
    };
  }

  /** Adds or replaces the entry for `id`, moving it between owners when the owner changes. */
  set(id: StreamId, owner: number, deliveryMs: number, deliveries: number | bigint): void {
    assert(Number.isInteger(owner) && owner >= 0 && owner < BIG_COUNT, 'owner is a u32 slot');
    assert(typeof deliveries === 'bigint' || Number.isSafeInteger(deliveries), 'count is exact');
    assert(BigInt(deliveries) >= 0n && BigInt(deliveries) <= U64_MAX, 'count is a u64');
    putWords(id, this.key, 0);
    const at = this.at;
    let previous = -1;
    if (this.main.seek(this.key, at)) {
      const c = this.main.chunks[at.ci] as Chunk;
      previous = (c.owners as Uint32Array)[at.pos] as number;
      if ((c.counts as Uint32Array)[at.pos] === BIG_COUNT) this.big.delete(id.toString());
    } else {
      this.main.insertAt(this.key, at);
    }
    const c = this.main.chunks[at.ci] as Chunk;
    (c.owners as Uint32Array)[at.pos] = owner;
    (c.times as Float64Array)[at.pos] = deliveryMs;
    const small = typeof deliveries === 'number' && deliveries < BIG_COUNT;
    (c.counts as Uint32Array)[at.pos] = small ? deliveries : BIG_COUNT;
    if (!small) this.big.set(id.toString(), BigInt(deliveries));
    if (previous === owner) return;
    if (previous >= 0) this.unown(previous);
    this.own(owner);
  }

  /** Removes `id`; returns its owner, or -1 when it was not pending. */
  delete(id: StreamId): number {
    putWords(id, this.key, 0);
    const at = this.at;
    if (!this.main.seek(this.key, at)) return -1;
    const c = this.main.chunks[at.ci] as Chunk;
    const owner = (c.owners as Uint32Array)[at.pos] as number;
    if ((c.counts as Uint32Array)[at.pos] === BIG_COUNT) this.big.delete(id.toString());
    this.main.removeAt(at);
    this.unown(owner);
    return owner;
  }

  /** Removes every entry of `owner` (XGROUP DELCONSUMER); returns how many there were. */
  deleteOwner(owner: number): number {
    const list = this.owned[owner];
    if (!list) return 0;
    const ids: StreamId[] = [];
    for (const c of list.chunks) for (let i = 0; i < c.n; i++) ids.push(wordsToId(c.ids, i * 4));
    for (const id of ids) this.delete(id);
    assert(this.owned[owner] === undefined, "an owner's index goes with its last entry");
    return ids.length;
  }

  first(): StreamId | null {
    const c = this.main.chunks[0];
    return c ? wordsToId(c.ids, 0) : null;
  }

  last(): StreamId | null {
    const c = this.main.chunks[this.main.chunks.length - 1];
    return c ? wordsToId(c.ids, (c.n - 1) * 4) : null;
  }

  /** The first pending ID strictly above `id`, or null. */
  after(id: StreamId): StreamId | null {
    putWords(id, this.key, 0);
    const at = this.at;
    if (this.main.seek(this.key, at) && !this.main.next(at)) return null;
    if (!this.main.valid(at)) return null;
    return wordsToId((this.main.chunks[at.ci] as Chunk).ids, at.pos * 4);
  }

  /**
   * Visits entries with ID >= `from` in order until `visit` returns false. The PEL must not
   * change during the scan: callers collect, then apply.
   */
  scan(from: StreamId, visit: (c: PelCursor) => boolean): void {
    putWords(from, this.key, 0);
    const at: Pos = { ci: 0, pos: 0 };
    this.main.seek(this.key, at);
    if (!this.main.valid(at)) return;
    const cursor = new PelCursor(this);
    do {
      cursor.chunk = this.main.chunks[at.ci] as Chunk;
      cursor.pos = at.pos;
      if (!visit(cursor)) return;
    } while (this.main.next(at));
  }

  /** Like scan, over the entries of one owner. */
  scanOwner(owner: number, from: StreamId, visit: (c: PelCursor) => boolean): void {
    const list = this.owned[owner];
    if (!list) return;
    const key = new Uint32Array(4);
    putWords(from, key, 0);
    const at: Pos = { ci: 0, pos: 0 };
    const inMain: Pos = { ci: 0, pos: 0 };
    list.seek(key, at);
    if (!list.valid(at)) return;
    const cursor = new PelCursor(this);
    do {
      const c = list.chunks[at.ci] as Chunk;
      const found = this.main.seek(c.ids.subarray(at.pos * 4, at.pos * 4 + 4), inMain);
      assert(found, "an owner's ID is in the group PEL");
      cursor.chunk = this.main.chunks[inMain.ci] as Chunk;
      cursor.pos = inMain.pos;
      if (!visit(cursor)) return;
    } while (list.next(at));
  }

  /**
   * Every entry in ID order as flat columns, for checkpoints: IDs 16 bytes each in the storage
   * layout (ms u64 LE, seq u64 LE), owners and counts u32 LE, times f64 LE; counts at
   * BIG_COUNT have their value in `big` (ID, count).
   */
  exportColumns(): PelColumns {
    const n = this.main.size;
    const ids = Buffer.allocUnsafe(n * 16);
    const owners = Buffer.allocUnsafe(n * 4);
    const times = Buffer.allocUnsafe(n * 8);
    const counts = Buffer.allocUnsafe(n * 4);
    let i = 0;
    for (const c of this.main.chunks) {
      for (let p = 0; p < c.n; p++, i++) {
        const w = p * 4;
        ids.writeUInt32LE(c.ids[w + 1] as number, i * 16);
        ids.writeUInt32LE(c.ids[w] as number, i * 16 + 4);
        ids.writeUInt32LE(c.ids[w + 3] as number, i * 16 + 8);
        ids.writeUInt32LE(c.ids[w + 2] as number, i * 16 + 12);
        owners.writeUInt32LE((c.owners as Uint32Array)[p] as number, i * 4);
        times.writeDoubleLE((c.times as Float64Array)[p] as number, i * 8);
        counts.writeUInt32LE((c.counts as Uint32Array)[p] as number, i * 4);
      }
    }
    const big = [...this.big].map(([k, v]) => [(StreamId.parse(k) as StreamId).toBuffer(), v]);
    return { ids, owners, times, counts, big: big as Array<[Buffer, bigint]> };
  }

  /** Loads what exportColumns wrote into an empty PEL; throws on a malformed column set. */
  importColumns(cols: PelColumns): void {
    assert(this.main.size === 0, 'columns load into an empty PEL');
    const n = cols.ids.length / 16;
    const same = cols.owners.length === n * 4 && cols.counts.length === n * 4;
    if (!Number.isInteger(n) || !same || cols.times.length !== n * 8) {
      throw new Error('PEL columns have mismatched lengths');
    }
    const key = this.key;
    for (let i = 0; i < n; i++) {
      key[0] = cols.ids.readUInt32LE(i * 16 + 4);
      key[1] = cols.ids.readUInt32LE(i * 16);
      key[2] = cols.ids.readUInt32LE(i * 16 + 12);
      key[3] = cols.ids.readUInt32LE(i * 16 + 8);
      const owner = cols.owners.readUInt32LE(i * 4);
      this.appendKey(owner, cols.times.readDoubleLE(i * 8), cols.counts.readUInt32LE(i * 4));
    }
    for (const [id, count] of cols.big) this.big.set(StreamId.read(id, 0).toString(), count);
  }

  /** Appends the ID in `this.key`, above every pending ID, with its columns. */
  private appendKey(owner: number, deliveryMs: number, count: number): void {
    const last = this.main.chunks[this.main.chunks.length - 1];
    if (last && compareWords(last.ids, (last.n - 1) * 4, this.key, 0) >= 0) {
      throw new Error('PEL columns are not in ascending ID order');
    }
    const at = this.at;
    at.ci = this.main.chunks.length;
    this.main.insertAt(this.key, at);
    const c = this.main.chunks[at.ci] as Chunk;
    (c.owners as Uint32Array)[at.pos] = owner;
    (c.times as Float64Array)[at.pos] = deliveryMs;
    (c.counts as Uint32Array)[at.pos] = count;
    let list = this.owned[owner];
    if (!list) this.owned[owner] = list = new ChunkList(false);
    this.ownAt.ci = list.chunks.length;
    list.insertAt(this.key, this.ownAt);
  }

  /** Called by PelCursor for a count kept in the side map. */
  bigCount(chunk: Chunk, pos: number): bigint {
    const n = this.big.get(wordsToId(chunk.ids, pos * 4).toString());
    assert(n !== undefined, 'a BIG_COUNT marker has its count in the side map');
    return n;
  }

  private cursorAt(at: Pos): PelCursor {
    const cursor = new PelCursor(this);
    cursor.chunk = this.main.chunks[at.ci] as Chunk;
    cursor.pos = at.pos;
    return cursor;
  }

  /** Adds the ID in `this.key` to `owner`'s index. */
  private own(owner: number): void {
    let list = this.owned[owner];
    if (!list) this.owned[owner] = list = new ChunkList(false);
    const found = list.seek(this.key, this.ownAt);
    assert(!found, 'an ID has one owner');
    list.insertAt(this.key, this.ownAt);
  }

  /** Removes the ID in `this.key` from `owner`'s index. */
  private unown(owner: number): void {
    const list = this.owned[owner];
    const found = list?.seek(this.key, this.ownAt) ?? false;
    assert(list && found, "a pending ID is in its owner's index");
    list.removeAt(this.ownAt);
    if (list.size === 0) this.owned[owner] = undefined;
  }
}
