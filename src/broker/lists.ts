// Lists, Redis's message queues: the in-memory lists of every database and the one path by
// which they change. A change is a ListOp (list-records.ts): live, it is appended to the
// write-ahead journal first and then applied; at start, the journal replays the same ops
// through the same apply. Pushes and moves signal the destination key so blocked pops are
// served at once, before any other command can see the values. Ops name logical databases in
// memory and physical ones in the journal (list-records.ts); SWAPDB's record is journaled here
// too, so the mapping is replayed and snapshotted with the lists.
import assert from 'node:assert';
import Denque from 'denque';
import type { Journal, JournalOwner } from '../../storage/journal';
import {
  ALL_DBS,
  decodeChunk,
  decodeOp,
  encodeDatabasesChunk,
  encodeOp,
  Side,
  snapshotChunks,
  type ListOp,
} from './list-records';

export { Side } from './list-records';

/** A list: values as latin1 strings (1:1 with the bytes, and far smaller than Buffers). */
export class ListValue {
  readonly type = 'list' as const;
  readonly items: Denque<string>;

  constructor(values?: string[]) {
    this.items = values ? new Denque<string>(values) : new Denque<string>();
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): string {
    return this.items.peekAt(index) as string;
  }
}

/** What the lists need of the keyspace: keys are latin1 ids within a database. */
export interface ListHost {
  readonly databases: number;
  listById(db: number, id: string): ListValue | undefined;
  putList(db: number, id: string, value: ListValue): void;
  removeList(db: number, id: string): void;
  /** Every list of every database, for snapshots and FLUSH. */
  listsOf(db: number): Iterable<[string, ListValue]>;
  /** The physical database of logical database `db` (keyspace.ts). */
  physicalDb(db: number): number;
  logicalDb(physical: number): number;
  /** Logical -> physical for every database. */
  permutation(): readonly number[];
  /** Swaps two logical databases in memory (SWAPDB's effect). */
  swapDbs(a: number, b: number): void;
  /** Sets the whole mapping (a snapshot's, or the identity), moving keys along. */
  setPermutation(physical: readonly number[]): void;
}

type SwapOp = ListOp & { op: 'swap' };

export class Lists implements JournalOwner {
  private journal: Journal | null = null;
  private batch: Buffer[] | null = null;
  /** The open batch holds a SWAP: its wait includes an fdatasync (endBatch). */
  private batchSwaps = false;
  /** A batch's SWAP not yet known fdatasync'd: waits for seqs from it include that (0: none). */
  private swapSeq = 0;
  /** A SWAP journaled and not yet applied (swap() waits for its fdatasync): snapshots hold it. */
  private pendingSwap: SwapOp | null = null;
  /** The journal seq of the last change made; replies wait for it to be durable. */
  lastSeq = 0;

  constructor(
    private readonly host: ListHost,
    /** A list at (db, id) got values: blocked clients may be served. */
    private readonly onPushed: (db: number, id: string) => void,
  ) {}

  attach(journal: Journal): void {
    this.journal = journal;
  }

  /**
   * Resolves when every change made so far is as durable as the fsync policy promises, and a
   * batch's SWAP among them (or before them) fdatasync'd.
   */
  whenDurable(seq = this.lastSeq): Promise<void> {
    const journal = this.journal;
    if (seq <= 0 || !journal) return Promise.resolve();
    const durable = journal.whenDurable(seq);
    const swapSeq = this.swapSeq;
    if (swapSeq === 0 || seq < swapSeq) return durable;
    return Promise.all([durable, journal.whenSynced(swapSeq)]).then(() => {
      if (this.swapSeq === swapSeq) this.swapSeq = 0;
    });
  }

  // ---- live changes: journal first, then memory ------------------------------------------

  private exec(op: ListOp): void {
    assert(this.journal, 'lists changed before the journal opened');
    // List changes are journaled under their physical database; SWAP and FLUSHALL name none.
    const db = op.op === 'swap' || op.db === ALL_DBS ? op.db : this.host.physicalDb(op.db);
    if (this.batch) {
      const failure = this.journal.writeFailure;
      if (failure) throw failure;
      this.batch.push(encodeOp(op, db));
      return;
    }
    this.lastSeq = this.journal.append(encodeOp(op, db));
  }

