// The RESP2/RESP3 TCP server: accepts connections, keeps the registry CLIENT LIST/KILL read,
// tracks writes (and SWAPDB) to WATCHed keys, and runs MULTI/EXEC transactions as one unit: no
// other client's command runs in between, and the lists' changes of an EXEC are journaled
// together, so after a crash all of them are there or none.
import net from 'node:net';
import type { Broker } from '../broker/broker';
import type { Dispatcher } from '../commands';
import type { Reply } from '../commands/reply';
import type { Logger } from '../../storage/errors';
import { Coalescer } from './coalesce';
import { Connection } from './connection';
import { localCommand } from './commands';
import { renamesOntoItself } from '../commands/generic';
import { popsNothing } from '../commands/lists';
import { REDIS_VERSION } from '../commands/server';
import type { RespConnection, RespHost } from './types';

/**
 * Per-key write counters, kept only for keys some connection WATCHes, and whether each such
 * key exists: FLUSHALL and FLUSHDB count as writing only the watched keys they delete, and
 * SWAPDB only those present in either database, as Redis's touchAllWatchedKeysInDb().
 */
export class WatchTouches {
  private readonly watchers = new Map<string, number>();
  private readonly versions = new Map<string, number>();
  /**
   * False when a watched key was missing at its latest WATCH and untouched since. Any write
   * since then breaks every earlier WATCH of it, so only this latest view matters.
   */
  private readonly exists = new Map<string, boolean>();

  watch(id: string, exists: boolean): number {
    this.watchers.set(id, (this.watchers.get(id) ?? 0) + 1);
    this.exists.set(id, exists);
    return this.version(id);
  }

  unwatch(id: string): void {
    const n = (this.watchers.get(id) ?? 1) - 1;
    if (n > 0) this.watchers.set(id, n);
    else {
      this.watchers.delete(id);
      this.versions.delete(id);
      this.exists.delete(id);
    }
  }

  version(id: string): number {
    return this.versions.get(id) ?? 0;
  }

  touch(id: string): void {
    if (!this.watchers.has(id)) return;
    this.versions.set(id, (this.versions.get(id) ?? 0) + 1);
    this.exists.set(id, true); // unknown: no watcher of the old version can succeed anyway
  }

  /**
   * `id` was named by a DEL that deleted something (or an LTRIM): touched unless it was
   * missing at its WATCH and since.
   */
  deleted(id: string): void {
    if (this.exists.get(id) !== false) this.touch(id);
  }

  /** FLUSHDB of `db` (keyId's first character), or FLUSHALL when null. */
  flushed(db: number | null): void {
    const prefix = db === null ? null : String.fromCharCode(db);
    for (const id of this.watchers.keys()) {
      if (prefix !== null && !id.startsWith(prefix)) continue;
      if (this.exists.get(id) !== false) this.touch(id);
    }
  }

  /**
   * SWAPDB of `a` and `b`, just done: a key watched in either database is touched when it is
   * in one of them (it was there before, or is now). `has` looks a key (its latin1 id within
   * the database) up in a database.
   */
  swapped(a: number, b: number, has: (db: number, id: string) => boolean): void {
    for (const id of this.watchers.keys()) {
      const db = id.charCodeAt(0);
      if (db !== a && db !== b) continue;
      const key = id.slice(1);
      if (has(a, key) || has(b, key)) this.touch(id);
    }
  }
}

/** Stream commands that never count as modifying their key for WATCH in Redis 7.0. */
const NEVER_MODIFY = new Set(['xack', 'xreadgroup', 'xsetid', 'xclaim', 'xautoclaim']);

/**
 * Whether a write that succeeded modified its keys as Redis's signalModifiedKey() sees it:
 * a reply of 0 or nil means it changed nothing (DEL of a missing key, LREM or XTRIM removing
 * nothing, a pop of an empty list, XADD NOMKSTREAM without the stream...), and the consumer
 * group commands leave the stream alone. A multi-key write touches every key it names (DEL:
 * every key it deleted).
 */
function modifiesKeys(cmd: string, args: readonly Buffer[], reply: Reply): boolean {
  if (NEVER_MODIFY.has(cmd) || cmd.startsWith('xgroup|')) return false;
  if (cmd === 'rename' && renamesOntoItself(args)) return false;
  if (popsNothing(cmd, reply)) return false;
  if (reply.t === 'int') return reply.v > 0;
  return reply.t !== 'null' && reply.t !== 'nullarray';
}

export interface RespServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly readonlyToken: string;
  readonly logger: Logger;
}

