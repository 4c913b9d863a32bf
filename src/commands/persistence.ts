// Persistence and shutdown, as Redis 7.0 answers them: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE,
// SHUTDOWN and WAIT. Sluice has no snapshot file to write: every change is already in
// a stream log or the lists journal. "Saving" is therefore fdatasync'ing all of them now,
// whatever the fsync policy. Under `everysec` that closes the last second's window on demand.
// WAIT counts replicas, and Sluice has none: a wait for one lasts until its timeout, as on a
// Redis primary without replicas. (WAITAOF, the way to ask for one's own writes on disk, is
// Redis 7.2's; Sluice follows 7.0, where SAVE does that.)
import { Errors } from '../errors';
import { int64Arg, isWord } from './args';
import type { Ctx } from './context';
import { int, OK, simple } from './reply';
import { serverHostOf } from './server';
import { defineRow, type CommandRow, type Handler } from './table';

/**
 * SHUTDOWN's arguments, as Redis 7.0's shutdownCommand reads them. Any mix of NOSAVE, SAVE,
 * NOW and FORCE is accepted, except NOSAVE with SAVE. ABORT must stand alone. Sluice always
 * flushes and fsyncs at a stop, so NOSAVE, SAVE, NOW and FORCE change nothing.
 */
export function shutdownArgs(args: readonly Buffer[]): { abort: boolean } {
  let abort = false;
  let flags = 0;
  let save = false;
  let nosave = false;
  for (const arg of args.slice(1)) {
    if (isWord(arg, 'NOSAVE')) nosave = true;
    else if (isWord(arg, 'SAVE')) save = true;
    else if (isWord(arg, 'NOW') || isWord(arg, 'FORCE')) flags++;
    else if (isWord(arg, 'ABORT')) abort = true;
    else throw Errors.syntax();
  }
  if ((abort && (flags > 0 || save || nosave)) || (save && nosave)) throw Errors.syntax();
  return { abort };
}

/**
 * SHUTDOWN: the graceful stop SIGTERM makes (replies flushed, everything fsynced, lock
 * released), once this command is answered. Over RESP the client gets no reply and its
 * connection closes, as from Redis (resp/commands.ts). There is no shutdown delay to ABORT.
 */
const shutdown: Handler = (ctx, args) => {
  if (shutdownArgs(args).abort) throw Errors.noShutdown();
  if (!requestShutdown(ctx)) throw Errors.shutdownFailed();
  return OK;
};

/** Asks the server to stop, after the current command; false when nothing can stop it. */
export function requestShutdown(ctx: Ctx): boolean {
  const stop = serverHostOf(ctx.broker)?.shutdownHandler;
  if (!stop) return false;
  setImmediate(stop);
  return true;
}

const save: Handler = async (ctx) => {
  await ctx.broker.syncAll();
  return OK;
};

/** In the background: a failed fdatasync is the stream's or the journal's own write failure. */
function syncInBackground(ctx: Ctx): void {
  ctx.broker.syncAll().catch(() => undefined);
}

const bgsave: Handler = (ctx, args) => {
  if (args.length > 2 || (args.length === 2 && !isWord(args[1], 'SCHEDULE'))) {
    throw Errors.syntax();
  }
  syncInBackground(ctx);
  return simple('Background saving started');
};

/** The journal of lists is compacted into a new snapshot (Redis rewrites its AOF). */
const bgrewriteaof: Handler = (ctx) => {
  const journal = ctx.broker.journal;
  journal
    .compact()
    .then(() => ctx.broker.syncAll())
    .catch(() => undefined);
  return simple('Background append only file rewriting started');
};

const lastsave: Handler = (ctx) => int(Math.floor(ctx.broker.lastSyncAllMs / 1000));

/** WAIT's timeout: whole milliseconds, 0 for ever. */
function waitTimeoutArg(arg: Buffer): number {
  const ms = int64Arg(arg, Errors.timeoutNotInteger);
  if (ms < 0n) throw Errors.timeoutNegative();
  return Number(ms);
}

/**
 * Resolves after `timeoutMs` (0: for ever), capped by the session's blocking limit (HTTP's
 * --max-block-ms), or at once when the client goes away.
 */
function waitFor(ctx: Ctx, timeoutMs: number, limitMs: number): Promise<void> {
  const capped = Math.min(
    timeoutMs === 0 ? Infinity : timeoutMs,
    ctx.session.maxBlockMs ?? limitMs,
  );
  const signal = ctx.session.abort;
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = capped === Infinity ? null : setTimeout(done, capped);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const wait: Handler = async (ctx, args) => {
  const replicas = int64Arg(args[1] as Buffer);
  const timeoutMs = waitTimeoutArg(args[2] as Buffer);
  if (replicas > 0n && !ctx.session.denyBlocking) {
    await waitFor(ctx, timeoutMs, ctx.limits.maxBlockMs);
  }
  return int(0);
};

function row(
  name: string,
  arity: number,
  flags: CommandRow['flags'],
  handler: Handler,
  summary: string,
  since: string,
): CommandRow {
  // Redis files WAIT under generic, but its ACL category is @connection.
  const group = name === 'wait' ? 'connection' : 'server';
  return defineRow(name, { arity, flags, handler, group, summary, since });
}

const ADMIN_SAVE = ['admin', 'noscript', 'no_async_loading'] as const;

export const persistenceRows: CommandRow[] = [
  row(
    'save',
    1,
    [...ADMIN_SAVE, 'no_multi'],
    save,
    'Synchronously saves the database(s) to disk.',
    '1.0.0',
  ),
  row('bgsave', -1, ADMIN_SAVE, bgsave, 'Asynchronously saves the database(s) to disk.', '1.0.0'),
  row(
    'bgrewriteaof',
    1,
    ADMIN_SAVE,
    bgrewriteaof,
    'Asynchronously rewrites the append-only file to disk.',
    '1.0.0',
  ),
  row(
    'lastsave',
    1,
    ['loading', 'stale', 'fast'],
    lastsave,
    'Returns the Unix timestamp of the last successful save to disk.',
    '1.0.0',
  ),
  row(
    'shutdown',
    -1,
    ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    shutdown,
    'Synchronously saves the database(s) to disk and shuts down the Redis server.',
    '1.0.0',
  ),
  row(
    'wait',
    3,
    ['noscript'],
    wait,
    'Blocks until the asynchronous replication of all preceding write commands sent by the ' +
      'connection is completed.',
    '3.0.0',
  ),
];
