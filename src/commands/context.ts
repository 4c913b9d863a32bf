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

export class Ctx {
  readonly durable: Promise<void>[] = [];

  constructor(
    readonly broker: Broker,
    readonly session: Session,
    readonly limits: ExecLimits,
  ) {}

  get db(): number {
    return this.session.db;
  }

  /** The reply waits until command `seq` of `log` is durable (0: nothing was written). */
  afterDurable(log: StreamLog, seq: number): void {
    if (seq > 0) this.durable.push(log.whenDurable(seq));
  }

  /**
   * The reply waits until every list change made so far is durable: after a change, so it is
   * acknowledged only once stored; after a read, so nobody sees what a crash could take back.
   */
  afterLists(): void {
    const seq = this.broker.lists.lastSeq;
    if (seq > 0) this.durable.push(this.broker.lists.whenDurable(seq));
  }
}
