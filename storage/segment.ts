// One segment file of a stream log: its in-memory summary (ID range, entry count, deleted
// IDs, size), its sparse index, and reads of its frames. Sealed segments never change; the
// active one only grows at its end.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StreamId } from './id';
import { readAt, type Io } from './io';
import { CorruptionError, type Logger } from './errors';
import { checkFrame, FRAME_HEADER_BYTES, frameHeaderOf, type FrameHeader } from './frame';
import {
  INDEX_CACHE_SEGMENTS,
  INDEX_INTERVAL_BYTES,
  READ_CHUNK_BYTES,
  READ_FD_CACHE,
  READ_FIRST_CHUNK_BYTES,
} from './limits';
import { SparseIndex } from './sparse-index';
import { writeFileAtomic } from './datadir';
import { TailBudget, type SegmentTail, type TailOwner } from './tail-cache';

export function segmentFileName(segno: number): string {
  return `${String(segno).padStart(20, '0')}.seg`;
}

export function indexFileName(segno: number): string {
  return `${String(segno).padStart(20, '0')}.idx`;
}

/** Shared by every log of a store: the file layer, open read descriptors and loaded indexes. */
export class SegmentFiles {
  private readonly fds = new Map<string, { fd: number; refs: number; doomed: boolean }>();
  private readonly indexes = new Set<Segment>();

  constructor(
    readonly io: Io,
    readonly logger: Logger,
    /** The recently written bytes of every segment, served to reads from memory. */
    readonly tails = new TailBudget(),
  ) {}

  async acquire(file: string): Promise<number> {
    const open = this.fds.get(file);
    if (open) {
      this.fds.delete(file);
      this.fds.set(file, open);
      open.refs++;
      return open.fd;
    }
    const fd = await this.io.open(file, 'r');
    this.fds.set(file, { fd, refs: 1, doomed: false });
    this.evictFds();
    return fd;
  }

  release(file: string, fd: number): void {
    const open = this.fds.get(file);
    if (open && open.fd === fd) {
      open.refs--;
      if (open.refs === 0 && open.doomed) {
        this.fds.delete(file);
        void this.io.close(fd).catch(() => {});
      }
    }
  }

  private evictFds(): void {
    if (this.fds.size <= READ_FD_CACHE) return;
    for (const [file, open] of this.fds) {
      if (this.fds.size <= READ_FD_CACHE) break;
      if (open.refs > 0) continue;
      this.fds.delete(file);
      void this.io.close(open.fd).catch(() => {});
    }
  }

  /** Closes the read descriptor of a file about to be deleted or replaced. */
  async forget(file: string): Promise<void> {
    const open = this.fds.get(file);
    if (!open) return;
    if (open.refs > 0) {
      open.doomed = true; // closed by the last release, so no read loses its descriptor
      return;
    }
    this.fds.delete(file);
    await this.io.close(open.fd).catch(() => {});
  }

  /** Takes over a sealed segment's former write descriptor as a cached read descriptor. */
  adopt(file: string, fd: number): void {
    this.fds.set(file, { fd, refs: 0, doomed: false });
    this.evictFds();
  }

  touchIndex(seg: Segment): void {
    this.indexes.delete(seg);
    this.indexes.add(seg);
    if (this.indexes.size <= INDEX_CACHE_SEGMENTS) return;
    for (const old of this.indexes) {
      if (this.indexes.size <= INDEX_CACHE_SEGMENTS) break;
      this.indexes.delete(old);
      old.dropIndex();
    }
  }

  /** A segment leaves the store's use (deleted, its log closed): its cached state goes. */
  dropSegment(seg: Segment): void {
    this.indexes.delete(seg);
    this.tails.drop(seg);
  }

  async closeAll(): Promise<void> {
    const all = [...this.fds.values()];
    this.fds.clear();
    await Promise.all(all.map((o) => this.io.close(o.fd).catch(() => {})));
  }
}

export type FrameVisitor = (
  buf: Buffer,
  start: number,
  header: FrameHeader,
  pos: number,
) => boolean;

