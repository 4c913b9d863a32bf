// The broker: the store, the keyspace over it, key locks and blocked clients. Commands reach
// Redis semantics through it; front ends never touch storage directly.
import { Store, type StoreOptions } from '../../storage/store';
import { Blocking } from './blocking';
import { Keyspace } from './keyspace';
import { KeyLocks } from './locks';

export interface BrokerOptions extends Omit<StoreOptions, 'extension'> {
  readonly dataDir: string;
  /** Number of databases (SELECT 0..n-1). */
  readonly databases?: number;
}

export class Broker {
  readonly blocking = new Blocking();
  readonly locks = new KeyLocks();
  private closed = false;

  private constructor(
    readonly store: Store,
    readonly keyspace: Keyspace,
  ) {}

  static async open(options: BrokerOptions): Promise<Broker> {
    const keyspace = new Keyspace(options.databases ?? 16);
    const store = await Store.open(options.dataDir, {
      ...options,
      extension: keyspace.groupsFactory,
    });
    keyspace.attach(store);
    return new Broker(store, keyspace);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocking.abortAll();
    await this.store.close();
  }
}
