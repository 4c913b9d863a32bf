// Stream entry IDs: `ms-seq`, both unsigned 64-bit. BigInt keeps seq and ms exact above 2^53,
// which Redis allows (XADD s 18446744073709551615-18446744073709551615 is legal).

export const U64_MAX = (1n << 64n) - 1n;

/** Byte width of an ID on disk: ms u64 LE then seq u64 LE. */
export const ID_BYTES = 16;

const TWO_32 = 2 ** 32;

/**
 * writeBigUInt64LE, with a fast path for values below 2^53 (every ms timestamp, and nearly
 * every seq): one conversion to a double and eight byte stores instead of Node's shifts and
 * masks or two checked writeUInt32LE calls (writeU64 was 6% of a batched XADD's time). A
 * value above 2^53 - 1 converts to 2^53 or more, so the one comparison is on the double.
 */
function writeU64(buf: Buffer, v: bigint, offset: number): void {
  const n = Number(v);
  if (n > Number.MAX_SAFE_INTEGER) {
    buf.writeBigUInt64LE(v, offset);
    return;
  }
  if (!(offset >= 0 && offset + 8 <= buf.length)) {
    throw new RangeError(`u64 at ${offset} is outside a buffer of ${buf.length} bytes`);
  }
  const lo = n % TWO_32;
  const hi = (n - lo) / TWO_32;
  buf[offset] = lo;
  buf[offset + 1] = lo >>> 8;
  buf[offset + 2] = lo >>> 16;
  buf[offset + 3] = lo >>> 24;
  buf[offset + 4] = hi;
  buf[offset + 5] = hi >>> 8;
  buf[offset + 6] = hi >>> 16;
  buf[offset + 7] = hi >>> 24;
}

export class StreamId {
  static readonly ZERO = new StreamId(0n, 0n);
  static readonly MAX = new StreamId(U64_MAX, U64_MAX);

  constructor(
    readonly ms: bigint,
    readonly seq: bigint,
  ) {}

  compare(other: StreamId): number {
    if (this.ms !== other.ms) return this.ms < other.ms ? -1 : 1;
    if (this.seq !== other.seq) return this.seq < other.seq ? -1 : 1;
    return 0;
  }

  equals(other: StreamId): boolean {
    return this.ms === other.ms && this.seq === other.seq;
  }

  isZero(): boolean {
    return this.ms === 0n && this.seq === 0n;
  }

  /** The smallest ID greater than this one, or null at the top of the ID space. */
  next(): StreamId | null {
    if (this.seq < U64_MAX) return new StreamId(this.ms, this.seq + 1n);
    if (this.ms < U64_MAX) return new StreamId(this.ms + 1n, 0n);
    return null;
  }

  /** The largest ID smaller than this one, or null at 0-0. */
  prev(): StreamId | null {
    if (this.seq > 0n) return new StreamId(this.ms, this.seq - 1n);
    if (this.ms > 0n) return new StreamId(this.ms - 1n, U64_MAX);
    return null;
  }

  toString(): string {
    return `${this.ms}-${this.seq}`;
  }

  write(buf: Buffer, offset: number): void {
    writeU64(buf, this.ms, offset);
    writeU64(buf, this.seq, offset + 8);
  }

  static read(buf: Buffer, offset: number): StreamId {
    return new StreamId(buf.readBigUInt64LE(offset), buf.readBigUInt64LE(offset + 8));
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(ID_BYTES);
    this.write(buf, 0);
    return buf;
  }

  static max(a: StreamId, b: StreamId): StreamId {
    return a.compare(b) >= 0 ? a : b;
  }

  static min(a: StreamId, b: StreamId): StreamId {
    return a.compare(b) <= 0 ? a : b;
  }

  /** Parses a complete `ms-seq` ID; null when it is not one (callers map that to their error). */
  static parse(text: string): StreamId | null {
    const dash = text.indexOf('-');
    if (dash < 0) return null;
    const ms = parseU64(text.slice(0, dash));
    const seq = parseU64(text.slice(dash + 1));
    if (ms === null || seq === null) return null;
    return new StreamId(ms, seq);
  }
}

const DIGITS = /^[0-9]{1,20}$/;

/** Parses a decimal u64 with no sign, spaces or other characters; null when out of range. */
export function parseU64(text: string): bigint | null {
  if (!DIGITS.test(text)) return null;
  const value = BigInt(text);
  return value > U64_MAX ? null : value;
}