export class Segment implements TailOwner {
  firstId: StreamId | null = null;
  lastId: StreamId | null = null;
  entriesCount = 0;
  deleted: Set<string> | null = null;
  /** Bytes written to the file (readable); the active segment's pending bytes are not here. */
  size = 0;
  sealed = false;
  /** Descriptor for appends; only the active segment has one. */
  writeFd: number | null = null;
  lastFrameStart = 0;
  lastFrameCrc = 0;
  /** The last bytes written through this object, in memory (tail-cache.ts). */
  tail: SegmentTail | null = null;
  private index: SparseIndex | null = null;
  private lastIndexedPos = -1;
  private loading: Promise<SparseIndex> | null = null;

  constructor(
    readonly segno: number,
    readonly dir: string,
    private readonly files: SegmentFiles,
  ) {}

  get path(): string {
    return path.join(this.dir, segmentFileName(this.segno));
  }

  get indexPath(): string {
    return path.join(this.dir, indexFileName(this.segno));
  }

  /** Records a DATA entry in the summary (memory only). */
  noteEntry(id: StreamId): void {
    if (this.firstId === null) this.firstId = id;
    this.lastId = id;
    this.entriesCount++;
  }

  contains(id: StreamId): boolean {
    return (
      this.firstId !== null &&
      this.lastId !== null &&
      id.compare(this.firstId) >= 0 &&
      id.compare(this.lastId) <= 0
    );
  }

  isDeleted(id: StreamId): boolean {
    return this.deleted !== null && this.deleted.has(id.toString());
  }

  markDeleted(id: StreamId): void {
    (this.deleted ??= new Set()).add(id.toString());
  }

  /** Adds an index entry for a DATA frame written at `pos`, if the interval has passed. */
  noteFrame(firstDataId: StreamId, pos: number): void {
    if (!this.index) this.index = new SparseIndex();
    if (this.lastIndexedPos >= 0 && pos - this.lastIndexedPos < INDEX_INTERVAL_BYTES) return;
    this.index.add(firstDataId, pos);
    this.lastIndexedPos = pos;
  }

  /** Installs an index built elsewhere (recovery, checkpoint) for the active segment. */
  setIndex(index: SparseIndex): void {
    this.index = index;
    this.lastIndexedPos = index.length > 0 ? index.position(index.length - 1) : -1;
  }

  activeIndex(): SparseIndex | null {
    return this.sealed ? null : this.index;
  }

  dropIndex(): void {
    if (this.sealed) this.index = null;
  }

  /** The segment's index: in memory when active, else loaded from `.idx` or rebuilt. */
  async getIndex(): Promise<SparseIndex> {
    if (this.index) {
      if (this.sealed) this.files.touchIndex(this);
      return this.index;
    }
    this.loading ??= this.loadIndex().finally(() => (this.loading = null));
    return this.loading;
  }

  private async loadIndex(): Promise<SparseIndex> {
    let label = 'MISSING_INDEX';
    try {
      const decoded = SparseIndex.decode(await fs.readFile(this.indexPath));
      if (decoded && decoded.footer.coveredBytes === this.size) {
        this.index = decoded.index;
        this.files.touchIndex(this);
        return decoded.index;
      }
      label = decoded ? 'STALE_INDEX' : 'CORRUPT_INDEX';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') label = 'CORRUPT_INDEX';
    }
    this.files.logger.warn(`${label}: rebuilding index by scanning`, { file: this.indexPath });
    const index = await this.rebuildIndex();
    this.index = index;
    this.files.touchIndex(this);
    await this.writeIndexFile().catch((err: unknown) =>
      this.files.logger.warn('index write failed', { file: this.indexPath, err: String(err) }),
    );
    return index;
  }

  private async rebuildIndex(): Promise<SparseIndex> {
    const index = new SparseIndex();
    let last = -1;
    await this.scan(0, this.size, (_buf, _start, header, pos) => {
      if (header.count > 0 && (header.flags & 1) !== 0) {
        if (last < 0 || pos - last >= INDEX_INTERVAL_BYTES) {
          index.add(header.firstId, pos);
          last = pos;
        }
      }
      return true;
    });
    return index;
  }

