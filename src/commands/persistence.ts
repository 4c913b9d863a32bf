// Persistence and shutdown, as Redis 7.0 answers them: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE,
// SHUTDOWN and WAIT. Sluice has no snapshot file to write: every change is already in
// a stream log or the lists journal. "Saving" is therefore fdatasync'ing all of them now,
// whatever the fsync policy. Under `everysec` that closes the last second's window on demand.
// WAIT counts replicas, and Sluice has none: a wait for one lasts until its timeout, as on a
// Redis primary without replicas. (WAITAOF, the way to ask for one's own writes on disk, is
// Redis 7.2's; Sluice follows 7.0, where SAVE does that.)
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Errors } from '../errors';
import { int64Arg, isWord } from './args';
import type { Ctx } from './context';
import { int, OK, simple } from './reply';
import { serverHostOf } from './server';
import { defineRow, type CommandRow, type Handler } from './table';

/**
 * Starts SHUTDOWN, as Redis 7.0's shutdownCommand reads its arguments: any mix of NOSAVE, SAVE,
 * NOW and FORCE, except NOSAVE with SAVE; ABORT alone. Sluice always flushes and fsyncs at a
 * stop, so those four change nothing, and there is no shutdown delay to ABORT. The stop itself
 * (`host.shutdownHandler`, the graceful stop SIGTERM makes) runs once this command is answered.
 * Both the table's row and RESP's own SHUTDOWN (no reply, resp/commands.ts) call this.
 */
export function beginShutdown(
  host: { readonly shutdownHandler: (() => void) | null } | null,
  args: readonly Buffer[],
): void {
  let abort = false;
  let others = 0;
  let save = false;
  let nosave = false;
  for (const arg of args.slice(1)) {
    if (isWord(arg, 'NOSAVE')) nosave = true;
    else if (isWord(arg, 'SAVE')) save = true;
    else if (isWord(arg, 'NOW') || isWord(arg, 'FORCE')) others++;
    else if (isWord(arg, 'ABORT')) abort = true;
    else throw Errors.syntax();
  }
  if ((abort && (others > 0 || save || nosave)) || (save && nosave)) throw Errors.syntax();
  if (abort) throw Errors.noShutdown();
  const stop = host?.shutdownHandler;
  if (!stop) throw Errors.shutdownFailed();
  setImmediate(stop);
}

const shutdown: Handler = (ctx, args) => {
  beginShutdown(serverHostOf(ctx.broker), args);
  return OK;
};

const save: Handler = async (ctx) => {
  await ctx.broker.syncAll();
  return OK;
};

/** A failed fdatasync in the background is the stream's or the journal's own write failure. */
const ignore = () => undefined;

const bgsave: Handler = (ctx, args) => {
  if (args.length > 2 || (args.length === 2 && !isWord(args[1], 'SCHEDULE'))) {
    throw Errors.syntax();
  }
  ctx.broker.syncAll().catch(ignore);
  return simple('Background saving started');
};

/** The journal of lists is compacted into a new snapshot (Redis rewrites its AOF). */
const bgrewriteaof: Handler = (ctx) => {
  ctx.broker.journal.compact().catch(ignore);
  return simple('Background append only file rewriting started');
};

const lastsave: Handler = (ctx) => int(Math.floor(ctx.broker.lastSyncAllMs / 1000));

/** WAIT's timeout: whole milliseconds, 0 for ever. */
function waitTimeoutArg(arg: Buffer): number {
  const ms = int64Arg(arg, Errors.timeoutNotInteger);
  if (ms < 0n) throw Errors.timeoutNegative();
  return Number(ms);
}

/** Node's timers take at most this; a longer WAIT is as good as for ever. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves after `timeoutMs` (0: for ever), capped by the session's blocking limit (HTTP's
 * --max-block-ms), or at once when the client goes away.
 */
async function waitFor(ctx: Ctx, timeoutMs: number): Promise<void> {
  const limit = ctx.session.maxBlockMs ?? ctx.limits.maxBlockMs;
  const capped = Math.min(timeoutMs === 0 ? Infinity : timeoutMs, limit);
  const signal = ctx.session.abort;
  if (signal?.aborted) return;
  if (capped <= MAX_TIMER_MS) {
    await sleep(capped, undefined, signal ? { signal } : {}).catch(ignore);
  } else if (signal) {
    await once(signal, 'abort');
  } else {
    await new Promise<never>(() => {}); // no client to go away, no limit: for ever, as asked
  }
}

const wait: Handler = async (ctx, args) => {
  const replicas = int64Arg(args[1] as Buffer);
  const timeoutMs = waitTimeoutArg(args[2] as Buffer);
  if (replicas > 0n && !ctx.session.denyBlocking) await waitFor(ctx, timeoutMs);
  return int(0);
};

const ADMIN_SAVE = ['admin', 'noscript', 'no_async_loading'] as const;

export const persistenceRows: CommandRow[] = [
  defineRow('save', {
    arity: 1,
    flags: [...ADMIN_SAVE, 'no_multi'],
    handler: save,
    group: 'server',
    summary: 'Synchronously saves the database(s) to disk.',
    since: '1.0.0',
  }),
  defineRow('bgsave', {
    arity: -1,
    flags: ADMIN_SAVE,
    handler: bgsave,
    group: 'server',
    summary: 'Asynchronously saves the database(s) to disk.',
    since: '1.0.0',
  }),
  defineRow('bgrewriteaof', {
    arity: 1,
    flags: ADMIN_SAVE,
    handler: bgrewriteaof,
    group: 'server',
    summary: 'Asynchronously rewrites the append-only file to disk.',
    since: '1.0.0',
  }),
  defineRow('lastsave', {
    arity: 1,
    flags: ['loading', 'stale', 'fast'],
    handler: lastsave,
    group: 'server',
    summary: 'Returns the Unix timestamp of the last successful save to disk.',
    since: '1.0.0',
  }),
  defineRow('shutdown', {
    arity: -1,
    flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    handler: shutdown,
    group: 'server',
    summary: 'Synchronously saves the database(s) to disk and shuts down the Redis server.',
    since: '1.0.0',
  }),
  defineRow('wait', {
    arity: 3,
    flags: ['noscript'],
    handler: wait,
    // Redis files WAIT under generic; the group here gives its ACL category, @connection.
    group: 'connection',
    summary:
      'Blocks until the asynchronous replication of all preceding write commands sent by the ' +
      'connection is completed.',
    since: '3.0.0',
  }),
];
