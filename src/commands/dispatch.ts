// Executes one command: finds its row, checks arity and subcommand, takes key locks for write
// commands, runs the handler, blocks and retries when it asks to, waits for durability after
// the locks are released, and turns thrown errors into error replies from the catalog.
import assert from 'node:assert';
import { CommandError, Errors } from '../errors';
import { BATCH_MAX_CALLS } from '../limits';
import { StorageError } from '../../storage/errors';
import type { Broker } from '../broker/broker';
import { keyId } from '../broker/keyspace';
import {
  addWait,
  Ctx,
  waitAll,
  type DurableWait,
  type ExecLimits,
  type NotedEvent,
  type Session,
} from './context';
import { errorReply, type Reply } from './reply';
import { registerServerHost, ServerConfig, type ServerInfoSource } from './server';
import { CommandStats } from './stats';
import {
  arityOk,
  commandName,
  keyPositions,
  Thrown,
  type Blocked,
  type CommandRow,
  type CommandTable,
  type HandlerResult,
} from './table';

/** Finds the row for a call: the command, or its subcommand for containers. */
export function resolveRow(table: CommandTable, args: readonly Buffer[]): CommandRow {
  const first = args[0];
  if (!first) throw Errors.other('ERR empty command');
  const name = commandName(first);
  const row = table.get(name);
  if (!row) throw Errors.unknownCommand(first, args.slice(1));
  if (!arityOk(row.arity, args.length)) throw Errors.arity(name);
  // A container called alone is the container itself (COMMAND), as Redis's lookupCommand.
  if (!row.subcommands || args.length === 1) return row;
  const subArg = args[1] as Buffer;
  const sub = table.sub(`${name}|${subArg.toString('latin1').toLowerCase()}`);
  if (!sub) throw Errors.unknownSubcommand(subArg, name);
  if (!arityOk(sub.arity, args.length)) throw Errors.arity(sub.name);
  return sub;
}

export function toErrorReply(err: unknown): Reply {
  if (err instanceof CommandError) return errorReply(err.message, err.status);
  if (err instanceof StorageError) {
    // LIMIT and INVALID are requests storage refused (too large, IDs not increasing): the
    // client's to fix. WRITE_FAILED and CLOSED are the server's state; CORRUPT is a bad disk.
    const status = { LIMIT: 400, INVALID: 400, WRITE_FAILED: 503, CLOSED: 503, CORRUPT: 500 };
    return errorReply(`ERR ${err.message}`, status[err.code]);
  }
  const text = err instanceof Error ? err.message : String(err);
  return errorReply(`ERR internal error: ${text}`, 500);
}

/** Told of every command once it is answered (metrics, INFO commandstats). */
export type CommandObserver = (cmd: string, seconds: number, errorCode: string | null) => void;

/** A command that ran, with the wait for its durability still ahead (Dispatcher.stage). */
export interface Staged {
  readonly reply: Reply;
  /** What the reply waits for before it may be sent (empty: nothing). */
  readonly durable: readonly DurableWait[];
  readonly cmd: string;
  readonly t0: number;
  /** Refused by resolveRow (unknown command, arity): not run, so not a call in the stats. */
  readonly rejected: boolean;
  /** The row commandstats counts it against; null for an unknown command. */
  readonly statName: string | null;
}

/** The row a call resolveRow refused counts against: the one whose arity failed, if any. */
function rejectedRowName(table: CommandTable, args: readonly Buffer[]): string | null {
  const row = table.get(args[0]?.toString('latin1').toLowerCase() ?? '');
  if (!row || !row.subcommands || !arityOk(row.arity, args.length)) return row?.name ?? null;
  const sub = (args[1] as Buffer).toString('latin1').toLowerCase();
  return table.sub(`${row.name}|${sub}`)?.name ?? null;
}

/** A write command's name and key ids (keyId), after it succeeded. */
export type WriteObserver = (cmd: string, keys: readonly string[], done: WriteDone) => void;

/** What a write command did: its arguments, reply, database and which keys existed before
 * (only while keyspace notifications are on; null otherwise). */
