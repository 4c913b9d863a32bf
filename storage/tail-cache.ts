// The last bytes written to a segment file, kept in memory as they were written, so reads of a
// stream's tail (consumers keeping up, XREAD BLOCK wakeups, XRANGE of recent entries) need no
// file read. A read went through libuv's thread pool (a futex hand-off each way) and checked
// every frame's CRC: XRANGE COUNT 10 over a 100-entry stream, 50 clients, spent 36% of the
// server's CPU in futex calls and ran at 0.15 of redis-server (perf, 2026-12-03). Bytes held
// here never left memory, so they are not checked again; reads below the cached part go to the
// file as before, checked.
//
// Bounded: each segment keeps at most TAIL_CACHE_SEGMENT_BYTES (its oldest blocks go first),
// and all segments of a store together TAIL_CACHE_BYTES (the segment least recently written or
// read loses its whole tail first). Nothing here is written to disk.
import { TAIL_CACHE_BLOCK_BYTES, TAIL_CACHE_BYTES, TAIL_CACHE_SEGMENT_BYTES } from './limits';

/** One run of written bytes: whole writes, so whole frames, from file offset `start`. */
export interface TailBlock {
  readonly start: number;
  readonly buf: Buffer;
  used: number;
}

/** One segment's cached tail: blocks in file order, each starting where the last one ends. */
export class SegmentTail {
  readonly blocks: TailBlock[] = [];
  /** Bytes of memory the blocks hold (their capacity, not only what is used). */
  held = 0;
  /** File offset just past the last cached byte. */
  end: number;

  constructor(start: number) {
    this.end = start;
  }

  /** File offset of the first cached byte. */
  get start(): number {
    return this.blocks.length > 0 ? (this.blocks[0] as TailBlock).start : this.end;
  }

  /** Copies `frames` (one write of `bytes`, at the cached end) in; returns the memory added. */
  append(frames: readonly Buffer[], bytes: number): number {
    let last = this.blocks[this.blocks.length - 1];
    let added = 0;
    if (!last || last.buf.length - last.used < bytes) {
      // Blocks grow from 4 KiB, so a stream written now and then holds little.
      const grown = last ? Math.min(last.buf.length * 2, TAIL_CACHE_BLOCK_BYTES) : 4096;
      const size = Math.max(grown, bytes);
      last = { start: this.end, buf: Buffer.allocUnsafeSlow(size), used: 0 };
      this.blocks.push(last);
      added = size;
    }
    for (const f of frames) last.used += f.copy(last.buf, last.used);
    this.end += bytes;
    this.held += added;
    return added;
  }

  /** Drops the oldest blocks while more than `keep` bytes are held; returns the memory freed. */
  shrinkTo(keep: number): number {
    let freed = 0;
    while (this.held > keep && this.blocks.length > 1) {
      const gone = (this.blocks.shift() as TailBlock).buf.length;
      this.held -= gone;
      freed += gone;
    }
    return freed;
  }

  /** The block holding file offset `pos`, or null when it is not cached. */
  blockAt(pos: number): TailBlock | null {
    const blocks = this.blocks;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i] as TailBlock;
      if (pos >= b.start) return pos < b.start + b.used ? b : null;
    }
    return null;
  }
}

/** What the cache needs of a segment: its tail, which the cache may take away. */
export interface TailOwner {
  tail: SegmentTail | null;
}

/** The store-wide budget over every segment's tail (least recently used goes first). */
export class TailBudget {
  private readonly owners = new Set<TailOwner>();
  private held = 0;

  constructor(
    private readonly totalBytes = TAIL_CACHE_BYTES,
    private readonly segmentBytes = TAIL_CACHE_SEGMENT_BYTES,
  ) {}

  /** Bytes of memory all tails hold. */
  get bytes(): number {
    return this.held;
  }

  /**
   * Records `frames` (`bytes` long) written at file offset `base` of `owner`'s segment. A write
   * that does not follow the cached end (the first one, or after a cut) starts the tail anew.
   */
  written(owner: TailOwner, base: number, frames: readonly Buffer[], bytes: number): void {
    if (this.totalBytes <= 0 || bytes === 0) return;
    let tail = owner.tail;
    if (tail && tail.end !== base) {
      this.drop(owner);
      tail = null;
    }
    if (!tail) {
      tail = new SegmentTail(base);
      owner.tail = tail;
    }
    this.held += tail.append(frames, bytes);
    this.held -= tail.shrinkTo(this.segmentBytes);
    this.touch(owner);
    this.evict(owner);
  }

  /** A read used `owner`'s tail: it is the last to be evicted now. */
  touch(owner: TailOwner): void {
    this.owners.delete(owner);
    this.owners.add(owner);
  }

  /** Forgets `owner`'s tail (its file was cut, deleted or is no longer read). */
  drop(owner: TailOwner): void {
    if (owner.tail) this.held -= owner.tail.held;
    owner.tail = null;
    this.owners.delete(owner);
  }

  private evict(keep: TailOwner): void {
    for (const owner of this.owners) {
      if (this.held <= this.totalBytes) return;
      if (owner !== keep) this.drop(owner);
    }
  }
}
