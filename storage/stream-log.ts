// The log of one stream: its segments, counters and durability. Mutations run one at a time
// (an op queue, so a trim that must read is atomic with the append it belongs to); each is
// applied to memory at once and its records are queued for the writer, which batches every
// queued command into one positional write per file, and under `always` one fdatasync (group
// commit). A mutation's promise settles when its records are as durable as the policy says.
import assert from 'node:assert';
import path from 'node:path';
import fs from 'node:fs/promises';
import { StreamId } from './id';
import { fsyncDir, writeFileAtomic } from './datadir';
import { StorageError, type Logger } from './errors';
import {
  encodeFrame,
  forEachRecord,
  splitCommand,
  FLAG_HAS_DATA,
  type EncodedCommand,
} from './frame';
import { FRAME_TARGET_BYTES, MAX_RECORD_BYTES, TXN_INTENT_MAX_BYTES } from './limits';
import {
  command,
  decodeFields,
  encodeCounters,
  encodeData,
  encodeDel,
  encodeExt,
  encodeHeader,
  KIND_COUNTERS,
  KIND_DATA,
  KIND_TRIM,
  writeCounters,
  type Counters,
  type StreamEntry,
} from './records';
import { Segment, type SegmentFiles } from './segment';
import { partFrom, type HeldLog, type HeldPart, type WriteHold } from './write-hold';
import { metaFingerprint, metaFingerprintNow } from './txn-intent';
import type { Io } from './io';
import { encodeCheckpoint, type CheckpointBody, type CheckpointSegment } from './checkpoint';
import { planTrim, type TrimSpec } from './trim';
import { atTurnEnd } from './turn-end';
import { SizeAhead } from './size-ahead';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface LogOptions {
  readonly fsync: FsyncPolicy;
  readonly segmentBytes: number;
  /** Shared with the journal and the other logs: holds writes back during an EXEC. */
  readonly writeHold?: WriteHold;
}

/** Packs commands into frames of about FRAME_TARGET_BYTES, in order, as the writer writes them. */
class FramePacker {
  private frames: Buffer[] = [];
  private frame: EncodedCommand[] = [];
  private bytes = 0;

  add(cmd: EncodedCommand): void {
    if (cmd.bytes > FRAME_TARGET_BYTES && cmd.records.length > 1) {
      // A large command goes over several frames of its own (FLAG_CONTINUES on all but the last).
      this.seal();
      const parts = splitCommand(cmd, FRAME_TARGET_BYTES);
      parts.forEach((p, i) => this.frames.push(encodeFrame([p], i < parts.length - 1)));
      return;
    }
    this.frame.push(cmd);
    this.bytes += cmd.bytes;
    if (this.bytes >= FRAME_TARGET_BYTES) this.seal();
  }

  /** The frames so far, the open one closed; the packer starts empty. */
  take(): Buffer[] {
    this.seal();
    const frames = this.frames;
    this.frames = [];
    return frames;
  }

  private seal(): void {
    if (this.frame.length > 0) this.frames.push(encodeFrame(this.frame));
    this.frame = [];
    this.bytes = 0;
  }
}

const joined = (frames: readonly Buffer[]): Buffer =>
  frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);

/** State of the layers above that lives in this log (consumer groups). */
export interface StreamExtension {
  restore(snapshot: Buffer | null): void;
  apply(kind: number, body: Buffer): void;
  snapshot(): Buffer | null;
}

/** What recovery hands to a log: segments in order, the last one active with its descriptor. */
export interface RecoveredLog {
  readonly segments: Segment[];
  readonly counters: Counters;
  readonly checkpointSeq: number;
  readonly coveredSegno: number;
}

interface Draft {
  readonly counters: Counters;
  readonly segments: Omit<CheckpointSegment, 'size'>[];
  readonly coveredSegno: number;
  readonly ext: Buffer | null;
  readonly done: Array<(err: Error | null) => void>;
}

type Pending =
  | { readonly type: 'cmd'; readonly cmd: EncodedCommand; readonly seq: number }
  | {
      readonly type: 'roll';
      readonly seg: Segment;
      readonly header: EncodedCommand;
      readonly seq: number;
    }
  | { readonly type: 'checkpoint'; readonly draft: Draft; readonly seq: number };

