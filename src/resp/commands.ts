// The commands that belong to a RESP connection rather than to the keyspace: HELLO, AUTH,
// SELECT, CLIENT, QUIT, RESET, MULTI/EXEC/DISCARD/WATCH/UNWATCH and the SUBSCRIBE family, plus
// the gates in front of every command (authentication, a transaction being queued, RESP2
// subscriber mode, a read-only token). Replies and errors are Redis 7.0's.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { PubSubMessage, SubscriptionKind } from '../broker/pubsub';
import { intArg, isWord, toInt64 } from '../commands/args';
import { resolveRow } from '../commands/dispatch';
import { keyId } from '../broker/keyspace';
import {
  arr,
  bulk,
  errorReply,
  int,
  NIL,
  NIL_ARRAY,
  OK,
  simple,
  type Reply,
} from '../commands/reply';
import { CommandError, Errors } from '../errors';
import type { RespConnection as Connection } from './types';
import { clientCommand, clientNameError, validClientName } from './client';
import { commandName } from '../commands/table';
import { beginShutdown } from '../commands/persistence';

type Local = Reply | Reply[] | null;

const err = (e: CommandError): Reply => errorReply(e.message, e.status);
const lower = (b: Buffer | undefined) => (b ? commandName(b) : '');

/** Commands allowed before AUTH (Redis lets these through without authentication). */
const NO_AUTH = new Set(['auth', 'hello', 'quit', 'reset']);
/** What a RESP2 connection in subscriber mode may run. */
const SUBSCRIBER_OK = new Set([
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
  'ping',
  'quit',
  'reset',
]);
/** Not queued by MULTI: they act on the transaction itself. */
const TX_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'reset', 'quit']);

