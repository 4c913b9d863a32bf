// Keyspace notifications (CONFIG SET notify-keyspace-events): after a write command succeeds,
// the events Redis 7.0 would fire for it are published on `__keyspace@<db>__:<key>` (payload:
// the event) and `__keyevent@<db>__:<event>` (payload: the key), filtered by the configured
// classes. Events are derived from the command, its reply and the keys before and after, in
// the order Redis fires them (a move: the push on the destination, then the pop on the
// source, then `del` if the source emptied).
import type { Broker } from '../broker/broker';
import type { Dispatcher, WriteDone } from './dispatch';
import type { NotedEvent } from './context';
import type { Reply } from './reply';
import { renamesOntoItself } from './generic';
import { popsNothing } from './lists';
import { KeyspaceEvents as K } from './keyspace-events';

type Event = NotedEvent;

const isNull = (r: Reply) => r.t === 'null' || r.t === 'nullarray';
const word = (b: Buffer | undefined) => (b ? b.toString('latin1').toLowerCase() : '');
const popEvent = (side: Buffer | undefined) => (word(side) === 'right' ? 'rpop' : 'lpop');
const pushEvent = (side: Buffer | undefined) => (word(side) === 'right' ? 'rpush' : 'lpush');

/** The key a blocking or multi-key pop took from: the first element of its reply. */
function replyKey(r: Reply): Buffer | null {
  if (r.t !== 'array') return null;
  const first = r.v[0];
  return first?.t === 'bulk' ? first.v : null;
}

function moveEvents(src: Buffer, dst: Buffer, from: Buffer | undefined, to: Buffer | undefined) {
  return [
    [K.list, pushEvent(to), dst],
    [K.list, popEvent(from), src],
  ] as Event[];
}

function listEvents(cmd: string, d: WriteDone): Event[] | null {
  const a = d.args;
  const k1 = a[1] as Buffer;
  const r = d.reply;
  const counted = r.t === 'int' && Number(r.v) > 0;
  switch (cmd) {
    case 'lpush':
    case 'lpushx':
      return counted ? [[K.list, 'lpush', k1]] : [];
    case 'rpush':
    case 'rpushx':
      return counted ? [[K.list, 'rpush', k1]] : [];
    case 'linsert':
      return counted ? [[K.list, 'linsert', k1]] : [];
    case 'lset':
      return [[K.list, 'lset', k1]];
    case 'lrem':
      return counted ? [[K.list, 'lrem', k1]] : [];
    case 'ltrim':
      return d.before?.[0] ? [[K.list, 'ltrim', k1]] : [];
    case 'lpop':
    case 'rpop':
      return isNull(r) || popsNothing(cmd, r) ? [] : [[K.list, cmd, k1]];
    case 'blpop':
    case 'brpop': {
      const key = replyKey(r);
      return key ? [[K.list, cmd.slice(1), key]] : [];
    }
    case 'lmpop':
    case 'blmpop': {
      const key = replyKey(r);
      const numkeysAt = cmd === 'lmpop' ? 1 : 2;
      const side = a[numkeysAt + Number(word(a[numkeysAt])) + 1];
      return key ? [[K.list, popEvent(side), key]] : [];
    }
    case 'lmove':
    case 'blmove':
      return isNull(r) ? [] : moveEvents(k1, a[2] as Buffer, a[3], a[4]);
    case 'rpoplpush':
    case 'brpoplpush':
      return isNull(r) ? [] : moveEvents(k1, a[2] as Buffer, Buffer.from('right'), undefined);
    default:
      return null;
  }
}

const XGROUP_EVENTS: Record<string, string> = {
  'xgroup|create': 'xgroup-create',
  'xgroup|setid': 'xgroup-setid',
  'xgroup|destroy': 'xgroup-destroy',
  'xgroup|createconsumer': 'xgroup-createconsumer',
};