/** Where a checkpoint's covered frames end in its segment: the log as the draft saw it. */
interface FrameCut {
  readonly end: number;
  readonly lastFrameStart: number;
  readonly crc: number;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** Resolves the waiters for seqs up to `seq`, in order; returns those still waiting. */
function resolveUpTo(waiters: readonly Waiter[], seq: number): Waiter[] {
  const keep: Waiter[] = [];
  for (const w of waiters) {
    if (w.seq <= seq) w.resolve();
    else keep.push(w);
  }
  return keep;
}

const FRAME_OVERHEAD_ESTIMATE = 48;

/** An append applied in memory and queued for the writer: `seq` is for whenDurable. */
export interface AppendDone {
  readonly entries: readonly StreamEntry[];
  readonly trimmed: number;
  readonly seq: number;
}

export class StreamLog implements HeldLog {
  readonly segments: Segment[];
  private counters: Counters;
  private active: Segment;
  /** Segment the writer appends to: lags `active` while a roll is queued. */
  private writing: Segment;
  private activeBytes: number;
  private pending: Pending[] = [];
  private seq = 0;
  private writtenSeq = 0;
  private syncedSeq = 0;
  /** Bytes of the segment being written known durable: under `always`, a failure cuts here. */
  private syncedBytes: number;
  /** Under `always`, the segment being written is grown ahead of its data (size-ahead.ts). */
  private readonly ahead: SizeAhead;
  private waiters: Waiter[] = [];
  private flushing = false;
  private flushScheduled = false;
  private syncRequested = false;
  private failure: StorageError | null = null;
  private closed = false;
  private opBusy = false;
  private opQueue: Array<() => void> = [];
  private checkpointSeq: number;
  private coveredSegno: number;
  private lastCheckpointMs = Date.now();
  private lastCheckpointSeq = 0;
  private background = new Set<Promise<unknown>>();
  /** The previous checkpoint (the older one kept): retention may delete only what it lets go. */
  private retentionBasis: { counters: Counters; coveredSegno: number } | null = null;
  private ext: StreamExtension | null = null;

  constructor(
    readonly key: Buffer,
    readonly dir: string,
    private readonly options: LogOptions,
    private readonly files: SegmentFiles,
    recovered: RecoveredLog,
  ) {
    assert(recovered.segments.length > 0, 'a log has at least its active segment');
    this.segments = recovered.segments;
    this.counters = { ...recovered.counters };
    this.active = this.segments[this.segments.length - 1] as Segment;
    this.writing = this.active;
    this.activeBytes = this.active.size;
    this.syncedBytes = this.active.size;
    this.ahead = new SizeAhead(files.io, options.fsync === 'always');
    this.checkpointSeq = recovered.checkpointSeq;
    this.coveredSegno = recovered.coveredSegno;
    assert(this.active.writeFd !== null, 'the active segment is open for appends');
  }

  get logger(): Logger {
    return this.files.logger;
  }

  setExtension(ext: StreamExtension): void {
    this.ext = ext;
  }

  get lastId(): StreamId {
    return this.counters.lastId;
  }
  get entriesAdded(): bigint {
    return this.counters.entriesAdded;
  }
  get maxDeletedId(): StreamId {
    return this.counters.maxDeletedId;
  }
  get firstId(): StreamId {
    return this.counters.firstId;
  }
  get length(): number {
    return this.counters.length;
  }
  /**
   * Nothing but its first segment's header frame was ever written: a creation whose first
   * command (the XADD, the XGROUP CREATE ... MKSTREAM) a crash cut off. Every command that
   * makes or keeps a stream writes a frame, an empty stream included (XGROUP DESTROY, XDEL
   * and trims are frames too), so no stream a client was told of looks like this.
   */
  get unborn(): boolean {
    const first = this.segments[0];
    return this.segments.length === 1 && first?.segno === 1 && first.lastFrameStart === 0;
  }

  /** Whether appendNow would append now (no other mutation running, no failure, open). */
  get canAppendNow(): boolean {
    return !this.opBusy && this.failure === null && !this.closed;
  }
  /** The sticky write failure, if any: the log then refuses every mutation. */
  get writeFailure(): StorageError | null {
    return this.failure;
  }

  /** Counters as a copy (tests and checkpoints). */
  snapshotCounters(): Counters {
    return { ...this.counters };
  }

  // ---- the op queue -------------------------------------------------------------------

  /** Runs `op` when no other mutation of this log is running; `op` runs now when idle. */
  private async exclusive<T>(op: () => T | Promise<T>): Promise<T> {
    if (this.opBusy) await new Promise<void>((resolve) => this.opQueue.push(resolve));
    this.opBusy = true;
    try {
      this.checkWritable();
      return await op();
    } finally {
      const next = this.opQueue.shift();
      if (next) next();
      else this.opBusy = false;
    }
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new StorageError('CLOSED', 'stream log is closed');
  }

  // ---- mutations ----------------------------------------------------------------------

  // Each mutation comes in two forms: `xApplied` resolves once the change is applied in memory
  // and queued for the writer, with the `seq` to pass to whenDurable (callers that hold locks
  // release them before waiting, so concurrent commands share one group commit); `x` resolves
  // once the change is durable.

  /**
   * Appends the entries `make` returns, given the current last ID (so IDs are chosen when the
   * append runs), then applies `trim` in the same atomic command. Resolves once durable.
   */
  async append(
    make: (lastId: StreamId) => readonly StreamEntry[],
    trim?: TrimSpec,
  ): Promise<{ entries: readonly StreamEntry[]; trimmed: number }> {
    const { seq, entries, trimmed } = await this.appendApplied(make, trim);
    await this.whenDurable(seq);
    return { entries, trimmed };
  }

  appendApplied(
    make: (lastId: StreamId) => readonly StreamEntry[],
    trim?: TrimSpec,
  ): Promise<AppendDone> {
    return this.exclusive(async () => {
      const { entries, records } = this.prepareAppend(make);
      const plan = trim ? await planTrim(this, trim, entries) : null;
      return this.applyAppend(entries, records, plan);
    });
  }