export interface WriteDone {
  readonly args: readonly Buffer[];
  readonly reply: Reply;
  readonly db: number;
  readonly before: readonly unknown[] | null;
  /** Events its handler noted (Ctx.events). */
  readonly noted: readonly NotedEvent[] | null;
  /** The session that ran it. */
  readonly sessionId: number;
}

/**
 * Any command's first result (a reply, or Blocked when it is about to wait), while keyspace
 * notifications are on: its name, arguments, key positions and database (key misses).
 */
export type ResultObserver = (
  cmd: string,
  args: readonly Buffer[],
  positions: readonly number[],
  db: number,
  result: HandlerResult,
) => void;

const NO_WAITS: readonly DurableWait[] = [];

/** What staged commands wait for together: one wait per source, its highest seq. */
export function wantedWaits(list: readonly Staged[]): DurableWait[] {
  const waits: DurableWait[] = [];
  for (const s of list) for (const w of s.durable) addWait(waits, w.source, w.seq);
  return waits;
}

/** A staged command whose durability wait is over. */
export const durableNow = (s: Staged): Staged => ({ ...s, durable: NO_WAITS });

/** A row's staged call: its reply, and the durability its Ctx collected. */
function stagedRow(row: CommandRow, reply: Reply, ctx: Ctx, t0: number): Staged {
  return { reply, durable: ctx.durable, cmd: row.name, t0, rejected: false, statName: row.name };
}

/** A call stageRow is staging: what its reply's staging and write observers need. */
interface RowCall {
  readonly row: CommandRow;
  readonly session: Session;
  readonly args: readonly Buffer[];
  readonly t0: number;
  readonly ctx: Ctx;
  /** Its keys' ids (keyId). */
  readonly keys: string[];
  /** A write row: run under its keys' locks, and told to write observers. */
  readonly locked: boolean;
  /** Which keys existed before it ran (keyspace notifications only). */
  readonly before: readonly unknown[] | null;
}

/** Consecutive calls of `row` on the same keys, `n` of them: a batch to try. */
export interface BatchRun {
  readonly row: CommandRow;
  readonly n: number;
}

export interface RunOptions {
  readonly whileWaited: boolean;
  readonly stop?: () => boolean;
}

/** Whether two calls name the same keys at the same places. */
function sameKeys(
  a: readonly Buffer[],
  b: readonly Buffer[],
  at: readonly number[],
  bAt: readonly number[],
): boolean {
  if (at.length !== bAt.length) return false;
  for (let j = 0; j < at.length; j++) {
    const i = at[j] as number;
    if (bAt[j] !== i || !(a[i] as Buffer).equals(b[i] as Buffer)) return false;
  }
  return true;
}

/** The error code of an error reply: its first word (ERR, WRONGTYPE, NOGROUP...). */
function errorCode(r: Reply): string | null {
  if (r.t !== 'error') return null;
  const space = r.v.indexOf(' ');
  return space < 0 ? r.v : r.v.slice(0, space);
}

export class Dispatcher {
  /** Front ends set this once (metrics); null costs nothing. */
  observer: CommandObserver | null = null;
  /** Told of each write command that succeeded, with its keys (WATCH, notifications). */
  readonly writeObservers: WriteObserver[] = [];
  /** Told of each command's first result while keyspace notifications are on (key misses). */
  readonly resultObservers: ResultObserver[] = [];
  /** While a transaction runs (exclusive()), other sessions' commands wait here. */
  private gate: Promise<void> | null = null;
  /** Commands whose handler is still at work asynchronously, by session (see exclusive). */
  private readonly running = new Map<Session, number>();
  private whenIdle: Array<() => void> = [];

  /** INFO's commandstats, errorstats and counters; CONFIG RESETSTAT clears them. */
  readonly stats = new CommandStats();
  /** CONFIG GET/SET's parameters (keyspace notifications read notify-keyspace-events). */
  readonly config: ServerConfig;
  /** Connection figures for INFO, set by the RESP server; null: INFO reports none. */
  serverInfo: ServerInfoSource | null = null;
  /** SHUTDOWN calls it (after its reply); the server sets it to its graceful stop. */
  shutdownHandler: (() => void) | null = null;

