// The keyspace: every key of every database with its type. Streams live in the store (one log
// per key, its storage key being the database number byte followed by the key); lists join in
// the queues work. Type checks (WRONGTYPE) happen here, once.
import type { Store } from '../../storage/store';
import type { StreamLog } from '../../storage/stream-log';
import { Errors } from '../errors';
import { StreamGroups } from './groups';

export interface StreamValue {
  readonly type: 'stream';
  readonly log: StreamLog;
  readonly groups: StreamGroups;
}

export type Value = StreamValue;
export type ValueType = Value['type'];

/** The store's key for `key` in database `db`. */
export function storageKey(db: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = db;
  key.copy(out, 1);
  return out;
}

/** The identity of a key across databases, for maps, locks and blocking (latin1 is 1:1). */
export function keyId(db: number, key: Buffer): string {
  return String.fromCharCode(db) + key.toString('latin1');
}

export class Keyspace {
  private readonly dbs: Array<Map<string, Value>>;
  private readonly creating = new Map<string, Promise<StreamValue>>();
  /** Groups made by the store's extension factory, waiting for their log to be registered. */
  private readonly pendingGroups = new Map<string, StreamGroups>();

  private store: Store | null = null;

  constructor(readonly databases: number) {
    this.dbs = Array.from({ length: databases }, () => new Map());
  }

  /** The extension factory given to Store.open: one StreamGroups per stream log. */
  groupsFactory = (skey: Buffer): StreamGroups => {
    const groups = new StreamGroups();
    this.pendingGroups.set(skey.toString('latin1'), groups);
    return groups;
  };

  /** Takes the opened store and registers the logs it recovered. */
  attach(store: Store): void {
    this.store = store;
    for (const log of store.keys()) this.register(log);
  }

  private register(log: StreamLog): StreamValue {
    const id = log.key.toString('latin1');
    const groups = this.pendingGroups.get(id) ?? new StreamGroups();
    this.pendingGroups.delete(id);
    const db = log.key[0] as number;
    const value: StreamValue = { type: 'stream', log, groups };
    this.db(db).set(id.slice(1), value);
    return value;
  }

  db(n: number): Map<string, Value> {
    const m = this.dbs[n];
    if (!m) throw Errors.other('ERR DB index is out of range');
    return m;
  }

  get(db: number, key: Buffer): Value | undefined {
    return this.db(db).get(key.toString('latin1'));
  }

  /** The stream at `key`, undefined when absent; WRONGTYPE when another type. */
  stream(db: number, key: Buffer): StreamValue | undefined {
    const v = this.get(db, key);
    if (v && v.type !== 'stream') throw Errors.wrongType();
    return v;
  }

  /** The stream at `key`, created empty when absent. */
  async streamOrCreate(db: number, key: Buffer): Promise<StreamValue> {
    const existing = this.stream(db, key);
    if (existing) return existing;
    const id = keyId(db, key);
    let pending = this.creating.get(id);
    if (!pending) {
      pending = this.createStream(db, key).finally(() => this.creating.delete(id));
      this.creating.set(id, pending);
    }
    return pending;
  }

  private async createStream(db: number, key: Buffer): Promise<StreamValue> {
    if (!this.store) throw Errors.other('ERR no store');
    const log = await this.store.create(storageKey(db, key));
    return this.register(log);
  }

  /** Deletes a key and its files; false when it did not exist. */
  async delete(db: number, key: Buffer): Promise<boolean> {
    const v = this.get(db, key);
    if (!v) return false;
    this.db(db).delete(key.toString('latin1'));
    if (v.type === 'stream' && this.store) await this.store.drop(v.log.key);
    return true;
  }

  keys(db: number): IterableIterator<[string, Value]> {
    return this.db(db).entries();
  }

  size(db: number): number {
    return this.db(db).size;
  }
}
