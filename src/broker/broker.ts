// The broker: the store (streams), the journal (lists), the keyspace over both, key locks and
// blocked clients. Commands reach Redis semantics through it; front ends never touch storage
// directly.
import { Journal } from '../../storage/journal';
import { WriteHold } from '../../storage/write-hold';
import { silentLogger } from '../../storage/errors';
import { Store, type StoreOptions } from '../../storage/store';
import { Blocking } from './blocking';
import { Keyspace } from './keyspace';
import { Lists } from './lists';
import { KeyLocks } from './locks';
import { PubSub } from './pubsub';

export interface BrokerOptions extends Omit<StoreOptions, 'extension'> {
  readonly dataDir: string;
  /** Number of databases (SELECT 0..n-1). */
  readonly databases?: number;
  /** The journal compacts once its log exceeds max(this, the last snapshot). */
  readonly journalCompactMinBytes?: number;
}

export class Broker {
  readonly blocking = new Blocking();
  readonly locks = new KeyLocks();
  /** Pub/sub is in memory only: fire and forget, never stored. */
  readonly pubsub = new PubSub();
  private closed = false;

  private constructor(
    readonly store: Store,
    readonly keyspace: Keyspace,
    readonly lists: Lists,
    readonly journal: Journal,
    /** Held by an EXEC: what it writes to each log reaches the files together (write-hold.ts). */
    readonly writeHold: WriteHold,
  ) {}

  /**
   * Before the last records of an EXEC (its list batch) are queued: every log it wrote to is
   * made ready to take the whole unit in one go (storage/write-hold.ts, prepare and commit).
   */
  prepareUnit(): Promise<void> {
    return this.writeHold.prepare([this.journal]);
  }

  /**
   * Runs `fn` as one unit (MULTI/EXEC, FLUSHALL): its list changes are journaled as one record,
   * and its file writes are held back, then written together behind one intent
   * (storage/write-hold.ts), so a kill -9 leaves all of it or none. If `fn` fails, what it
   * wrote goes as it comes. Returns `fn`'s value and the journal seq to wait for (0: none).
   */
  async runUnit<T>(fn: () => Promise<T>): Promise<{ value: T; listSeq: number }> {
    this.lists.beginBatch();
    this.writeHold.hold();
    let prepared = false;
    let listSeq = 0;
    let value: T;
    try {
      value = await fn();
      await this.prepareUnit();
      prepared = true;
    } finally {
      listSeq = this.lists.endBatch();
      if (prepared) this.writeHold.commit();
      else this.writeHold.release();
    }
    return { value, listSeq };
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    const keyspace = new Keyspace(options.databases ?? 16);
    const writeHold = new WriteHold();
    const store = await Store.open(options.dataDir, {
      ...options,
      extension: keyspace.groupsFactory,
      writeHold,
    });
    keyspace.attach(store);
    let blocking: Blocking | null = null;
    const lists = new Lists(keyspace, (db, id) => blocking?.signal(String.fromCharCode(db) + id));
    let journal: Journal;
    keyspace.beginListReplay();
    try {
      journal = await Journal.open(store.dataDir.journalDir, lists, {
        fsync: options.fsync,
        onCorruption: options.onCorruption,
        logger: options.logger,
        io: options.io,
        compactMinBytes: options.journalCompactMinBytes,
        writeHold,
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    const dropped = await keyspace.endListReplay();
    lists.attach(journal);
    if (dropped.length > 0) {
      (options.logger ?? silentLogger).warn('journal lists at keys that hold a stream: dropped', {
        lists: dropped.length,
      });
      // For good: journaled as deleted, or they would come back once the stream is gone.
      for (const { db, key } of dropped) lists.forget(db, key);
      await lists.whenDurable();
    }
    keyspace.lists = lists;
    const broker = new Broker(store, keyspace, lists, journal, writeHold);
    blocking = broker.blocking;
    return broker;
  }

  /**
   * Has everything written so far fdatasync'd now, whatever the fsync policy, and resolves
   * once it is: every stream log and the journal (SAVE, BGSAVE). Later writes are not waited
   * for. Records when it last succeeded (LASTSAVE).
   */
  async syncAll(): Promise<void> {
    const waits: Promise<void>[] = [this.journal.whenSynced(this.journal.lastSeq)];
    for (const log of this.store.keys()) waits.push(log.whenSynced(log.lastSeq));
    await Promise.all(waits);
    this.lastSyncAllMs = Date.now();
  }

  /** When syncAll last succeeded, or the broker opened (LASTSAVE). */
  lastSyncAllMs = Date.now();

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocking.abortAll();
    await this.journal.close();
    await this.store.close();
  }
}
