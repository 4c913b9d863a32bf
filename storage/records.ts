// Records: what a frame carries. Each is `len u32 | kind u8 | body` (len = body bytes).
//
// Record kinds and bodies (little-endian, IDs are ms u64 + seq u64), format version 1 (the
// frame's version byte):
//   1 HEADER    segno u64, counters            first record of every segment: the stream's
//                                              counters at roll time, so any surviving segment
//                                              restores the ID generator
//   2 DATA      id 16, fields                  fields = msgpack array of binary strings
//                                              (field, value, field, value...; order and
//                                              duplicates kept)
//   3 DEL       counters, n u32, n ids         XDEL: only IDs that existed; counters after it
//   4 TRIM      counters                       XTRIM / XADD MAXLEN|MINID: resolved outcome
//                                              (first live ID, resulting length)
//   5 COUNTERS  counters                       XSETID and other absolute counter changes
//   64..127     opaque                         records of the layers above (consumer groups);
//                                              replayed to them in log order
// counters (64 bytes): lastId 16, entriesAdded u64, maxDeletedId 16, firstId 16, length u64.
// Every counter is absolute, so replaying a record twice gives the same state.
import { Packr } from 'msgpackr';
import { ID_BYTES, StreamId } from './id';
import { RECORD_HEADER_BYTES, type EncodedCommand } from './frame';

export const KIND_HEADER = 1;
export const KIND_DATA = 2;
export const KIND_DEL = 3;
export const KIND_TRIM = 4;
export const KIND_COUNTERS = 5;
export const EXT_KIND_MIN = 64;
export const EXT_KIND_MAX = 127;
export const COUNTERS_BYTES = 64;

/** The stream's counters, as Redis keeps them (XINFO STREAM reports each). */
export interface Counters {
  lastId: StreamId;
  entriesAdded: bigint;
  maxDeletedId: StreamId;
  /** First live entry's ID; 0-0 when the stream is empty. */
  firstId: StreamId;
  length: number;
}

export function emptyCounters(): Counters {
  return {
    lastId: StreamId.ZERO,
    entriesAdded: 0n,
    maxDeletedId: StreamId.ZERO,
    firstId: StreamId.ZERO,
    length: 0,
  };
}

export function writeCounters(c: Counters, buf: Buffer, off: number): void {
  c.lastId.write(buf, off);
  buf.writeBigUInt64LE(c.entriesAdded, off + 16);
  c.maxDeletedId.write(buf, off + 24);
  c.firstId.write(buf, off + 40);
  buf.writeBigUInt64LE(BigInt(c.length), off + 56);
}

export function readCounters(buf: Buffer, off: number): Counters {
  return {
    lastId: StreamId.read(buf, off),
    entriesAdded: buf.readBigUInt64LE(off + 16),
    maxDeletedId: StreamId.read(buf, off + 24),
    firstId: StreamId.read(buf, off + 40),
    length: Number(buf.readBigUInt64LE(off + 56)),
  };
}

export interface StreamEntry {
  readonly id: StreamId;
  /** field, value, field, value... as binary strings. */
  readonly fields: readonly Buffer[];
}

// Binary strings stay Buffers; records and maps are off so the encoding is plain msgpack.
const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

function record(kind: number, bodyLen: number): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyLen);
  buf.writeUInt32LE(bodyLen, 0);
  buf[4] = kind;
  return buf;
}

/**
 * A DATA record. Its fields are written by hand in exactly the bytes msgpackr gives an array of
 * Buffers (array header, then a bin8/16/32 per string; test/storage/records.test.ts compares
 * them): msgpackr's generic pack took 2-3.5 us per two-field entry, this takes 0.3 us, and XADD
 * pays it on every entry. Reading stays with msgpackr.
 */
export function encodeData(entry: StreamEntry): Buffer {
  const fields = entry.fields;
  const n = fields.length;
  let bodyLen = ID_BYTES + (n < 16 ? 1 : n < 0x10000 ? 3 : 5);
  for (let i = 0; i < n; i++) {
    const len = (fields[i] as Buffer).length;
    bodyLen += len + (len < 0x100 ? 2 : len < 0x10000 ? 3 : 5);
  }
  const buf = record(KIND_DATA, bodyLen);
  entry.id.write(buf, RECORD_HEADER_BYTES);
  let off = RECORD_HEADER_BYTES + ID_BYTES;
  if (n < 16) buf[off++] = 0x90 | n;
  else off = writeWideLength(buf, off, n, 0xdc, 0xdd);
  for (let i = 0; i < n; i++) {
    const f = fields[i] as Buffer;
    const len = f.length;
    if (len < 0x100) {
      buf[off] = 0xc4;
      buf[off + 1] = len;
      off += 2;
    } else off = writeWideLength(buf, off, len, 0xc5, 0xc6);
    off += f.copy(buf, off);
  }
  return buf;
}

/** A msgpack type byte and a u16 or u32 big-endian length; returns the offset after them. */
function writeWideLength(buf: Buffer, off: number, v: number, code16: number, code32: number) {
  if (v < 0x10000) {
    buf[off] = code16;
    buf.writeUInt16BE(v, off + 1);
    return off + 3;
  }
  buf[off] = code32;
  buf.writeUInt32BE(v, off + 1);
  return off + 5;
}

