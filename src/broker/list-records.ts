// The journal records and snapshot chunks of lists: each list change in its resolved,
// non-blocking form (a served BLPOP is the POP that happened; a move is one record naming both
// keys), SWAPDB, and the lists and the database mapping as snapshot chunks. The journal
// (storage/journal.ts) frames and checksums these bytes; this file owns what is inside them.
//
// Databases: a key's data lives in a *physical* database, the byte that also starts a stream's
// storage key (keyspace.ts); SELECT and every command name *logical* databases. The mapping
// logical -> physical starts as the identity and only SWAPDB changes it (it swaps two entries,
// so no data moves). List records name the physical database, so where a list change applies
// never depends on a swap journaled around it; SWAP records and the DATABASES chunk carry the
// mapping. Until the first SWAPDB both are the same, so journals from before SWAPDB read alike.
//
// Scalars: `uv` is an unsigned LEB128 varint (7 bits a byte, low first; values below 2^53);
// `sv` is a signed value as a zigzag varint (2v for v >= 0, -2v-1 for v < 0); `str` is
// `uv length | bytes` (keys and values are binary, kept in memory as latin1 strings).
//
// Record, version 1:
//   off  size  field
//   0    1     version  1
//   1    1     op       see OP below
//   2    1     db       physical database number (SWAP: logical, see there)
//   3    ...   fields of the op, in order:
//     PUSH    side u8 (0 left, 1 right), key str, count uv, count x str value
//     POP     side u8, key str, count uv                 (pops min(count, length))
//     MOVE    from u8, to u8, src str, dst str          (one value; src = dst rotates)
//     SET     key str, index uv (resolved, >= 0), value str
//     INSERT  key str, index uv (position the value takes), value str
//     REM     key str, count sv (Redis LREM semantics), value str
//     TRIM    key str, start uv, stop uv (resolved, start <= stop < length) ; keeps [start, stop]
//     DEL     key str
//     RENAME  from str, to str                          (to must hold no list)
//     FLUSH   (db 255 = every database)
//     SWAP    other u8                                  (SWAPDB db other; both logical: the
//                                                       mapping's entries db and other swap)
// SWAP was added with SWAPDB: a reader from before it refuses the journal (unknown op 11),
// as it must, since it would read list records under the wrong mapping.
// Snapshot chunk, version 1 (lists): `version u8 | lists uv`, then per list
//   `db u8 (physical) | flags u8 (bit0: appends to the previous chunk's last list) | key str |
//   count uv | count x str`. A list longer than SNAPSHOT_CHUNK_VALUES spans several chunks.
// Snapshot chunk, version 2 (databases): `version u8 | count uv | count x u8`, entry i being
//   the physical database of logical database i. Written first, and only when the mapping is
//   not the identity (a snapshot without one reads as before; older readers refuse one).
// Invariants: replaying the records in order over the snapshot rebuilds the lists and the
// mapping exactly; the mapping is a permutation of the databases.
// A record that does not decode is corruption of the journal (the journal's CRC passed, so it
// is a bug or a different version): the start is refused with the record's place.

export const RECORD_VERSION = 1;
export const CHUNK_VERSION = 1;
/** The version byte of the databases chunk (the mapping logical -> physical). */
export const DATABASES_CHUNK_VERSION = 2;
/** Values per snapshot chunk: bounds the memory one chunk takes while it is written. */
export const SNAPSHOT_CHUNK_VALUES = 4096;
/** The FLUSH record's db meaning every database (FLUSHALL). */
export const ALL_DBS = 255;

export const enum Side {
  Left = 0,
  Right = 1,
}

export type ListOp =
  | { op: 'push'; db: number; key: string; side: Side; values: readonly string[] }
  | { op: 'pop'; db: number; key: string; side: Side; count: number }
  | { op: 'move'; db: number; src: string; dst: string; from: Side; to: Side }
  | { op: 'set'; db: number; key: string; index: number; value: string }
  | { op: 'insert'; db: number; key: string; index: number; value: string }
  | { op: 'rem'; db: number; key: string; count: number; value: string }
  | { op: 'trim'; db: number; key: string; start: number; stop: number }
  | { op: 'del'; db: number; key: string }
  | { op: 'rename'; db: number; from: string; to: string }
  | { op: 'flush'; db: number }
  | { op: 'swap'; db: number; other: number };

