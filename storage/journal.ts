// The write-ahead journal for lists and keyspace metadata: a snapshot plus log parts plus a
// MANIFEST naming them, compacted when the log outgrows the snapshot (shared/reference/
// storage.md 8.6, the shape of Redis 7's multi-part AOF). Records are opaque bytes of the layer
// above (one record = one command, in its resolved form); the journal makes them durable in
// order and replays them at open.
//
// Directory (the broker's <dataDir>/journal); formats in journal-format.ts, recovery and its
// decision table in journal-recovery.ts:
//   MANIFEST          the base snapshot and the log parts replayed after it, in order
//   snap.<gen>        the base snapshot (none before the first compaction)
//   wal.<gen>.<part>  log parts; only the last one listed is appended to
//   *.tmp             a MANIFEST or snapshot being written
//
// Writer (as stream-log.ts): append() copies its record into the open frame at once and
// returns a seq; a flush at the turn's end (turn-end.ts) writes every frame of the tick in one
// positional write, one write in flight; records arriving meanwhile form the next batch. Under
// `always` one fdatasync then releases every waiter it covers (group commit); `everysec`
// releases after the write and fdatasyncs at least once a second while dirty; `no` releases
// after the write. whenSynced() waits for an fdatasync whatever the policy (for a record the
// layer above must not act on before it is on disk: SWAPDB), and asks the writer for one. A
// failed write or fsync is sticky: appends throw WRITE_FAILED, waiters reject, and the part is
// cut back to its last good frame (under `always` the last synced one, so rejected records do
// not come back at restart).
//
// Compaction, one at a time: after a flush when the log exceeds max(compactMinBytes, snapshot
// bytes), or on compact(). Steps (the labels given to onCompactStep, each called once the step
// is done) and what a crash right after each one leaves:
//   BEGIN             nothing changed yet. Then, in the same tick, owner.snapshot() captures the
//                     state and the records queued so far become the last of the old part.
//                     BEGIN waits while the owner holds changes applied but not yet appended
//                     (owner.holding(): a transaction's batch), which the snapshot would
//                     otherwise hold and the new part replay again.
//   PART_CREATED      the writer fdatasync'd the old part and created wal.<g+1>.0: an empty
//                     ORPHAN_FILE.
//   SWITCHED          the MANIFEST lists the old snapshot, the old parts and wal.<g+1>.0, and
//                     appends go there: a restart replays all of them.
//   SNAPSHOT_WRITING  part of snap.<g+1>.tmp is written: a TEMP_FILE.
//   SNAPSHOT_SYNCED   snap.<g+1>.tmp is complete and fdatasync'd: a TEMP_FILE.
//   SNAPSHOT_RENAMED  snap.<g+1> is in place but not listed: an ORPHAN_FILE.
//   MANIFEST_WRITTEN  the MANIFEST lists snap.<g+1> and the parts since the switch; the old
//                     snapshot and parts are ORPHAN_FILEs.
//   DONE              the old files are deleted.
// No record is written to a part before a durable MANIFEST lists it (the writer holds them
// until the switch is done), so whichever step a crash interrupts, the MANIFEST on disk covers
// every record written. A restart reads one snapshot of the current state plus at most about
// max(compactMinBytes, snapshot) of log: its cost follows the data, not the history.
import assert from 'node:assert';
import path from 'node:path';
import { StorageError, silentLogger, type Logger } from './errors';
import { nodeIo, type Io } from './io';
import { partFrom, type HeldLog, type HeldPart, type WriteHold } from './write-hold';
import {
  FSYNC_INTERVAL_MS,
  JOURNAL_COMPACT_MIN_BYTES,
  JOURNAL_FRAME_TARGET_BYTES,
  JOURNAL_SNAPSHOT_WRITE_BYTES,
  MAX_FRAME_BYTES,
  MAX_RECORD_BYTES,
  TXN_INTENT_MAX_BYTES,
} from './limits';
import {
  FrameBuilder,
  MAGIC_LOG,
  RECORDS_HEADER_BYTES,
  RECORD_PREFIX_BYTES,
  comparePart,
  partFileName,
  writeManifest,
  writeSnapshot,
  type Manifest,
  type PartName,
  type SnapshotStep,
} from './journal-format';
import {
  recoverJournal,
  removeUnlisted,
  type JournalOwner,
  type JournalRecoveryReport,
  type RecoveredJournal,
} from './journal-recovery';
import type { FsyncPolicy } from './stream-log';
import type { OnCorruption } from './recovery';
import { atTurnEnd } from './turn-end';
import { SizeAhead } from './size-ahead';