export class RespServer implements RespHost {
  readonly touches = new WatchTouches();
  readonly redisVersion = REDIS_VERSION;
  slowSubscriberDisconnects = 0;
  totalConnections = 0;
  private readonly live = new Map<number, Connection>();
  private nextId = 0;
  readonly coalescer: Coalescer;

  private constructor(
    readonly broker: Broker,
    readonly dispatcher: Dispatcher,
    readonly options: RespServerOptions,
    private readonly server: net.Server,
  ) {
    this.coalescer = new Coalescer(dispatcher);
    // At the moment of the swap, before any other command runs: no transaction can see the
    // swapped databases with its WATCH intact.
    broker.keyspace.swapListeners.push((a, b) =>
      this.touches.swapped(a, b, (db, id) => broker.keyspace.typeOf(db, id) !== undefined),
    );
    dispatcher.writeObservers.push((cmd, keys, done) => {
      if (cmd === 'flushall') this.touches.flushed(null);
      if (cmd === 'flushdb') this.touches.flushed(done.db);
      if (!modifiesKeys(cmd, done.args, done.reply)) return;
      // DEL k1 k2 touches only the keys it deleted: one missing since its WATCH was not; and
      // LTRIM of a missing key (its OK says nothing) touches nothing.
      const ifThere = cmd === 'del' || cmd === 'unlink' || cmd === 'ltrim';
      if (ifThere) for (const k of keys) this.touches.deleted(k);
      else for (const k of keys) this.touches.touch(k);
    });
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get token(): string {
    return this.options.token;
  }

  get readonlyToken(): string {
    return this.options.readonlyToken;
  }

  get requiresAuth(): boolean {
    return this.options.token !== '' || this.options.readonlyToken !== '';
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.options.port;
  }

  static async listen(
    broker: Broker,
    dispatcher: Dispatcher,
    options: RespServerOptions,
  ): Promise<RespServer> {
    const server = net.createServer();
    const resp = new RespServer(broker, dispatcher, options, server);
    server.on('connection', (socket) => resp.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // INFO's clients and server sections read the RESP server's figures.
    dispatcher.serverInfo = {
      tcpPort: resp.port,
      connectedClients: () => resp.live.size,
      totalConnections: () => resp.totalConnections,
      pubsubClients: () => [...resp.live.values()].filter((c) => c.subscribed).length,
      resetStats: () => {
        resp.totalConnections = 0;
      },
    };
    return resp;
  }

  private accept(socket: net.Socket): void {
    this.totalConnections++;
    const id = ++this.nextId;
    this.live.set(id, new Connection(id, socket, this));
  }

  forget(conn: RespConnection): void {
    this.live.delete(conn.id);
  }

  connections(): Connection[] {
    return [...this.live.values()];
  }

  get connectedClients(): number {
    return this.live.size;
  }

  /** EXEC: the queued commands in order, alone, as one durable unit for lists. */
  execTransaction(
    conn: RespConnection,
    queued: readonly Buffer[][],
    valid: () => boolean,
  ): Promise<Reply[] | null> {
    return this.dispatcher.exclusive(async () => {
      if (!valid()) return null;
      const session = conn.session;
      session.inExec = true;
      session.denyBlocking = true;
      // Settled once the writes are released together (settling earlier would release them).
      const done: Array<() => Promise<Reply>> = [];
      const waits: Promise<Reply>[] = [];
      let listSeq = 0;
      try {
        ({ listSeq } = await this.broker.runUnit(async () => {
          for (const args of queued) {
            const local = localCommand((args[0] as Buffer).toString('latin1').toLowerCase());
            if (local) {
              const r = await local(conn, args);
              const reply = Array.isArray(r) ? (r[0] as Reply) : (r ?? OK_REPLY);
              done.push(() => Promise.resolve(reply));
              continue;
            }
            const staged = await this.dispatcher.stage(session, args);
            done.push(() => this.dispatcher.settle(staged));
          }
        }));
      } finally {
        session.inExec = false;
        session.denyBlocking = false;
        for (const settle of done) waits.push(settle());
      }
      if (listSeq > 0) waits.push(this.broker.lists.whenDurable(listSeq).then(() => OK_REPLY));
      const replies = await Promise.all(waits);
      return replies.slice(0, queued.length);
    }, conn.session);
  }

  /** Stops accepting, closes every connection (their blocked commands end). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.live.values()) c.close();
    await closed;
  }
}

const OK_REPLY: Reply = { t: 'simple', v: 'OK' };