  /** The lower-case first letters of the rows with a batch handler. */
  private readonly batchInitials: ReadonlySet<number>;

  constructor(
    readonly table: CommandTable,
    readonly broker: Broker,
    readonly limits: ExecLimits,
  ) {
    this.batchInitials = new Set(
      [...table.all()].filter((r) => r.batch).map((r) => r.name.charCodeAt(0)),
    );
    this.config = new ServerConfig(broker, () => this.serverInfo);
    registerServerHost(broker, this);
  }

  async execute(session: Session, args: readonly Buffer[]): Promise<Reply> {
    return this.settle(await this.stage(session, args));
  }

  /**
   * Runs a command up to its reply but not its durability wait: a connection runs its
   * pipeline's commands one after another this way, so N writes share one group commit, and
   * sends each reply once settle() says it is durable. A command that finds its keys free and
   * needs no I/O and no wait is staged synchronously (no promise): most commands are.
   */
  stage(session: Session, args: readonly Buffer[]): Staged | Promise<Staged> {
    if (this.gate && !session.inExec) return this.stageAfterGate(session, args);
    const t0 = performance.now();
    let row: CommandRow;
    try {
      row = resolveRow(this.table, args);
    } catch (err) {
      const statName = rejectedRowName(this.table, args);
      return {
        reply: toErrorReply(err),
        durable: NO_WAITS,
        cmd: 'unknown',
        t0,
        rejected: true,
        statName,
      };
    }
    return this.stageRow(row, session, args, t0);
  }

  private async stageAfterGate(session: Session, args: readonly Buffer[]): Promise<Staged> {
    while (this.gate && !session.inExec) await this.gate;
    return this.stage(session, args);
  }

  /**
   * Stages commands one after another as stage() does, except that a run of consecutive calls
   * of a row with a batch handler, on the same keys, is staged as one batch (stageBatch).
   * `whileWaited`: batch even when a client is blocked on the keys (it then sees the whole run
   * at once, where Redis would wake it after the first call). `stop` is asked before each
   * command or batch: once it says so, the rest is not run.
   */
  stageRun(
    session: Session,
    commands: readonly (readonly Buffer[])[],
    opts: RunOptions,
    out: Staged[] = [],
    plainUntil = 0,
  ): Staged[] | Promise<Staged[]> {
    for (let i = 0; i < commands.length && !opts.stop?.();) {
      const run = i >= plainUntil ? this.batchRun(commands, i) : null;
      if (run) {
        const calls = commands.slice(i, i + run.n);
        const batch = this.stageBatch(run.row, session, calls, opts.whileWaited);
        if (batch) {
          for (const b of batch) out.push(b);
          i += run.n;
          continue;
        }
        // Declined: these calls go one by one, without asking again for each of them.
        plainUntil = i + run.n;
      }
      const one = this.stage(session, commands[i] as readonly Buffer[]);
      i++;
      if (one instanceof Promise) {
        const rest = commands.slice(i);
        const plainLeft = plainUntil - i;
        return one.then((s) => {
          out.push(s);
          return this.stageRun(session, rest, opts, out, plainLeft);
        });
      }
      out.push(one);
    }
    return out;
  }

  /**
   * The run of calls from `i` on of one row with a batch handler on the same keys (at most
   * BATCH_MAX_CALLS); null when commands[i] does not start a run of two or more.
   */
  batchRun(commands: readonly (readonly Buffer[])[], i: number): BatchRun | null {
    const first = commands[i] as readonly Buffer[];
    const row = this.batchRow(first);
    if (!row) return null;
    const positions = keyPositions(row, first);
    let n = 1;
    while (i + n < commands.length && n < BATCH_MAX_CALLS) {
      const next = commands[i + n] as readonly Buffer[];
      if (this.batchRow(next) !== row) break;
      if (!sameKeys(first, next, positions, keyPositions(row, next))) break;
      n++;
    }
    return n > 1 ? { row, n } : null;
  }