/**
 * Decodes DATA fields; the Buffers are views into `buf`. The bytes encodeData writes (an array
 * of bin strings) are read by hand, as they are written (msgpackr's generic unpack was a fifth
 * of an XRANGE's time); anything else goes to msgpackr, which checks it.
 */
export function decodeFields(buf: Buffer, start: number, end: number): Buffer[] {
  return decodeBinArray(buf, start + ID_BYTES, end) ?? decodeFieldsGeneric(buf, start, end);
}

/** A msgpack array of bin strings exactly filling [pos, end), as views; null otherwise. */
function decodeBinArray(buf: Buffer, pos: number, end: number): Buffer[] | null {
  if (pos >= end) return null;
  const head = buf[pos] as number;
  let n: number;
  if ((head & 0xf0) === 0x90) {
    n = head & 0x0f;
    pos += 1;
  } else if (head === 0xdc && end - pos >= 3) {
    n = buf.readUInt16BE(pos + 1);
    pos += 3;
  } else if (head === 0xdd && end - pos >= 5) {
    n = buf.readUInt32BE(pos + 1);
    pos += 5;
  } else return null;
  if (n > end - pos) return null;
  const out: Buffer[] = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) {
    const code = buf[pos];
    let len: number;
    if (code === 0xc4 && end - pos >= 2) {
      len = buf[pos + 1] as number;
      pos += 2;
    } else if (code === 0xc5 && end - pos >= 3) {
      len = buf.readUInt16BE(pos + 1);
      pos += 3;
    } else if (code === 0xc6 && end - pos >= 5) {
      len = buf.readUInt32BE(pos + 1);
      pos += 5;
    } else return null;
    if (len > end - pos) return null;
    out[i] = buf.subarray(pos, pos + len);
    pos += len;
  }
  return pos === end ? out : null;
}

function decodeFieldsGeneric(buf: Buffer, start: number, end: number): Buffer[] {
  const value: unknown = packr.unpack(buf.subarray(start + ID_BYTES, end));
  if (!Array.isArray(value) || !value.every((v) => Buffer.isBuffer(v))) {
    throw new Error('DATA record fields are not an array of binary strings');
  }
  return value as Buffer[];
}

export function encodeCounters(kind: number, c: Counters): Buffer {
  const buf = record(kind, COUNTERS_BYTES);
  writeCounters(c, buf, RECORD_HEADER_BYTES);
  return buf;
}

export function encodeHeader(segno: number, c: Counters): Buffer {
  const buf = record(KIND_HEADER, 8 + COUNTERS_BYTES);
  buf.writeBigUInt64LE(BigInt(segno), RECORD_HEADER_BYTES);
  writeCounters(c, buf, RECORD_HEADER_BYTES + 8);
  return buf;
}

export function encodeDel(c: Counters, ids: readonly StreamId[]): Buffer {
  const buf = record(KIND_DEL, COUNTERS_BYTES + 4 + ids.length * ID_BYTES);
  let off = RECORD_HEADER_BYTES;
  writeCounters(c, buf, off);
  off += COUNTERS_BYTES;
  buf.writeUInt32LE(ids.length, off);
  off += 4;
  for (const id of ids) {
    id.write(buf, off);
    off += ID_BYTES;
  }
  return buf;
}

export function decodeDelIds(buf: Buffer, start: number): StreamId[] {
  const n = buf.readUInt32LE(start + COUNTERS_BYTES);
  const ids: StreamId[] = [];
  for (let i = 0, off = start + COUNTERS_BYTES + 4; i < n; i++, off += ID_BYTES) {
    ids.push(StreamId.read(buf, off));
  }
  return ids;
}

export function encodeExt(kind: number, body: Buffer): Buffer {
  if (kind < EXT_KIND_MIN || kind > EXT_KIND_MAX) throw new RangeError(`bad ext kind ${kind}`);
  const buf = record(kind, body.length);
  body.copy(buf, RECORD_HEADER_BYTES);
  return buf;
}

/** Wraps records into the unit the writer queues: one command, atomic in one frame. */
export function command(records: Buffer[], data?: readonly StreamEntry[]): EncodedCommand {
  let bytes = 0;
  for (const r of records) bytes += r.length;
  const n = data?.length ?? 0;
  return {
    records,
    bytes,
    dataCount: n,
    firstDataId: n > 0 ? data![0]!.id : null,
    lastDataId: n > 0 ? data![n - 1]!.id : null,
  };
}

/** Checks a record's body length against its kind; false means the record is malformed. */
export function recordBodyValid(buf: Buffer, kind: number, start: number, end: number): boolean {
  const len = end - start;
  switch (kind) {
    case KIND_HEADER:
      return len === 8 + COUNTERS_BYTES;
    case KIND_DATA:
      return len > ID_BYTES;
    case KIND_DEL:
      return (
        len >= COUNTERS_BYTES + 4 &&
        len === COUNTERS_BYTES + 4 + buf.readUInt32LE(start + COUNTERS_BYTES) * ID_BYTES
      );
    case KIND_TRIM:
    case KIND_COUNTERS:
      return len === COUNTERS_BYTES;
    default:
      return kind >= EXT_KIND_MIN && kind <= EXT_KIND_MAX;
  }
}
