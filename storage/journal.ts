// The write-ahead journal for lists and keyspace metadata: a snapshot plus log parts plus a
// manifest, compacted when the log outgrows the snapshot (see shared/reference/storage.md 8.6).
// Records are opaque bytes of the layer above (one record = one command, in its resolved form);
// the journal makes them durable in order and replays them at open.
//
// STUB: in-memory only, same API as the real journal (being written). Nothing is persisted.
import type { Io } from './io';
import type { Logger } from './errors';
import type { FsyncPolicy } from './stream-log';
import type { OnCorruption } from './recovery';

export interface JournalOptions {
  readonly fsync?: FsyncPolicy;
  readonly onCorruption?: OnCorruption;
  readonly logger?: Logger;
  readonly io?: Io;
  /** Compaction starts when the log parts exceed max(this, last snapshot size). */
  readonly compactMinBytes?: number;
}

/** The state the journal protects, owned by the layer above (the lists). */
export interface JournalOwner {
  /** Forgets all state: replay starts (or starts again) from nothing. */
  reset(): void;
  /** One chunk of a snapshot, in the order snapshot() produced them. */
  loadChunk(chunk: Buffer): void;
  /** One record appended after the snapshot, in order. */
  apply(record: Buffer): void;
  /**
   * The current state as chunks. Called synchronously at a tick boundary: it must capture
   * what it needs at once (e.g. references to immutable values), then the journal consumes
   * the iterator over later ticks while commands go on.
   */
  snapshot(): Iterable<Buffer>;
}

export interface JournalStats {
  readonly logBytes: number;
  readonly snapshotBytes: number;
  readonly compactions: number;
  readonly records: number;
}

export class Journal {
  private seq = 0;
  private records = 0;
  private logBytes = 0;

  private constructor(private readonly owner: JournalOwner) {}

  /** Opens (creating if needed) the journal in `dir`, replaying it into `owner`. */
  static async open(
    dir: string,
    owner: JournalOwner,
    options: JournalOptions = {},
  ): Promise<Journal> {
    void dir;
    void options;
    owner.reset();
    return new Journal(owner);
  }

  /** Appends one command's record (already applied by the owner); returns its seq. */
  append(record: Buffer): number {
    return this.appendMany([record]);
  }

  /** Appends records that must survive a crash together or not at all (MULTI/EXEC). */
  appendMany(records: readonly Buffer[]): number {
    for (const r of records) this.logBytes += r.length;
    this.records += records.length;
    return ++this.seq;
  }

  /** Resolves once record `seq` is as durable as the fsync policy promises. */
  whenDurable(seq: number): Promise<void> {
    void seq;
    return Promise.resolve();
  }

  get writeFailure(): Error | null {
    return null;
  }

  /** Compacts now: a new snapshot, then a new manifest, then old files go. */
  async compact(): Promise<void> {
    for (const _chunk of this.owner.snapshot()) void _chunk;
  }

  stats(): JournalStats {
    return { logBytes: this.logBytes, snapshotBytes: 0, compactions: 0, records: this.records };
  }

  async close(): Promise<void> {}
}
