// Frames: the unit one flush writes to a segment. A frame carries whole commands only, so a
// command's records (an XADD and its trim) are atomic: a torn frame loses all of them.
//
// Frame layout, little-endian, version 1:
//   off size field
//   0   4    len       u32  bytes of the whole frame, header included (>= 48, <= MAX_FRAME_BYTES)
//   4   4    crc       u32  zlib.crc32 of bytes [0,4) then [8,len): covers the length, so a corrupt
//                           length is detected rather than mistaken for a torn tail
//   8   1    magic     u8   0x53 ('S')
//   9   1    version   u8   1
//   10  2    flags     u16  bit0 HAS_DATA: some record is DATA; bit1 DATA_ONLY: every record is;
//                           bit2 CONTINUES: the command goes on in the next frame (a command
//                           larger than FRAME_TARGET_BYTES is split so point reads stay small;
//                           a run of CONTINUES frames not closed by a frame without it is torn)
//   12  4    count     u32  number of records
//   16  16   firstId   id   first DATA record's ID (ms u64, seq u64), zero without DATA
//   32  16   lastId    id   last DATA record's ID, zero without DATA
//   48  ...  records   count records, each `len u32 | kind u8 | body` (see records.ts)
// Invariants: DATA IDs strictly increase within a frame and across frames of a stream.
// `len == 0 && crc == 0` marks the end of written data (preallocated or zero-filled tails).
// Recovery: a frame that fails any check is a torn tail when nothing valid follows it in the
// last segment, and corruption otherwise (see recovery.ts).
import zlib from 'node:zlib';
import { StreamId } from './id';
import { MAX_FRAME_BYTES } from './limits';

export const FRAME_HEADER_BYTES = 48;
export const FRAME_MAGIC = 0x53;
export const FRAME_VERSION = 1;
export const FLAG_HAS_DATA = 1;
export const FLAG_DATA_ONLY = 2;
export const FLAG_CONTINUES = 4;
export const RECORD_HEADER_BYTES = 5;

export interface FrameHeader {
  readonly len: number;
  readonly crc: number;
  readonly flags: number;
  readonly count: number;
  readonly firstId: StreamId;
  readonly lastId: StreamId;
}

export type FrameProblem =
  | 'SHORT' // fewer bytes than the header or the declared length: end of file mid-frame
  | 'ZERO' // zero-filled: no frame was ever written here
  | 'BAD_LENGTH'
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'BAD_CRC'
  | 'BAD_RECORDS'; // records do not tile the frame exactly

export type FrameCheck = { ok: true; header: FrameHeader } | { ok: false; problem: FrameProblem };

export function frameCrc(buf: Buffer, start: number, len: number): number {
  const head = zlib.crc32(buf.subarray(start, start + 4));
  return zlib.crc32(buf.subarray(start + 8, start + len), head);
}

/** Checks the frame starting at `start`; `end` is the end of the bytes available. */
export function checkFrame(buf: Buffer, start: number, end: number): FrameCheck {
  if (end - start < 8) return { ok: false, problem: 'SHORT' };
  const len = buf.readUInt32LE(start);
  const crc = buf.readUInt32LE(start + 4);
  if (len === 0 && crc === 0) return { ok: false, problem: 'ZERO' };
  if (len < FRAME_HEADER_BYTES || len > MAX_FRAME_BYTES)
    return { ok: false, problem: 'BAD_LENGTH' };
  if (end - start < len) return { ok: false, problem: 'SHORT' };
  if (buf[start + 8] !== FRAME_MAGIC) return { ok: false, problem: 'BAD_MAGIC' };
  if (buf[start + 9] !== FRAME_VERSION) return { ok: false, problem: 'BAD_VERSION' };
  if (frameCrc(buf, start, len) !== crc) return { ok: false, problem: 'BAD_CRC' };
  const count = buf.readUInt32LE(start + 12);
  if (!recordsTile(buf, start + FRAME_HEADER_BYTES, start + len, count)) {
    return { ok: false, problem: 'BAD_RECORDS' };
  }
  return { ok: true, header: frameHeaderOf(buf, start) };
}

/**
 * The header of a frame known to be whole and sound (checkFrame checked it, or this process
 * wrote it and kept it in memory, tail-cache.ts): read without checks.
 */
