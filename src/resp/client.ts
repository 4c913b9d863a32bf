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
import { isWord } from '../commands/args';
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

function kill(conn: Connection, args: Buffer[]): Local {
  const all = conn.server.connections();
  if (args.length === 3) {
    // The old form: CLIENT KILL addr:port.
    const target = args[2]?.toString('latin1');
    const victim = all.find((c) => addr(c.socket.remoteAddress, c.socket.remotePort) === target);
    if (!victim) return errorReply('ERR No such client');
    victim.close();
    return OK;
  }
  let killed = 0;
  let skipme = true;
  const filters: ((c: Connection) => boolean)[] = [];
  for (let i = 2; i < args.length; i += 2) {
    const value = args[i + 1]?.toString('latin1');
    if (value === undefined) return err(Errors.syntax());
    if (isWord(args[i], 'ID')) filters.push((c) => String(c.id) === value);
    else if (isWord(args[i], 'ADDR'))
      filters.push((c) => addr(c.socket.remoteAddress, c.socket.remotePort) === value);
    else if (isWord(args[i], 'LADDR'))
      filters.push((c) => addr(c.socket.localAddress, c.socket.localPort) === value);
    else if (isWord(args[i], 'SKIPME')) skipme = value.toLowerCase() !== 'no';
    else if (isWord(args[i], 'USER')) filters.push(() => value === 'default');
    else if (isWord(args[i], 'TYPE')) filters.push((c) => (value === 'pubsub') === c.subscribed);
    else return err(Errors.syntax());
  }
  for (const c of all) {
    if (skipme && c === conn) continue;
    if (filters.every((f) => f(c))) {
      c.close();
      killed++;
    }
  }
  return int(killed);
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
  if (args.length !== 3 || (mode !== 'on' && mode !== 'off' && mode !== 'skip')) {
    return err(Errors.syntax());
  }
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

export function clientCommand(conn: Connection, args: Buffer[]): Local {
  if (args.length < 2) return err(Errors.arity('client'));
  const sub = (args[1] as Buffer).toString('latin1').toLowerCase();
  const n = args.length;
  const wrong = () => err(Errors.subcommandSyntax(args[1] as Buffer, 'client'));
  switch (sub) {
    case 'id':
      return n === 2 ? int(conn.id) : wrong();
    case 'getname':
      return n === 2 ? (conn.session.name ? bulk(conn.session.name) : NIL) : wrong();
    case 'setname': {
      if (n !== 3) return wrong();
      const name = args[2] as Buffer;
      if (!validClientName(name)) return err(clientNameError());
      conn.session.name = name.length > 0 ? name : null;
      return OK;
    }
    case 'info':
      return n === 2 ? verbatim(`${clientLine(conn)}\n`) : wrong();
    case 'list':
      return verbatim(
        conn.server
          .connections()
          .map((c) => `${clientLine(c)}\n`)
          .join(''),
      );
    case 'kill':
      return n >= 3 ? kill(conn, args) : wrong();
    case 'unblock':
      return n >= 3 ? unblock(conn, args) : wrong();
    case 'reply':
      return reply(conn, args);
    case 'no-evict':
    case 'no-touch':
      return n === 3 ? OK : wrong();
    case 'setinfo':
      return n === 4 ? OK : wrong();
    case 'help':
      return arr(HELP.map((l) => simple(l)));
    default:
      return err(Errors.unknownSubcommand(args[1] as Buffer, 'client'));
  }
}
