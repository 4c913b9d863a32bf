// What a handler sees: the broker, the client's session (database, protocol, name) and a list
// of durability waits. Handlers apply changes while holding key locks and register the wait
// here; the dispatcher releases the locks first, then waits, so commands share group commits.
import type { Broker } from '../broker/broker';
import type { StreamLog } from '../../storage/stream-log';

export interface Session {
  readonly id: number;
  db: number;
  name: Buffer | null;
  resp: 2 | 3;
  /** Aborted when the client goes away: blocked commands end at once. */
  readonly abort?: AbortSignal;
  /** This session's cap on blocking (RESP: none, as Redis); default ExecLimits.maxBlockMs. */
  readonly maxBlockMs?: number;
  /** Inside MULTI/EXEC: blocking commands answer at once, as if they timed out. */
  denyBlocking?: boolean;
  /** Runs inside Dispatcher.exclusive (EXEC): passes the gate that holds others back. */
  inExec?: boolean;
}

export interface ExecLimits {
  /** Longest a blocking command may wait; an infinite BLOCK/timeout is capped to it (HTTP). */
  readonly maxBlockMs: number;
}

/** Something whose writes become durable in seq order: a stream's log, the list journal. */
export interface DurableSource {
  whenDurable(seq: number): Promise<void>;
}

/** A reply's wait: until write `seq` of `source` is as durable as the fsync policy promises. */
export interface DurableWait {
  readonly source: DurableSource;
  readonly seq: number;
}

/** Adds `seq` of `source` to `waits`, keeping one wait per source (the highest seq). */
export function addWait(waits: DurableWait[], source: DurableSource, seq: number): void {
  for (let i = 0; i < waits.length; i++) {
    const w = waits[i] as DurableWait;
    if (w.source !== source) continue;
    if (seq > w.seq) waits[i] = { source, seq };
    return;
  }
  waits.push({ source, seq });
}

/** One promise for a list of waits (a failed write rejects it). */
export function waitAll(waits: readonly DurableWait[]): Promise<unknown> {
  if (waits.length === 1) {
    const w = waits[0] as DurableWait;
    return w.source.whenDurable(w.seq);
  }
  return Promise.all(waits.map((w) => w.source.whenDurable(w.seq)));
}

/** A keyspace event a handler saw happen (class bit of KeyspaceEvents, event, key). */
export type NotedEvent = readonly [cls: number, event: string, key: Buffer];

export class Ctx {
  /** What the reply waits for; the dispatcher's caller waits, after the locks are released. */
  readonly durable: DurableWait[] = [];
  /**
   * Events that the command's arguments and reply do not show (an XADD's trim, a consumer a
   * read created), in the order they happened; published after the command's own.
   */
  events: NotedEvent[] | null = null;

  constructor(
    readonly broker: Broker,
    readonly session: Session,
    readonly limits: ExecLimits,
  ) {}

  get db(): number {
    return this.session.db;
  }

  /** Notes an event for keyspace notifications (see `events`). */
  noteEvent(cls: number, event: string, key: Buffer): void {
    (this.events ??= []).push([cls, event, key]);
  }

  /** The reply waits until command `seq` of `log` is durable (0: nothing was written). */
  afterDurable(log: StreamLog, seq: number): void {
    if (seq > 0) addWait(this.durable, log, seq);
  }

  /**
   * The reply waits until every list change made so far is durable: after a change, so it is
   * acknowledged only once stored; after a read, so nobody sees what a crash could take back.
   */
  afterLists(): void {
    const seq = this.broker.lists.lastSeq;
    if (seq > 0) addWait(this.durable, this.broker.lists, seq);
  }
}