export type { JournalOwner, JournalRecoveryReport } from './journal-recovery';

/** Compaction step boundaries, in order (see the top of this file). */
export type CompactStep =
  'BEGIN' | 'PART_CREATED' | 'SWITCHED' | SnapshotStep | 'MANIFEST_WRITTEN' | 'DONE';

export interface JournalOptions {
  /** Default 'everysec', as for the stream logs. */
  readonly fsync?: FsyncPolicy;
  /** Default 'refuse'. */
  readonly onCorruption?: OnCorruption;
  readonly logger?: Logger;
  readonly io?: Io;
  /** Compaction starts when the log parts exceed max(this, last snapshot size). */
  readonly compactMinBytes?: number;
  /** Called as each compaction step is done (crash tests kill the process there). */
  readonly onCompactStep?: (step: CompactStep) => void;
  /** Holds the journal's writes back during an EXEC (shared with the stream logs). */
  readonly writeHold?: WriteHold;
}

export interface JournalStats {
  /** Bytes of log parts since the last snapshot. */
  readonly logBytes: number;
  readonly snapshotBytes: number;
  /** Compactions completed since open. */
  readonly compactions: number;
  /** Records in the log since the last snapshot (what a restart replays after it). */
  readonly records: number;
}

type Queued =
  | { readonly type: 'frames'; readonly buf: Buffer; readonly length: number; readonly seq: number }
  | { readonly type: 'switch'; readonly part: PartName };

interface Waiter {
  readonly seq: number;
  /** Waits for the fdatasync of `seq` (whenSynced), not what the policy promises. */
  readonly synced: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Settings {
  readonly io: Io;
  readonly logger: Logger;
  readonly fsync: FsyncPolicy;
  readonly compactMinBytes: number;
  readonly onCompactStep: (step: CompactStep) => void;
  readonly writeHold: WriteHold | undefined;
}

export class Journal implements HeldLog {
  private readonly frames = new FrameBuilder(MAGIC_LOG, JOURNAL_FRAME_TARGET_BYTES);
  private readonly io: Io;
  private queue: Queued[] = [];
  private seq = 0;
  private writtenSeq = 0;
  private syncedSeq = 0;
  private waiters: Waiter[] = [];
  private flushing = false;
  private flushScheduled = false;
  private flushRun: Promise<void> = Promise.resolve();
  private syncRequested = false;
  /** The highest seq a whenSynced() caller waits to see fdatasync'd. */
  private syncWantedSeq = 0;
  private failure: StorageError | null = null;
  private cut: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private compaction: Promise<void> | null = null;
  private compactionScheduled = false;
  private switchWait: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly timer: NodeJS.Timeout | null = null;
  private manifest: Manifest;
  private part: PartName;
  /** Bytes of the active part known fully written: a failure cuts back to here at most. */
  private size: number;
  /** Bytes of the active part known fdatasync'd. */
  private syncedBytes: number;
  /** Under `always`, the active part is grown ahead of its data (size-ahead.ts). */
  private readonly ahead: SizeAhead;
  /** Bytes and records of the listed parts before the active one (until a compaction ends). */
  private earlierBytes: number;
  private earlierRecords = 0;
  private activeRecords: number;
  private snapshotBytes: number;
  private compactions = 0;
  private maxGen: number;
  /** What recovery found at open (labels of the decision table in journal-recovery.ts). */
  readonly recovery: JournalRecoveryReport;