const OPS = [
  ...['push', 'pop', 'move', 'set', 'insert', 'rem', 'trim', 'del', 'rename', 'flush'],
  'swap',
];
const OP_CODE = new Map(OPS.map((name, i) => [name, i + 1]));

/** Grows a buffer as fields are written. */
class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(16, sizeHint));
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  uv(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  sv(v: number): void {
    this.uv(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  str(s: string): void {
    const n = s.length;
    this.uv(n);
    this.room(n);
    // Short strings (keys, small values) by hand: Buffer#write costs about 45 ns a call
    // through its binding whatever the length, a loop 10 ns for 4 bytes, 30 for 16.
    if (n <= 16) {
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[this.pos + i] = s.charCodeAt(i);
      this.pos += n;
    } else this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class DecodeError extends Error {}

/** Reads fields back; throws DecodeError past the end. */
class Reader {
  pos = 0;

  constructor(private readonly buf: Buffer) {}

  u8(): number {
    if (this.pos >= this.buf.length) throw new DecodeError('record ends early');
    return this.buf[this.pos++] as number;
  }

  uv(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new DecodeError('varint too long');
    }
  }

  sv(): number {
    const z = this.uv();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  str(): string {
    const n = this.uv();
    if (this.pos + n > this.buf.length) throw new DecodeError('string past the end');
    const s = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  get atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}

function side(r: Reader): Side {
  const s = r.u8();
  if (s > 1) throw new DecodeError(`bad side ${s}`);
  return s as Side;
}

/** The record of `op`; `db` is the database written (the physical one, for list changes). */
export function encodeOp(op: ListOp, db: number = op.db): Buffer {
  const w = new Writer(op.op === 'push' ? 32 + op.values.length * 24 : 48);
  w.u8(RECORD_VERSION);
  w.u8(OP_CODE.get(op.op) as number);
  w.u8(db);
  switch (op.op) {
    case 'push':
      w.u8(op.side);
      w.str(op.key);
      w.uv(op.values.length);
      for (const v of op.values) w.str(v);
      break;
    case 'pop':
      w.u8(op.side);
      w.str(op.key);
      w.uv(op.count);
      break;
    case 'move':
      w.u8(op.from);
      w.u8(op.to);
      w.str(op.src);
      w.str(op.dst);
      break;
    case 'set':
    case 'insert':
      w.str(op.key);
      w.uv(op.index);
      w.str(op.value);
      break;
    case 'rem':
      w.str(op.key);
      w.sv(op.count);
      w.str(op.value);
      break;
    case 'trim':
      w.str(op.key);
      w.uv(op.start);
      w.uv(op.stop);
      break;
    case 'del':
      w.str(op.key);
      break;
    case 'rename':
      w.str(op.from);
      w.str(op.to);
      break;
    case 'flush':
      break;
    case 'swap':
      w.u8(op.other);
      break;
  }
  return w.done();
}

function decodeBody(r: Reader, name: string, db: number): ListOp {
  switch (name) {
    case 'push': {
      const s = side(r);
      const key = r.str();
      const n = r.uv();
      const values: string[] = [];
      for (let i = 0; i < n; i++) values.push(r.str());
      return { op: 'push', db, key, side: s, values };
    }
    case 'pop':
      return { op: 'pop', db, side: side(r), key: r.str(), count: r.uv() };
    case 'move':
      return { op: 'move', db, from: side(r), to: side(r), src: r.str(), dst: r.str() };
    case 'set':
    case 'insert':
      return { op: name, db, key: r.str(), index: r.uv(), value: r.str() };
    case 'rem':
      return { op: 'rem', db, key: r.str(), count: r.sv(), value: r.str() };
    case 'trim':
      return { op: 'trim', db, key: r.str(), start: r.uv(), stop: r.uv() };
    case 'del':
      return { op: 'del', db, key: r.str() };
    case 'rename':
      return { op: 'rename', db, from: r.str(), to: r.str() };
    case 'swap':
      return { op: 'swap', db, other: r.u8() };
    default:
      return { op: 'flush', db };
  }
}

export function decodeOp(buf: Buffer): ListOp {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== RECORD_VERSION) throw new DecodeError(`unknown record version ${version}`);
  const code = r.u8();
  const name = OPS[code - 1];
  if (!name) throw new DecodeError(`unknown list op ${code}`);
  const op = decodeBody(r, name, r.u8());
  if (!r.atEnd) throw new DecodeError('bytes after the record');
  return op;
}

/** One list (or the next part of it) in a snapshot chunk. */
export interface ChunkList {
  readonly db: number;
  readonly key: string;
  /** True when these values go on the end of the previous chunk's last list. */
  readonly continues: boolean;
  readonly values: readonly string[];
}

export function encodeChunk(lists: readonly ChunkList[]): Buffer {
  let hint = 16;
  for (const l of lists) hint += 16 + l.key.length + l.values.length * 16;
  const w = new Writer(hint);
  w.u8(CHUNK_VERSION);
  w.uv(lists.length);
  for (const l of lists) {
    w.u8(l.db);
    w.u8(l.continues ? 1 : 0);
    w.str(l.key);
    w.uv(l.values.length);
    for (const v of l.values) w.str(v);
  }
  return w.done();
}

/** The databases chunk: `physical[i]` is the physical database of logical database i. */
export function encodeDatabasesChunk(physical: readonly number[]): Buffer {
  const w = new Writer(8 + physical.length);
  w.u8(DATABASES_CHUNK_VERSION);
  w.uv(physical.length);
  for (const p of physical) w.u8(p);
  return w.done();
}

/** A snapshot chunk: lists, or the database mapping. */
export type SnapshotChunk =
  | { readonly kind: 'lists'; readonly lists: ChunkList[] }
  | { readonly kind: 'databases'; readonly physical: number[] };

export function decodeChunk(buf: Buffer): SnapshotChunk {
  const r = new Reader(buf);
  const version = r.u8();
  if (version === DATABASES_CHUNK_VERSION) {
    const physical: number[] = [];
    for (let n = r.uv(); n > 0; n--) physical.push(r.u8());
    if (!r.atEnd) throw new DecodeError('bytes after the chunk');
    return { kind: 'databases', physical };
  }
  if (version !== CHUNK_VERSION) throw new DecodeError(`unknown chunk version ${version}`);
  return { kind: 'lists', lists: decodeLists(r) };
}

function decodeLists(r: Reader): ChunkList[] {
  const out: ChunkList[] = [];
  for (let n = r.uv(); n > 0; n--) {
    const db = r.u8();
    const continues = (r.u8() & 1) === 1;
    const key = r.str();
    const values: string[] = [];
    for (let c = r.uv(); c > 0; c--) values.push(r.str());
    out.push({ db, key, continues, values });
  }
  if (!r.atEnd) throw new DecodeError('bytes after the chunk');
  return out;
}

/**
 * Cuts the captured lists into chunks of about SNAPSHOT_CHUNK_VALUES values. `lists` holds
 * copies of the arrays taken at the snapshot's tick, so later changes do not show.
 */
export function* snapshotChunks(
  lists: Iterable<{ db: number; key: string; values: readonly string[] }>,
): Generator<Buffer> {
  let batch: ChunkList[] = [];
  let held = 0;
  const cut = function* () {
    if (batch.length > 0) yield encodeChunk(batch);
    batch = [];
    held = 0;
  };
  for (const l of lists) {
    for (let at = 0; at < l.values.length || at === 0; at += SNAPSHOT_CHUNK_VALUES) {
      const values = l.values.slice(at, at + SNAPSHOT_CHUNK_VALUES);
      batch.push({ db: l.db, key: l.key, continues: at > 0, values });
      held += values.length + 1;
      if (held >= SNAPSHOT_CHUNK_VALUES) yield* cut();
    }
  }
  yield* cut();
}