  /**
   * appendApplied without a trim, done synchronously when no other mutation of this log is
   * running (the common case); null when one is, and nothing was done: use appendApplied.
   */
  appendNow(make: (lastId: StreamId) => readonly StreamEntry[]): AppendDone | null {
    if (this.opBusy) return null;
    this.checkWritable();
    const { entries, records } = this.prepareAppend(make);
    return this.applyAppend(entries, records, null);
  }

  private prepareAppend(make: (lastId: StreamId) => readonly StreamEntry[]) {
    const entries = make(this.counters.lastId);
    this.checkIncreasing(entries);
    const records = entries.map(encodeData);
    for (const r of records) {
      if (r.length > MAX_RECORD_BYTES) {
        throw new StorageError('LIMIT', `entry of ${r.length} bytes exceeds ${MAX_RECORD_BYTES}`);
      }
    }
    return { entries, records };
  }

  private applyAppend(
    entries: readonly StreamEntry[],
    records: Buffer[],
    plan: { firstId: StreamId; removed: number } | null,
  ): AppendDone {
    this.maybeRoll();
    for (const e of entries) this.applyData(e);
    if (plan && plan.removed > 0) {
      this.applyTrim(plan.firstId, plan.removed);
      records.push(encodeCounters(KIND_TRIM, this.counters));
    }
    return { seq: this.enqueue(command(records, entries)), entries, trimmed: plan?.removed ?? 0 };
  }

  private checkIncreasing(entries: readonly StreamEntry[]): void {
    let prev = this.counters.lastId;
    const empty = this.counters.entriesAdded === 0n && prev.isZero();
    for (let i = 0; i < entries.length; i++) {
      const id = (entries[i] as StreamEntry).id;
      if (!(i === 0 && empty) && id.compare(prev) <= 0) {
        throw new StorageError('INVALID', `entry ID ${id} is not above the last ID ${prev}`);
      }
      prev = id;
    }
  }

  private applyData(e: StreamEntry): void {
    const c = this.counters;
    if (c.length === 0) c.firstId = e.id;
    c.lastId = e.id;
    c.entriesAdded++;
    c.length++;
    this.active.noteEntry(e.id);
  }

  /** Trims per `spec`; resolves with the number of entries removed once durable. */
  async trim(spec: TrimSpec): Promise<number> {
    const { seq, removed } = await this.trimApplied(spec);
    await this.whenDurable(seq);
    return removed;
  }

  trimApplied(spec: TrimSpec): Promise<{ removed: number; seq: number }> {
    return this.exclusive(async () => {
      const plan = await planTrim(this, spec, []);
      if (plan.removed === 0) return { seq: 0, removed: 0 };
      this.maybeRoll();
      this.applyTrim(plan.firstId, plan.removed);
      const seq = this.enqueue(command([encodeCounters(KIND_TRIM, this.counters)]));
      return { seq, removed: plan.removed };
    });
  }

  private applyTrim(firstId: StreamId, removed: number): void {
    const c = this.counters;
    c.length -= removed;
    assert(c.length >= 0, 'trim removes no more than the stream holds');
    c.firstId = c.length === 0 ? StreamId.ZERO : firstId;
    this.pruneDeadSegments();
  }

  /** Deletes the IDs that exist; resolves with how many did, once durable. */
  async delete(ids: readonly StreamId[]): Promise<number> {
    const { seq, count } = await this.deleteApplied(ids);
    await this.whenDurable(seq);
    return count;
  }

  deleteApplied(ids: readonly StreamId[]): Promise<{ count: number; seq: number }> {
    return this.exclusive(async () => {
      const found: StreamId[] = [];
      const seen = new Set<string>();
      for (const id of ids) {
        const k = id.toString();
        if (seen.has(k)) continue;
        seen.add(k);
        const hit = await this.read(id, id, 1, false);
        if (hit.length === 1) found.push(id);
      }
      if (found.length === 0) return { seq: 0, count: 0 };
      await this.applyDelete(found);
      this.maybeRoll();
      const seq = this.enqueue(command([encodeDel(this.counters, found)]));
      return { seq, count: found.length };
    });
  }

  private async applyDelete(found: readonly StreamId[]): Promise<void> {
    const c = this.counters;
    let firstGone = false;
    for (const id of found) {
      const seg = this.segmentFor(id);
      assert(seg, 'a deleted ID lies in a segment');
      seg.markDeleted(id);
      if (id.compare(c.maxDeletedId) > 0) c.maxDeletedId = id;
      if (id.equals(c.firstId)) firstGone = true;
    }
    c.length -= found.length;
    if (c.length === 0) c.firstId = StreamId.ZERO;
    else if (firstGone) {
      const next = await this.read(c.firstId, StreamId.MAX, 1, false);
      assert(next.length === 1, 'a non-empty stream has a first entry');
      c.firstId = (next[0] as StreamEntry).id;
    }
    this.pruneDeadSegments();
  }

  /** XSETID: sets the absolute counters (the broker validated them). */
  async setCounters(lastId: StreamId, entriesAdded: bigint, maxDeletedId: StreamId): Promise<void> {
    await this.whenDurable(await this.setCountersApplied(lastId, entriesAdded, maxDeletedId));
  }

