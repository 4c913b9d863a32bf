// The keyspace: every key of every database with its type. Streams live in the store (one log
// per key, its storage key being the physical database byte followed by the key); lists live in
// memory and change through the journal (lists.ts). Type checks (WRONGTYPE) happen here, once.
//
// Databases: commands name logical databases; data lives in physical ones (list-records.ts).
// `physical[db]` maps one to the other, a permutation that starts as the identity and that
// SWAPDB changes by swapping two entries along with the two databases' maps: a swap moves no
// data, renames no directory, and a stream's storage key, fixed when it is created, stays
// valid. At start, a stream found under physical byte P is registered in the database that
// maps to P (streams come first, as the identity; the journal's replay then sets the mapping
// and swaps, moving them along).
//
// SCAN order: each database also keeps its keys sorted by a 48-bit hash of the key (KeyOrder).
// A SCAN cursor is a position in that hash space: a call returns keys whose hash is at or above
// the cursor, in hash order, and the next cursor is one past the last returned hash. A key's
// hash never changes, so a key present for the whole scan is returned exactly once, whatever is
// added or removed meanwhile (Redis promises at least once), and keys sharing a hash are always
// returned in the same call.
import assert from 'node:assert';
import type { Store } from '../../storage/store';
import type { StreamLog } from '../../storage/stream-log';
import { Errors } from '../errors';
import { StreamGroups } from './groups';
import { ListValue, type ListHost, type Lists } from './lists';

export interface StreamValue {
  readonly type: 'stream';
  readonly log: StreamLog;
  readonly groups: StreamGroups;
}

export type Value = StreamValue | ListValue;
export type ValueType = Value['type'];

/** The store's key for `key` in physical database `db` (Keyspace.physicalDb). */
export function storageKey(db: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = db;
  key.copy(out, 1);
  return out;
}

/** Strings up to this many bytes are compared with the last one made (Latin1Memo). */
const MEMO_MAX_BYTES = 64;

/** Whether `text` is `prefix` followed by `bytes` as latin1 (1:1), compared in place. */
export function isLatin1Of(text: string, prefix: number, bytes: Buffer): boolean {
  const n = bytes.length;
  if (text.length !== n + prefix) return false;
  for (let i = 0; i < n; i++) if (bytes[i] !== text.charCodeAt(i + prefix)) return false;
  return true;
}

/**
 * Makes strings of bytes as latin1 (1:1), optionally after one code unit `head`, handing out the
 * string it made last time when they are the same. A pipeline names the same key or channel
 * again and again, and a command asks for its key's id several times (the coalescer, locks,
 * blocking, the keyspace): comparing in place costs less than making the string (a call into
 * C++, then a concatenation), and Map lookups then get a string already hashed.
 */
export class Latin1Memo {
  private last = '';

  /** `bytes` as latin1, after the code unit `head` unless it is NO_HEAD. */
  of(bytes: Buffer, head = NO_HEAD): string {
    const last = this.last;
    const prefix = head === NO_HEAD ? 0 : 1;
    if (bytes.length <= MEMO_MAX_BYTES && (prefix === 0 || last.charCodeAt(0) === head)) {
      if (isLatin1Of(last, prefix, bytes)) return last;
    }
    const text = bytes.toString('latin1');
    return (this.last = prefix === 0 ? text : String.fromCharCode(head) + text);
  }
}

/** Latin1Memo.of without a head. */
const NO_HEAD = -1;

const keyIds = new Latin1Memo();

/** The identity of a key across databases, for maps, locks and blocking (latin1 is 1:1). */
export function keyId(db: number, key: Buffer): string {
  return keyIds.of(key, db);
}

/** Hash values are below 2^48, so cursors and `hash + 1` stay exact JS integers. */
export const SCAN_HASH_LIMIT = 2 ** 48;