function streamEvents(cmd: string, d: WriteDone): Event[] | null {
  const r = d.reply;
  const counted = r.t === 'int' && Number(r.v) > 0;
  switch (cmd) {
    case 'xadd':
      return isNull(r) ? [] : [[K.stream, 'xadd', d.args[1] as Buffer]];
    case 'xdel':
      return counted ? [[K.stream, 'xdel', d.args[1] as Buffer]] : [];
    case 'xtrim':
      return counted ? [[K.stream, 'xtrim', d.args[1] as Buffer]] : [];
    case 'xsetid':
      return [[K.stream, 'xsetid', d.args[1] as Buffer]];
    default: {
      const event = XGROUP_EVENTS[cmd];
      if (!event) return null;
      // DELCONSUMER notes its event itself, only when the consumer existed (its reply is the
      // pending count either way).
      const changed = r.t !== 'int' || Number(r.v) > 0;
      return changed ? [[K.stream, event, d.args[2] as Buffer]] : [];
    }
  }
}

function genericEvents(cmd: string, d: WriteDone): Event[] {
  switch (cmd) {
    case 'del':
    case 'unlink':
      return d.args
        .slice(1)
        .filter((_, i) => d.before?.[i])
        .map((k) => [K.generic, 'del', k] as Event);
    case 'rename':
    case 'renamenx':
      if (d.reply.t === 'int' && Number(d.reply.v) === 0) return [];
      if (renamesOntoItself(d.args)) return [];
      return [
        [K.generic, 'rename_from', d.args[1] as Buffer],
        [K.generic, 'rename_to', d.args[2] as Buffer],
      ];
    default:
      return [];
  }
}

/** Pops and trims that emptied a list also fire a generic `del` on it. */
function emptiedEvents(broker: Broker, d: WriteDone, events: Event[]): Event[] {
  const out: Event[] = [];
  for (const [cls, event, key] of events) {
    if (cls !== K.list || event.endsWith('push') || event === 'linsert' || event === 'lset')
      continue;
    if (!broker.keyspace.get(d.db, key)) out.push([K.generic, 'del', key]);
  }
  return out;
}

/** Commands that can make a key: the argument it is at, and its index among the key positions. */
const MAKES_KEY: Record<string, { readonly arg: number; readonly pos: number }> = {
  lpush: { arg: 1, pos: 0 },
  rpush: { arg: 1, pos: 0 },
  xadd: { arg: 1, pos: 0 },
  'xgroup|create': { arg: 2, pos: 0 },
  lmove: { arg: 2, pos: 1 },
  blmove: { arg: 2, pos: 1 },
  rpoplpush: { arg: 2, pos: 1 },
  brpoplpush: { arg: 2, pos: 1 },
};

/**
 * `new` (class n), fired first, as Redis's dbAdd does: for the key a push, an XADD, XGROUP
 * CREATE MKSTREAM or a move made, and for RENAME's destination (which it always adds anew).
 */
function newKeyEvents(cmd: string, d: WriteDone): Event[] {
  if (d.reply.t === 'error' || isNull(d.reply)) return [];
  if (cmd === 'rename' || cmd === 'renamenx') {
    if (d.reply.t === 'int' && Number(d.reply.v) === 0) return [];
    return renamesOntoItself(d.args) ? [] : [[K.newKey, 'new', d.args[2] as Buffer]];
  }
  const makes = MAKES_KEY[cmd];
  if (!makes || !d.before || d.before[makes.pos] !== undefined) return [];
  return [[K.newKey, 'new', d.args[makes.arg] as Buffer]];
}

/** Commands that look their keys up for reading, as Redis's lookupKeyRead (class m). */
const KEY_MISS_READS = new Set([
  'exists',
  'type',
  'llen',
  'lrange',
  'lindex',
  'lpos',
  'xlen',
  'xrange',
  'xrevrange',
  'xinfo|stream',
  'xinfo|groups',
  'xinfo|consumers',
  'xpending',
  'xack',
  'xclaim',
  'xautoclaim',
  'xread',
  'xreadgroup',
]);

/** The errors a command answers because its key is missing (the lookup was made). */
const missErrors = (text: string) => text.startsWith('NOGROUP') || text === 'ERR no such key';