  /** Writes `<segno>.idx` for a sealed segment (derived data; failure only costs a rebuild). */
  async writeIndexFile(): Promise<void> {
    if (!this.index) return;
    const footer = {
      firstId: this.firstId ?? StreamId.ZERO,
      lastId: this.lastId ?? StreamId.ZERO,
      entriesCount: this.entriesCount,
      coveredBytes: this.size,
    };
    await writeFileAtomic(this.indexPath, this.index.encode(footer));
  }

  /**
   * Visits the frames in [from, to) in order until the visitor returns false: from the cached
   * tail where it holds them, else read from the file and checked. Every frame there was
   * written and checked before, so a bad one is corruption, reported with file and offset.
   */
  async scan(from: number, to: number, visit: FrameVisitor): Promise<void> {
    let useTail = true;
    while (from < to) {
      // Where the cached bytes begin, when they reach `to`; Infinity when they do not help.
      const tail = useTail ? this.tail : null;
      const cachedFrom = tail && tail.end >= to ? tail.start : Infinity;
      if (tail && from >= cachedFrom) {
        this.files.tails.touch(this);
        const reached = this.scanTail(tail, from, to, visit);
        if (reached < 0 || reached >= to) return;
        // The cached bytes ended early (never expected): the rest from the file, checked.
        from = reached;
        useTail = false;
        continue;
      }
      const stop = Math.min(to, cachedFrom);
      if (!(await this.scanFile(from, stop, visit))) return;
      from = stop;
    }
  }

  /** scan() over cached blocks: -1 when the visitor stopped, else the offset reached. */
  private scanTail(tail: SegmentTail, from: number, to: number, visit: FrameVisitor): number {
    let pos = from;
    while (pos < to) {
      const block = tail.blockAt(pos);
      if (!block) return pos;
      const buf = block.buf;
      let start = pos - block.start;
      const end = Math.min(block.used, to - block.start);
      while (start < end) {
        const header = frameHeaderOf(buf, start);
        if (header.len < FRAME_HEADER_BYTES || start + header.len > block.used) {
          return block.start + start;
        }
        if (!visit(buf, start, header, block.start + start)) return -1;
        start += header.len;
      }
      pos = block.start + start;
    }
    return pos;
  }

  /** scan() over the file: false when the visitor stopped. */
  private async scanFile(from: number, to: number, visit: FrameVisitor): Promise<boolean> {
    const acquired = this.writeFd === null;
    const fd = acquired ? await this.files.acquire(this.path) : (this.writeFd as number);
    try {
      let pos = from;
      let chunk = READ_FIRST_CHUNK_BYTES;
      while (pos < to) {
        const buf = await this.readFramesAt(fd, pos, to, chunk);
        chunk = Math.min(chunk * 2, READ_CHUNK_BYTES);
        let start = 0;
        while (buf.length - start >= 8) {
          const check = checkFrame(buf, start, buf.length);
          if (!check.ok && check.problem === 'SHORT' && start > 0) break;
          if (!check.ok) {
            throw new CorruptionError(this.path, pos + start, `bad frame (${check.problem})`);
          }
          if (!visit(buf, start, check.header, pos + start)) return false;
          start += check.header.len;
        }
        if (start === 0) throw new CorruptionError(this.path, pos, 'unexpected end of segment');
        pos += start;
      }
      return true;
    } finally {
      if (acquired) this.files.release(this.path, fd);
    }
  }

  /** Reads a chunk at `pos`, grown to hold the whole first frame when that frame is larger. */
  private async readFramesAt(fd: number, pos: number, to: number, chunk: number) {
    const io = this.files.io;
    const buf = await readAt(io, fd, pos, Math.min(chunk, to - pos));
    if (buf.length < 8) return buf;
    const len = buf.readUInt32LE(0);
    if (len <= buf.length || pos + len > to) return buf;
    return readAt(io, fd, pos, len);
  }
}