  private constructor(
    readonly dir: string,
    private readonly owner: JournalOwner,
    private readonly settings: Settings,
    recovered: RecoveredJournal,
    private fd: number,
  ) {
    this.io = settings.io;
    this.manifest = recovered.manifest;
    const parts = recovered.manifest.parts;
    this.part = parts[parts.length - 1] as PartName;
    this.size = recovered.partBytes[parts.length - 1] as number;
    this.syncedBytes = this.size;
    this.ahead = new SizeAhead(settings.io, settings.fsync === 'always');
    this.earlierBytes = recovered.partBytes.reduce((a, b) => a + b, 0) - this.size;
    this.activeRecords = recovered.logRecords;
    this.snapshotBytes = recovered.snapshotBytes;
    this.maxGen = recovered.maxGen;
    this.recovery = recovered.report;
    assert(recovered.partBytes.length === parts.length, 'recovery sized every listed part');
    if (settings.fsync === 'everysec') {
      this.timer = setInterval(() => this.requestSync(), FSYNC_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) the journal in `dir`, replaying it into `owner`. */
  static async open(
    dir: string,
    owner: JournalOwner,
    options: JournalOptions = {},
  ): Promise<Journal> {
    const compactMinBytes = options.compactMinBytes ?? JOURNAL_COMPACT_MIN_BYTES;
    if (!Number.isSafeInteger(compactMinBytes) || compactMinBytes < 0) {
      throw new StorageError('INVALID', `compactMinBytes ${compactMinBytes} is not a byte count`);
    }
    const settings: Settings = {
      io: options.io ?? nodeIo,
      logger: options.logger ?? silentLogger,
      fsync: options.fsync ?? 'everysec',
      compactMinBytes,
      onCompactStep: options.onCompactStep ?? (() => undefined),
      writeHold: options.writeHold,
    };
    const recovered = await recoverJournal(dir, owner, {
      io: settings.io,
      logger: settings.logger,
      onCorruption: options.onCorruption ?? 'refuse',
    });
    const last = recovered.manifest.parts[recovered.manifest.parts.length - 1] as PartName;
    const fd = await settings.io.open(path.join(dir, partFileName(last)), 'r+');
    const size = await settings.io.fileSize(fd);
    assert(size === recovered.partBytes[recovered.partBytes.length - 1], 'last part as replayed');
    return new Journal(dir, owner, settings, recovered, fd);
  }

  // ---- appends ------------------------------------------------------------------------

  /** Appends one command's record (already applied by the owner); returns its seq. */
  append(record: Buffer): number {
    return this.appendMany([record]);
  }

  /** Appends records that must survive a crash together or not at all (MULTI/EXEC). */
  appendMany(records: readonly Buffer[]): number {
    this.checkWritable();
    if (records.length === 0) return this.seq;
    let bytes = 0;
    for (const r of records) {
      if (r.length > MAX_RECORD_BYTES) {
        throw new StorageError(
          'LIMIT',
          `journal record of ${r.length} bytes exceeds ${MAX_RECORD_BYTES}`,
        );
      }
      bytes += RECORD_PREFIX_BYTES + r.length;
    }
    if (RECORDS_HEADER_BYTES + bytes > MAX_FRAME_BYTES) {
      throw new StorageError(
        'LIMIT',
        `${records.length} journal records of ${bytes} bytes together exceed one frame ` +
          `(${MAX_FRAME_BYTES} bytes)`,
      );
    }
    this.frames.add(records, bytes);
    this.activeRecords += records.length;
    this.scheduleFlush();
    const seq = ++this.seq;
    this.settings.writeHold?.note(this, seq);
    return seq;
  }

  /** The seq of the last append: whenDurable(lastSeq) waits for everything so far. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Resolves once record `seq` is as durable as the fsync policy promises. */
  whenDurable(seq: number): Promise<void> {
    if (seq > this.seq) assert.fail(`whenDurable(${seq}) of a seq not handed out (${this.seq})`);
    if (seq <= this.durableSeq()) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.settings.writeHold?.releaseOne(this);
    return new Promise((resolve, reject) =>
      this.waiters.push({ seq, synced: false, resolve, reject }),
    );
  }

  /**
   * Resolves once record `seq` is fdatasync'd, whatever the fsync policy, and has the writer
   * fdatasync soon rather than at the next `everysec` tick (or never, under `no`).
   */
  whenSynced(seq: number): Promise<void> {
    if (seq > this.seq) assert.fail(`whenSynced(${seq}) of a seq not handed out (${this.seq})`);
    if (seq <= this.syncedSeq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.settings.writeHold?.releaseOne(this);
    this.syncWantedSeq = Math.max(this.syncWantedSeq, seq);
    this.scheduleFlush();
    return new Promise((resolve, reject) =>
      this.waiters.push({ seq, synced: true, resolve, reject }),
    );
  }

  /** The sticky write failure, if any: the journal then refuses every append. */
  get writeFailure(): Error | null {
    return this.failure;
  }

  stats(): JournalStats {
    return {
      logBytes: this.earlierBytes + this.size,
      snapshotBytes: this.snapshotBytes,
      compactions: this.compactions,
      records: this.earlierRecords + this.activeRecords,
    };
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new StorageError('CLOSED', `the journal in ${this.dir} is closed`);
  }

  private durableSeq(): number {
    return this.settings.fsync === 'always' ? this.syncedSeq : this.writtenSeq;
  }

  // ---- the writer ---------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    const hold = this.settings.writeHold;
    if (hold) hold.schedule(this, this.scheduleNow);
    else this.scheduleNow();
  }

  // ---- a write hold's unit (write-hold.ts) ----------------------------------------------

  /** The writer holds frames it took and has not written (writeBatch): the end is unknown. */
  private ioBusy = false;

  async quiet(): Promise<void> {
    for (;;) {
      if (this.failure || this.closed) return;
      const switching = this.queue.some((q) => q.type === 'switch');
      if (!switching && !this.ioBusy) return;
      // A compaction's part switch queued before the unit: the writer goes for it (and for
      // the records queued so far, none of them the unit's: its records come after this).
      if (switching) this.settings.writeHold?.releaseOne(this);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  takeHeld(): HeldPart | null {
    if (this.failure || this.closed || this.ioBusy || !this.io.writeSync) return null;
    this.sealPending();
    const items: Array<Extract<Queued, { type: 'frames' }>> = [];
    for (const item of this.queue) {
      if (item.type !== 'frames') return null;
      items.push(item);
    }
    const fresh = Buffer.concat(items.map((i) => i.buf.subarray(0, i.length)));
    if (fresh.length > TXN_INTENT_MAX_BYTES) return null; // too long to write on this thread
    const from = this.settings.fsync === 'always' ? this.syncedBytes : this.size;
    return {
      ...partFrom(this.fd, this.size, from, fresh),
      file: path.join(this.dir, partFileName(this.part)),
      identity: Buffer.alloc(0),
      frames: items.length,
      write: () => this.writeTaken(items, fresh),
    };
  }

  /** Writes the frames takeHeld() found queued, now. */
  private writeTaken(items: ReadonlyArray<Extract<Queued, { type: 'frames' }>>, bytes: Buffer) {
    assert(!this.ioBusy && items.every((it, i) => this.queue[i] === it), 'as taken');
    try {
      this.ahead.cover(this.fd, this.size + bytes.length);
      (this.io.writeSync as NonNullable<Io['writeSync']>)(this.fd, bytes, this.size);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.queue.splice(0, items.length);
    this.size += bytes.length;
    const last = items[items.length - 1];
    if (last) this.writtenSeq = last.seq;
    for (const it of items) this.frames.recycle(it.buf);
    if (this.settings.fsync === 'always') this.syncRequested = true;
    this.scheduleNow();
  }

  private readonly scheduleNow = (): void => {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    atTurnEnd(this.startFlush);
  };

  private readonly startFlush = (): void => {
    this.flushScheduled = false;
    this.flushRun = this.flush();
  };

  /** everysec: called by the timer; syncs what was written since the last fdatasync. */
  private requestSync(): void {
    if (this.failure || this.writtenSeq <= this.syncedSeq) return;
    this.syncRequested = true;
    this.scheduleFlush();
  }

  /** Moves the frames appended so far to the write queue. */
  private sealPending(): void {
    if (this.frames.bytes === 0) return;
    const { buf, length } = this.frames.take();
    this.queue.push({ type: 'frames', buf, length, seq: this.seq });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (
        !this.failure &&
        !this.settings.writeHold?.holds(this) &&
        (this.frames.bytes > 0 ||
          this.queue.length > 0 ||
          this.syncRequested ||
          this.syncWantedSeq > this.syncedSeq)
      ) {
        this.sealPending();
        const batch = this.queue;
        this.queue = [];
        await this.writeBatch(batch);
        this.maybeCompact();
      }
      this.settings.writeHold?.rehold(this);
      this.settleWaiters();
    } catch (err) {
      this.fail(err);
    } finally {
      if (this.failure) await this.cutBack();
      this.flushing = false;
      if (!this.failure && (this.frames.bytes > 0 || this.queue.length > 0)) this.scheduleFlush();
    }
  }

  private async writeBatch(batch: readonly Queued[]): Promise<void> {
    // Taken from the queue and not yet written: the part's end is not known (takeHeld).
    this.ioBusy = true;
    try {
      for (const item of batch) {
        if (item.type === 'switch') {
          await this.switchPart(item.part);
          continue;
        }
        this.ahead.cover(this.fd, this.size + item.length);
        await this.io.write(this.fd, item.buf.subarray(0, item.length), this.size);
        this.size += item.length;
        this.writtenSeq = item.seq;
        this.frames.recycle(item.buf);
      }
    } finally {
      this.ioBusy = false;
    }
    if (this.settings.fsync === 'always' || this.syncDue()) {
      this.syncRequested = false;
      const synced = this.writtenSeq;
      const syncedBytes = this.size; // not what a write hold's unit appends meanwhile
      const sync = this.io.fdatasync(this.fd);
      // The previous batch's waiters (durable already) are answered while this one syncs, so
      // the disk is not idle while their replies go out; this batch's wait for the next
      // batch's fdatasync to start, or for the writer to find nothing more to do (flush()).
      this.settleWaiters();
      await sync;
      this.syncedSeq = synced;
      this.syncedBytes = syncedBytes;
    } else this.settleWaiters();
  }

  /**
   * The writer's half of a compaction: the old part is made durable, the new part created and
   * listed in a durable MANIFEST, and only then written to.
   */
  private async switchPart(next: PartName): Promise<void> {
    // Cut back to its data and synced before the next part exists: only the last part may end
    // in zeros (size-ahead.ts).
    await this.ahead.cut(this.fd, this.size);
    await this.io.fdatasync(this.fd);
    this.syncedSeq = this.writtenSeq;
    this.syncedBytes = this.size;
    const fd = await this.io.open(path.join(this.dir, partFileName(next)), 'wx+');
    const manifest: Manifest = {
      snapshotGen: this.manifest.snapshotGen,
      parts: [...this.manifest.parts, next],
    };
    try {
      this.step('PART_CREATED');
      await writeManifest(this.dir, manifest);
    } catch (err) {
      await this.io.close(fd).catch(() => undefined);
      throw err;
    }
    const old = this.fd;
    this.manifest = manifest;
    this.fd = fd;
    this.part = next;
    this.earlierBytes += this.size;
    this.size = 0;
    this.syncedBytes = 0;
    await this.io.close(old).catch(() => undefined); // synced above: nothing left to lose
    this.step('SWITCHED');
    this.switchWait?.resolve();
    this.switchWait = null;
  }

  /**
   * An fdatasync is asked for now: by the `everysec` timer or close, or by a whenSynced()
   * waiter whose record is written (one still queued gets it after its own write).
   */
  private syncDue(): boolean {
    if (this.syncRequested) return true;
    return this.syncWantedSeq > this.syncedSeq && this.writtenSeq >= this.syncWantedSeq;
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const durable = this.durableSeq();
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= (w.synced ? this.syncedSeq : durable)) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Makes the failure sticky; the writer (when idle, this call) then cuts the part back. */
  private fail(err: unknown): void {
    if (this.failure) return;
    const message = err instanceof Error ? err.message : String(err);
    const file = path.join(this.dir, partFileName(this.part));
    this.failure = new StorageError(
      'WRITE_FAILED',
      `write to the journal (${file}) failed (${message}); the journal refuses writes`,
      { cause: err },
    );
    this.settings.logger.error('journal write failed; refusing further writes', { file, message });
    this.switchWait?.reject(this.failure);
    this.switchWait = null;
    if (!this.flushing) void this.cutBack();
  }

  /** After a failure: cuts the part back to the last good frame, settles every waiter. Once. */
  private cutBack(): Promise<void> {
    if (!this.failure) return Promise.resolve();
    this.cut ??= this.cutNow(this.failure);
    return this.cut;
  }

  private async cutNow(failure: StorageError): Promise<void> {
    const keep = this.settings.fsync === 'always' ? this.syncedBytes : this.size;
    await this.io.ftruncate(this.fd, keep).catch(() => undefined);
    this.ahead.forget();
    this.size = keep;
    this.queue = [];
    this.frames.take();
    this.settleWaiters();
    const rejected = this.waiters;
    this.waiters = [];
    for (const w of rejected) w.reject(failure);
  }

  private step(step: CompactStep): void {
    this.settings.onCompactStep(step);
  }

  // ---- compaction ---------------------------------------------------------------------

  /** Compacts now: a new snapshot, then a new MANIFEST, then the old files go. */
  async compact(): Promise<void> {
    this.checkWritable();
    while (this.compaction) {
      await this.compaction.catch(() => undefined);
      this.checkWritable();
    }
    await this.startCompaction();
  }

  /** After a flush: starts a compaction, at the next tick boundary, once the log is large. */
  private maybeCompact(): void {
    if (this.compaction || this.compactionScheduled || this.failure || this.closed) return;
    const { logBytes } = this.stats();
    if (logBytes <= Math.max(this.settings.compactMinBytes, this.snapshotBytes)) return;
    this.compactionScheduled = true;
    setImmediate(() => {
      this.compactionScheduled = false;
      if (this.compaction || this.failure || this.closed) return;
      this.startCompaction().catch(() => undefined); // sticky: reported by writeFailure
    });
  }

  private startCompaction(): Promise<void> {
    assert(this.compaction === null, 'one compaction at a time');
    const run = this.runCompaction()
      .catch((err: unknown) => {
        this.fail(err);
        throw this.failure ?? err;
      })
      .finally(() => {
        this.compaction = null;
      });
    this.compaction = run;
    return run;
  }

  private async runCompaction(): Promise<void> {
    // Changes of an open batch are in memory but not in the log yet: a snapshot taken now would
    // hold them, and the part after the switch would replay them again.
    while (this.owner.holding?.() === true) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failure) throw this.failure;
    }
    this.step('BEGIN');
    const gen = ++this.maxGen;
    const next: PartName = { gen, part: 0 };
    // One synchronous block: the snapshot holds exactly the records queued before the switch.
    const chunks = this.owner.snapshot();
    this.sealPending();
    this.queue.push({ type: 'switch', part: next });
    this.earlierRecords += this.activeRecords;
    this.activeRecords = 0;
    await new Promise<void>((resolve, reject) => {
      this.switchWait = { resolve, reject };
      this.scheduleFlush();
    });
    const snapshotBytes = await writeSnapshot(
      this.io,
      this.dir,
      gen,
      chunks,
      JOURNAL_SNAPSHOT_WRITE_BYTES,
      (s) => this.step(s),
    );
    if (this.failure) throw this.failure;
    const at = this.manifest.parts.findIndex((p) => comparePart(p, next) === 0);
    assert(at >= 0, 'the part switched to is listed');
    const manifest: Manifest = { snapshotGen: gen, parts: this.manifest.parts.slice(at) };
    await writeManifest(this.dir, manifest);
    this.manifest = manifest;
    assert(manifest.parts.length === 1 && this.part === next, 'one part since the switch');
    this.snapshotBytes = snapshotBytes;
    this.earlierBytes = 0;
    this.earlierRecords = 0;
    this.compactions++;
    this.step('MANIFEST_WRITTEN');
    await removeUnlisted(this.dir, manifest, () => undefined);
    this.step('DONE');
    this.settings.logger.info('journal compacted', {
      dir: this.dir,
      snapshot: gen,
      snapshotBytes,
      logBytes: this.size,
    });
  }

  // ---- close --------------------------------------------------------------------------

  /**
   * Waits for a running compaction, flushes, fdatasyncs and closes: every whenDurable then
   * resolves. Never rejects (a shutdown goes on): a failure of that last flush rejects the
   * whenDurable promises it leaves and stays in writeFailure. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.compaction?.catch(() => undefined);
    if (!this.failure && (this.writtenSeq > this.syncedSeq || this.seq > this.writtenSeq)) {
      this.syncRequested = true;
      this.scheduleFlush();
    }
    while (this.flushScheduled || this.flushing) {
      if (this.flushScheduled) await new Promise((resolve) => setImmediate(resolve));
      else await this.flushRun;
    }
    await this.cutBack();
    await this.ahead.cut(this.fd, this.size).catch(() => undefined);
    await this.io.close(this.fd).catch(() => undefined);
    assert(this.failure || this.durableSeq() === this.seq, 'close leaves everything durable');
  }
}