  /** True while a batch is open (MULTI/EXEC): changes are applied but not yet journaled. */
  holding(): boolean {
    return this.batch !== null;
  }

  /**
   * From here to endBatch() every change is held and then journaled as one atomic unit
   * (MULTI/EXEC): after a crash all of them are there or none.
   */
  beginBatch(): void {
    assert(!this.batch, 'nested list batches');
    this.batch = [];
  }

  /** Journals the held changes together; returns the seq to wait for (0: none). */
  endBatch(): number {
    const records = this.batch ?? [];
    const swaps = this.batchSwaps;
    this.batch = null;
    this.batchSwaps = false;
    if (records.length === 0 || !this.journal) return 0;
    this.lastSeq = this.journal.appendMany(records);
    if (swaps) this.swapSeq = this.lastSeq;
    return this.lastSeq;
  }

  /**
   * SWAPDB of logical databases `a` and `b` (a != b). Alone, the record is journaled and
   * fdatasync'd (whatever the fsync policy) before memory changes: a stream is created or
   * written under the new mapping only once a crash can no longer lose the swap (streams
   * are outside the journal). The caller holds every other command back meanwhile. In a
   * batch (EXEC) the swap is applied at once, like the batch's other changes, and the batch's
   * wait (whenDurable) includes the fdatasync.
   */
  async swap(a: number, b: number): Promise<void> {
    assert(this.journal && a !== b && !this.pendingSwap, 'one swap of two databases at a time');
    const op: SwapOp = { op: 'swap', db: a, other: b };
    this.exec(op);
    if (this.batch) {
      this.batchSwaps = true;
      this.host.swapDbs(a, b);
      return;
    }
    this.pendingSwap = op;
    try {
      await this.journal.whenSynced(this.lastSeq);
    } finally {
      this.pendingSwap = null;
    }
    this.host.swapDbs(a, b);
  }

  /** Pushes values (in order, each onto `side`); returns the new length. */
  push(db: number, key: string, side: Side, values: readonly string[]): number {
    const op: ListOp = { op: 'push', db, key, side, values };
    this.exec(op);
    const length = this.applyPush(op);
    this.onPushed(db, key);
    return length;
  }

  /** Pops up to `count` values from a list that exists, in pop order. */
  pop(db: number, key: string, side: Side, count: number): string[] {
    const op: ListOp = { op: 'pop', db, key, side, count };
    this.exec(op);
    return this.applyPop(op);
  }

  /** Moves one value from a non-empty `src` onto `dst` (which holds no other type). */
  move(db: number, src: string, dst: string, from: Side, to: Side): string {
    const op: ListOp = { op: 'move', db, src, dst, from, to };
    this.exec(op);
    const value = this.applyMove(op);
    this.onPushed(db, dst);
    return value;
  }

  set(db: number, key: string, index: number, value: string): void {
    const op: ListOp = { op: 'set', db, key, index, value };
    this.exec(op);
    this.applySet(op);
  }

  /** Inserts at a resolved position; returns the new length. */
  insert(db: number, key: string, index: number, value: string): number {
    const op: ListOp = { op: 'insert', db, key, index, value };
    this.exec(op);
    return this.applyInsert(op);
  }

  /** LREM: returns how many were removed (nothing is journaled when none is). */
  rem(db: number, key: string, count: number, value: string): number {
    const op: ListOp = { op: 'rem', db, key, count, value };
    if (!this.needed(op)) return 0;
    this.exec(op);
    return this.applyRem(op);
  }

  /** Keeps [start, stop] (resolved); start > stop or past the end empties the list. */
  trim(db: number, key: string, start: number, stop: number): void {
    const op: ListOp = { op: 'trim', db, key, start, stop };
    this.exec(op);
    this.applyTrim(op);
  }

