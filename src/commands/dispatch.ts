// Executes one command: finds its row, checks arity and subcommand, takes key locks for write
// commands, runs the handler, blocks and retries when it asks to, waits for durability after
// the locks are released, and turns thrown errors into error replies from the catalog.
import { CommandError, Errors } from '../errors';
import { StorageError } from '../../storage/errors';
import type { Broker } from '../broker/broker';
import { keyId } from '../broker/keyspace';
import { Ctx, type ExecLimits, type Session } from './context';
import { errorReply, type Reply } from './reply';
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
  if (!row.subcommands) return row;
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

/** The error code of an error reply: its first word (ERR, WRONGTYPE, NOGROUP...). */
function errorCode(r: Reply): string | null {
  if (r.t !== 'error') return null;
  const space = r.v.indexOf(' ');
  return space < 0 ? r.v : r.v.slice(0, space);
}

export class Dispatcher {
  /** Front ends set this once (metrics); null costs nothing. */
  observer: CommandObserver | null = null;

  constructor(
    readonly table: CommandTable,
    readonly broker: Broker,
    readonly limits: ExecLimits,
  ) {}

  async execute(session: Session, args: readonly Buffer[]): Promise<Reply> {
    let row: CommandRow;
    try {
      row = resolveRow(this.table, args);
    } catch (err) {
      const reply = toErrorReply(err);
      this.observer?.('unknown', 0, errorCode(reply));
      return reply;
    }
    if (!this.observer) return this.run(row, session, args);
    const t0 = performance.now();
    const reply = await this.run(row, session, args);
    this.observer(row.name, (performance.now() - t0) / 1000, errorCode(reply));
    return reply;
  }

  async run(row: CommandRow, session: Session, args: readonly Buffer[]): Promise<Reply> {
    const ctx = new Ctx(this.broker, session, this.limits);
    const handler = row.handler;
    if (!handler) return toErrorReply(Errors.syntax());
    const keys = keyPositions(row, args).map((i) => keyId(session.db, args[i] as Buffer));
    const locked = row.flags.includes('write');
    try {
      const seen = this.broker.blocking.versionsOf(keys);
      let res = await this.locked(locked, keys, () => handler(ctx, args));
      if (res.t === 'blocked') res = await this.block(ctx, res, seen, locked);
      await Promise.all(ctx.durable);
      return res;
    } catch (err) {
      return toErrorReply(err);
    }
  }

  private locked(lock: boolean, keys: string[], fn: () => HandlerResult | Promise<HandlerResult>) {
    return lock ? this.broker.locks.run(keys, fn) : Promise.resolve(fn());
  }

  /** Waits for the keys, retrying the handler at each wake-up, until data or the deadline. */
  private async block(ctx: Ctx, first: Blocked, seen: number[], lock: boolean): Promise<Reply> {
    const capped = Math.min(
      first.timeoutMs === 0 ? Infinity : first.timeoutMs,
      this.limits.maxBlockMs,
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
