// The shapes the RESP modules share, apart from their classes so that the connection, the
// server and the connection commands do not import one another in a circle.
import type net from 'node:net';
import type { Broker } from '../broker/broker';
import type { Dispatcher, Session } from '../commands';
import type { Reply } from '../commands/reply';
import type { Subscriber } from '../broker/pubsub';
import type { Logger } from '../../storage/errors';
import type { Coalescer } from './coalesce';

export type ReplyMode = 'on' | 'off' | 'skip';

export interface MultiState {
  readonly queued: Buffer[][];
  /** A command failed to queue (unknown, arity): EXEC answers EXECABORT. */
  dirty: boolean;
}

export interface Touches {
  /** Starts watching `id`; `exists`: whether its key exists now (FLUSHALL spares it if not). */
  watch(id: string, exists: boolean): number;
  unwatch(id: string): void;
  version(id: string): number;
}

/** What a connection and its commands need of the server. */
export interface RespHost {
  readonly broker: Broker;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly touches: Touches;
  /** Stages lone calls of different clients together at the turn's end (coalesce.ts). */
  readonly coalescer: Coalescer;
  readonly token: string;
  readonly readonlyToken: string;
  readonly requiresAuth: boolean;
  readonly redisVersion: string;
  slowSubscriberDisconnects: number;
  connections(): RespConnection[];
  forget(conn: RespConnection): void;
  /**
   * EXEC: runs `queued` alone once `valid()` (the WATCH check, made with every other client
   * held back) says so; null when it does not.
   */
  execTransaction(
    conn: RespConnection,
    queued: readonly Buffer[][],
    valid: () => boolean,
  ): Promise<Reply[] | null>;
}

/** A client connection as the connection commands see it. */
export interface RespConnection extends Subscriber {
  readonly id: number;
  readonly socket: net.Socket;
  readonly server: RespHost;
  readonly session: Session;
  readonly createdMs: number;
  readonly lastCommandMs: number;
  readonly lastCommand: string;
  readonly dispatcher: Dispatcher;
  readonly watched: Map<string, number>;
  readonly authenticated: boolean;
  readonly subscribed: boolean;
  readonly blockedNow: boolean;
  readOnly: boolean;
  replyMode: ReplyMode;
  multi: MultiState | null;
  setAuthenticated(on: boolean): void;
  quitAfterReplies(): void;
  unblock(withError: boolean): boolean;
  close(): void;
}