function digest(s: Buffer | string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of a password with a token. */
export function tokenMatches(given: Buffer, token: string): boolean {
  return token.length > 0 && timingSafeEqual(digest(given), digest(token));
}

/**
 * Runs `args` if it is a connection command or stopped by a gate; undefined means "not ours:
 * dispatch it".
 */
export function connectionCommand(
  conn: Connection,
  args: Buffer[],
): Local | Promise<Local> | undefined {
  const name = lower(args[0]);
  if (!conn.authenticated && !NO_AUTH.has(name)) return authRequired(conn, args);
  if (conn.multi && !TX_CONTROL.has(name)) return queueInMulti(conn, args);
  if (conn.session.resp === 2 && conn.subscribed && !SUBSCRIBER_OK.has(name)) {
    return subscriberRefusal(conn, args, name);
  }
  const local = LOCAL[name];
  if (local) return local(conn, args);
  if (conn.readOnly) return readOnlyGate(conn, args);
  return undefined;
}

/**
 * Whether connectionCommand leaves every table command of a write row to the dispatcher now
 * (no AUTH pending, no MULTI queueing, no subscriber-mode refusal, no read-only gate): a run of
 * XADDs can then be staged as one batch. Keep in step with connectionCommand.
 */
export function dispatchesWrites(conn: Connection): boolean {
  if (!conn.authenticated || conn.multi || conn.readOnly) return false;
  return !(conn.session.resp === 2 && conn.subscribed);
}

/**
 * RESP2 subscriber mode refuses the command, as Redis's processCommand() does: an unknown
 * command or a wrong arity is reported first, and the command is named by its full name
 * (`client|id`, `xinfo|stream`).
 */
function subscriberRefusal(conn: Connection, args: Buffer[], name: string): Reply {
  let fullName = name;
  try {
    fullName = resolveRow(conn.dispatcher.table, args).name;
  } catch (e) {
    if (e instanceof CommandError) return err(e);
  }
  // CLIENT's subcommands live in client.ts, not in the command table.
  if (fullName === 'client' && args.length > 1) fullName = `client|${lower(args[1])}`;
  return errorReply(
    `ERR Can't execute '${fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / ` +
      'RESET are allowed in this context',
  );
}

/** Before AUTH, as Redis: an unknown command or a wrong arity is reported before NOAUTH. */
function authRequired(conn: Connection, args: Buffer[]): Reply {
  try {
    resolveRow(conn.dispatcher.table, args);
  } catch (e) {
    if (e instanceof CommandError) return err(e);
  }
  return errorReply('NOAUTH Authentication required.', 401);
}

function readOnlyGate(conn: Connection, args: Buffer[]): Local | undefined {
  try {
    const row = resolveRow(conn.dispatcher.table, args);
    if (!row.flags.includes('write') && !row.flags.includes('admin')) return undefined;
    return errorReply(`NOPERM this user has no permissions to run the '${row.name}' command`, 403);
  } catch {
    return undefined;
  }
}

type LocalHandler = (conn: Connection, args: Buffer[]) => Local | Promise<Local>;

// ---- authentication and protocol ------------------------------------------------------------

function authenticate(conn: Connection, user: Buffer | null, pass: Buffer): Reply | null {
  const { token, readonlyToken } = conn.server;
  if (!token && !readonlyToken && user !== null) {
    // Without a password the default user is `nopass`: any password is good for it.
    if (user.toString('latin1') !== 'default') {
      return errorReply('WRONGPASS invalid username-password pair or user is disabled.', 401);
    }
    conn.readOnly = false;
    conn.setAuthenticated(true);
    return null;
  }
  if (!token && !readonlyToken) {
    return errorReply(
      'ERR AUTH <password> called without any password configured for the default user. ' +
        'Are you sure your configuration is correct?',
    );
  }
  const userOk = user === null || user.toString('latin1') === 'default';
  if (userOk && tokenMatches(pass, token)) {
    conn.readOnly = false;
  } else if (userOk && tokenMatches(pass, readonlyToken)) {
    conn.readOnly = true;
  } else {
    return errorReply('WRONGPASS invalid username-password pair or user is disabled.', 401);
  }
  conn.setAuthenticated(true);
  return null;
}

const auth: LocalHandler = (conn, args) => {
  if (args.length < 2) return err(Errors.arity('auth'));
  if (args.length > 3) return err(Errors.syntax());
  const failed =
    args.length === 3
      ? authenticate(conn, args[1] as Buffer, args[2] as Buffer)
      : authenticate(conn, null, args[1] as Buffer);
  return failed ?? OK;
};

function helloReply(conn: Connection): Reply {
  const pairs: [string, Reply][] = [
    ['server', bulk('redis')],
    ['version', bulk(conn.server.redisVersion)],
    ['proto', int(conn.session.resp)],
    ['id', int(conn.id)],
    ['mode', bulk('standalone')],
    ['role', bulk('master')],
    ['modules', arr([])],
  ];
  return { t: 'map', v: pairs.map(([k, v]) => [bulk(k), v] as const) };
}

const hello: LocalHandler = (conn, args) => {
  let proto: 2 | 3 = conn.session.resp;
  if (args.length > 1) {
    // A long long as Redis's string2ll reads it: no leading zeros, no sign on 0, no overflow.
    const v = toInt64(args[1] as Buffer);
    if (v === null) return errorReply('ERR Protocol version is not an integer or out of range');
    if (v !== 2n && v !== 3n) return errorReply('NOPROTO unsupported protocol version');
    proto = v === 2n ? 2 : 3;
  }
  let name: Buffer | undefined;
  for (let i = 2; i < args.length; i++) {
    const more = args.length - i - 1;
    if (isWord(args[i], 'AUTH') && more >= 2) {
      const failed = authenticate(conn, args[i + 1] as Buffer, args[i + 2] as Buffer);
      if (failed) return failed;
      i += 2;
    } else if (isWord(args[i], 'SETNAME') && more >= 1) {
      name = args[++i] as Buffer;
      if (!validClientName(name)) return err(clientNameError());
    } else {
      return errorReply(`ERR Syntax error in HELLO option '${(args[i] as Buffer).toString()}'`);
    }
  }
  if (!conn.authenticated) {
    return errorReply(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the ' +
        'HELLO AUTH <user> <pass> option can be used to authenticate the client and ' +
        'select the RESP protocol version at the same time',
      401,
    );
  }
  if (name !== undefined) conn.session.name = name.length > 0 ? name : null;
  conn.session.resp = proto;
  return helloReply(conn);
};

const select: LocalHandler = (conn, args) => {
  if (args.length !== 2) return err(Errors.arity('select'));
  let db: number;
  try {
    db = intArg(args[1] as Buffer);
  } catch (e) {
    return err(e as CommandError);
  }
  if (db < 0 || db >= conn.server.broker.keyspace.databases) {
    return errorReply('ERR DB index is out of range');
  }
  conn.session.db = db;
  return OK;
};

const quit: LocalHandler = (conn) => {
  conn.quitAfterReplies();
  return OK;
};

/**
 * SHUTDOWN as Redis answers it: an error if it cannot stop, else no reply at all; the
 * connection closes (with every other) as the server stops.
 */
const shutdown: LocalHandler = (conn, args) => {
  const gate = conn.readOnly ? readOnlyGate(conn, args) : undefined;
  if (gate !== undefined) return gate;
  try {
    resolveRow(conn.dispatcher.table, args);
    beginShutdown(conn.dispatcher, args);
  } catch (e) {
    if (e instanceof CommandError) return err(e);
    throw e;
  }
  conn.quitAfterReplies();
  return null;
};

const reset: LocalHandler = (conn, args) => {
  if (args.length !== 1) return badArity(conn, 'reset');
  conn.multi = null;
  unwatchAll(conn);
  conn.server.broker.pubsub.removeAll(conn);
  conn.session.resp = 2;
  conn.session.db = 0;
  conn.session.name = null;
  conn.replyMode = 'on';
  conn.readOnly = false;
  if (conn.server.requiresAuth) conn.setAuthenticated(false);
  return simple('RESET');
};

const ping: LocalHandler = (conn, args) => {
  if (args.length > 2) return err(Errors.arity('ping'));
  if (conn.session.resp === 2 && conn.subscribed) {
    return arr([bulk('pong'), bulk(args[1] ?? Buffer.alloc(0))]);
  }
  return args.length === 2 ? bulk(args[1] as Buffer) : simple('PONG');
};

// ---- transactions -------------------------------------------------------------------------------

function queueInMulti(conn: Connection, args: Buffer[]): Local {
  const multi = conn.multi as NonNullable<Connection['multi']>;
  try {
    const row = resolveRow(conn.dispatcher.table, args);
    if (row.flags.includes('no_multi')) throw Errors.notInMulti();
  } catch (e) {
    multi.dirty = true;
    return err(e as CommandError);
  }
  multi.queued.push(args);
  return simple('QUEUED');
}

/**
 * A transaction command with the wrong number of arguments, as Redis's rejectCommand answers
 * it: inside MULTI the transaction is flagged (EXEC then aborts); a bad EXEC aborts at once.
 */
function badArity(conn: Connection, name: string): Reply {
  const error = Errors.arity(name);
  if (name !== 'exec') {
    if (conn.multi) conn.multi.dirty = true;
    return err(error);
  }
  conn.multi = null;
  unwatchAll(conn);
  const why = error.message.replace(/^ERR /, '');
  return errorReply(`EXECABORT Transaction discarded because of: ${why}`);
}

const multiCmd: LocalHandler = (conn, args) => {
  if (args.length !== 1) return badArity(conn, 'multi');
  if (conn.multi) return errorReply('ERR MULTI calls can not be nested');
  conn.multi = { queued: [], dirty: false };
  return OK;
};

const discard: LocalHandler = (conn, args) => {
  if (args.length !== 1) return badArity(conn, 'discard');
  if (!conn.multi) return errorReply('ERR DISCARD without MULTI');
  conn.multi = null;
  unwatchAll(conn);
  return OK;
};

const watch: LocalHandler = (conn, args) => {
  if (args.length < 2) return badArity(conn, 'watch');
  if (conn.multi) return errorReply('ERR WATCH inside MULTI is not allowed');
  const touches = conn.server.touches;
  for (const key of args.slice(1)) {
    const id = keyId(conn.session.db, key);
    if (conn.watched.has(id)) continue;
    const exists = conn.server.broker.keyspace.get(conn.session.db, key) !== undefined;
    conn.watched.set(id, touches.watch(id, exists));
  }
  return OK;
};

function unwatchAll(conn: Connection): void {
  for (const id of conn.watched.keys()) conn.server.touches.unwatch(id);
  conn.watched.clear();
}

const unwatch: LocalHandler = (conn, args) => {
  if (args.length !== 1) return err(Errors.arity('unwatch'));
  unwatchAll(conn);
  return OK;
};

/** True when a WATCHed key was written since WATCH (or the databases were flushed). */
function watchBroken(conn: Connection): boolean {
  for (const [id, seen] of conn.watched) if (conn.server.touches.version(id) !== seen) return true;
  return false;
}

const exec: LocalHandler = async (conn, args) => {
  if (args.length !== 1) return badArity(conn, 'exec');
  const multi = conn.multi;
  if (!multi) return errorReply('ERR EXEC without MULTI');
  conn.multi = null;
  if (multi.dirty) {
    unwatchAll(conn);
    return errorReply('EXECABORT Transaction discarded because of previous errors.');
  }
  // The WATCH check is made once no other client can write: after a running transaction,
  // SWAPDB or flush, not before it.
  const valid = () => {
    const broken = watchBroken(conn);
    unwatchAll(conn);
    return !broken;
  };
  const replies = await conn.server.execTransaction(conn, multi.queued, valid);
  return replies === null ? NIL_ARRAY : [arr(replies)];
};

// ---- pub/sub ------------------------------------------------------------------------------------

/** A message as Redis pushes it: an array in RESP2, a push frame in RESP3. */
/** The kinds' names, made once (replies are never changed once made). */
const KIND_REPLIES: Record<PubSubMessage['kind'], Reply> = {
  message: bulk('message'),
  pmessage: bulk('pmessage'),
  smessage: bulk('smessage'),
};

export function pushReply(msg: PubSubMessage): Reply {
  const v: Reply[] =
    msg.kind === 'pmessage'
      ? [KIND_REPLIES.pmessage, bulk(msg.pattern), bulk(msg.channel), bulk(msg.payload)]
      : [KIND_REPLIES[msg.kind], bulk(msg.channel), bulk(msg.payload)];
  return { t: 'push', v };
}

const push = (v: Reply[]): Reply => ({ t: 'push', v });

function subscribeFamily(kind: SubscriptionKind, on: boolean, verb: string): LocalHandler {
  return (conn, args) => {
    const pubsub = conn.server.broker.pubsub;
    if (on && args.length < 2) return err(Errors.arity(verb));
    const count = () => pubsub.countOf(conn, kind === 'shard' ? 'shard' : 'classic');
    const names = on || args.length > 1 ? args.slice(1) : pubsub.subscriptionsOf(conn, kind);
    if (names.length === 0) return [push([bulk(verb), NIL, int(count())])];
    return names.map((name) => {
      if (on) pubsub.subscribe(conn, kind, name);
      else pubsub.unsubscribe(conn, kind, name);
      return push([bulk(verb), bulk(name), int(count())]);
    });
  };
}

const LOCAL: Record<string, LocalHandler> = {
  auth,
  hello,
  select,
  quit,
  reset,
  ping,
  shutdown,
  client: clientCommand,
  multi: multiCmd,
  exec,
  discard,
  watch,
  unwatch,
  subscribe: subscribeFamily('channel', true, 'subscribe'),
  unsubscribe: subscribeFamily('channel', false, 'unsubscribe'),
  psubscribe: subscribeFamily('pattern', true, 'psubscribe'),
  punsubscribe: subscribeFamily('pattern', false, 'punsubscribe'),
  ssubscribe: subscribeFamily('shard', true, 'ssubscribe'),
  sunsubscribe: subscribeFamily('shard', false, 'sunsubscribe'),
};

/** A connection command queued in MULTI and run by EXEC; undefined when not one. */
export function localCommand(name: string): LocalHandler | undefined {
  return LOCAL[name];
}
