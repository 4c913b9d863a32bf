// The store: a locked data directory and the stream logs in it. Opening recovers every
// stream; creating and dropping a stream are atomic directory renames, so a crash leaves a
// stream either whole or absent.
//
// Stream directory life cycle under data/streams/:
//   .tmp-<name>-<rand>/   being created (meta + first segment); removed at start (TEMP_DIR)
//   <name>/               live: meta, segments, indexes, checkpoints
//   .del-<name>-<rand>/   being dropped; removed at start (PENDING_DELETE)
//   .txd-<name>-<rand>/   dropped by a MULTI/EXEC that then created the key again, moved out of
//                         the way until the EXEC's end: found at start (after the EXEC intent
//                         is finished, which removes it if the EXEC was complete), the EXEC
//                         was not: put back at <name>/, replacing what the EXEC had created
//                         there (HELD_DROP_RESTORED)
// A live stream whose log holds nothing but its first segment's header is a creation a crash
// cut off before its first command was written: removed at start (UNBORN_STREAM).
//
// Renaming a stream (RENAME) moves its directory, since the name encodes the key. Steps:
//   1. close the log (flush, checkpoint) and forget its cached read descriptors
//   2. write `meta.next` (the new key) in the old directory, atomically
//   3. rename <old name>/ to <new name>/ (the new name must be free), fsync streams/
//   4. rename `meta.next` over `meta`, fsync the directory
//   5. reopen through recovery (the extension factory runs again for the new key)
// RENAME onto a key that holds something removes that value between steps 2 and 3, so once
// `meta.next` is durable the rename is decided.
// At start, a directory holding `meta.next` is an interrupted rename (RENAME_PENDING):
//   - `meta.next` names a key whose directory name is this directory's: step 3 happened, so
//     finish it (rename `meta.next` over `meta`): the stream has its new key
//   - it names another key whose directory does not exist: do step 3 (then as above)
//   - otherwise (the old value at the new key is still there, or `meta.next` is torn): remove
//     `meta.next`: the stream keeps its old key
// A torn `meta.next.tmp` is a TEMP_FILE, removed by stream recovery.
// Inside a MULTI/EXEC the rename is part of the unit (write-hold.ts): `meta.unit` (the new key)
// is written instead of `meta.next`, the directory moved as in step 3, and `meta` left as it
// was until the unit ends, when `meta.unit` is renamed over it (the unit's intent names the
// directory, so a crash after the intent finishes it: txn-intent.ts, PART_RENAMED). A start
// that still finds a `meta.unit` (after the intent is finished) undoes the rename
// (UNIT_RENAME_UNDONE): each such directory is first moved to `.txu-<name>-<rand>`, then each
// goes back to the directory of the key in its `meta`, replacing what the unit had created there,
// and `meta.unit` is removed. This happens before the `.txd-` directories are put back.
// A `replaced` file (one byte, 1) marks a stream a list is being renamed onto: see
// markReplaced. Both files are written atomically (a temporary file renamed into place).
import assert from 'node:assert';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir, openDataDir, streamDirName, writeFileAtomic, type DataDir } from './datadir';
import { CorruptionError, StorageError, silentLogger, type Logger } from './errors';
import { TailBudget } from './tail-cache';
import { nodeIo, type Io } from './io';
import {
  CHECKPOINT_INTERVAL_MS,
  DEFAULT_SEGMENT_BYTES,
  FSYNC_INTERVAL_MS,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
} from './limits';
import { decodeMeta, encodeMeta } from './meta';
import { command, emptyCounters, encodeHeader } from './records';
import { encodeFrame } from './frame';
import { recoverStream, type OnCorruption, type RecoveryReport } from './recovery';
import { SegmentFiles, segmentFileName } from './segment';
import { StreamLog, type FsyncPolicy, type StreamExtension } from './stream-log';
import type { WriteHold } from './write-hold';
import {
  finishIntent,
  finishUnitRename,
  IntentFile,
  META_UNIT,
  metaFingerprint,
  renameAsideNow,
} from './txn-intent';

/** The new key of a stream being renamed, beside `meta` (see the top). */
const META_NEXT = 'meta.next';
/** In a stream directory: a list is being renamed onto this stream's key (see markReplaced). */
const REPLACED = 'replaced';
/** A stream directory a MULTI/EXEC dropped and moved aside (see the top). */
const HELD_DROP_PREFIX = '.txd-';
/** A stream directory a MULTI/EXEC renamed, on its way back to its old key (see the top). */
const UNIT_RENAME_PREFIX = '.txu-';

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