function fmix32(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The SCAN position of a key (its latin1 id within a database): 48 bits, deterministic. */
export function scanHash(id: string): number {
  let h1 = 0x811c9dc5 ^ id.length;
  let h2 = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return fmix32(h1) * 0x10000 + (fmix32(h2) >>> 16);
}

interface Slot {
  readonly hash: number;
  readonly id: string;
}

/** Orders slots by hash, then id (ties are rare but must still be a total order). */
function compareSlot(a: Slot, hash: number, id: string): number {
  if (a.hash !== hash) return a.hash < hash ? -1 : 1;
  return a.id < id ? -1 : a.id > id ? 1 : 0;
}

/** Slots per chunk before a split: inserts and removals move at most this many references. */
const CHUNK_MAX = 512;

/**
 * The keys of one database sorted by (scanHash, id): a list of sorted chunks, every slot of a
 * chunk below every slot of the next, so adding and removing cost O(log n + CHUNK_MAX).
 */
export class KeyOrder {
  private chunks: Slot[][] = [];
  private count = 0;

  /** `hash` is replaceable so tests can force collisions. */
  constructor(private readonly hash: (id: string) => number = scanHash) {}

  get size(): number {
    return this.count;
  }

  add(id: string): void {
    const hash = this.hash(id);
    if (this.chunks.length === 0) {
      this.chunks.push([{ hash, id }]);
      this.count++;
      return;
    }
    const ci = Math.min(this.chunkFor(hash, id), this.chunks.length - 1);
    const chunk = this.chunks[ci] as Slot[];
    const i = lowerBound(chunk, hash, id);
    assert(i >= chunk.length || compareSlot(chunk[i] as Slot, hash, id) !== 0, 'key added twice');
    chunk.splice(i, 0, { hash, id });
    this.count++;
    if (chunk.length > CHUNK_MAX) this.chunks.splice(ci + 1, 0, chunk.splice(CHUNK_MAX / 2));
  }

  remove(id: string): void {
    const hash = this.hash(id);
    const ci = this.chunkFor(hash, id);
    const chunk = this.chunks[ci];
    const i = chunk ? lowerBound(chunk, hash, id) : 0;
    assert(chunk && i < chunk.length && (chunk[i] as Slot).id === id, 'removed key not ordered');
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
  }

  /**
   * Up to `count` ids with hash >= `cursor` in order, plus those sharing the last one's hash;
   * `next` is the cursor to continue from, 0 when nothing is left.
   */
  scan(cursor: number, count: number): { ids: string[]; next: number } {
    const ids: string[] = [];
    let ci = this.chunkFor(cursor, '');
    let i = ci < this.chunks.length ? lowerBound(this.chunks[ci] as Slot[], cursor, '') : 0;
    let lastHash = -1;
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci] as Slot[];
      for (; i < chunk.length; i++) {
        const slot = chunk[i] as Slot;
        if (ids.length >= count && slot.hash !== lastHash) return { ids, next: lastHash + 1 };
        ids.push(slot.id);
        lastHash = slot.hash;
      }
    }
    return { ids, next: 0 };
  }

  /** Index of the first chunk whose last slot is >= (hash, id); chunks.length when none. */
  private chunkFor(hash: number, id: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid] as Slot[];
      if (compareSlot(chunk[chunk.length - 1] as Slot, hash, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function lowerBound(chunk: readonly Slot[], hash: number, id: string): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSlot(chunk[mid] as Slot, hash, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Streams dropped at once by DEL and FLUSH: bounds the open files and fsyncs in flight. */
const DELETE_PARALLEL = 16;

/** A physical database is a byte (the first of a stream's storage key). */
const PHYSICAL_DBS = 256;

/** `v` as a stream (undefined stays undefined); WRONGTYPE when it is another type. */
function asStream(v: Value | undefined): StreamValue | undefined {
  if (v && v.type !== 'stream') throw Errors.wrongType();
  return v;
}

/** `v` as a list (undefined stays undefined); WRONGTYPE when it is another type. */
function asList(v: Value | undefined): ListValue | undefined {
  if (v && v.type !== 'list') throw Errors.wrongType();
  return v;
}

/** Told of each swap of two databases, at the moment the keyspace changes (WATCH). */
export type SwapListener = (a: number, b: number) => void;

export class Keyspace implements ListHost {
  private readonly dbs: Array<Map<string, Value>>;
  private readonly orders: KeyOrder[];
  /** Logical database -> physical database. */
  private readonly physical: number[];
  /** Physical database -> logical database; bytes past `databases` map to themselves. */
  private readonly logical: number[];
  /** Streams being created, by storage key (latin1): the physical place is what is taken. */
  private readonly creating = new Map<string, Promise<StreamValue>>();
  /** Groups made by the store's extension factory, waiting for their log to be registered. */
  private readonly pendingGroups = new Map<string, StreamGroups>();

  private store: Store | null = null;
  /** Set by the broker once the journal is open; every list change goes through it. */
  lists: Lists | null = null;

  /** Called by swapDbs() right after each swap (live and at replay). */
  readonly swapListeners: SwapListener[] = [];

  constructor(readonly databases: number) {
    assert(databases >= 1 && databases <= PHYSICAL_DBS - 1, 'databases must be 1..255');
    this.dbs = Array.from({ length: databases }, () => new Map());
    this.orders = Array.from({ length: databases }, () => new KeyOrder());
    this.physical = Array.from({ length: databases }, (_, db) => db);
    this.logical = Array.from({ length: PHYSICAL_DBS }, (_, p) => p);
  }

  /** The extension factory given to Store.open: one StreamGroups per stream log. */
  groupsFactory = (skey: Buffer): StreamGroups => {
    const groups = new StreamGroups();
    this.pendingGroups.set(skey.toString('latin1'), groups);
    return groups;
  };

  /** Takes the opened store and registers the logs it recovered. */
  attach(store: Store): void {
    this.store = store;
    for (const log of store.keys()) this.register(log);
  }

  private register(log: StreamLog): StreamValue {
    const id = log.key.toString('latin1');
    const groups = this.pendingGroups.get(id) ?? new StreamGroups();
    this.pendingGroups.delete(id);
    const db = this.logicalDb(log.key[0] as number);
    const value: StreamValue = { type: 'stream', log, groups };
    this.put(db, id.slice(1), value);
    return value;
  }

  private put(db: number, id: string, value: Value): void {
    const m = this.db(db);
    if (!m.has(id)) (this.orders[db] as KeyOrder).add(id);
    m.set(id, value);
  }

  private remove(db: number, id: string): void {
    if (this.db(db).delete(id)) (this.orders[db] as KeyOrder).remove(id);
  }

  db(n: number): Map<string, Value> {
    const m = this.dbs[n];
    if (!m) throw Errors.dbIndexOutOfRange();
    return m;
  }

  // ---- databases: logical (what commands name) and physical (where data lives) ------------

  physicalDb(db: number): number {
    const p = this.physical[db];
    if (p === undefined) throw Errors.dbIndexOutOfRange();
    return p;
  }

  logicalDb(physical: number): number {
    return this.logical[physical] ?? physical;
  }

  /** Logical database -> physical database, for every database (snapshots, tests). */
  permutation(): readonly number[] {
    return this.physical;
  }

  /**
   * SWAPDB's change in memory: the two databases trade their keys (maps and SCAN orders move,
   * nothing is copied) and their physical databases. Durability is the caller's (lists.ts).
   */
  swapDbs(a: number, b: number): void {
    const [pa, pb] = [this.physicalDb(a), this.physicalDb(b)];
    if (a === b) return;
    const [dbA, orderA] = [this.db(a), this.orders[a] as KeyOrder];
    this.dbs[a] = this.db(b);
    this.orders[a] = this.orders[b] as KeyOrder;
    this.dbs[b] = dbA;
    this.orders[b] = orderA;
    this.physical[a] = pb;
    this.physical[b] = pa;
    this.logical[pb] = a;
    this.logical[pa] = b;
    for (const listener of this.swapListeners) listener(a, b);
  }

  /**
   * Sets the whole mapping (a snapshot's databases chunk, or the identity at replay start):
   * each physical database's keys move to the logical database now mapped to it. `physical`
   * may be longer than `databases` when it maps the extra entries to themselves.
   */
  setPermutation(physical: readonly number[]): void {
    const next = Array.from({ length: this.databases }, (_, db) => physical[db] ?? db);
    const seen = new Set(next);
    const fits = next.every((p) => p < this.databases) && seen.size === this.databases;
    if (!fits || physical.slice(this.databases).some((p, i) => p !== this.databases + i)) {
      throw new Error(
        `the data directory's database mapping [${physical.join(',')}] does not fit ` +
          `${this.databases} databases: start with as many databases as before`,
      );
    }
    const dbs = next.map((p) => this.dbs[this.logicalDb(p)] as Map<string, Value>);
    const orders = next.map((p) => this.orders[this.logicalDb(p)] as KeyOrder);
    for (let db = 0; db < this.databases; db++) {
      this.dbs[db] = dbs[db] as Map<string, Value>;
      this.orders[db] = orders[db] as KeyOrder;
      this.physical[db] = next[db] as number;
      this.logical[next[db] as number] = db;
    }
  }

  /**
   * The lock ids (keyId) of every key of the given databases, and of the streams being created
   * there: holding them all waits out every command at work on those databases.
   */
  lockIds(dbs: readonly number[]): string[] {
    const ids: string[] = [];
    for (const db of dbs) {
      const prefix = String.fromCharCode(db);
      for (const id of this.db(db).keys()) ids.push(prefix + id);
    }
    for (const skey of this.creating.keys()) {
      const db = this.logicalDb(skey.charCodeAt(0));
      if (dbs.includes(db)) ids.push(String.fromCharCode(db) + skey.slice(1));
    }
    return ids;
  }

  get(db: number, key: Buffer): Value | undefined {
    return this.db(db).get(key.toString('latin1'));
  }

  /** Lookups of keys for reading since start or CONFIG RESETSTAT (INFO keyspace_hits/misses). */
  readHits = 0;
  readMisses = 0;

  /**
   * get() where Redis's lookupKeyRead counts a lookup (a read command's, once its arguments
   * are parsed): a hit when the key exists, whatever its type.
   */
  getForRead(db: number, key: Buffer): Value | undefined {
    const v = this.get(db, key);
    if (v) this.readHits++;
    else this.readMisses++;
    return v;
  }

  /** stream(), counted as a read (getForRead). */
  streamForRead(db: number, key: Buffer): StreamValue | undefined {
    return asStream(this.getForRead(db, key));
  }

  /** list(), counted as a read (getForRead). */
  listForRead(db: number, key: Buffer): ListValue | undefined {
    return asList(this.getForRead(db, key));
  }

  /** The stream at `key`, undefined when absent; WRONGTYPE when another type. */
  stream(db: number, key: Buffer): StreamValue | undefined {
    return asStream(this.get(db, key));
  }

  /** The list at `key`, undefined when absent; WRONGTYPE when another type. */
  list(db: number, key: Buffer): ListValue | undefined {
    return asList(this.get(db, key));
  }

  // ---- ListHost: what lists.ts changes, by latin1 id ----------------------------------------

  typeOf(db: number, id: string): string | undefined {
    return this.db(db).get(id)?.type;
  }

  /**
   * While the journal replays (see beginListReplay), lists at keys that hold a stream: by
   * physical database and id, so swaps replayed meanwhile leave them where their data is.
   */
  private shadow: Map<string, ListValue> | null = null;

  private shadowKey(db: number, id: string): string | null {
    if (!this.shadow || this.db(db).get(id)?.type !== 'stream') return null;
    return String.fromCharCode(this.physicalDb(db)) + id;
  }

  listById(db: number, id: string): ListValue | undefined {
    const v = this.db(db).get(id);
    if (v?.type === 'list') return v;
    const shadowed = this.shadowKey(db, id);
    return shadowed === null ? undefined : this.shadow?.get(shadowed);
  }

  putList(db: number, id: string, value: ListValue): void {
    const shadowed = this.shadowKey(db, id);
    if (shadowed !== null) return void this.shadow?.set(shadowed, value);
    assert(this.db(db).get(id)?.type !== 'stream', 'list put over a stream');
    this.put(db, id, value);
  }

  removeList(db: number, id: string): void {
    const shadowed = this.shadowKey(db, id);
    if (shadowed !== null && this.shadow?.delete(shadowed)) return;
    assert(this.db(db).get(id)?.type === 'list', 'removed list missing');
    this.remove(db, id);
  }

  *listsOf(db: number): Generator<[string, ListValue]> {
    for (const [id, v] of this.db(db)) if (v.type === 'list') yield [id, v];
    if (!this.shadow) return;
    const physical = String.fromCharCode(this.physicalDb(db));
    for (const [key, v] of this.shadow) if (key[0] === physical) yield [key.slice(1), v];
  }

  /**
   * The journal replays after the streams were opened, so a key may hold a stream the list ops
   * replayed onto it predate: a list deleted, then the key made a stream (the DEL was lost if
   * a power cut took the end of an `everysec` journal). Such lists are kept aside while the
   * journal replays, so every op touching them still applies in full (an LMOVE from another
   * list, say, still takes its element), and dropped at the end: the stream wins.
   */
  beginListReplay(): void {
    this.shadow = new Map();
  }

  /**
   * Ends the replay. A list left at a key that holds a stream the store found marked (a RENAME
   * of the list onto it, cut off before the stream's files went) takes the key; other such
   * lists are dropped (the stream wins). Returns the dropped ones, whose deletion the caller
   * journals.
   */
  async endListReplay(): Promise<Array<{ db: number; key: string }>> {
    const shadow = this.shadow ?? new Map<string, ListValue>();
    this.shadow = null;
    const dropped: Array<{ db: number; key: string }> = [];
    for (const [skey, list] of shadow) {
      const db = this.logicalDb(skey.charCodeAt(0));
      const id = skey.slice(1);
      const v = this.db(db).get(id);
      if (v?.type === 'stream' && this.store?.wasReplaced(v.log.key)) {
        await this.delete(db, Buffer.from(id, 'latin1'));
        this.put(db, id, list);
      } else dropped.push({ db, key: id });
    }
    await this.store?.clearReplaced();
    return dropped;
  }

  /** Lists in every database (start-up report, metrics). */
  listCount(): number {
    let n = 0;
    for (let db = 0; db < this.databases; db++) for (const _ of this.listsOf(db)) n++;
    return n;
  }

  /**
   * The stream at `key`, created empty when absent. Its storage key takes the database's
   * physical byte now; if a swap happens while the directory is made, the stream is
   * registered wherever that physical database then is, as if created before the swap.
   */
  async streamOrCreate(db: number, key: Buffer): Promise<StreamValue> {
    const existing = this.stream(db, key);
    if (existing) return existing;
    const skey = storageKey(this.physicalDb(db), key);
    const id = skey.toString('latin1');
    let pending = this.creating.get(id);
    if (!pending) {
      pending = this.createStream(skey).finally(() => this.creating.delete(id));
      this.creating.set(id, pending);
    }
    return pending;
  }

  private async createStream(skey: Buffer): Promise<StreamValue> {
    if (!this.store) throw Errors.other('ERR no store');
    const log = await this.store.create(skey);
    return this.register(log);
  }

  /** Deletes a key and its files; false when it did not exist. */
  async delete(db: number, key: Buffer): Promise<boolean> {
    const v = this.get(db, key);
    if (!v) return false;
    if (v.type === 'list') {
      this.listsOrThrow().delete(db, key.toString('latin1'));
      return true;
    }
    this.remove(db, key.toString('latin1'));
    if (this.store) await this.store.drop(v.log.key);
    return true;
  }

  /**
   * Deletes the given keys of `db`, several streams at a time; returns those that existed. A
   * key named twice is deleted once: delete() takes it out of the map before it awaits.
   */
  async deleteMany(db: number, keys: readonly Buffer[]): Promise<Buffer[]> {
    const deleted: Buffer[] = [];
    for (let at = 0; at < keys.length; at += DELETE_PARALLEL) {
      const batch = keys.slice(at, at + DELETE_PARALLEL);
      const gone = await Promise.all(batch.map((k) => this.delete(db, k)));
      for (let i = 0; i < batch.length; i++) if (gone[i]) deleted.push(batch[i] as Buffer);
    }
    return deleted;
  }

  /**
   * Gives the value at `from` the key `to` in the same database, deleting what `to` holds; a
   * stream's files move with it (Store.rename) and its consumer groups are restored from its
   * log by the groups factory when the log reopens. A stream moving onto a key that holds a
   * value deletes it once the move is decided (Store.rename's clearTarget), so a crash keeps
   * the state before or after, never neither.
   */
  async rename(db: number, from: Buffer, to: Buffer): Promise<void> {
    const v = this.get(db, from);
    if (!v) throw Errors.noSuchKey();
    assert(!from.equals(to), 'rename onto itself');
    if (v.type === 'list') return this.renameList(db, from, to);
    if (!this.store) throw Errors.other('ERR no store');
    this.remove(db, from.toString('latin1'));
    const clear = this.get(db, to) ? () => this.delete(db, to).then(() => undefined) : undefined;
    const log = await this.store.rename(v.log.key, storageKey(this.physicalDb(db), to), clear);
    this.register(log);
  }

  /**
   * A list onto `to`. Onto a stream: the stream is marked (Store.markReplaced) and leaves the
   * keyspace, the journal records the rename, and only once that is durable are the stream's
   * files dropped; at start a marked stream loses to a list the journal put at its key.
   */
  private async renameList(db: number, from: Buffer, to: Buffer): Promise<void> {
    const lists = this.listsOrThrow();
    const target = this.get(db, to);
    if (target?.type !== 'stream' || !this.store) {
      await this.delete(db, to);
      lists.rename(db, from.toString('latin1'), to.toString('latin1'));
      return;
    }
    await this.store.markReplaced(target.log.key);
    this.remove(db, to.toString('latin1'));
    lists.rename(db, from.toString('latin1'), to.toString('latin1'));
    await lists.whenDurable();
    await this.store.drop(target.log.key);
  }

  private listsOrThrow(): Lists {
    assert(this.lists, 'lists used before the journal opened');
    return this.lists;
  }

  /** One step of SCAN over `db` from `cursor` (see the top): the keys and the next cursor. */
  scan(db: number, cursor: bigint, count: number): { keys: Buffer[]; next: bigint } {
    const order = this.orders[db];
    if (!order) throw Errors.dbIndexOutOfRange();
    if (cursor >= BigInt(SCAN_HASH_LIMIT)) return { keys: [], next: 0n };
    const { ids, next } = order.scan(Number(cursor), count);
    return { keys: ids.map((id) => Buffer.from(id, 'latin1')), next: BigInt(next) };
  }

  keys(db: number): IterableIterator<[string, Value]> {
    return this.db(db).entries();
  }

  size(db: number): number {
    return this.db(db).size;
  }
}