  delete(db: number, key: string): void {
    const op: ListOp = { op: 'del', db, key };
    this.exec(op);
    this.applyDel(op);
  }

  /**
   * Journals the deletion of a list the journal holds but the keyspace does not (one dropped
   * at start for a stream at its key): a later start must not bring it back once the stream
   * has left the key. Memory is not touched: the key holds the stream.
   */
  forget(db: number, key: string): void {
    this.exec({ op: 'del', db, key });
  }

  rename(db: number, from: string, to: string): void {
    const op: ListOp = { op: 'rename', db, from, to };
    this.exec(op);
    this.applyRename(op);
  }

  /** True when LREM would remove something (a no-op need not be journaled). */
  private needed(op: ListOp & { op: 'rem' }): boolean {
    const list = this.host.listById(op.db, op.key);
    if (!list) return false;
    for (let i = 0; i < list.length; i++) if (list.at(i) === op.value) return true;
    return false;
  }

  // ---- apply: the same code live and at replay ---------------------------------------------

  private target(db: number, key: string): ListValue {
    const list = this.host.listById(db, key);
    assert(list, `list op on a missing list`);
    return list;
  }

  private afterRemoval(db: number, key: string, list: ListValue): void {
    if (list.length === 0) this.host.removeList(db, key);
  }

  private applyPush(op: ListOp & { op: 'push' }): number {
    let list = this.host.listById(op.db, op.key);
    if (!list) this.host.putList(op.db, op.key, (list = new ListValue()));
    if (op.side === Side.Left) for (const v of op.values) list.items.unshift(v);
    else for (const v of op.values) list.items.push(v);
    return list.length;
  }

  private applyPop(op: ListOp & { op: 'pop' }): string[] {
    const list = this.target(op.db, op.key);
    const out: string[] = [];
    const n = Math.min(op.count, list.length);
    for (let i = 0; i < n; i++)
      out.push((op.side === Side.Left ? list.items.shift() : list.items.pop()) as string);
    this.afterRemoval(op.db, op.key, list);
    return out;
  }

  private applyMove(op: ListOp & { op: 'move' }): string {
    const src = this.target(op.db, op.src);
    const value = (op.from === Side.Left ? src.items.shift() : src.items.pop()) as string;
    this.afterRemoval(op.db, op.src, src);
    this.applyPush({ op: 'push', db: op.db, key: op.dst, side: op.to, values: [value] });
    return value;
  }

  private applySet(op: ListOp & { op: 'set' }): void {
    const list = this.target(op.db, op.key);
    assert(op.index < list.length, 'LSET index resolved out of range');
    list.items.splice(op.index, 1, op.value);
  }

  private applyInsert(op: ListOp & { op: 'insert' }): number {
    const list = this.target(op.db, op.key);
    assert(op.index <= list.length, 'LINSERT index resolved out of range');
    if (op.index === list.length) list.items.push(op.value);
    else if (op.index === 0) list.items.unshift(op.value);
    else list.items.splice(op.index, 0, op.value);
    return list.length;
  }

  private applyRem(op: ListOp & { op: 'rem' }): number {
    const list = this.target(op.db, op.key);
    const values = list.items.toArray();
    const limit = op.count === 0 ? Infinity : Math.abs(op.count);
    let removed = 0;
    const keep = new Array<boolean>(values.length).fill(true);
    const fromTail = op.count < 0;
    for (let k = 0; k < values.length && removed < limit; k++) {
      const i = fromTail ? values.length - 1 - k : k;
      if (values[i] === op.value) {
        keep[i] = false;
        removed++;
      }
    }
    list.items.clear();
    for (let i = 0; i < values.length; i++) if (keep[i]) list.items.push(values[i] as string);
    this.afterRemoval(op.db, op.key, list);
    return removed;
  }

