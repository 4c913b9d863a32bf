// Lists, Redis's message queues: the in-memory lists of every database and the one path by
// which they change. A change is a ListOp (list-records.ts): live, it is appended to the
// write-ahead journal first and then applied; at start, the journal replays the same ops
// through the same apply. Pushes and moves signal the destination key so blocked pops are
// served at once, before any other command can see the values.
import assert from 'node:assert';
import Denque from 'denque';
import type { Journal, JournalOwner } from '../../storage/journal';
import type { Logger } from '../../storage/errors';
import {
  ALL_DBS,
  decodeChunk,
  decodeOp,
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
  /** The type of the value at the key, undefined when absent. */
  typeOf(db: number, id: string): string | undefined;
  listById(db: number, id: string): ListValue | undefined;
  putList(db: number, id: string, value: ListValue): void;
  removeList(db: number, id: string): void;
  /** Every list of every database, for snapshots and FLUSH. */
  listsOf(db: number): Iterable<[string, ListValue]>;
}

export class Lists implements JournalOwner {
  private journal: Journal | null = null;
  private batch: Buffer[] | null = null;
  /** The journal seq of the last change made; replies wait for it to be durable. */
  lastSeq = 0;

  constructor(
    private readonly host: ListHost,
    /** A list at (db, id) got values: blocked clients may be served. */
    private readonly onPushed: (db: number, id: string) => void,
    private readonly logger: Logger,
  ) {}

  attach(journal: Journal): void {
    this.journal = journal;
  }

  /** Resolves when every change made so far is as durable as the fsync policy promises. */
  whenDurable(seq = this.lastSeq): Promise<void> {
    return seq > 0 && this.journal ? this.journal.whenDurable(seq) : Promise.resolve();
  }

  // ---- live changes: journal first, then memory ------------------------------------------

  private exec(op: ListOp): void {
    assert(this.journal, 'lists changed before the journal opened');
    if (this.batch) {
      const failure = this.journal.writeFailure;
      if (failure) throw failure;
      this.batch.push(encodeOp(op));
      return;
    }
    this.lastSeq = this.journal.append(encodeOp(op));
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
    this.batch = null;
    if (records.length === 0 || !this.journal) return 0;
    this.lastSeq = this.journal.appendMany(records);
    return this.lastSeq;
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

  private applyOp(op: ListOp): void {
    // A key holding a stream wins over list ops replayed onto it: under `everysec` a power
    // loss can lose the journal's DEL of a list whose key a stream then took.
    const key = op.op === 'move' ? op.dst : op.op === 'rename' ? op.to : 'key' in op ? op.key : '';
    if (op.op !== 'flush' && this.host.typeOf(op.db, key) === 'stream') {
      this.logger.warn('journal op on a key that holds a stream: skipped', { op: op.op });
      return;
    }
    switch (op.op) {
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
  }

  loadChunk(chunk: Buffer): void {
    for (const part of decodeChunk(chunk)) {
      const list = part.continues ? this.host.listById(part.db, part.key) : undefined;
      if (list) for (const v of part.values) list.items.push(v);
      else if (part.values.length > 0)
        this.host.putList(part.db, part.key, new ListValue([...part.values]));
    }
  }

  apply(record: Buffer): void {
    this.applyOp(decodeOp(record));
  }

  snapshot(): Iterable<Buffer> {
    const captured: { db: number; key: string; values: string[] }[] = [];
    for (let db = 0; db < this.host.databases; db++)
      for (const [key, list] of this.host.listsOf(db))
        captured.push({ db, key, values: list.items.toArray() });
    return snapshotChunks(captured);
  }
}
