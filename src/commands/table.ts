// The command table: one row per command (STYLE rule 1). Dispatch, COMMAND, the HTTP command API
// and RESP all read these rows.
import type { Ctx } from './context';
import type { Reply } from './reply';

export type Flag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'movablekeys'
  | 'allow_busy'
  | 'no_multi'
  | 'no_async_loading';

/** A handler's answer when it must wait for data: the dispatcher blocks, then calls retry. */
export interface Blocked {
  readonly t: 'blocked';
  readonly keys: readonly Buffer[];
  /** 0 = forever. */
  readonly timeoutMs: number;
  readonly retry: () => HandlerResult | Promise<HandlerResult>;
  /** The reply when the wait times out. */
  readonly onTimeout: Reply;
  /** The reply where blocking is not allowed (inside MULTI), when it differs from onTimeout. */
  readonly onDenied?: Reply;
  /**
   * Synchronous service at the moment a key is signalled (list pops): applies the command to
   * `key` (a keyId) and returns its reply, or null when it cannot (the client stays blocked,
   * in its place). Without it the dispatcher calls `retry` after waking.
   */
  readonly serve?: (key: string) => Reply | null;
  /**
   * Told synchronously of the key signalled (a keyId), before `retry` runs (later, after the
   * rest of a pipeline maybe): Redis serves the client right after the command that signalled,
   * from that key first, so the retry must see only what existed then (XREAD notes each
   * stream's last ID here). Not called when the wait ended at once (a key changed before it).
   */
  readonly onWake?: (key: string) => void;
}

export type HandlerResult = Reply | Blocked;
export type Handler = (ctx: Ctx, args: readonly Buffer[]) => HandlerResult | Promise<HandlerResult>;

/** A command of a batch that failed: what its handler would have thrown. */
export class Thrown {
  constructor(readonly err: unknown) {}
}

/**
 * Runs several calls of one row on the same keys at once (consecutive XADDs of a pipeline or an
 * HTTP batch), under one lock and in one storage command, with one result per call in order.
 * Null when it cannot take them all synchronously; it has then changed nothing, and the calls
 * run one by one through the handler.
 */
export type BatchHandler = (
  ctx: Ctx,
  calls: readonly (readonly Buffer[])[],
) => Array<Reply | Thrown> | null;

export interface CommandRow {
  /** Lower case; a subcommand is named `container|sub` (`xgroup|create`), as Redis does. */
  readonly name: string;
  /** Redis arity: positive = exactly, negative = at least; counts the command name(s). */
  readonly arity: number;
  readonly flags: readonly Flag[];
  /** Key positions in args (args[0] is the command): first, last (-1 = last arg), step. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /** Key positions for commands whose keys move (XREAD, XREADGROUP). */
  readonly keys?: (args: readonly Buffer[]) => number[];
  readonly handler?: Handler;
  /** The handler for a run of calls on the same keys, where batching pays (see BatchHandler). */
  readonly batch?: BatchHandler;
  readonly subcommands?: readonly CommandRow[];
  readonly group: string;
  readonly summary: string;
  readonly since: string;
}

export class CommandTable {
  private readonly rows = new Map<string, CommandRow>();
  private readonly subs = new Map<string, CommandRow>();

  constructor(rows: readonly CommandRow[]) {
    for (const row of rows) {
      this.rows.set(row.name, row);
      for (const sub of row.subcommands ?? []) this.subs.set(sub.name, sub);
    }
  }

  get(name: string): CommandRow | undefined {
    return this.rows.get(name);
  }

  sub(fullName: string): CommandRow | undefined {
    return this.subs.get(fullName);
  }

  all(): IterableIterator<CommandRow> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }
}

/** Lower-case names already seen, by their letters (see commandName). */
const NAME_CACHE = new Map<number, string>();
const NAME_CACHE_MAX = 4096;

/** Letters in a cache key: 5 bits each, so 10 of them stay an exact double (2^50). */
const NAME_CACHE_LETTERS = 10;

/**
 * A command name in lower case. Every pipelined command needs it two or three times (the RESP
 * gate, the batch check, the table), and toString().toLowerCase() was about 8% of PING -P 16:
 * names of up to 10 letters (every Redis command but a few of 11 or more) are looked up by a
 * number made of their letters, 1..26 each (a byte ORed with 0x20 is a lower-case letter only
 * when the byte is that letter or its capital), so no two names share a key.
 */
export function commandName(b: Buffer): string {
  // The RESP gate, the batch check and the table ask in turn about the same argument.
  if (b === lastNameOf) return lastName;
  const name = nameOf(b);
  lastNameOf = b;
  lastName = name;
  return name;
}

/** The argument commandName was last asked about, and its answer. */
let lastNameOf: Buffer | null = null;
let lastName = '';

function nameOf(b: Buffer): string {
  const n = b.length;
  if (n === 0 || n > NAME_CACHE_LETTERS) return b.toString('latin1').toLowerCase();
  let key = 0;
  for (let i = 0; i < n; i++) {
    const c = (b[i] as number) | 0x20;
    if (c < 0x61 || c > 0x7a) return b.toString('latin1').toLowerCase();
    key = key * 32 + (c - 0x60);
  }
  let name = NAME_CACHE.get(key);
  if (name === undefined) {
    name = b.toString('latin1').toLowerCase();
    if (NAME_CACHE.size < NAME_CACHE_MAX) NAME_CACHE.set(key, name);
  }
  return name;
}

export function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

/** Positions of the keys of a call, per the row. */
export function keyPositions(row: CommandRow, args: readonly Buffer[]): number[] {
  if (row.keys) return row.keys(args);
  if (row.firstKey <= 0) return [];
  const last = row.lastKey < 0 ? args.length + row.lastKey : row.lastKey;
  const out: number[] = [];
  for (let i = row.firstKey; i <= last && i < args.length; i += row.keyStep) out.push(i);
  return out;
}

/** A row as the families write it: key positions as a [first, last, step] range. */
export interface RowSpec {
  readonly arity: number;
  readonly flags: readonly Flag[];
  readonly group: string;
  readonly summary: string;
  readonly since: string;
  /** Default: no keys. */
  readonly keyRange?: readonly [number, number, number];
  readonly keys?: (args: readonly Buffer[]) => number[];
  readonly handler?: Handler;
  readonly batch?: BatchHandler;
  readonly subcommands?: readonly CommandRow[];
}

export function defineRow(name: string, spec: RowSpec): CommandRow {
  const { keyRange, ...rest } = spec;
  const [firstKey, lastKey, keyStep] = keyRange ?? [0, 0, 0];
  return { name, firstKey, lastKey, keyStep, ...rest };
}
