// Checkpoints: the state of one stream and the log position it covers, so a restart scans
// only the log after it. Files are `checkpoint.<n>` in the stream's directory; the two newest
// are kept, written tmp -> fdatasync -> rename -> directory fsync.
//
// File layout, little-endian, version 1:
//   off  size  field
//   0    4     magic     "SCKP"
//   4    1     version   1
//   5    3     reserved  zero
//   8    4     bodyLen   u32
//   12   4     crc       u32: zlib.crc32 of bytes [0,12) then the body
//   16   n     body      msgpack map, see CheckpointBody
// Recovery: a checkpoint with a bad magic, version, length or CRC is skipped (CHECKPOINT_BAD)
// for the previous one, then for a full scan; so is one whose covered frame is not in the log
// with the recorded CRC (CHECKPOINT_AHEAD).
import zlib from 'node:zlib';
import { Packr } from 'msgpackr';

const MAGIC = Buffer.from('SCKP');
const VERSION = 1;
const HEADER_BYTES = 16;
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export interface CheckpointSegment {
  segno: number;
  /** First and last DATA IDs (16-byte IDs), null without entries. */
  firstId: Buffer | null;
  lastId: Buffer | null;
  entriesCount: number;
  /** Bytes of the segment covered: its full size when sealed. */
  size: number;
  sealed: boolean;
  /** Deleted IDs inside this segment, 16 bytes each. */
  deleted: Buffer;
}

export interface CheckpointBody {
  /** Segment number and end offset of the last covered frame, with that frame's start and CRC. */
  coveredSegno: number;
  coveredEnd: number;
  lastFrameStart: number;
  lastFrameCrc: number;
  /** Counters as written by records.writeCounters. */
  counters: Buffer;
  segments: CheckpointSegment[];
  /** Sparse index of the covered segment when it was still active: 24 bytes an entry. */
  activeIndex: Buffer | null;
  /** Opaque state of the layers above (consumer groups). */
  ext: Buffer | null;
  writtenAtMs: number;
}

export function encodeCheckpoint(body: CheckpointBody): Buffer {
  const packed = packr.pack(body);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + packed.length);
  MAGIC.copy(buf, 0);
  buf[4] = VERSION;
  buf.fill(0, 5, 8);
  buf.writeUInt32LE(packed.length, 8);
  packed.copy(buf, HEADER_BYTES);
  const crc = zlib.crc32(buf.subarray(HEADER_BYTES), zlib.crc32(buf.subarray(0, 12)));
  buf.writeUInt32LE(crc, 12);
  return buf;
}

export function decodeCheckpoint(buf: Buffer): CheckpointBody | null {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 4).equals(MAGIC)) return null;
  if (buf[4] !== VERSION) return null;
  const len = buf.readUInt32LE(8);
  if (HEADER_BYTES + len !== buf.length) return null;
  const crc = zlib.crc32(buf.subarray(HEADER_BYTES), zlib.crc32(buf.subarray(0, 12)));
  if (crc !== buf.readUInt32LE(12)) return null;
  try {
    return packr.unpack(buf.subarray(HEADER_BYTES)) as CheckpointBody;
  } catch {
    return null;
  }
}