  /** The row of `args` when it has a batch handler (and its arity is right), else null. */
  batchRow(args: readonly Buffer[]): CommandRow | null {
    const name = args[0];
    // Asked of nearly every pipelined command: most are ruled out by their first letter,
    // before any string is made.
    if (name === undefined || name.length > 16 || !this.batchInitials.has((name[0] ?? 0) | 0x20)) {
      return null;
    }
    const row = this.table.get(commandName(name));
    return row?.batch && arityOk(row.arity, args.length) ? row : null;
  }

  /**
   * Stages `calls` (a run batchRun found for `row`) as one batch: one Ctx, one lock, one
   * storage command. Each call keeps its own reply, stats and write observers. Null when they
   * must be staged one by one: a transaction holds others back, keyspace notifications are on,
   * the keys are busy, a client waits on them (unless `whileWaited`), or the handler declined.
   * `callSessions`: the session of each call when they come from several clients (all in
   * `session`'s database, none in a transaction); by default `session` made them all.
   */
  stageBatch(
    row: CommandRow,
    session: Session,
    calls: readonly (readonly Buffer[])[],
    whileWaited: boolean,
    callSessions?: readonly Session[],
  ): Staged[] | null {
    const batch = row.batch;
    if (!batch || !this.batchesNow(session)) return null;
    const first = calls[0] as readonly Buffer[];
    const t0 = performance.now();
    const keys = keyPositions(row, first).map((i) => keyId(session.db, first[i] as Buffer));
    if (!this.broker.locks.isFree(keys)) return null;
    if (!whileWaited && keys.some((k) => this.broker.blocking.isWaited(k))) return null;
    const ctx = new Ctx(this.broker, session, this.limits);
    let results: Array<Reply | Thrown> | null | Promise<Array<Reply | Thrown> | null>;
    try {
      results = this.broker.locks.run(keys, () => batch(ctx, calls));
    } catch (err) {
      // A wrong type, say: the handler changed nothing, and the calls one by one say so.
      if (err instanceof CommandError) return null;
      throw err;
    }
    assert(!(results instanceof Promise), 'free keys and a synchronous handler run now');
    if (results === null) return null;
    assert(results.length === calls.length, 'a batch handler answers every call');
    return results.map((r, i) => {
      const args = calls[i] as readonly Buffer[];
      const reply = r instanceof Thrown ? toErrorReply(r.err) : r;
      if (reply.t !== 'error') {
        const done = {
          args,
          reply,
          db: session.db,
          before: null,
          noted: null,
          sessionId: (callSessions?.[i] ?? session).id,
        };
        for (const w of this.writeObservers) w(row.name, keys, done);
      }
      return stagedRow(row, reply, ctx, t0);
    });
  }

  /**
   * Whether calls of `session` may be staged as batches now. Keyspace notifications read the
   * keyspace after each call (`del` when a pop emptied the list): with them on, calls run one
   * by one; and while a transaction holds others back, they wait for it.
   */
  batchesNow(session: Session): boolean {
    return !(this.gate && !session.inExec) && this.config.keyspaceEvents === 0;
  }

  /** Waits for a staged command's durability; a failed write turns its reply into the error. */
  async settle(staged: Staged): Promise<Reply> {
    let reply = staged.reply;
    if (staged.durable.length > 0) {
      try {
        await waitAll(staged.durable);
      } catch (err) {
        reply = toErrorReply(err);
      }
    }
    return this.record(staged, reply);
  }

  /**
   * settle() for commands staged one after another: one wait covers them all, as their writes
   * went into the same group commits. If it fails, each waits for its own writes, so a write
   * that did become durable is still reported so.
   */
  async settleAll(list: readonly Staged[]): Promise<Reply[]> {
    const waits = wantedWaits(list);
    if (waits.length > 0) {
      try {
        await waitAll(waits);
      } catch {
        return Promise.all(list.map((s) => this.settle(s)));
      }
    }
    const now = performance.now();
    return list.map((s) => this.record(s, s.reply, now));
  }

