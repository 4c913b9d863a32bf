// The sparse ID index of one segment: an entry (first DATA ID of a frame, byte position of
// that frame) every INDEX_INTERVAL_BYTES or more. The active segment's index lives in memory;
// a sealed segment's is written once to `<segno>.idx` and loaded lazily.
//
// `.idx` file layout, little-endian, version 1:
//   off     size   field
//   0       4      magic        "SIDX"
//   4       1      version      1
//   5       3      reserved     zero
//   8       24*n   entries      ms u64, seq u64, pos u64 (frame start in the segment)
//   8+24n   64     footer       count u32, reserved u32, firstId 16, lastId 16,
//                               entriesCount u64, coveredBytes u64 (the segment's size),
//                               crc u32 (zlib.crc32 of every byte before it), reserved u32
// Invariants: entries strictly increase by ID and position. The index is derived data: a
// missing file, a bad CRC or coveredBytes != segment size means "rebuild by scanning", never a
// failed start (recovery labels MISSING_INDEX, CORRUPT_INDEX, STALE_INDEX).
import zlib from 'node:zlib';
import { StreamId } from './id';

const MAGIC = Buffer.from('SIDX');
const VERSION = 1;
const ENTRY_BYTES = 24;
const FOOTER_BYTES = 64;

export interface IndexFooter {
  readonly firstId: StreamId;
  readonly lastId: StreamId;
  readonly entriesCount: number;
  readonly coveredBytes: number;
}

export class SparseIndex {
  private ms = new BigUint64Array(16);
  private seq = new BigUint64Array(16);
  private pos = new Float64Array(16);
  length = 0;

  add(id: StreamId, position: number): void {
    if (this.length === this.pos.length) this.grow();
    this.ms[this.length] = id.ms;
    this.seq[this.length] = id.seq;
    this.pos[this.length] = position;
    this.length++;
  }

  position(i: number): number {
    return this.pos[i] as number;
  }

  id(i: number): StreamId {
    return new StreamId(this.ms[i] as bigint, this.seq[i] as bigint);
  }

  /** Index of the last entry whose ID is <= id, or -1 when every entry is greater. */
  floor(id: StreamId): number {
    let lo = 0;
    let hi = this.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const ms = this.ms[mid] as bigint;
      const le = ms < id.ms || (ms === id.ms && (this.seq[mid] as bigint) <= id.seq);
      if (le) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Drops entries at or after `position` (used when a torn tail is truncated). */
  truncateAt(position: number): void {
    while (this.length > 0 && (this.pos[this.length - 1] as number) >= position) this.length--;
  }

  private grow(): void {
    const size = this.pos.length * 2;
    const ms = new BigUint64Array(size);
    const seq = new BigUint64Array(size);
    const pos = new Float64Array(size);
    ms.set(this.ms);
    seq.set(this.seq);
    pos.set(this.pos);
    this.ms = ms;
    this.seq = seq;
    this.pos = pos;
  }

  encode(footer: IndexFooter): Buffer {
    const buf = Buffer.alloc(8 + this.length * ENTRY_BYTES + FOOTER_BYTES);
    MAGIC.copy(buf, 0);
    buf[4] = VERSION;
    let off = 8;
    for (let i = 0; i < this.length; i++, off += ENTRY_BYTES) {
      buf.writeBigUInt64LE(this.ms[i] as bigint, off);
      buf.writeBigUInt64LE(this.seq[i] as bigint, off + 8);
      buf.writeBigUInt64LE(BigInt(this.pos[i] as number), off + 16);
    }
    buf.writeUInt32LE(this.length, off);
    footer.firstId.write(buf, off + 8);
    footer.lastId.write(buf, off + 24);
    buf.writeBigUInt64LE(BigInt(footer.entriesCount), off + 40);
    buf.writeBigUInt64LE(BigInt(footer.coveredBytes), off + 48);
    buf.writeUInt32LE(zlib.crc32(buf.subarray(0, off + 56)), off + 56);
    return buf;
  }

  /** Decodes an `.idx` file; null when it is not a valid version-1 index. */
  static decode(buf: Buffer): { index: SparseIndex; footer: IndexFooter } | null {
    if (buf.length < 8 + FOOTER_BYTES || !buf.subarray(0, 4).equals(MAGIC)) return null;
    if (buf[4] !== VERSION) return null;
    const off = buf.length - FOOTER_BYTES;
    if ((off - 8) % ENTRY_BYTES !== 0) return null;
    if (zlib.crc32(buf.subarray(0, off + 56)) !== buf.readUInt32LE(off + 56)) return null;
    const count = buf.readUInt32LE(off);
    if (count * ENTRY_BYTES !== off - 8) return null;
    const index = new SparseIndex();
    for (let i = 0, p = 8; i < count; i++, p += ENTRY_BYTES) {
      index.add(StreamId.read(buf, p), Number(buf.readBigUInt64LE(p + 16)));
    }
    const footer: IndexFooter = {
      firstId: StreamId.read(buf, off + 8),
      lastId: StreamId.read(buf, off + 24),
      entriesCount: Number(buf.readBigUInt64LE(off + 40)),
      coveredBytes: Number(buf.readBigUInt64LE(off + 48)),
    };
    return { index, footer };
  }
}
