// Calls of a row with a batch handler (XADD, LPUSH/RPUSH, LPOP/RPOP without COUNT) that
// different clients send in the same turn of the event loop, each alone (not pipelined), on
// the same key, are staged together at the turn's end as one batch: one key lock and one
// storage command, as a connection's own pipelined run of them is (Connection.runBatch). Each
// call keeps its own reply, statistics, WATCH touch and error.
//
// Why it is safe: the calls are concurrent (no client has had a reply to any of them), so any
// order among them is one Redis could have served; each client's own commands stay in order,
// as its connection waits for its deferred call before running the next. Redis serves such
// clients one by one in the order it read them, and so does the batch. Nothing is deferred
// while a transaction holds others back or keyspace notifications are on (the batch would be
// declined), and a batch is declined, its calls then running one by one, when a client is
// blocked on the key.
//
// The batch's calls wait for their durability together: one wait for the batch, after which each
// client gets its reply, already durable, and sends it at once. With a wait each (a promise, a
// settle and a callback per client) unpipelined XADD and LPUSH took 5-10% more CPU per command
// (A/B, 2026-12-03). Meanwhile the clients' connections stay with the coalescer, as while the
// batch was being staged: a client that sends more before its reply has it run after.
//
// Measured (bench/resp.ts's redis-benchmark, 50 clients, unpipelined): see the README.
import type { Dispatcher, Session } from '../commands';
import { durableNow, wantedWaits, type Staged } from '../commands/dispatch';
import type { CommandRow } from '../commands/table';
import { keyPositions } from '../commands/table';
import { keyId } from '../broker/keyspace';
import { atTurnEnd } from '../../storage/turn-end';
import { waitAll } from '../commands/context';

/** A connection that handed its call over, as the coalescer sees it. */
export interface Deferring {
  readonly session: Session;
  readonly closed: boolean;
  /**
   * The call's staged reply from a batch, or null: run it alone now. `durable`: the reply's
   * writes are as durable as the policy promises already (send it now).
   */
  resumeDeferred(args: Buffer[], staged: Staged | null, durable: boolean): void;
}

interface Group {
  readonly row: CommandRow;
  readonly conns: Deferring[];
  readonly calls: Buffer[][];
}

export class Coalescer {
  /** This turn's deferred calls by row, database and keys, in the order they came. */
  private groups = new Map<string, Group>();

  constructor(private readonly dispatcher: Dispatcher) {}

  /**
   * Takes `args` (a call of `row`, the only one `conn` has to run) to stage at the turn's end
   * with others like it; false when it must run now.
   */
  defer(conn: Deferring, row: CommandRow, args: Buffer[]): boolean {
    if (!this.dispatcher.batchesNow(conn.session)) return false;
    const db = conn.session.db;
    let id = row.name;
    for (const i of keyPositions(row, args)) id += '\0' + keyId(db, args[i] as Buffer);
    const group = this.groups.get(id);
    if (group) {
      group.conns.push(conn);
      group.calls.push(args);
      return true;
    }
    if (this.groups.size === 0) atTurnEnd(this.run);
    this.groups.set(id, { row, conns: [conn], calls: [args] });
    return true;
  }

  private readonly run = (): void => {
    const groups = this.groups;
    this.groups = new Map();
    for (const g of groups.values()) this.stageGroup(g);
  };

  private stageGroup(g: Group): void {
    // A client that has gone gets nothing run for it (as if it had left before sending).
    const live = g.conns.map((c, i) => (c.closed ? -1 : i)).filter((i) => i >= 0);
    let staged: Staged[] | null = null;
    if (live.length > 1) {
      const sessions = live.map((i) => (g.conns[i] as Deferring).session);
      const calls = live.map((i) => g.calls[i] as Buffer[]);
      try {
        staged = this.dispatcher.stageBatch(g.row, sessions[0] as Session, calls, false, sessions);
      } catch {
        staged = null; // run one by one, where the failure is each call's own
      }
    }
    const resume = (list: readonly Staged[] | null, durable: boolean) =>
      live.forEach((ci, k) => {
        const call = g.calls[ci] as Buffer[];
        (g.conns[ci] as Deferring).resumeDeferred(call, list?.[k] ?? null, durable);
      });
    const waits = staged ? wantedWaits(staged) : [];
    if (!staged || waits.length === 0) {
      resume(staged, false);
      return;
    }
    const all = staged;
    waitAll(waits).then(
      () => resume(all.map(durableNow), true),
      // A write failed: each call waits on its own again, and answers with the failure.
      () => resume(all, false),
    );
  }
}
