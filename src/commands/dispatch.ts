// Executes one command: finds its row, checks arity and subcommand, takes key locks for write
// commands, runs the handler, blocks and retries when it asks to, waits for durability after
// the locks are released, and turns thrown errors into error replies from the catalog.
import { CommandError, Errors } from '../errors';
import { StorageError } from '../../storage/errors';
import type { Broker } from '../broker/broker';
import { keyId } from '../broker/keyspace';
import { Ctx, type ExecLimits, type Session } from './context';
import { errorReply, type Reply } from './reply';
import { registerServerHost, ServerConfig, type ServerInfoSource } from './server';
import { CommandStats } from './stats';
import {
  arityOk,
  keyPositions,
  type Blocked,
  type CommandRow,
  type CommandTable,
  type HandlerResult,
} from './table';

/** Finds the row for a call: the command, or its subcommand for containers. */
export function resolveRow(table: CommandTable, args: readonly Buffer[]): CommandRow {
  const first = args[0];
  if (!first) throw Errors.other('ERR empty command');
  const name = first.toString('latin1').toLowerCase();
  const row = table.get(name);
  if (!row) throw Errors.unknownCommand(first, args.slice(1, 21));
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
  readonly durable: Promise<unknown> | null;
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
  /** While a transaction runs (exclusive()), other sessions' commands wait here. */
  private gate: Promise<void> | null = null;

  /** INFO's commandstats, errorstats and counters; CONFIG RESETSTAT clears them. */
  readonly stats = new CommandStats();
  /** CONFIG GET/SET's parameters (keyspace notifications read notify-keyspace-events). */
  readonly config: ServerConfig;
  /** Connection figures for INFO, set by the RESP server; null: INFO reports none. */
  serverInfo: ServerInfoSource | null = null;

  constructor(
    readonly table: CommandTable,
    readonly broker: Broker,
    readonly limits: ExecLimits,
  ) {
    this.config = new ServerConfig(broker, () => this.serverInfo);
    registerServerHost(broker, this);
  }

  async execute(session: Session, args: readonly Buffer[]): Promise<Reply> {
    return this.settle(await this.stage(session, args));
  }

  /**
   * Runs a command up to its reply but not its durability wait: a connection runs its
   * pipeline's commands one after another this way, so N writes share one group commit, and
   * sends each reply once settle() says it is durable.
   */
  async stage(session: Session, args: readonly Buffer[]): Promise<Staged> {
    while (this.gate && !session.inExec) await this.gate;
    const t0 = performance.now();
    let row: CommandRow;
    try {
      row = resolveRow(this.table, args);
    } catch (err) {
      const statName = rejectedRowName(this.table, args);
      return {
        reply: toErrorReply(err),
        durable: null,
        cmd: 'unknown',
        t0,
        rejected: true,
        statName,
      };
    }
    return this.stageRow(row, session, args, t0);
  }

  /** Waits for a staged command's durability; a failed write turns its reply into the error. */
  async settle(staged: Staged): Promise<Reply> {
    let reply = staged.reply;
    if (staged.durable) {
      try {
        await staged.durable;
      } catch (err) {
        reply = toErrorReply(err);
      }
    }
    const now = performance.now();
    const code = errorCode(reply);
    if (staged.rejected) this.stats.reject(staged.statName, code ?? 'ERR');
    else this.stats.record(staged.cmd, (now - staged.t0) * 1000, code, now);
    this.observer?.(staged.cmd, (now - staged.t0) / 1000, code);
    return reply;
  }

  /**
   * Runs `fn` with every other session's commands held back (MULTI/EXEC): what it does is
   * seen by others all at once. `fn`'s own commands run with `session.inExec` set.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    let open = () => {};
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      return await fn();
    } finally {
      this.gate = null;
      open();
    }
  }

  async run(row: CommandRow, session: Session, args: readonly Buffer[]): Promise<Reply> {
    return this.settle(await this.stageRow(row, session, args, performance.now()));
  }

  async stageRow(
    row: CommandRow,
    session: Session,
    args: readonly Buffer[],
    t0: number,
  ): Promise<Staged> {
    const ctx = new Ctx(this.broker, session, this.limits);
    const handler = row.handler;
    const staged = (reply: Reply): Staged => ({
      reply,
      durable: ctx.durable.length > 0 ? Promise.all(ctx.durable) : null,
      cmd: row.name,
      t0,
      rejected: false,
      statName: row.name,
    });
    if (!handler) return staged(toErrorReply(Errors.syntax()));
    const keys = keyPositions(row, args).map((i) => keyId(session.db, args[i] as Buffer));
    const locked = row.flags.includes('write');
    // Which keys existed before, for keyspace notifications (`del` of the keys DEL removed).
    const before =
      locked && this.writeObservers.length > 0 && this.config.keyspaceEvents !== 0
        ? keyPositions(row, args).map((i) =>
            this.broker.keyspace.get(session.db, args[i] as Buffer),
          )
        : null;
    try {
      const seen = this.broker.blocking.versionsOf(keys);
      let res = await this.locked(locked, keys, () => handler(ctx, args));
      // Inside MULTI a blocking command does not block: it answers as if it timed out.
      if (res.t === 'blocked') {
        res = session.denyBlocking
          ? (res.onDenied ?? res.onTimeout)
          : await this.block(ctx, res, seen, locked);
      }
      if (locked && res.t !== 'error') {
        const done = { args, reply: res, db: session.db, before };
        for (const w of this.writeObservers) w(row.name, keys, done);
      }
      return staged(res);
    } catch (err) {
      return staged(toErrorReply(err));
    }
  }

  private locked(lock: boolean, keys: string[], fn: () => HandlerResult | Promise<HandlerResult>) {
    return lock ? this.broker.locks.run(keys, fn) : Promise.resolve(fn());
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
      const why = await this.broker.blocking.wait(keys, versions, left, ctx.session.abort, serve);
      if (why === 'served' && served !== null) return served;
      if (why !== 'ready') return b.onTimeout;
      versions = this.broker.blocking.versionsOf(keys);
      res = await this.locked(lock, keys, b.retry);
    }
    return res;
  }
}