  setCountersApplied(lastId: StreamId, entriesAdded: bigint, maxDeletedId: StreamId) {
    return this.exclusive(() => {
      this.counters.lastId = lastId;
      this.counters.entriesAdded = entriesAdded;
      this.counters.maxDeletedId = maxDeletedId;
      this.maybeRoll();
      return this.enqueue(command([encodeCounters(KIND_COUNTERS, this.counters)]));
    });
  }

  /** Appends a record of the layers above (kind 64..127), replayed to them in log order. */
  async appendExt(kind: number, body: Buffer): Promise<void> {
    await this.whenDurable(await this.appendExtApplied(kind, body));
  }

  appendExtApplied(kind: number, body: Buffer): Promise<number> {
    return this.exclusive(() => {
      this.maybeRoll();
      return this.enqueue(command([encodeExt(kind, body)]));
    });
  }

  /** The seq of the last queued command: whenDurable(lastSeq) waits for everything so far. */
  get lastSeq(): number {
    return this.seq;
  }

  // ---- reads --------------------------------------------------------------------------

  /**
   * Live entries with start <= id <= end, at most `count` (0 = all), ascending or (reverse)
   * descending. Waits first until what it may see is as durable as the policy promises.
   */
  async read(
    start: StreamId,
    end: StreamId,
    count: number,
    reverse: boolean,
  ): Promise<StreamEntry[]> {
    // A write failure rejects this wait; what was durable before it stays readable.
    if (this.seq > this.durableSeq()) await this.whenDurable(this.seq).catch(() => undefined);
    const c = this.counters;
    if (c.length === 0) return [];
    const lo = StreamId.max(start, c.firstId);
    if (lo.compare(end) > 0) return [];
    const out: StreamEntry[] = [];
    const limit = count > 0 ? count : Infinity;
    if (reverse) await this.readBackward(lo, end, limit, out);
    else await this.readForward(lo, end, limit, out);
    return out;
  }

  private async readForward(lo: StreamId, hi: StreamId, limit: number, out: StreamEntry[]) {
    // A snapshot: retention may drop leading segments while this read awaits.
    const segments = this.segments.slice();
    for (let i = this.firstSegmentAtOrAfter(lo); i < segments.length; i++) {
      const seg = segments[i] as Segment;
      if (seg.firstId === null) continue;
      if (seg.firstId.compare(hi) > 0 || out.length >= limit) return;
      const index = await seg.getIndex();
      const k = index.floor(lo);
      let more = true;
      await seg.scan(k < 0 ? 0 : index.position(k), seg.size, (buf, start, header) => {
        if ((header.flags & FLAG_HAS_DATA) === 0 || header.lastId.compare(lo) < 0) return true;
        forEachRecord(buf, start, header, (kind, bs, be) => {
          if (kind !== KIND_DATA) return true;
          const id = StreamId.read(buf, bs);
          if (id.compare(lo) < 0) return true;
          if (id.compare(hi) > 0 || out.length >= limit) return (more = false);
          if (!seg.isDeleted(id)) out.push({ id, fields: decodeFields(buf, bs, be) });
          return true;
        });
        return more && out.length < limit;
      });
      if (!more) return;
    }
  }

  private async readBackward(lo: StreamId, hi: StreamId, limit: number, out: StreamEntry[]) {
    const segments = this.segments.slice(); // see readForward
    for (let i = this.lastSegmentAtOrBefore(hi); i >= 0 && out.length < limit; i--) {
      const seg = segments[i] as Segment;
      if (seg.lastId === null) continue;
      if (seg.lastId.compare(lo) < 0) return;
      const index = await seg.getIndex();
      for (let b = index.floor(hi); b >= 0 && out.length < limit; b--) {
        const from = index.position(b);
        const to = b + 1 < index.length ? index.position(b + 1) : seg.size;
        const block: StreamEntry[] = [];
        await seg.scan(from, to, (buf, start, header) => {
          if ((header.flags & FLAG_HAS_DATA) === 0) return true;
          forEachRecord(buf, start, header, (kind, bs, be) => {
            if (kind !== KIND_DATA) return true;
            const id = StreamId.read(buf, bs);
            if (id.compare(lo) < 0 || id.compare(hi) > 0 || seg.isDeleted(id)) return true;
            block.push({ id, fields: decodeFields(buf, bs, be) });
            return true;
          });
          return true;
        });
        for (let j = block.length - 1; j >= 0 && out.length < limit; j--) {
          out.push(block[j] as StreamEntry);
        }
        if (block.length > 0 && (block[0] as StreamEntry).id.compare(lo) <= 0) return;
      }
    }
  }