/**
 * `keymiss` (class m) for each missing key a command read, as Redis's lookupKeyRead fires it:
 * not when the arguments failed before the lookup. XREAD looks every key up twice (checking its
 * ID, then reading); XREADGROUP stops at the first missing key (NOGROUP).
 */
function keyMissEvents(cmd: string, keys: readonly Buffer[], missing: (k: Buffer) => boolean) {
  const missed = keys.filter(missing);
  if (cmd === 'xreadgroup') missed.splice(1);
  const events = missed.map((k) => [K.keyMiss, 'keymiss', k] as Event);
  return cmd === 'xread' ? [...events, ...events] : events;
}

const POPS = new Set(['lpop', 'rpop', 'del']);

/**
 * The events Redis 7.0 fires after the command has added its reply (pushGenericCommand,
 * xaddCommand... reply first; DEL, LREM, XDEL, XTRIM, RENAME... notify first): the client that
 * ran the command and subscribed gets these pushes after its reply.
 */
const AFTER_REPLY: Record<string, ReadonlySet<string>> = {
  lpush: new Set(['lpush']),
  rpush: new Set(['rpush']),
  lpushx: new Set(['lpush']),
  rpushx: new Set(['rpush']),
  lset: new Set(['lset']),
  ...Object.fromEntries(
    ['lpop', 'rpop', 'lmpop', 'blpop', 'brpop', 'blmpop', 'lmove', 'blmove'].map((c) => [c, POPS]),
  ),
  rpoplpush: POPS,
  brpoplpush: POPS,
  xadd: new Set(['xadd', 'xtrim']),
  'xgroup|create': new Set(['xgroup-create']),
  'xgroup|setid': new Set(['xgroup-setid']),
  'xgroup|destroy': new Set(['xgroup-destroy']),
  xsetid: new Set(['xsetid']),
};

/** Publishes `events`; `after` says which come after the reply of session `origin`'s command. */
function publish(
  broker: Broker,
  flags: number,
  db: number,
  events: readonly Event[],
  after?: { readonly events: ReadonlySet<string>; readonly origin: number },
): void {
  for (const [cls, event, key] of events) {
    if (!(flags & cls)) continue;
    const origin = after?.events.has(event) ? after.origin : undefined;
    if (flags & K.keyspace) {
      const channel = Buffer.concat([Buffer.from(`__keyspace@${db}__:`), key]);
      broker.pubsub.publish(channel, Buffer.from(event), origin);
    }
    if (flags & K.keyevent) {
      broker.pubsub.publish(Buffer.from(`__keyevent@${db}__:${event}`), key, origin);
    }
  }
}

/** Publishes keyspace notifications for `dispatcher`'s write commands while they are on. */
export function installKeyspaceNotifications(dispatcher: Dispatcher): void {
  const broker = dispatcher.broker;
  dispatcher.writeObservers.push((cmd, _keys, done) => {
    const flags = dispatcher.config.keyspaceEvents;
    if (flags === 0 || !(flags & (K.keyspace | K.keyevent))) return;
    const events = listEvents(cmd, done) ?? streamEvents(cmd, done) ?? genericEvents(cmd, done);
    const all = [...newKeyEvents(cmd, done), ...events, ...(done.noted ?? [])];
    if (all.length === 0) return;
    const late = AFTER_REPLY[cmd];
    const after = late ? { events: late, origin: done.sessionId } : undefined;
    publish(broker, flags, done.db, [...all, ...emptiedEvents(broker, done, events)], after);
  });
  dispatcher.resultObservers.push((cmd, args, positions, db, result) => {
    const flags = dispatcher.config.keyspaceEvents;
    if (!(flags & K.keyMiss) || !(flags & (K.keyspace | K.keyevent))) return;
    if (!KEY_MISS_READS.has(cmd) || (result.t === 'error' && !missErrors(result.v))) return;
    const keys = positions.map((i) => args[i] as Buffer);
    const events = keyMissEvents(cmd, keys, (k) => broker.keyspace.get(db, k) === undefined);
    if (events.length > 0) publish(broker, flags, db, events);
  });
}