export function frameHeaderOf(buf: Buffer, start: number): FrameHeader {
  return {
    len: buf.readUInt32LE(start),
    crc: buf.readUInt32LE(start + 4),
    flags: buf.readUInt16LE(start + 10),
    count: buf.readUInt32LE(start + 12),
    firstId: StreamId.read(buf, start + 16),
    lastId: StreamId.read(buf, start + 32),
  };
}

function recordsTile(buf: Buffer, pos: number, end: number, count: number): boolean {
  for (let i = 0; i < count; i++) {
    if (end - pos < RECORD_HEADER_BYTES) return false;
    pos += RECORD_HEADER_BYTES + buf.readUInt32LE(pos);
    if (pos > end) return false;
  }
  return pos === end;
}

/** Calls `visit(kind, bodyStart, bodyEnd)` for each record of a checked frame. */
export function forEachRecord(
  buf: Buffer,
  frameStart: number,
  header: FrameHeader,
  visit: (kind: number, bodyStart: number, bodyEnd: number) => boolean | void,
): void {
  let pos = frameStart + FRAME_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    const bodyLen = buf.readUInt32LE(pos);
    const kind = buf[pos + 4] as number;
    const bodyStart = pos + RECORD_HEADER_BYTES;
    if (visit(kind, bodyStart, bodyStart + bodyLen) === false) return;
    pos = bodyStart + bodyLen;
  }
}

/** One pending command's records, already encoded, with what the frame header needs. */
export interface EncodedCommand {
  readonly records: Buffer[];
  readonly bytes: number;
  readonly dataCount: number;
  readonly firstDataId: StreamId | null;
  readonly lastDataId: StreamId | null;
}

/** Encodes commands into one frame. The caller keeps frames near FRAME_TARGET_BYTES. */
export function encodeFrame(commands: readonly EncodedCommand[], continues = false): Buffer {
  let len = FRAME_HEADER_BYTES;
  let count = 0;
  let dataCount = 0;
  let firstId: StreamId | null = null;
  let lastId: StreamId | null = null;
  for (const cmd of commands) {
    len += cmd.bytes;
    count += cmd.records.length;
    dataCount += cmd.dataCount;
    if (cmd.firstDataId && !firstId) firstId = cmd.firstDataId;
    if (cmd.lastDataId) lastId = cmd.lastDataId;
  }
  const buf = Buffer.allocUnsafe(len);
  buf.writeUInt32LE(len, 0);
  buf[8] = FRAME_MAGIC;
  buf[9] = FRAME_VERSION;
  const flags =
    (dataCount > 0 ? FLAG_HAS_DATA : 0) |
    (dataCount === count ? FLAG_DATA_ONLY : 0) |
    (continues ? FLAG_CONTINUES : 0);
  buf.writeUInt16LE(flags, 10);
  buf.writeUInt32LE(count, 12);
  (firstId ?? StreamId.ZERO).write(buf, 16);
  (lastId ?? StreamId.ZERO).write(buf, 32);
  let pos = FRAME_HEADER_BYTES;
  for (const cmd of commands) {
    for (const rec of cmd.records) pos += rec.copy(buf, pos);
  }
  buf.writeUInt32LE(frameCrc(buf, 0, len), 4);
  return buf;
}

/**
 * Splits a command into parts of about `target` bytes (whole records each), for frames of
 * which all but the last carry FLAG_CONTINUES. DATA IDs are read back from the records.
 */
export function splitCommand(cmd: EncodedCommand, target: number): EncodedCommand[] {
  const parts: EncodedCommand[] = [];
  let records: Buffer[] = [];
  let bytes = 0;
  let dataCount = 0;
  let first: StreamId | null = null;
  let last: StreamId | null = null;
  const cut = () => {
    parts.push({ records, bytes, dataCount, firstDataId: first, lastDataId: last });
    records = [];
    bytes = 0;
    dataCount = 0;
    first = last = null;
  };
  for (const rec of cmd.records) {
    if (records.length > 0 && bytes + rec.length > target) cut();
    records.push(rec);
    bytes += rec.length;
    if (rec[4] === DATA_KIND) {
      last = StreamId.read(rec, RECORD_HEADER_BYTES);
      first ??= last;
      dataCount++;
    }
  }
  if (records.length > 0) cut();
  return parts;
}

/** records.ts KIND_DATA, repeated here because records.ts imports this file. */
const DATA_KIND = 2;