export interface StoreOptions {
  readonly fsync?: FsyncPolicy;
  readonly segmentBytes?: number;
  readonly onCorruption?: OnCorruption;
  readonly logger?: Logger;
  readonly io?: Io;
  /** Creates the extension (consumer-group state) of each stream before its log is replayed. */
  readonly extension?: (key: Buffer) => StreamExtension | null;
  readonly checkpointIntervalMs?: number;
  /** Called after each stream is recovered, for progress reporting. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Holds the logs' writes back during an EXEC (shared with the journal). */
  readonly writeHold?: WriteHold;
  /** Memory for the segments' cached tails (tail-cache.ts); 0 turns the cache off. */
  readonly tailCacheBytes?: number;
}

export class Store {
  private readonly logs = new Map<string, StreamLog>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly reports = new Map<string, RecoveryReport>();

  private constructor(
    readonly dataDir: DataDir,
    readonly fsync: FsyncPolicy,
    readonly segmentBytes: number,
    private readonly files: SegmentFiles,
    private readonly options: StoreOptions,
  ) {}

  static async open(root: string, options: StoreOptions = {}): Promise<Store> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new StorageError(
        'INVALID',
        `segment size ${segmentBytes} is outside ${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES} bytes`,
      );
    }
    const dataDir = await openDataDir(root);
    const files = new SegmentFiles(
      options.io ?? nodeIo,
      options.logger ?? silentLogger,
      new TailBudget(options.tailCacheBytes),
    );
    const store = new Store(dataDir, options.fsync ?? 'everysec', segmentBytes, files, options);
    try {
      // The last MULTI/EXEC a crash cut off is finished before any log is read (txn-intent.ts).
      await finishIntent(dataDir.root, store.logger);
      store.intent = new IntentFile(dataDir.root, store.fsync === 'always');
      store.intent.reset();
      options.writeHold?.attach(store.intent);
      await store.recoverAll();
    } catch (err) {
      await store.closeLogs();
      await dataDir.release();
      throw err;
    }
    store.startTimer();
    return store;
  }

  get logger(): Logger {
    return this.files.logger;
  }

  private async recoverAll(): Promise<void> {
    const dir = this.dataDir.streamsDir;
    await this.undoUnitRenames(dir);
    for (const n of await fs.readdir(dir)) {
      if (!n.startsWith(HELD_DROP_PREFIX)) continue;
      const label = 'HELD_DROP_RESTORED (an EXEC that dropped it did not complete)';
      await this.putBack(path.join(dir, n), label);
    }
    const names = await fs.readdir(dir);
    const live = names.filter((n) => !n.startsWith('.'));
    for (const n of names) {
      if (n.startsWith('.tmp-') || n.startsWith('.del-')) {
        this.logger.warn(`recovery: ${n.startsWith('.tmp-') ? 'TEMP_DIR' : 'PENDING_DELETE'}`, {
          dir: n,
        });
        await fs.rm(path.join(dir, n), { recursive: true, force: true });
      }
    }
    let done = 0;
    for (const name of live) {
      const log = await this.recoverOne(path.join(dir, name));
      if (log) this.logs.set(log.key.toString('latin1'), log);
      if (log?.unborn) {
        this.logger.warn('recovery: UNBORN_STREAM (a creation cut off before its first command)', {
          dir: name,
        });
        this.reports.delete(log.key.toString('latin1'));
        await this.drop(log.key);
      }
      this.options.onProgress?.(++done, live.length);
    }
  }

  /** Renames made inside an EXEC that a crash cut off before its intent (see the top). */
  private async undoUnitRenames(streams: string): Promise<void> {
    for (const n of await fs.readdir(streams)) {
      if (n.startsWith('.') || !(await exists(path.join(streams, n, META_UNIT)))) continue;
      renameAsideNow(path.join(streams, n), UNIT_RENAME_PREFIX);
    }
    await fsyncDir(streams);
    for (const n of await fs.readdir(streams)) {
      if (!n.startsWith(UNIT_RENAME_PREFIX)) continue;
      await this.putBack(
        path.join(streams, n),
        'UNIT_RENAME_UNDONE (renamed by an EXEC that did not complete)',
      );
    }
    await fsyncDir(streams);
  }

  /**
   * A stream directory an EXEC that did not complete had moved (`.txu-` renamed by it, `.txd-`
   * dropped by it; see the top) goes back to the key in its meta, replacing what the EXEC
   * created there (a new stream none of whose writes count); `label` is logged.
   */
  private async putBack(moved: string, label: string): Promise<void> {
    const streams = path.dirname(moved);
    const key = decodeMeta(
      await fs.readFile(path.join(moved, 'meta')).catch(() => Buffer.alloc(0)),
    );
    if (!key) return this.moveCorrupt(moved);
    const home = path.join(streams, streamDirName(key));
    this.logger.warn(`recovery: ${label}`, { dir: path.basename(home) });
    if (await exists(home)) await fs.rm(renameAsideNow(home), { recursive: true, force: true });
    await fs.rename(moved, home);
    // Renamed inside that EXEC (before it was dropped, for `.txd-`): undone with it.
    await fs.rm(path.join(home, META_UNIT), { force: true });
    await fsyncDir(home);
    await fsyncDir(streams);
  }

  /** A stream directory without a valid meta: refuses the start, or is moved aside. */
  private async moveCorrupt(dir: string): Promise<void> {
    const err = new CorruptionError(path.join(dir, 'meta'), 0, 'missing or bad stream meta file');
    if ((this.options.onCorruption ?? 'refuse') === 'refuse') throw err;
    const aside = path.join(path.dirname(dir), `.corrupt-${path.basename(dir)}-${Date.now()}`);
    await fs.rename(dir, aside);
    this.logger.error('recovery: stream directory without a valid meta moved aside', {
      dir,
      aside,
    });
  }

  /**
   * Opens the stream in `found` through recovery. `unitKey`: its key when a rename inside the
   * running EXEC moved it there (its `meta` still names the old one until the EXEC ends).
   */
  private async recoverOne(found: string, unitKey?: Buffer): Promise<StreamLog | null> {
    const dir = await this.settleRename(found);
    if (await exists(path.join(dir, REPLACED))) {
      this.replaced.add(path.basename(dir));
    }
    const key =
      unitKey ?? decodeMeta(await fs.readFile(path.join(dir, 'meta')).catch(() => Buffer.alloc(0)));
    if (!key || streamDirName(key) !== path.basename(dir)) {
      await this.moveCorrupt(dir);
      return null;
    }
    const ext = this.options.extension?.(key) ?? null;
    const ctx = { files: this.files, onCorruption: this.options.onCorruption ?? 'refuse' };
    const { log: recovered, report } = await recoverStream(dir, ctx, ext);
    const log = new StreamLog(key, dir, this.logOptions(), this.files, recovered);
    if (ext) log.setExtension(ext);
    this.reports.set(key.toString('latin1'), report);
    if (!report.fromCheckpoint || report.framesReplayed > 0 || report.labels.length > 0) {
      await log.checkpoint();
    }
    return log;
  }

  /**
   * Finishes or undoes a rename interrupted by a crash (RENAME_PENDING, see the top); returns
   * the directory the stream is in now.
   */
  private async settleRename(dir: string): Promise<string> {
    const next = path.join(dir, META_NEXT);
    const bytes = await fs.readFile(next).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (bytes === null) return dir;
    const key = decodeMeta(bytes);
    const streams = path.dirname(dir);
    const target = key ? path.join(streams, streamDirName(key)) : null;
    if (target !== null && target !== dir && !(await exists(target))) {
      // Step 2 happened and the new name is free (the key it replaces is gone): finish it.
      this.logger.warn('recovery: RENAME_PENDING: moving the stream to its new key', { dir });
      await fs.rename(dir, target);
      await fsyncDir(streams);
      return this.settleRename(target);
    }
    if (target === dir) {
      this.logger.warn('recovery: RENAME_PENDING: finishing the rename', { dir });
      await fs.rename(next, path.join(dir, 'meta'));
    } else {
      this.logger.warn('recovery: RENAME_PENDING: the rename did not happen', { dir });
      await fs.rm(next, { force: true });
    }
    await fsyncDir(dir);
    return dir;
  }

  private logOptions() {
    return {
      fsync: this.fsync,
      segmentBytes: this.segmentBytes,
      ...(this.options.writeHold ? { writeHold: this.options.writeHold } : {}),
    };
  }

  private startTimer(): void {
    const interval = this.options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const log of this.logs.values()) {
        if (this.fsync === 'everysec') log.requestSync();
        // Not inside a MULTI/EXEC: its checkpoint would let the held writes go (write-hold.ts).
        if (log.checkpointDue(now, interval) && !this.options.writeHold?.held) {
          void log
            .checkpoint()
            .catch((e: unknown) =>
              this.logger.warn('checkpoint failed', { dir: log.dir, err: String(e) }),
            );
        }
      }
    }, FSYNC_INTERVAL_MS);
    this.timer.unref();
  }

  get(key: Buffer): StreamLog | undefined {
    return this.logs.get(key.toString('latin1'));
  }

  keys(): IterableIterator<StreamLog> {
    return this.logs.values();
  }

  get size(): number {
    return this.logs.size;
  }

  /** Creates an empty stream log for `key` (which must not exist). */
  async create(key: Buffer): Promise<StreamLog> {
    this.checkOpen();
    const id = key.toString('latin1');
    if (this.logs.has(id)) throw new StorageError('INVALID', 'stream already exists');
    const name = streamDirName(key);
    const streams = this.dataDir.streamsDir;
    const tmp = path.join(streams, `.tmp-${name.slice(0, 40)}-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(tmp);
    await writeFileAtomic(path.join(tmp, 'meta'), encodeMeta(key));
    const frame = encodeFrame([command([encodeHeader(1, emptyCounters())])]);
    await writeFileAtomic(path.join(tmp, segmentFileName(1)), frame);
    const final = path.join(streams, name);
    await this.makeRoom(final);
    await fs.rename(tmp, final);
    await fsyncDir(streams);
    const hold = this.options.writeHold;
    if (hold?.held) this.noteBorn(hold.unit, final);
    const log = await this.recoverOne(final);
    if (!log) throw new StorageError('WRITE_FAILED', 'new stream could not be opened');
    this.logs.set(id, log);
    return log;
  }

  /**
   * Gives the stream at `oldKey` the key `newKey`, moving its directory crash-safely (see the
   * top); returns the reopened log. The old log object is closed. `newKey` must be free unless
   * `clearTarget` is given: it removes what holds `newKey` (a stream dropped, a list's deletion
   * journaled) once `meta.next` is durable, so a crash from then on finishes the rename at
   * start rather than keep neither key's value.
   */
  async rename(
    oldKey: Buffer,
    newKey: Buffer,
    clearTarget?: () => Promise<void>,
  ): Promise<StreamLog> {
    this.checkOpen();
    const oldId = oldKey.toString('latin1');
    const newId = newKey.toString('latin1');
    const log = this.logs.get(oldId);
    if (!log) throw new StorageError('INVALID', 'no stream to rename');
    if ((this.logs.has(newId) && !clearTarget) || oldId === newId) {
      throw new StorageError('INVALID', 'the new stream key exists');
    }
    this.logs.delete(oldId);
    await this.closeLog(log);
    const streams = this.dataDir.streamsDir;
    const target = path.join(streams, streamDirName(newKey));
    if (this.options.writeHold?.held) return this.renameInUnit(log, newKey, target, clearTarget);
    await writeFileAtomic(path.join(log.dir, META_NEXT), encodeMeta(newKey));
    if (clearTarget) await clearTarget();
    assert(!this.logs.has(newId), `stream ${newId} still open`);
    assert(!(await exists(target)), `stream directory ${target} exists`);
    await fs.rename(log.dir, target);
    await fsyncDir(streams);
    await fs.rename(path.join(target, META_NEXT), path.join(target, 'meta'));
    await fsyncDir(target);
    const reopened = await this.recoverOne(target);
    if (!reopened) throw new StorageError('WRITE_FAILED', 'renamed stream could not be opened');
    this.logs.set(newId, reopened);
    return reopened;
  }

  /** rename() inside a MULTI/EXEC: part of the unit (see the top). */
  private async renameInUnit(
    log: StreamLog,
    newKey: Buffer,
    target: string,
    clearTarget?: () => Promise<void>,
  ): Promise<StreamLog> {
    const hold = this.options.writeHold as WriteHold;
    // The meta it had before the unit, kept as it is until the unit ends.
    const identity = await metaFingerprint(log.dir);
    if (identity === null) throw new StorageError('WRITE_FAILED', 'stream meta unreadable');
    await writeFileAtomic(path.join(log.dir, META_UNIT), encodeMeta(newKey));
    if (clearTarget) await clearTarget();
    await this.makeRoom(target);
    assert(!this.logs.has(newKey.toString('latin1')), `stream still open at ${target}`);
    assert(!(await exists(target)), `stream directory ${target} exists`);
    await fs.rename(log.dir, target);
    await fsyncDir(this.dataDir.streamsDir);
    const reopened = await this.recoverOne(target, newKey);
    if (!reopened) throw new StorageError('WRITE_FAILED', 'renamed stream could not be opened');
    this.logs.set(newKey.toString('latin1'), reopened);
    if (this.born.unit === hold.unit && this.born.dirs.delete(log.dir)) this.born.dirs.add(target);
    hold.noteRename(log.dir, target, identity, () => {
      if (finishUnitRename(target)) reopened.refreshIdentity();
    });
    return reopened;
  }

  /**
   * Closes a log that leaves this store's use, and drops the read descriptors cached by path
   * for its segments: a stream created or moved later to the same directory name would
   * otherwise read the old files through them.
   */
  private async closeLog(log: StreamLog): Promise<void> {
    await log.close();
    for (const seg of log.segments) this.files.dropSegment(seg);
    await Promise.all(log.segments.map((seg) => this.files.forget(seg.path)));
  }

  /** Stream directories found with a `replaced` mark at start (see markReplaced). */
  private readonly replaced = new Set<string>();

  /**
   * RENAME of a list onto this stream's key: marks the stream, durably, before the journal
   * records the rename; the stream is dropped once that record is durable. A crash in between
   * leaves a marked stream and maybe the renamed list at its key: the journal's replay then
   * tells (wasReplaced), and the list wins only over a marked stream.
   */
  async markReplaced(key: Buffer): Promise<void> {
    const log = this.logs.get(key.toString('latin1'));
    if (!log) throw new StorageError('INVALID', 'no stream to mark');
    await writeFileAtomic(path.join(log.dir, REPLACED), Buffer.from([1]));
  }

  /** Whether the stream at `key` was found marked at start (markReplaced). */
  wasReplaced(key: Buffer): boolean {
    return this.replaced.has(streamDirName(key));
  }

  /** After the journal's replay: the marks of streams that stay are removed. */
  async clearReplaced(): Promise<void> {
    for (const log of this.logs.values()) {
      if (this.replaced.has(path.basename(log.dir))) {
        await fs.rm(path.join(log.dir, REPLACED), { force: true });
        await fsyncDir(log.dir);
      }
    }
    this.replaced.clear();
  }

  /**
   * Removes a stream and its files. Inside a MULTI/EXEC (the write hold held) the directory
   * goes with the rest of the unit, named in its intent (write-hold.ts): the stream is gone
   * from the store now, its files at the unit's end.
   */
  async drop(key: Buffer): Promise<void> {
    this.checkOpen();
    const id = key.toString('latin1');
    const log = this.logs.get(id);
    if (!log) return;
    this.logs.delete(id);
    await this.closeLog(log);
    const hold = this.options.writeHold;
    const identity = hold?.held ? await metaFingerprint(log.dir) : null;
    if (!hold?.held || identity === null) return this.unlink(log.dir);
    let done: Promise<void> | null = null;
    const run = () => (done ??= this.unlink(log.dir));
    this.dropping.set(log.dir, run);
    hold.noteDrop(log, log.dir, identity, run);
  }

  /**
   * The directory of a dropped stream goes: renamed aside before this returns (so once a unit
   * has ended, no start finds it where it was), then fsync'd and removed.
   */
  private unlink(dir: string): Promise<void> {
    this.dropping.delete(dir);
    let aside: string;
    try {
      aside = renameAsideNow(dir);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return fsyncDir(path.dirname(dir)).then(() => fs.rm(aside, { recursive: true, force: true }));
  }

  /** Dropped inside the running MULTI/EXEC, directory still there: by directory. */
  private readonly dropping = new Map<string, () => Promise<void>>();

  /** Stream directories created inside the running MULTI/EXEC (`unit`, WriteHold.unit). */
  private born = { unit: -1, dirs: new Set<string>() };

  private noteBorn(unit: number, dir: string): void {
    if (this.born.unit !== unit) this.born = { unit, dirs: new Set() };
    this.born.dirs.add(dir);
  }

  /**
   * A stream is created at `dir`, which a stream the running MULTI/EXEC dropped still holds.
   * One that was there before the EXEC is moved aside (`.txd-`, see the top) and the EXEC's
   * intent names it there, so a crash before the intent puts it back; one the EXEC itself
   * created holds nothing that must survive it, and goes now.
   */
  private async makeRoom(dir: string): Promise<void> {
    const drop = this.dropping.get(dir);
    if (!drop) return;
    const hold = this.options.writeHold;
    if (!hold?.held || (this.born.unit === hold.unit && this.born.dirs.has(dir))) return drop();
    this.dropping.delete(dir);
    const aside = renameAsideNow(dir, HELD_DROP_PREFIX);
    await fsyncDir(path.dirname(dir));
    let done: Promise<void> | null = null;
    hold.moveDrop(dir, aside, () => (done ??= this.unlink(aside)));
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', 'store is closed');
  }

  private intent: IntentFile | null = null;

  private async closeLogs(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.close()));
    this.logs.clear();
    await this.files.closeAll();
  }

  /** Flushes, checkpoints and closes every log, then releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.closeLogs();
    this.intent?.close();
    await this.dataDir.release();
  }
}
