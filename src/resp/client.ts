// CLIENT: ID, SETNAME, GETNAME, INFO, LIST, KILL, REPLY, UNBLOCK, NO-EVICT, SETINFO, HELP, as
// Redis 7.0 answers them. Client lines carry the fields clients and tools parse (id, addr,
// laddr, fd, name, age, idle, flags, db, sub, psub, ssub, multi, cmd, resp...).
import {
  bulk,
  errorReply,
  int,
  NIL,
  OK,
  simple,
  arr,
  verbatim,
  type Reply,
} from '../commands/reply';
import { Errors, type CommandError } from '../errors';
import { isWord, toInt64 } from '../commands/args';
import type { RespConnection as Connection } from './types';

type Local = Reply | Reply[] | null;

/** Redis refuses names with spaces, newlines or anything outside '!'..'~'. */
export function validClientName(name: Buffer): boolean {
  for (const c of name) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

export const clientNameError = () =>
  Errors.other('ERR Client names cannot contain spaces, newlines or special characters.');
const err = (e: CommandError): Reply => errorReply(e.message, e.status);

function addr(host: string | undefined, port: number | undefined): string {
  const h = host?.startsWith('::ffff:') ? host.slice(7) : (host ?? '?');
  return `${h}:${port ?? 0}`;
}

/** One `CLIENT LIST` / `CLIENT INFO` line for a connection. */
export function clientLine(c: Connection): string {
  const now = Date.now();
  const pubsub = c.server.broker.pubsub;
  const flags = `${c.multi ? 'x' : ''}${c.blockedNow ? 'b' : ''}${c.subscribed ? 'P' : ''}` || 'N';
  const fields: [string, string | number][] = [
    ['id', c.id],
    ['addr', addr(c.socket.remoteAddress, c.socket.remotePort)],
    ['laddr', addr(c.socket.localAddress, c.socket.localPort)],
    ['fd', 0],
    ['name', c.session.name?.toString('latin1') ?? ''],
    ['age', Math.floor((now - c.createdMs) / 1000)],
    ['idle', Math.floor((now - c.lastCommandMs) / 1000)],
    ['flags', flags],
    ['db', c.session.db],
    ['sub', pubsub.countOf(c, 'channel')],
    ['psub', pubsub.countOf(c, 'pattern')],
    ['ssub', pubsub.countOf(c, 'shard')],
    ['multi', c.multi ? c.multi.queued.length : -1],
    ['qbuf', 0],
    ['obl', 0],
    ['oll', 0],
    ['omem', c.socket.writableLength],
    ['events', 'r'],
    ['cmd', c.lastCommand],
    ['user', 'default'],
    ['redir', -1],
    ['resp', c.session.resp],
  ];
  return fields.map(([k, v]) => `${k}=${v}`).join(' ');
}

/** Redis's client types; this server has normal and pub/sub clients only. */
const CLIENT_TYPES = new Set(['normal', 'master', 'replica', 'slave', 'pubsub']);

/** A TYPE filter's test, or the error for an unknown type. */
function typeFilter(value: string): ((c: Connection) => boolean) | Reply {
  const type = value.toLowerCase();
  if (!CLIENT_TYPES.has(type)) return errorReply(`ERR Unknown client type '${value}'`);
  if (type === 'pubsub') return (c) => c.subscribed;
  if (type === 'normal') return (c) => !c.subscribed;
  return () => false;
}

/** Ends `victim`: at once, or, when it is the caller, once its replies are sent (as Redis). */
function end(conn: Connection, victim: Connection): void {
  if (victim === conn) conn.quitAfterReplies();
  else victim.close();
}

type Filter = (c: Connection) => boolean;

/** CLIENT KILL's filters from args[2..], checked as Redis does; a reply when one is bad. */
function killFilters(args: Buffer[]): { filters: Filter[]; skipme: boolean } | Reply {
  let skipme = true;
  const filters: Filter[] = [];
  for (let i = 2; i < args.length; i += 2) {
    const value = args[i + 1]?.toString('latin1');
    if (value === undefined) return err(Errors.syntax());
    if (isWord(args[i], 'ID')) {
      const id = toInt64(args[i + 1] as Buffer);
      if (id === null || id <= 0n) return errorReply('ERR client-id should be greater than 0');
      filters.push((c) => BigInt(c.id) === id);
    } else if (isWord(args[i], 'ADDR'))
      filters.push((c) => addr(c.socket.remoteAddress, c.socket.remotePort) === value);
    else if (isWord(args[i], 'LADDR'))
      filters.push((c) => addr(c.socket.localAddress, c.socket.localPort) === value);
    else if (isWord(args[i], 'SKIPME')) {
      const yes = value.toLowerCase();
      if (yes !== 'yes' && yes !== 'no') return err(Errors.syntax());
      skipme = yes === 'yes';
    } else if (isWord(args[i], 'USER')) {
      if (value !== 'default') return errorReply(`ERR No such user '${value}'`);
    } else if (isWord(args[i], 'TYPE')) {
      const f = typeFilter(value);
      if (typeof f !== 'function') return f;
      filters.push(f);
    } else return err(Errors.syntax());
  }
  return { filters, skipme };
}

function kill(conn: Connection, args: Buffer[]): Local {
  const all = conn.server.connections();
  if (args.length === 3) {
    // The old form: CLIENT KILL addr:port.
    const target = args[2]?.toString('latin1');
    const victim = all.find((c) => addr(c.socket.remoteAddress, c.socket.remotePort) === target);
    if (!victim) return errorReply('ERR No such client');
    end(conn, victim);
    return OK;
  }
  const parsed = killFilters(args);
  if (!('filters' in parsed)) return parsed;
  let killed = 0;
  for (const c of all) {
    if (parsed.skipme && c === conn) continue;
    if (parsed.filters.every((f) => f(c))) {
      end(conn, c);
      killed++;
    }
  }
  return int(killed);
}

/** CLIENT LIST [TYPE type | ID id [id ...]]. */
function list(conn: Connection, args: Buffer[]): Local {
  let chosen = conn.server.connections();
  if (args.length > 2) {
    if (args.length === 4 && isWord(args[2], 'TYPE')) {
      const f = typeFilter((args[3] as Buffer).toString('latin1'));
      if (typeof f !== 'function') return f;
      chosen = chosen.filter(f);
    } else if (args.length >= 4 && isWord(args[2], 'ID')) {
      const ids = new Set<bigint>();
      for (const a of args.slice(3)) {
        const id = toInt64(a);
        if (id === null || id <= 0n) return errorReply('ERR Invalid client ID');
        ids.add(id);
      }
      chosen = chosen.filter((c) => ids.has(BigInt(c.id)));
    } else return err(Errors.syntax());
  }
  return verbatim(chosen.map((c) => `${clientLine(c)}\n`).join(''));
}

function unblock(conn: Connection, args: Buffer[]): Local {
  const id = Number(args[2]?.toString('latin1'));
  if (!Number.isInteger(id)) return err(Errors.notInteger());
  const how = args[3];
  if (args.length > 4 || (how && !isWord(how, 'TIMEOUT') && !isWord(how, 'ERROR'))) {
    return errorReply('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  const target = conn.server.connections().find((c) => c.id === id);
  return int(target?.unblock(how !== undefined && isWord(how, 'ERROR')) ? 1 : 0);
}

function reply(conn: Connection, args: Buffer[]): Local {
  const mode = args[2]?.toString('latin1').toLowerCase();
  if (mode !== 'on' && mode !== 'off' && mode !== 'skip') return err(Errors.syntax());
  // SKIP while OFF changes nothing: the replies stay off.
  if (mode === 'skip' && conn.replyMode === 'off') return null;
  conn.replyMode = mode;
  return mode === 'on' ? OK : null;
}

const HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.',
  'LIST [options ...]',
  '    Return information about client connections.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect the current client connection from eviction.',
  'HELP',
  '    Print this help.',
];

/** Redis 7.0's arity of each CLIENT subcommand (negative: at least that many arguments). */
const ARITY: Record<string, number> = {
  id: 2,
  getname: 2,
  setname: 3,
  info: 2,
  list: -2,
  kill: -3,
  unblock: -3,
  reply: 3,
  'no-evict': 3,
  'no-touch': 3,
  setinfo: 4,
  help: 2,
};

export function clientCommand(conn: Connection, args: Buffer[]): Local {
  if (args.length < 2) return err(Errors.arity('client'));
  const sub = (args[1] as Buffer).toString('latin1').toLowerCase();
  const arity = ARITY[sub];
  if (arity === undefined) return err(Errors.unknownSubcommand(args[1] as Buffer, 'client'));
  const n = args.length;
  if (arity > 0 ? n !== arity : n < -arity) return err(Errors.arity(`client|${sub}`));
  switch (sub) {
    case 'id':
      return int(conn.id);
    case 'getname':
      return conn.session.name ? bulk(conn.session.name) : NIL;
    case 'setname': {
      const name = args[2] as Buffer;
      if (!validClientName(name)) return err(clientNameError());
      conn.session.name = name.length > 0 ? name : null;
      return OK;
    }
    case 'info':
      return verbatim(`${clientLine(conn)}\n`);
    case 'list':
      return list(conn, args);
    case 'kill':
      return kill(conn, args);
    case 'unblock':
      return unblock(conn, args);
    case 'reply':
      return reply(conn, args);
    case 'no-evict':
    case 'no-touch': {
      const on = (args[2] as Buffer).toString('latin1').toLowerCase();
      return on === 'on' || on === 'off' ? OK : err(Errors.syntax());
    }
    case 'setinfo':
      return OK;
    default:
      return arr(HELP.map((l) => simple(l)));
  }
}