  /**
   * Counts a command that is answered (stats, observer) and returns its reply. `now`: when it
   * was answered (commands settled together share one reading of the clock).
   */
  record(staged: Staged, reply: Reply, now = performance.now()): Reply {
    const code = errorCode(reply);
    if (staged.rejected) this.stats.reject(staged.statName, code ?? 'ERR');
    else this.stats.record(staged.cmd, (now - staged.t0) * 1000, code, now);
    this.observer?.(staged.cmd, (now - staged.t0) / 1000, code);
    return reply;
  }

  /**
   * Runs `fn` with every other session's commands held back (MULTI/EXEC): what it does is
   * seen by others all at once, blocked clients included. `fn`'s own commands run with
   * `session.inExec` set.
   */
  async exclusive<T>(fn: () => Promise<T>, self?: Session): Promise<T> {
    while (this.gate) await this.gate;
    let open = () => {};
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      // Commands already past the gate and still working (reading a disk, creating a
      // stream) finish first: none of their changes may land in the middle of `fn`.
      while (this.othersRunning(self)) {
        await new Promise<void>((resolve) => this.whenIdle.push(resolve));
      }
      // Blocked clients are served once `fn` is done, before any other command runs.
      this.broker.blocking.hold();
      try {
        return await fn();
      } finally {
        this.broker.blocking.release();
      }
    } finally {
      this.gate = null;
      open();
    }
  }

  private othersRunning(self: Session | undefined): boolean {
    for (const [session, n] of this.running) if (n > 0 && session !== self) return true;
    return false;
  }

  /** Counts `work` (a command's asynchronous part) as running for `session` until it ends. */
  private track<T>(session: Session, work: Promise<T>): Promise<T> {
    this.running.set(session, (this.running.get(session) ?? 0) + 1);
    const done = () => {
      const n = (this.running.get(session) ?? 1) - 1;
      if (n > 0) this.running.set(session, n);
      else this.running.delete(session);
      const waiting = this.whenIdle;
      this.whenIdle = [];
      for (const wake of waiting) wake();
    };
    return work.then(
      (v) => {
        done();
        return v;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  async run(row: CommandRow, session: Session, args: readonly Buffer[]): Promise<Reply> {
    return this.settle(await this.stageRow(row, session, args, performance.now()));
  }

  stageRow(
    row: CommandRow,
    session: Session,
    args: readonly Buffer[],
    t0: number,
  ): Staged | Promise<Staged> {
    const ctx = new Ctx(this.broker, session, this.limits);
    const handler = row.handler;
    if (!handler) return stagedRow(row, toErrorReply(Errors.syntax()), ctx, t0);
    const positions = keyPositions(row, args);
    const keys = positions.map((i) => keyId(session.db, args[i] as Buffer));
    const locked = row.flags.includes('write');
    // Which keys existed before, for keyspace notifications (`del` of the keys DEL removed).
    const before =
      locked && this.writeObservers.length > 0 && this.config.keyspaceEvents !== 0
        ? positions.map((i) => this.broker.keyspace.get(session.db, args[i] as Buffer))
        : null;
    const call: RowCall = { row, session, args, t0, ctx, keys, locked, before };
    // Blocking commands note the keys' versions before anything runs: a change between the
    // handler's look and the wait (while it waited for a lock or read a disk) then wakes the
    // wait at once. Other rows never block; if one did, nothing ran between its look and now.
    const seen = row.flags.includes('blocking') ? this.broker.blocking.versionsOf(keys) : null;
    const observe = this.resultObserver(row.name, args, positions, session.db);
    let res: HandlerResult | Promise<HandlerResult>;
    try {
      res = locked ? this.broker.locks.run(keys, () => handler(ctx, args)) : handler(ctx, args);
    } catch (err) {
      const reply = toErrorReply(err);
      observe?.(reply);
      return stagedRow(row, reply, ctx, t0);
    }
    // Most commands: answered now, without a closure or a promise made for the other cases.
    if (!(res instanceof Promise) && res.t !== 'blocked') {
      observe?.(res);
      try {
        return this.finishRow(call, res);
      } catch (err) {
        return stagedRow(row, toErrorReply(err), ctx, t0);
      }
    }
    return this.stageLater(call, res, seen, observe);
  }

  /** A row's reply once its handler answered: write observers are told, then it is staged. */
  private finishRow(call: RowCall, res: Reply): Staged {
    const { row, args, ctx, session } = call;
    if (call.locked && res.t !== 'error') {
      const noted = ctx.events;
      const before = call.before;
      const done = { args, reply: res, db: session.db, before, noted, sessionId: session.id };
      for (const w of this.writeObservers) w(row.name, call.keys, done);
    }
    return stagedRow(row, res, ctx, call.t0);
  }

  /** stageRow's handler answered with a promise, or asked to block. */
  private stageLater(
    call: RowCall,
    res: HandlerResult | Promise<HandlerResult>,
    seen: number[] | null,
    observe: ((r: HandlerResult) => void) | null,
  ): Promise<Staged> {
    const { row, session, ctx, keys, t0 } = call;
    const staged = (reply: Reply): Staged => stagedRow(row, reply, ctx, t0);
    const blocked = async (b: Blocked): Promise<Staged> => {
      // Inside MULTI a blocking command does not block: it answers as if it timed out.
      const r = session.denyBlocking
        ? (b.onDenied ?? b.onTimeout)
        : await this.block(ctx, b, seen ?? this.broker.blocking.versionsOf(keys), call.locked);
      return this.finishRow(call, r);
    };
    if (!(res instanceof Promise)) {
      observe?.(res);
      return blocked(res as Blocked).catch((err: unknown) => staged(toErrorReply(err)));
    }
    return this.track(session, res)
      .then(
        (r) => {
          observe?.(r);
          return r.t === 'blocked' ? blocked(r) : this.finishRow(call, r);
        },
        (err: unknown) => {
          const reply = toErrorReply(err);
          observe?.(reply);
          return staged(reply);
        },
      )
      .catch((err: unknown) => staged(toErrorReply(err)));
  }

  /** What tells resultObservers of a command's first result; null while they need not know. */
  private resultObserver(cmd: string, args: readonly Buffer[], positions: number[], db: number) {
    if (this.resultObservers.length === 0 || this.config.keyspaceEvents === 0) return null;
    return (r: HandlerResult) => {
      for (const o of this.resultObservers) o(cmd, args, positions, db, r);
    };
  }

  /** A blocked command's retry, under its keys' locks when it writes. */
  private async locked(
    lock: boolean,
    keys: string[],
    fn: () => HandlerResult | Promise<HandlerResult>,
  ): Promise<HandlerResult> {
    return lock ? this.broker.locks.run(keys, fn) : fn();
  }

  /** Waits for the keys, retrying the handler at each wake-up, until data or the deadline. */
  private async block(ctx: Ctx, first: Blocked, seen: number[], lock: boolean): Promise<Reply> {
    const capped = Math.min(
      first.timeoutMs === 0 ? Infinity : first.timeoutMs,
      ctx.session.maxBlockMs ?? this.limits.maxBlockMs,
    );
    const deadline = capped === Infinity ? Infinity : Date.now() + capped;
    let res: HandlerResult = first;
    let versions = seen;
    while (res.t === 'blocked') {
      const b: Blocked = res;
      const keys = b.keys.map((k) => keyId(ctx.db, k));
      const left = deadline === Infinity ? 0 : Math.max(1, deadline - Date.now());
      let served: Reply | null = null;
      const serve = b.serve
        ? (key: string) => (served = (b.serve as (k: string) => Reply | null)(key)) !== null
        : undefined;
      const why = await this.broker.blocking.wait(
        keys,
        versions,
        left,
        ctx.session.abort,
        serve,
        b.onWake,
      );
      if (why === 'served' && served !== null) return served;
      if (why !== 'ready') return b.onTimeout;
      versions = this.broker.blocking.versionsOf(keys);
      try {
        res = await this.track(ctx.session, this.locked(lock, keys, b.retry));
      } finally {
        this.broker.blocking.retried();
      }
    }
    return res;
  }
}