  /** Index of the first segment whose last ID is >= id (segments.length when none). */
  firstSegmentAtOrAfter(id: StreamId): number {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = (this.segments[mid] as Segment).lastId;
      if (last !== null && last.compare(id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the last segment whose first ID is <= id (-1 when none). */
  private lastSegmentAtOrBefore(id: StreamId): number {
    let found = -1;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const first = (this.segments[i] as Segment).firstId;
      if (first !== null && first.compare(id) <= 0) {
        found = i;
        break;
      }
    }
    return found;
  }

  segmentFor(id: StreamId): Segment | null {
    const i = this.firstSegmentAtOrAfter(id);
    const seg = this.segments[i];
    return seg && seg.contains(id) ? seg : null;
  }

  /** Live entries of a segment: the head segment's count derives from the stream's length. */
  liveCount(i: number): number {
    const c = this.counters;
    if (c.length === 0) return 0;
    const headIndex = this.firstSegmentAtOrAfter(c.firstId);
    if (i < headIndex) return 0;
    let later = 0;
    for (let j = headIndex + 1; j < this.segments.length; j++) {
      const s = this.segments[j] as Segment;
      later += s.entriesCount - (s.deleted?.size ?? 0);
    }
    if (i === headIndex) return c.length - later;
    const seg = this.segments[i] as Segment;
    return seg.entriesCount - (seg.deleted?.size ?? 0);
  }

  // ---- the writer ---------------------------------------------------------------------

  private durableSeq(): number {
    return this.options.fsync === 'always' ? this.syncedSeq : this.writtenSeq;
  }

  /** Resolves once command `seq` is as durable as the policy promises. */
  whenDurable(seq: number): Promise<void> {
    if (seq <= this.durableSeq()) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.unhold();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /**
   * Resolves once command `seq` is fdatasync'd, whatever the fsync policy (SAVE, BGSAVE), and
   * has the writer fdatasync now rather than at the next `everysec` tick (or never, under `no`).
   */
  whenSynced(seq: number): Promise<void> {
    if (seq <= this.syncedSeq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.unhold();
    this.syncRequested = true;
    this.scheduleFlush();
    return new Promise((resolve, reject) => this.syncWaiters.push({ seq, resolve, reject }));
  }
  private syncWaiters: Waiter[] = [];

  whenWritten(): Promise<void> {
    if (this.seq <= this.writtenSeq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.unhold();
    const seq = this.seq;
    return new Promise((resolve, reject) => this.writeWaiters.push({ seq, resolve, reject }));
  }
  private writeWaiters: Waiter[] = [];

  private enqueue(cmd: EncodedCommand): number {
    const seq = ++this.seq;
    this.options.writeHold?.note(this, seq);
    this.pending.push({ type: 'cmd', cmd, seq });
    this.activeBytes += cmd.bytes + FRAME_OVERHEAD_ESTIMATE;
    this.scheduleFlush();
    return seq;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    const hold = this.options.writeHold;
    if (hold) hold.schedule(this, this.scheduleNow);
    else this.scheduleNow();
  }

  // ---- a write hold's unit (write-hold.ts) ----------------------------------------------

  /** This stream directory's meta fingerprint, for intents (set by quiet()). */
  private identity: Buffer | null = null;
  /** The writer holds commands it took and has not written (writeBatch): the end is unknown. */
  private ioBusy = false;

  private async fingerprint(): Promise<Buffer | null> {
    return (this.identity ??= await metaFingerprint(this.dir));
  }

  /** The stream's `meta` was replaced (a rename inside a unit took effect): read it again. */
  refreshIdentity(): void {
    this.identity = metaFingerprintNow(this.dir);
  }

  async quiet(fromSeq: number): Promise<void> {
    await this.fingerprint();
    for (;;) {
      if (this.failure || this.closed) return;
      const early = this.pending.find((p) => p.type !== 'cmd' && p.seq < fromSeq);
      if (!early && !this.ioBusy) return;
      if (early) {
        // A roll or checkpoint queued before the unit: the writer goes for it (not beyond).
        this.bypassSeq = Math.max(this.bypassSeq, early.seq);
        this.options.writeHold?.releaseOne(this);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  takeHeld(): HeldPart | null {
    const seg = this.writing;
    const fd = seg.writeFd;
    if (this.failure || this.closed || this.ioBusy || fd === null || !this.files.io.writeSync) {
      return null;
    }
    if (this.identity === null) return null;
    const packer = new FramePacker();
    for (const item of this.pending) {
      if (item.type !== 'cmd') return null;
      packer.add(item.cmd);
    }
    const count = this.pending.length;
    const frames = packer.take();
    const fresh = joined(frames);
    if (fresh.length > TXN_INTENT_MAX_BYTES) return null; // too long to write on this thread
    const from = this.options.fsync === 'always' ? this.syncedBytes : seg.size;
    return {
      ...partFrom(fd, seg.size, from, fresh),
      file: seg.path,
      identity: this.identity,
      frames: frames.length,
      write: () => this.writeTaken(count, frames, fresh),
    };
  }

  /** Writes the first `count` commands queued, as takeHeld() packed them, now. */
  private writeTaken(count: number, frames: Buffer[], bytes: Buffer): void {
    const seg = this.writing;
    const base = seg.size;
    assert(count <= this.pending.length && !this.ioBusy, 'nothing moved since takeHeld()');
    try {
      this.ahead.cover(seg.writeFd as number, base + bytes.length);
      (this.files.io.writeSync as NonNullable<Io['writeSync']>)(seg.writeFd as number, bytes, base);
    } catch (err) {
      void this.fail(err);
      return;
    }
    const taken = this.pending.splice(0, count);
    this.noteWritten(seg, frames, base);
    if (taken.length > 0) this.writtenSeq = (taken[taken.length - 1] as Pending).seq;
    if (this.options.fsync === 'always') this.syncRequested = true;
    this.scheduleNow();
  }

  private readonly scheduleNow = (): void => {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    atTurnEnd(this.startFlush);
  };

  private readonly startFlush = (): void => {
    this.flushScheduled = false;
    void this.flush();
  };

  /** Someone waits on what is queued here: a write hold must not keep it back. */
  private unhold(): void {
    if (!this.options.writeHold?.held) return;
    this.bypassSeq = this.seq;
    this.options.writeHold.releaseOne(this);
  }

  /** While a hold is on, a waiter released this log up to here (see unhold, nextBatch). */
  private bypassSeq = 0;

  /**
   * The commands the writer takes now: all of them, or while a write hold is on and a waiter
   * released this log, only those queued before it began to wait: the unit's later commands
   * stay held, so its writes still reach the files together.
   */
  private nextBatch(): Pending[] {
    const batch = this.pending;
    if (!this.options.writeHold?.held) {
      this.pending = [];
      return batch;
    }
    let n = 0;
    while (n < batch.length && (batch[n] as Pending).seq <= this.bypassSeq) n++;
    this.pending = batch.slice(n);
    return batch.slice(0, n);
  }

  /** everysec: called by the store's timer; syncs written data not yet synced. */
  requestSync(): void {
    if (this.failure || this.writtenSeq <= this.syncedSeq) return;
    this.syncRequested = true;
    this.scheduleFlush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (
        (this.pending.length > 0 || this.syncRequested) &&
        !this.options.writeHold?.holds(this)
      ) {
        const batch = this.nextBatch();
        if (batch.length === 0 && !this.syncRequested) break;
        await this.writeBatch(batch);
      }
      this.options.writeHold?.rehold(this);
      this.settleWaiters();
    } catch (err) {
      await this.fail(err);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0 && !this.failure) this.scheduleFlush();
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const drafts: Array<{ draft: Draft; seg: Segment; cut: FrameCut }> = [];
    let lastSeq = this.writtenSeq;
    // Taken from `pending` and not yet written: the segment's end is not known (takeHeld).
    this.ioBusy = true;
    try {
      lastSeq = await this.writeItems(batch, drafts);
    } finally {
      this.ioBusy = false;
    }
    this.writtenSeq = lastSeq;
    if (this.options.fsync === 'always' || this.syncRequested || drafts.length > 0) {
      this.syncRequested = false;
      // A write hold's unit may append while this syncs (takeHeld): it is not covered.
      const synced = this.writing.size;
      const sync = this.files.io.fdatasync(this.writing.writeFd as number);
      // The previous batch's waiters (durable already) are answered while this one syncs, so
      // the disk is not idle while their replies go out; this batch's wait for the next
      // batch's fdatasync to start, or for the writer to find nothing more to do (flush()).
      this.settleWaiters();
      await sync;
      this.syncedSeq = lastSeq;
      this.syncedBytes = synced;
      if (drafts.length > 0) this.settleWaiters();
    } else this.settleWaiters();
    for (const { draft, seg, cut } of drafts) await this.writeCheckpoint(draft, seg, cut);
  }

  /** writeBatch's writes, in order; returns the last seq written. */
  private async writeItems(
    batch: readonly Pending[],
    drafts: Array<{ draft: Draft; seg: Segment; cut: FrameCut }>,
  ): Promise<number> {
    const packer = new FramePacker();
    let lastSeq = this.writtenSeq;
    for (const item of batch) {
      lastSeq = item.seq;
      if (item.type === 'cmd') {
        if (this.options.writeHold?.startsUndo(this, item.seq)) {
          // A write hold's unit is written early (someone inside it waits): what came before
          // it first, then how to undo it (write-hold.ts), then the unit's own frames.
          await this.writeFrames(this.writing, packer.take());
          const identity = await this.fingerprint();
          const seg = this.writing;
          this.options.writeHold.noteUndo(this, identity, seg.path, seg.size);
        }
        packer.add(item.cmd);
        continue;
      }
      await this.writeFrames(this.writing, packer.take());
      if (item.type === 'checkpoint') {
        // The checkpoint covers the frames written so far, not those of later commands in
        // this batch: its counters were drafted before them.
        const seg = this.writing;
        const cut = { end: seg.size, lastFrameStart: seg.lastFrameStart, crc: seg.lastFrameCrc };
        drafts.push({ draft: item.draft, seg, cut });
      } else await this.switchSegment(item.seg, item.header);
    }
    await this.writeFrames(this.writing, packer.take());
    return lastSeq;
  }

  private async writeFrames(seg: Segment, frames: Buffer[]): Promise<void> {
    if (frames.length === 0) return;
    const base = seg.size;
    const bytes = joined(frames);
    this.ahead.cover(seg.writeFd as number, base + bytes.length);
    await this.files.io.write(seg.writeFd as number, bytes, base);
    this.noteWritten(seg, frames, base);
  }

  /** Index entries, last frame and size of `seg` after `frames` were written at `base`. */
  private noteWritten(seg: Segment, frames: readonly Buffer[], base: number): void {
    let pos = base;
    for (const f of frames) {
      if ((f.readUInt16LE(10) & FLAG_HAS_DATA) !== 0) seg.noteFrame(StreamId.read(f, 16), pos);
      seg.lastFrameStart = pos;
      seg.lastFrameCrc = f.readUInt32LE(4);
      pos += f.length;
    }
    seg.size = pos;
    this.files.tails.written(seg, base, frames, pos - base);
  }

  /** Seals the segment being written and starts `next` with its header frame. */
  private async switchSegment(next: Segment, header: EncodedCommand): Promise<void> {
    const old = this.writing;
    const io = this.files.io;
    // Cut back to its data and synced before the next segment exists: only the last segment
    // may end in zeros (size-ahead.ts).
    await this.ahead.cut(old.writeFd as number, old.size);
    await io.fdatasync(old.writeFd as number);
    next.writeFd = await io.open(next.path, 'wx+');
    await fsyncDir(this.dir);
    this.writing = next;
    this.syncedBytes = 0;
    old.sealed = true;
    this.files.adopt(old.path, old.writeFd as number);
    old.writeFd = null;
    this.track(
      old.writeIndexFile().catch((e: unknown) => this.logger.warn('idx', { e: String(e) })),
    );
    await this.writeFrames(next, [encodeFrame([header])]);
  }

  private settleWaiters(): void {
    if (this.writeWaiters.length > 0)
      this.writeWaiters = resolveUpTo(this.writeWaiters, this.writtenSeq);
    if (this.syncWaiters.length > 0)
      this.syncWaiters = resolveUpTo(this.syncWaiters, this.syncedSeq);
    if (this.waiters.length > 0) this.waiters = resolveUpTo(this.waiters, this.durableSeq());
  }

  private async fail(err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.failure = new StorageError(
      'WRITE_FAILED',
      `write to the log of stream in ${this.dir} failed (${message}); the stream refuses writes`,
      { cause: err },
    );
    this.logger.error('stream log write failed; refusing further writes', {
      dir: this.dir,
      message,
    });
    const seg = this.writing;
    if (seg.writeFd !== null) {
      // Cut back to the last frame known written, so nothing half-written stays behind; under
      // `always` to the last one synced, so the rejected commands do not reappear at restart.
      const keep =
        this.options.fsync === 'always' ? Math.min(this.syncedBytes, seg.size) : seg.size;
      await this.files.io.ftruncate(seg.writeFd, keep).catch(() => {});
      this.ahead.forget();
      this.files.tails.drop(seg);
      seg.size = keep;
      seg.activeIndex()?.truncateAt(keep);
    }
    // A queued roll that never ran left a segment without a file: reads must not open it.
    const at = this.segments.indexOf(seg);
    assert(at >= 0, 'the segment being written is in the log');
    this.segments.splice(at + 1);
    this.active = seg;
    for (const item of this.pending) {
      if (item.type === 'checkpoint') for (const d of item.draft.done) d(this.failure);
    }
    this.pending = [];
    this.settleWaiters(); // those durable before the failure (answered late, see writeBatch)
    const waiters = [...this.waiters, ...this.writeWaiters, ...this.syncWaiters];
    this.waiters = [];
    this.writeWaiters = [];
    this.syncWaiters = [];
    for (const w of waiters) w.reject(this.failure);
  }

  private maybeRoll(): void {
    if (this.activeBytes < this.options.segmentBytes || this.active.entriesCount === 0) return;
    // Not inside a MULTI/EXEC: its records stay in one file, written as one part of its unit
    // (write-hold.ts); the segment rolls at the next append after it, one unit over its size.
    if (this.options.writeHold?.held) return;
    const seg = new Segment(this.active.segno + 1, this.dir, this.files);
    const draft = this.draft([]);
    this.segments.push(seg);
    this.active = seg;
    const header = command([encodeHeader(seg.segno, this.counters)]);
    this.activeBytes = header.bytes + FRAME_OVERHEAD_ESTIMATE;
    const seq = ++this.seq;
    this.pending.push({ type: 'checkpoint', draft, seq });
    this.pending.push({ type: 'roll', seg, header, seq });
    this.scheduleFlush();
  }

  // ---- checkpoints and retention -----------------------------------------------------

  /** Writes a checkpoint covering everything appended so far. */
  async checkpoint(): Promise<void> {
    const { done } = await this.exclusive(() => {
      const done = new Promise<void>((resolve, reject) => {
        const draft = this.draft([(err) => (err ? reject(err) : resolve())]);
        this.pending.push({ type: 'checkpoint', draft, seq: ++this.seq });
        this.unhold(); // its caller waits for it (a stream being created, say)
        this.scheduleFlush();
      });
      return { done };
    });
    await done;
  }

  /** A checkpoint is due every CHECKPOINT_INTERVAL_MS when anything was written since. */
  checkpointDue(now: number, intervalMs: number): boolean {
    return now - this.lastCheckpointMs >= intervalMs && this.seq > this.lastCheckpointSeq;
  }

  private draft(done: Draft['done']): Draft {
    const segments = this.segments.map((s) => ({
      segno: s.segno,
      firstId: s.firstId?.toBuffer() ?? null,
      lastId: s.lastId?.toBuffer() ?? null,
      entriesCount: s.entriesCount,
      sealed: s !== this.active,
      deleted: Buffer.concat(
        [...(s.deleted ?? [])].map((k) => (StreamId.parse(k) as StreamId).toBuffer()),
      ),
    }));
    this.lastCheckpointSeq = this.seq + 1;
    return {
      counters: { ...this.counters },
      segments,
      coveredSegno: this.active.segno,
      ext: this.ext ? this.ext.snapshot() : null,
      done,
    };
  }

  private async writeCheckpoint(draft: Draft, seg: Segment, cut: FrameCut): Promise<void> {
    assert(seg.segno === draft.coveredSegno, 'a checkpoint covers the segment it was drafted in');
    const counters = Buffer.allocUnsafe(64);
    writeCounters(draft.counters, counters, 0);
    const index = seg.activeIndex();
    const body: CheckpointBody = {
      coveredSegno: seg.segno,
      coveredEnd: cut.end,
      lastFrameStart: cut.lastFrameStart,
      lastFrameCrc: cut.crc,
      counters,
      segments: draft.segments.map((s) => ({ ...s, size: this.sizeOf(s.segno, seg, cut) })),
      activeIndex: index ? encodeIndexEntries(index, cut.end) : null,
      ext: draft.ext,
      writtenAtMs: Date.now(),
    };
    const n = ++this.checkpointSeq;
    await writeFileAtomic(path.join(this.dir, `checkpoint.${n}`), encodeCheckpoint(body));
    this.coveredSegno = seg.segno;
    this.lastCheckpointMs = Date.now();
    await fs.rm(path.join(this.dir, `checkpoint.${n - 2}`), { force: true });
    for (const d of draft.done) d(null);
    // Recovery falls back to the previous checkpoint when this one is bad: delete only the
    // segments that one holds dead too, so it never names a deleted segment as live.
    const basis = this.retentionBasis;
    this.retentionBasis = { counters: draft.counters, coveredSegno: seg.segno };
    if (basis) this.track(this.deleteDeadSegments(basis.counters, basis.coveredSegno));
  }

  private sizeOf(segno: number, covered: Segment, cut: FrameCut): number {
    if (segno === covered.segno) return cut.end;
    return this.segments.find((s) => s.segno === segno)?.size ?? 0;
  }

  /** Drops per-entry state that a trim made unreachable (deleted sets below the first ID). */
  private pruneDeadSegments(): void {
    const head =
      this.counters.length === 0
        ? this.segments.length - 1
        : this.firstSegmentAtOrAfter(this.counters.firstId);
    for (let i = 0; i < head; i++) (this.segments[i] as Segment).deleted = null;
  }

  /**
   * Deletes sealed segments wholly below the first live entry, once a checkpoint covers a
   * later segment (group records in them are then in that checkpoint) and the trim is durable.
   * `durable` and `coveredSegno` are those of a checkpoint on disk: the counters in memory may
   * hold a trim not yet written, and a segment deleted for it would be missing when a crash
   * loses that trim.
   */
  private async deleteDeadSegments(durable: Counters, coveredSegno: number): Promise<void> {
    // Inside the op queue: trim planning indexes this.segments across its awaits.
    const dead = await this.exclusive(() => {
      const c = durable;
      const headIndex =
        c.length === 0 ? this.segments.length - 1 : this.firstSegmentAtOrAfter(c.firstId);
      const found: Segment[] = [];
      for (let i = 0; i < headIndex; i++) {
        const seg = this.segments[i] as Segment;
        if (seg.sealed && seg.segno < coveredSegno && seg !== this.writing) found.push(seg);
        else break;
      }
      this.segments.splice(0, found.length);
      return found;
    }).catch(() => [] as Segment[]);
    if (dead.length === 0) return;
    for (const seg of dead) {
      this.files.dropSegment(seg);
      await this.files.forget(seg.path);
      await fs.rm(seg.path, { force: true });
      await fs.rm(seg.indexPath, { force: true });
    }
    await fsyncDir(this.dir);
    this.logger.info('retention: deleted segments below the first entry', {
      dir: this.dir,
      segments: dead.map((s) => s.segno),
    });
  }

  /** Background work (index files, retention): failures are logged, never unhandled. */
  private track(p: Promise<unknown>): void {
    const tracked = p
      .catch((err: unknown) =>
        this.logger.warn('background storage task failed', { dir: this.dir, err: String(err) }),
      )
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Flushes, checkpoints and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure) await this.checkpoint().catch(() => {});
    await this.exclusive(() => {
      this.closed = true;
    }).catch(() => {
      this.closed = true;
    });
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await Promise.allSettled([...this.background]);
    const fd = this.writing.writeFd;
    if (fd !== null) {
      await this.ahead.cut(fd, this.writing.size).catch(() => {});
      await this.files.io.fdatasync(fd).catch(() => {});
      await this.files.io.close(fd).catch(() => {});
      this.writing.writeFd = null;
    }
    // Synced just now, or dropped: a SAVE waiting on this log has nothing more to wait for.
    const waiting = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiting) w.resolve();
  }
}

function encodeIndexEntries(
  index: { length: number; id(i: number): StreamId; position(i: number): number },
  end: number,
): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < index.length && index.position(i) < end; i++) {
    const b = Buffer.allocUnsafe(24);
    index.id(i).write(b, 0);
    b.writeBigUInt64LE(BigInt(index.position(i)), 16);
    parts.push(b);
  }
  return Buffer.concat(parts);
}