  private applyTrim(op: ListOp & { op: 'trim' }): void {
    const list = this.target(op.db, op.key);
    if (op.start > op.stop || op.start >= list.length) {
      this.host.removeList(op.db, op.key);
      return;
    }
    const tail = list.length - 1 - Math.min(op.stop, list.length - 1);
    if (tail > 0) list.items.remove(list.length - tail, tail);
    if (op.start > 0) list.items.remove(0, op.start);
    this.afterRemoval(op.db, op.key, list);
  }

  private applyDel(op: ListOp & { op: 'del' }): void {
    if (this.host.listById(op.db, op.key)) this.host.removeList(op.db, op.key);
  }

  private applyRename(op: ListOp & { op: 'rename' }): void {
    const list = this.target(op.db, op.from);
    this.host.removeList(op.db, op.from);
    this.host.putList(op.db, op.to, list);
  }

  private applyFlush(db: number): void {
    const dbs = db === ALL_DBS ? [...Array(this.host.databases).keys()] : [db];
    for (const d of dbs) for (const [id] of [...this.host.listsOf(d)]) this.host.removeList(d, id);
  }

  /** A SWAP at replay: both databases must exist (the count may have changed since). */
  private applySwap(op: SwapOp): void {
    const n = this.host.databases;
    if (op.db >= n || op.other >= n) {
      throw new Error(
        `the journal swaps databases ${op.db} and ${op.other}, but there are only ${n}: ` +
          'start with as many databases as before',
      );
    }
    this.host.swapDbs(op.db, op.other);
  }

  private applyOp(op: ListOp): void {
    switch (op.op) {
      case 'swap':
        return this.applySwap(op);
      case 'push':
        return void this.applyPush(op);
      case 'pop':
        return void this.applyPop(op);
      case 'move':
        return void this.applyMove(op);
      case 'set':
        return this.applySet(op);
      case 'insert':
        return void this.applyInsert(op);
      case 'rem':
        return void this.applyRem(op);
      case 'trim':
        return this.applyTrim(op);
      case 'del':
        return this.applyDel(op);
      case 'rename':
        return this.applyRename(op);
      case 'flush':
        return this.applyFlush(op.db);
    }
  }

  // ---- JournalOwner ----------------------------------------------------------------------

  reset(): void {
    this.applyFlush(ALL_DBS);
    this.host.setPermutation([]);
  }

  loadChunk(chunk: Buffer): void {
    const decoded = decodeChunk(chunk);
    if (decoded.kind === 'databases') return this.host.setPermutation(decoded.physical);
    for (const part of decoded.lists) {
      const db = this.host.logicalDb(part.db);
      const list = part.continues ? this.host.listById(db, part.key) : undefined;
      if (list) for (const v of part.values) list.items.push(v);
      else if (part.values.length > 0)
        this.host.putList(db, part.key, new ListValue([...part.values]));
    }
  }

  apply(record: Buffer): void {
    const op = decodeOp(record);
    if (op.op !== 'swap' && op.db !== ALL_DBS) op.db = this.host.logicalDb(op.db);
    this.applyOp(op);
  }

  /** The mapping with every journaled SWAP (one may be waiting for its fdatasync), and the lists
   * by physical database: what replaying the journal so far rebuilds. */
  snapshot(): Iterable<Buffer> {
    const physical = [...this.host.permutation()];
    const pending = this.pendingSwap;
    if (pending) {
      const p = physical[pending.db] as number;
      physical[pending.db] = physical[pending.other] as number;
      physical[pending.other] = p;
    }
    const captured: { db: number; key: string; values: string[] }[] = [];
    for (let db = 0; db < this.host.databases; db++)
      for (const [key, list] of this.host.listsOf(db))
        captured.push({ db: this.host.physicalDb(db), key, values: list.items.toArray() });
    const identity = physical.every((p, db) => p === db);
    return identity
      ? snapshotChunks(captured)
      : withFirst(encodeDatabasesChunk(physical), captured);
  }
}

function* withFirst(
  first: Buffer,
  lists: Iterable<{ db: number; key: string; values: readonly string[] }>,
): Generator<Buffer> {
  yield first;
  yield* snapshotChunks(lists);
}
