// The list commands through the real command table and dispatcher, as redis-server 7.0 replies:
// pushes and pops at both ends (with COUNT), reads by index and range, LSET, LINSERT, LREM,
// LTRIM, LPOS, moves (LMOVE, RPOPLPUSH) and LMPOP, WRONGTYPE against streams, the keyspace
// commands on lists, and the blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): who is
// served, in which order, before whom, with which timeout reply. Then the reliable and the
// circular queue as scenarios, durability under fsync 'always', and restarts on the same data
// directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeIo, type Io } from '../../storage/io';
import type { Session } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { keyPositions } from '../../src/commands/table';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

/** A reply as plain data: strings for bulk and simple, null for nil, NIL_ARRAY for `*-1`. */
type Plain = string | number | null | { err: string } | Plain[];
const NIL_ARRAY = '<nil-array>';

function plain(r: Reply): Plain {
  switch (r.t) {
    case 'bulk':
      return r.v.toString('latin1');
    case 'simple':
      return r.v;
    case 'int':
      return Number(r.v);
    case 'error':
      return { err: r.v };
    case 'null':
      return null;
    case 'nullarray':
      return NIL_ARRAY;
    case 'double':
      return r.v;
    case 'map':
      return r.v.flatMap(([k, v]) => [plain(k), plain(v)]);
    case 'array':
    case 'set':
    case 'push':
      return r.v.map(plain);
  }
}

const err = (text: string) => ({ err: text });
const arity = (name: string) => err(`ERR wrong number of arguments for '${name}' command`);
const WRONGTYPE = err('WRONGTYPE Operation against a key holding the wrong kind of value');
const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');
const MUST_BE_POSITIVE = err('ERR value is out of range, must be positive');
const TIMEOUT_NOT_FLOAT = err('ERR timeout is not a float or out of range');
const TIMEOUT_NEGATIVE = err('ERR timeout is negative');
const NUMKEYS = err('ERR numkeys should be greater than 0');
const COUNT_POSITIVE = err('ERR count should be greater than 0');
const RANK_ZERO = err(
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use " +
    'negative to start from the end of the list',
);

let s: InProcessSluice;
let dataDir: string;

async function call(...args: string[]): Promise<Plain> {
  return plain(await s.call(...args));
}

async function callIn(session: Session, ...args: string[]): Promise<Plain> {
  return plain(await s.callIn(session, ...args));
}

const range = (key: string) => call('LRANGE', key, '0', '-1');

/** Resolves true when `p` settles within `ms` milliseconds. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

/** `p`'s value, or PENDING when it has not settled within `ms` (a hang fails fast). */
const PENDING = '<pending>';
function within<T>(p: Promise<T>, ms = 500): Promise<T | typeof PENDING> {
  return Promise.race([p, new Promise<typeof PENDING>((r) => setTimeout(() => r(PENDING), ms))]);
}

/** Waits (a few event-loop turns, no timers) until `n` clients are blocked. */
async function untilBlocked(n: number): Promise<void> {
  for (let i = 0; i < 2000 && s.broker.blocking.blockedCount !== n; i++) {
    await new Promise((r) => setImmediate(r));
  }
  expect(s.broker.blocking.blockedCount).toBe(n);
}

interface Waiter {
  readonly session: Session;
  readonly reply: Promise<Plain>;
}

/** Runs a blocking command in a new session (or `session`) and returns once it is blocked. */
async function blocked(args: string[], session: Session = s.session()): Promise<Waiter> {
  const before = s.broker.blocking.blockedCount;
  const reply = callIn(session, ...args);
  await untilBlocked(before + 1);
  return { session, reply };
}

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-lists-'));
  s = await openSluice({ dataDir });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await s.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('LPUSH and RPUSH', () => {
  it('LPUSH prepends the values one after the other, so several end up reversed', async () => {
    expect(await call('LPUSH', 'l', 'a', 'b', 'c')).toBe(3);
    expect(await range('l')).toEqual(['c', 'b', 'a']);
    expect(await call('LPUSH', 'l', 'd')).toBe(4);
    expect(await range('l')).toEqual(['d', 'c', 'b', 'a']);
  });

  it('RPUSH appends the values in order and replies with the new length', async () => {
    expect(await call('RPUSH', 'l', 'a', 'b', 'c')).toBe(3);
    expect(await call('RPUSH', 'l', 'd', 'e')).toBe(5);
    expect(await range('l')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('create the key, keep empty and repeated values', async () => {
    expect(await call('EXISTS', 'l')).toBe(0);
    expect(await call('RPUSH', 'l', '', 'x', 'x', '')).toBe(4);
    expect(await call('TYPE', 'l')).toBe('list');
    expect(await range('l')).toEqual(['', 'x', 'x', '']);
  });

  it('keep values binary-safe', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xc3, 0x28]);
    await s.call('RPUSH', 'l', bytes, Buffer.from('é'));
    const reply = await s.call('LRANGE', 'l', '0', '-1');
    // Compared by what the replies hold: list values are Latin1Bulk replies (a bulk whose
    // Buffer is made when read).
    expect(reply.t).toBe('array');
    const items = reply.t === 'array' ? reply.v : [];
    expect(items.map((r) => r.t)).toEqual(['bulk', 'bulk']);
    expect(items.map((r) => (r.t === 'bulk' ? r.v : null))).toEqual([bytes, Buffer.from('é')]);
  });

  it('answer an arity error without a value', async () => {
    expect(await call('LPUSH', 'l')).toEqual(arity('lpush'));
    expect(await call('RPUSH', 'l')).toEqual(arity('rpush'));
    expect(await call('EXISTS', 'l')).toBe(0);
  });
});

describe('LPUSHX and RPUSHX', () => {
  it('push onto an existing list in the same order as LPUSH and RPUSH', async () => {
    await call('RPUSH', 'l', 'm');
    expect(await call('LPUSHX', 'l', 'b', 'a')).toBe(3);
    expect(await call('RPUSHX', 'l', 'y', 'z')).toBe(5);
    expect(await range('l')).toEqual(['a', 'b', 'm', 'y', 'z']);
  });

  it('reply 0 for a missing key and create nothing', async () => {
    expect(await call('LPUSHX', 'l', 'a')).toBe(0);
    expect(await call('RPUSHX', 'l', 'a', 'b')).toBe(0);
    expect(await call('EXISTS', 'l')).toBe(0);
    expect(await call('LPUSHX', 'l')).toEqual(arity('lpushx'));
    expect(await call('RPUSHX', 'l')).toEqual(arity('rpushx'));
  });
});

describe('LPOP and RPOP', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e');
  });

  it('pop one value as a bulk string from either end', async () => {
    expect(await call('LPOP', 'l')).toBe('a');
    expect(await call('RPOP', 'l')).toBe('e');
    expect(await range('l')).toEqual(['b', 'c', 'd']);
  });

  it('with COUNT pop up to COUNT values, in pop order, as an array', async () => {
    expect(await call('LPOP', 'l', '2')).toEqual(['a', 'b']);
    expect(await call('RPOP', 'l', '2')).toEqual(['e', 'd']);
    expect(await call('LPOP', 'l', '1')).toEqual(['c']);
  });

  it('COUNT beyond the length pops everything and the key disappears', async () => {
    expect(await call('RPOP', 'l', '100')).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(await call('EXISTS', 'l')).toBe(0);
    await call('RPUSH', 'm', 'x');
    expect(await call('LPOP', 'm', '9223372036854775807')).toEqual(['x']);
  });

  it('COUNT 0 replies an empty array and takes nothing', async () => {
    expect(await call('LPOP', 'l', '0')).toEqual([]);
    expect(await call('RPOP', 'l', '0')).toEqual([]);
    expect(await call('LLEN', 'l')).toBe(5);
  });

  it('a missing key replies nil without COUNT and a null array with any COUNT', async () => {
    expect(await call('LPOP', 'nokey')).toBeNull();
    expect(await call('RPOP', 'nokey')).toBeNull();
    expect(await call('LPOP', 'nokey', '0')).toBe(NIL_ARRAY);
    expect(await call('RPOP', 'nokey', '3')).toBe(NIL_ARRAY);
  });

  it('a negative COUNT is out of range, must be positive, even on a missing key', async () => {
    expect(await call('LPOP', 'l', '-1')).toEqual(MUST_BE_POSITIVE);
    expect(await call('RPOP', 'nokey', '-1')).toEqual(MUST_BE_POSITIVE);
    expect(await call('LLEN', 'l')).toBe(5);
  });

  it('a COUNT that is not an integer is out of range, must be positive', async () => {
    // redis-server 7.0: getPositiveLongFromObjectOrReply uses that text for parse errors too.
    expect(await call('LPOP', 'l', 'abc')).toEqual(MUST_BE_POSITIVE);
    expect(await call('RPOP', 'nokey', '1.5')).toEqual(MUST_BE_POSITIVE);
    expect(await call('LPOP', 'l', '99999999999999999999')).toEqual(MUST_BE_POSITIVE);
  });

  it('more than one COUNT argument is an arity error', async () => {
    expect(await call('LPOP', 'l', '1', '2')).toEqual(arity('lpop'));
    expect(await call('RPOP', 'l', '1', '2')).toEqual(arity('rpop'));
    expect(await call('LPOP')).toEqual(arity('lpop'));
  });
});

describe('LLEN', () => {
  it('counts the values, 0 for a missing key', async () => {
    expect(await call('LLEN', 'l')).toBe(0);
    await call('RPUSH', 'l', 'a', 'b', 'c');
    expect(await call('LLEN', 'l')).toBe(3);
    await call('LPOP', 'l');
    expect(await call('LLEN', 'l')).toBe(2);
    expect(await call('LLEN')).toEqual(arity('llen'));
    expect(await call('LLEN', 'a', 'b')).toEqual(arity('llen'));
  });
});

describe('LRANGE', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e');
  });

  it('reads inclusive ranges, negative indexes counting from the tail', async () => {
    expect(await call('LRANGE', 'l', '0', '0')).toEqual(['a']);
    expect(await call('LRANGE', 'l', '1', '3')).toEqual(['b', 'c', 'd']);
    expect(await call('LRANGE', 'l', '-2', '-1')).toEqual(['d', 'e']);
    expect(await call('LRANGE', 'l', '0', '-1')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('clamps indexes outside the list', async () => {
    expect(await call('LRANGE', 'l', '-100', '100')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await call('LRANGE', 'l', '3', '100')).toEqual(['d', 'e']);
    const all = await call('LRANGE', 'l', '-9223372036854775808', '9223372036854775807');
    expect(all).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('replies an empty array for empty ranges and a missing key', async () => {
    expect(await call('LRANGE', 'l', '3', '2')).toEqual([]);
    expect(await call('LRANGE', 'l', '5', '10')).toEqual([]);
    expect(await call('LRANGE', 'l', '-1', '-2')).toEqual([]);
    expect(await call('LRANGE', 'l', '0', '-6')).toEqual([]);
    expect(await call('LRANGE', 'nokey', '0', '-1')).toEqual([]);
  });

  it('answers a non-integer index with an error, even for a missing key', async () => {
    expect(await call('LRANGE', 'l', 'x', '1')).toEqual(NOT_INT);
    expect(await call('LRANGE', 'l', '0', '1.0')).toEqual(NOT_INT);
    expect(await call('LRANGE', 'nokey', 'x', '1')).toEqual(NOT_INT);
    expect(await call('LRANGE', 'l', '0')).toEqual(arity('lrange'));
  });
});

describe('LINDEX', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c');
  });

  it('reads by index, negative from the tail', async () => {
    expect(await call('LINDEX', 'l', '0')).toBe('a');
    expect(await call('LINDEX', 'l', '2')).toBe('c');
    expect(await call('LINDEX', 'l', '-1')).toBe('c');
    expect(await call('LINDEX', 'l', '-3')).toBe('a');
  });

  it('replies nil outside the list and for a missing key', async () => {
    expect(await call('LINDEX', 'l', '3')).toBeNull();
    expect(await call('LINDEX', 'l', '-4')).toBeNull();
    expect(await call('LINDEX', 'l', '9223372036854775807')).toBeNull();
    expect(await call('LINDEX', 'l', '-9223372036854775808')).toBeNull();
    expect(await call('LINDEX', 'nokey', '0')).toBeNull();
  });

  it('answers a non-integer index with an error, but a missing key with nil first', async () => {
    expect(await call('LINDEX', 'l', 'x')).toEqual(NOT_INT);
    expect(await call('LINDEX', 'l', '9223372036854775808')).toEqual(NOT_INT);
    expect(await call('LINDEX', 'nokey', 'x')).toBeNull();
  });
});

describe('LSET', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c');
  });

  it('replaces the value at an index, negative from the tail', async () => {
    expect(await call('LSET', 'l', '0', 'A')).toBe('OK');
    expect(await call('LSET', 'l', '-1', 'C')).toBe('OK');
    expect(await range('l')).toEqual(['A', 'b', 'C']);
  });

  it('answers an index outside the list with ERR index out of range', async () => {
    expect(await call('LSET', 'l', '3', 'x')).toEqual(err('ERR index out of range'));
    expect(await call('LSET', 'l', '-4', 'x')).toEqual(err('ERR index out of range'));
    expect(await call('LSET', 'l', '-9223372036854775808', 'x')).toEqual(
      err('ERR index out of range'),
    );
    expect(await range('l')).toEqual(['a', 'b', 'c']);
  });

  it('answers a missing key with ERR no such key, before looking at the index', async () => {
    expect(await call('LSET', 'nokey', '0', 'x')).toEqual(err('ERR no such key'));
    expect(await call('LSET', 'nokey', 'x', 'x')).toEqual(err('ERR no such key'));
    expect(await call('LSET', 'l', 'x', 'x')).toEqual(NOT_INT);
    expect(await call('EXISTS', 'nokey')).toBe(0);
  });
});

describe('LINSERT', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c', 'b');
  });

  it('inserts before or after the first pivot from the head and replies the length', async () => {
    expect(await call('LINSERT', 'l', 'BEFORE', 'b', 'x')).toBe(5);
    expect(await call('LINSERT', 'l', 'after', 'b', 'y')).toBe(6);
    expect(await range('l')).toEqual(['a', 'x', 'b', 'y', 'c', 'b']);
  });

  it('inserts at both ends', async () => {
    expect(await call('LINSERT', 'l', 'BEFORE', 'a', 'first')).toBe(5);
    await call('RPUSH', 'l', 'z');
    expect(await call('LINSERT', 'l', 'AFTER', 'z', 'last')).toBe(7);
    expect(await range('l')).toEqual(['first', 'a', 'b', 'c', 'b', 'z', 'last']);
  });

  it('replies -1 when the pivot is missing and 0 when the key is', async () => {
    expect(await call('LINSERT', 'l', 'AFTER', 'nope', 'x')).toBe(-1);
    expect(await call('LINSERT', 'nokey', 'AFTER', 'a', 'x')).toBe(0);
    expect(await call('EXISTS', 'nokey')).toBe(0);
    expect(await call('LLEN', 'l')).toBe(4);
  });

  it('answers a word other than BEFORE or AFTER with a syntax error, key or not', async () => {
    expect(await call('LINSERT', 'l', 'MIDDLE', 'b', 'x')).toEqual(SYNTAX);
    expect(await call('LINSERT', 'nokey', 'MIDDLE', 'b', 'x')).toEqual(SYNTAX);
    expect(await call('LINSERT', 'l', 'BEFORE', 'b')).toEqual(arity('linsert'));
  });
});

describe('LREM', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', 'd', 'a');
  });

  it('a positive count removes that many matches from the head', async () => {
    expect(await call('LREM', 'l', '2', 'a')).toBe(2);
    expect(await range('l')).toEqual(['b', 'c', 'a', 'd', 'a']);
  });

  it('a negative count removes that many matches from the tail', async () => {
    expect(await call('LREM', 'l', '-3', 'a')).toBe(3);
    expect(await range('l')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('count 0 removes every match', async () => {
    expect(await call('LREM', 'l', '0', 'a')).toBe(4);
    expect(await range('l')).toEqual(['b', 'c', 'd']);
  });

  it('replies 0 when nothing matches and for a missing key', async () => {
    expect(await call('LREM', 'l', '0', 'zz')).toBe(0);
    expect(await call('LREM', 'nokey', '1', 'a')).toBe(0);
    expect(await call('LLEN', 'l')).toBe(7);
  });

  it('counts beyond the matches remove them all', async () => {
    expect(await call('LREM', 'l', '9223372036854775807', 'a')).toBe(4);
    expect(await call('LREM', 'l', '-9223372036854775808', 'b')).toBe(1);
    expect(await range('l')).toEqual(['c', 'd']);
  });

  it('answers a non-integer count with an error, even for a missing key', async () => {
    expect(await call('LREM', 'l', 'x', 'a')).toEqual(NOT_INT);
    expect(await call('LREM', 'nokey', 'x', 'a')).toEqual(NOT_INT);
    expect(await call('LLEN', 'l')).toBe(7);
  });
});

describe('LTRIM', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', '1', '2', '3', '4', '5', '6');
  });

  it('keeps the inclusive range, negative indexes from the tail', async () => {
    expect(await call('LTRIM', 'l', '1', '-2')).toBe('OK');
    expect(await range('l')).toEqual(['2', '3', '4', '5']);
    expect(await call('LTRIM', 'l', '-2', '-1')).toBe('OK');
    expect(await range('l')).toEqual(['4', '5']);
  });

  it('leaves the list alone when the range covers it', async () => {
    expect(await call('LTRIM', 'l', '0', '100')).toBe('OK');
    expect(await call('LTRIM', 'l', '-100', '-1')).toBe('OK');
    expect(await call('LLEN', 'l')).toBe(6);
  });

  it('an empty range deletes the key', async () => {
    expect(await call('LTRIM', 'l', '6', '10')).toBe('OK');
    expect(await call('EXISTS', 'l')).toBe(0);
    await call('RPUSH', 'm', 'a', 'b');
    expect(await call('LTRIM', 'm', '1', '0')).toBe('OK');
    expect(await call('EXISTS', 'm')).toBe(0);
    await call('RPUSH', 'n', 'a');
    expect(await call('LTRIM', 'n', '9223372036854775807', '-9223372036854775808')).toBe('OK');
    expect(await call('EXISTS', 'n')).toBe(0);
  });

  it('replies OK for a missing key, but a non-integer index is an error first', async () => {
    expect(await call('LTRIM', 'nokey', '0', '1')).toBe('OK');
    expect(await call('EXISTS', 'nokey')).toBe(0);
    expect(await call('LTRIM', 'nokey', 'x', '1')).toEqual(NOT_INT);
    expect(await call('LTRIM', 'l', '0', 'x')).toEqual(NOT_INT);
    expect(await call('LLEN', 'l')).toBe(6);
  });
});

describe('LPOS', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
  });

  it('replies the index of the first match, nil when there is none', async () => {
    expect(await call('LPOS', 'l', 'c')).toBe(2);
    expect(await call('LPOS', 'l', 'a')).toBe(0);
    expect(await call('LPOS', 'l', 'zz')).toBeNull();
    expect(await call('LPOS', 'nokey', 'a')).toBeNull();
  });

  it('RANK n skips to the nth match from the head', async () => {
    expect(await call('LPOS', 'l', 'c', 'RANK', '1')).toBe(2);
    expect(await call('LPOS', 'l', 'c', 'RANK', '2')).toBe(6);
    expect(await call('LPOS', 'l', 'c', 'RANK', '4')).toBeNull();
  });

  it('RANK -1 searches from the tail', async () => {
    expect(await call('LPOS', 'l', 'c', 'RANK', '-1')).toBe(7);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-2')).toBe(6);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-3')).toBe(2);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-4')).toBeNull();
  });

  it('COUNT replies an array of up to COUNT matches; COUNT 0 means all', async () => {
    expect(await call('LPOS', 'l', 'c', 'COUNT', '2')).toEqual([2, 6]);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '0')).toEqual([2, 6, 7]);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '10')).toEqual([2, 6, 7]);
    expect(await call('LPOS', 'l', 'b', 'COUNT', '1')).toEqual([1]);
  });

  it('COUNT with no match replies an empty array, on a missing key too', async () => {
    expect(await call('LPOS', 'l', 'zz', 'COUNT', '1')).toEqual([]);
    expect(await call('LPOS', 'nokey', 'a', 'COUNT', '0')).toEqual([]);
  });

  it('RANK with COUNT starts at the RANKth match, in search order', async () => {
    expect(await call('LPOS', 'l', 'c', 'COUNT', '2', 'RANK', '2')).toEqual([6, 7]);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-1', 'COUNT', '0')).toEqual([7, 6, 2]);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '2', 'RANK', '-2')).toEqual([6, 2]);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '0', 'RANK', '9')).toEqual([]);
  });

  it('MAXLEN compares only that many values, from the end searched', async () => {
    expect(await call('LPOS', 'l', 'c', 'MAXLEN', '3')).toBe(2);
    expect(await call('LPOS', 'l', 'c', 'MAXLEN', '2')).toBeNull();
    expect(await call('LPOS', 'l', 'c', 'COUNT', '0', 'MAXLEN', '7')).toEqual([2, 6]);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '0', 'MAXLEN', '0')).toEqual([2, 6, 7]);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-1', 'MAXLEN', '1')).toBe(7);
    expect(await call('LPOS', 'l', 'c', 'RANK', '-1', 'MAXLEN', '2', 'COUNT', '0')).toEqual([7, 6]);
    expect(await call('LPOS', 'l', 'c', 'RANK', '2', 'MAXLEN', '6')).toBeNull();
  });

  it('the last of a repeated option wins', async () => {
    expect(await call('LPOS', 'l', 'c', 'COUNT', '1', 'COUNT', '2')).toEqual([2, 6]);
    expect(await call('LPOS', 'l', 'c', 'RANK', '1', 'rank', '-1')).toBe(7);
  });

  it('answers RANK 0 with its own error, even on a missing key', async () => {
    expect(await call('LPOS', 'l', 'c', 'RANK', '0')).toEqual(RANK_ZERO);
    expect(await call('LPOS', 'nokey', 'c', 'RANK', '0')).toEqual(RANK_ZERO);
  });

  it('answers negative or non-integer COUNT and MAXLEN with their own errors', async () => {
    expect(await call('LPOS', 'l', 'c', 'COUNT', '-1')).toEqual(err("ERR COUNT can't be negative"));
    expect(await call('LPOS', 'l', 'c', 'COUNT', 'x')).toEqual(err("ERR COUNT can't be negative"));
    expect(await call('LPOS', 'l', 'c', 'MAXLEN', '-1')).toEqual(
      err("ERR MAXLEN can't be negative"),
    );
    expect(await call('LPOS', 'l', 'c', 'MAXLEN', 'x')).toEqual(
      err("ERR MAXLEN can't be negative"),
    );
    expect(await call('LPOS', 'l', 'c', 'RANK', 'x')).toEqual(NOT_INT);
  });

  it('answers unknown options and options without a value with a syntax error', async () => {
    expect(await call('LPOS', 'l', 'c', 'FOO', '1')).toEqual(SYNTAX);
    expect(await call('LPOS', 'l', 'c', 'RANK')).toEqual(SYNTAX);
    expect(await call('LPOS', 'l', 'c', 'COUNT', '1', 'MAXLEN')).toEqual(SYNTAX);
    expect(await call('LPOS', 'nokey', 'c', 'FOO')).toEqual(SYNTAX);
    expect(await call('LPOS', 'l')).toEqual(arity('lpos'));
  });
});

describe('LMOVE', () => {
  beforeEach(async () => {
    await call('RPUSH', 'src', 'a', 'b', 'c');
  });

  it('moves between any two ends and replies the value', async () => {
    expect(await call('LMOVE', 'src', 'dst', 'LEFT', 'RIGHT')).toBe('a');
    expect(await call('LMOVE', 'src', 'dst', 'RIGHT', 'LEFT')).toBe('c');
    expect(await range('dst')).toEqual(['c', 'a']);
    expect(await call('LMOVE', 'src', 'dst', 'left', 'left')).toBe('b');
    expect(await range('dst')).toEqual(['b', 'c', 'a']);
    expect(await call('LMOVE', 'dst', 'src', 'RIGHT', 'RIGHT')).toBe('a');
    expect(await range('src')).toEqual(['a']);
  });

  it('the source disappears once its last value moves', async () => {
    for (let i = 0; i < 3; i++) await call('LMOVE', 'src', 'dst', 'LEFT', 'RIGHT');
    expect(await call('EXISTS', 'src')).toBe(0);
    expect(await range('dst')).toEqual(['a', 'b', 'c']);
  });

  it('replies nil for a missing source and creates no destination', async () => {
    expect(await call('LMOVE', 'nokey', 'dst', 'LEFT', 'RIGHT')).toBeNull();
    expect(await call('EXISTS', 'dst')).toBe(0);
  });

  it('on the same key rotates the list, or leaves it as it is for the same end', async () => {
    expect(await call('LMOVE', 'src', 'src', 'LEFT', 'RIGHT')).toBe('a');
    expect(await range('src')).toEqual(['b', 'c', 'a']);
    expect(await call('LMOVE', 'src', 'src', 'RIGHT', 'LEFT')).toBe('a');
    expect(await range('src')).toEqual(['a', 'b', 'c']);
    expect(await call('LMOVE', 'src', 'src', 'LEFT', 'LEFT')).toBe('a');
    expect(await range('src')).toEqual(['a', 'b', 'c']);
  });

  it('answers a side other than LEFT or RIGHT with a syntax error', async () => {
    expect(await call('LMOVE', 'src', 'dst', 'UP', 'RIGHT')).toEqual(SYNTAX);
    expect(await call('LMOVE', 'src', 'dst', 'LEFT', 'DOWN')).toEqual(SYNTAX);
    expect(await call('LMOVE', 'nokey', 'dst', 'LEFT', 'DOWN')).toEqual(SYNTAX);
    expect(await call('LMOVE', 'src', 'dst', 'LEFT')).toEqual(arity('lmove'));
    expect(await call('LLEN', 'src')).toBe(3);
  });
});

describe('RPOPLPUSH', () => {
  it('moves the tail of the source to the head of the destination', async () => {
    await call('RPUSH', 'src', 'a', 'b', 'c');
    await call('RPUSH', 'dst', 'x');
    expect(await call('RPOPLPUSH', 'src', 'dst')).toBe('c');
    expect(await call('RPOPLPUSH', 'src', 'dst')).toBe('b');
    expect(await range('src')).toEqual(['a']);
    expect(await range('dst')).toEqual(['b', 'c', 'x']);
  });

  it('replies nil for a missing source and creates nothing', async () => {
    expect(await call('RPOPLPUSH', 'nokey', 'dst')).toBeNull();
    expect(await call('EXISTS', 'nokey', 'dst')).toBe(0);
    expect(await call('RPOPLPUSH', 'src')).toEqual(arity('rpoplpush'));
  });

  it('on the same key moves the tail to the head', async () => {
    await call('RPUSH', 'q', 'a', 'b', 'c');
    expect(await call('RPOPLPUSH', 'q', 'q')).toBe('c');
    expect(await range('q')).toEqual(['c', 'a', 'b']);
    await call('RPUSH', 'one', 'x');
    expect(await call('RPOPLPUSH', 'one', 'one')).toBe('x');
    expect(await range('one')).toEqual(['x']);
  });
});

describe('LMPOP', () => {
  beforeEach(async () => {
    await call('RPUSH', 'a', '1', '2', '3');
    await call('RPUSH', 'b', '4', '5');
  });

  it('pops from the first non-empty key and replies [key, values]', async () => {
    expect(await call('LMPOP', '2', 'nokey', 'a', 'LEFT')).toEqual(['a', ['1']]);
    expect(await call('LMPOP', '2', 'b', 'a', 'right')).toEqual(['b', ['5']]);
  });

  it('COUNT pops up to COUNT values and the emptied key disappears', async () => {
    expect(await call('LMPOP', '2', 'nokey', 'a', 'RIGHT', 'COUNT', '2')).toEqual([
      'a',
      ['3', '2'],
    ]);
    expect(await call('LMPOP', '1', 'a', 'LEFT', 'count', '10')).toEqual(['a', ['1']]);
    expect(await call('EXISTS', 'a')).toBe(0);
  });

  it('replies a null array when every key is missing', async () => {
    expect(await call('LMPOP', '2', 'nokey', 'other', 'LEFT')).toBe(NIL_ARRAY);
    expect(await call('LMPOP', '1', 'nokey', 'LEFT', 'COUNT', '5')).toBe(NIL_ARRAY);
  });

  it('answers numkeys errors as Redis does', async () => {
    for (const numkeys of ['0', '-1', 'x', '99999999999999999999']) {
      expect(await call('LMPOP', numkeys, 'b', 'LEFT')).toEqual(NUMKEYS);
    }
    expect(await call('LMPOP', '2', 'b', 'LEFT')).toEqual(SYNTAX);
    expect(await call('LMPOP', '3', 'a', 'b', 'LEFT')).toEqual(SYNTAX);
    expect(await call('LMPOP', '1', 'b')).toEqual(arity('lmpop'));
  });

  it('answers side and COUNT errors as Redis does, before looking at the keys', async () => {
    const cases: Array<[string[], Plain]> = [
      [['1', 'b', 'UP'], SYNTAX],
      [['1', 'nokey', 'UP'], SYNTAX],
      [['1', 'b', 'LEFT', 'COUNT', '0'], COUNT_POSITIVE],
      [['1', 'b', 'LEFT', 'COUNT', '-1'], COUNT_POSITIVE],
      [['1', 'b', 'LEFT', 'COUNT', 'x'], COUNT_POSITIVE],
      [['1', 'nokey', 'LEFT', 'COUNT', '0'], COUNT_POSITIVE],
      [['1', 'b', 'LEFT', 'COUNT', '1', 'COUNT', '2'], SYNTAX],
      [['1', 'b', 'LEFT', 'COUNT'], SYNTAX],
      [['1', 'b', 'LEFT', 'FOO'], SYNTAX],
    ];
    for (const [args, reply] of cases) expect(await call('LMPOP', ...args)).toEqual(reply);
    expect(await call('LLEN', 'b')).toBe(2);
  });
});

describe('command rows', () => {
  const positions = (...args: string[]) => {
    const row = s.dispatcher.table.get((args[0] as string).toLowerCase());
    if (!row) throw new Error(`no row for ${args[0]}`);
    const buffers = args.map((a) => Buffer.from(a));
    return keyPositions(row, buffers);
  };

  it('name the keys for the dispatcher, including LMPOP and BLMPOP numkeys', () => {
    expect(positions('LPUSH', 'l', 'a', 'b')).toEqual([1]);
    expect(positions('LMOVE', 'a', 'b', 'LEFT', 'RIGHT')).toEqual([1, 2]);
    expect(positions('RPOPLPUSH', 'a', 'b')).toEqual([1, 2]);
    expect(positions('BLPOP', 'a', 'b', 'c', '0')).toEqual([1, 2, 3]);
    expect(positions('BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0')).toEqual([1, 2]);
    expect(positions('LMPOP', '2', 'a', 'b', 'LEFT', 'COUNT', '1')).toEqual([2, 3]);
    expect(positions('BLMPOP', '0', '2', 'a', 'b', 'LEFT')).toEqual([3, 4]);
  });

  it('flag writes, reads and blocking commands', () => {
    const flags = (name: string) => s.dispatcher.table.get(name)?.flags ?? [];
    for (const name of ['lpush', 'rpop', 'lset', 'linsert', 'lrem', 'ltrim', 'lmove', 'lmpop']) {
      expect([name, flags(name)]).toEqual([name, expect.arrayContaining(['write'])]);
    }
    for (const name of ['llen', 'lrange', 'lindex', 'lpos']) {
      expect([name, flags(name)]).toEqual([name, expect.arrayContaining(['readonly'])]);
      expect(flags(name)).not.toContain('write');
    }
    for (const name of ['blpop', 'brpop', 'blmove', 'brpoplpush', 'blmpop']) {
      expect([name, flags(name)]).toEqual([name, expect.arrayContaining(['write', 'blocking'])]);
    }
  });
});

describe('a list that becomes empty', () => {
  it('disappears whichever command took its last value', async () => {
    const emptying: string[][] = [
      ['LPOP', 'k'],
      ['RPOP', 'k', '5'],
      ['LREM', 'k', '0', 'v'],
      ['LTRIM', 'k', '1', '0'],
      ['LMOVE', 'k', 'other', 'LEFT', 'RIGHT'],
      ['RPOPLPUSH', 'k', 'other'],
      ['LMPOP', '1', 'k', 'LEFT'],
      ['BLPOP', 'k', '0'],
      ['BRPOP', 'k', '0'],
      ['BLMOVE', 'k', 'other', 'RIGHT', 'LEFT', '0'],
      ['BRPOPLPUSH', 'k', 'other', '0'],
      ['BLMPOP', '0', '1', 'k', 'RIGHT', 'COUNT', '3'],
    ];
    for (const args of emptying) {
      await call('RPUSH', 'k', 'v');
      expect((await call(...args)) as unknown).not.toHaveProperty('err');
      expect([args[0], await call('EXISTS', 'k')]).toEqual([args[0], 0]);
      expect(await call('TYPE', 'k')).toBe('none');
      expect(await call('LLEN', 'k')).toBe(0);
    }
    expect(await call('DBSIZE')).toBe(1);
  });

  it('can be created again as a stream', async () => {
    await call('RPUSH', 'k', 'v');
    await call('LPOP', 'k');
    expect(await call('XADD', 'k', '1-1', 'f', 'v')).toBe('1-1');
    expect(await call('TYPE', 'k')).toBe('stream');
  });
});

describe('WRONGTYPE', () => {
  beforeEach(async () => {
    await call('XADD', 's', '1-1', 'f', 'v');
    await call('RPUSH', 'l', 'a', 'b');
  });

  it('every list command on a stream answers WRONGTYPE and changes nothing', async () => {
    const commands: string[][] = [
      ['LPUSH', 's', 'a'],
      ['RPUSH', 's', 'a'],
      ['LPUSHX', 's', 'a'],
      ['RPUSHX', 's', 'a'],
      ['LPOP', 's'],
      ['RPOP', 's', '2'],
      ['LLEN', 's'],
      ['LRANGE', 's', '0', '-1'],
      ['LINDEX', 's', '0'],
      ['LINDEX', 's', 'x'],
      ['LSET', 's', '0', 'a'],
      ['LSET', 's', 'x', 'a'],
      ['LINSERT', 's', 'BEFORE', 'a', 'b'],
      ['LREM', 's', '0', 'a'],
      ['LTRIM', 's', '0', '1'],
      ['LPOS', 's', 'a'],
      ['LMOVE', 's', 'l', 'LEFT', 'RIGHT'],
      ['RPOPLPUSH', 's', 'l'],
      ['LMPOP', '2', 's', 'l', 'LEFT'],
      ['BLPOP', 's', '0.01'],
      ['BLMPOP', '0.01', '1', 's', 'LEFT'],
    ];
    for (const args of commands) expect([args, await call(...args)]).toEqual([args, WRONGTYPE]);
    expect(await call('XLEN', 's')).toBe(1);
    expect(await range('l')).toEqual(['a', 'b']);
  });

  it('a move onto a stream answers WRONGTYPE and leaves the source whole', async () => {
    expect(await call('LMOVE', 'l', 's', 'LEFT', 'RIGHT')).toEqual(WRONGTYPE);
    expect(await call('RPOPLPUSH', 'l', 's')).toEqual(WRONGTYPE);
    expect(await call('BLMOVE', 'l', 's', 'LEFT', 'RIGHT', '0')).toEqual(WRONGTYPE);
    expect(await call('BRPOPLPUSH', 'l', 's', '0')).toEqual(WRONGTYPE);
    expect(await range('l')).toEqual(['a', 'b']);
    expect(await call('XLEN', 's')).toBe(1);
  });

  it('argument errors come before the type check', async () => {
    expect(await call('LPOS', 's', 'a', 'RANK', '0')).toEqual(RANK_ZERO);
    expect(await call('LPOP', 's', '-1')).toEqual(MUST_BE_POSITIVE);
    expect(await call('LMOVE', 's', 'l', 'UP', 'LEFT')).toEqual(SYNTAX);
    expect(await call('LINSERT', 's', 'MIDDLE', 'a', 'b')).toEqual(SYNTAX);
  });

  it('multi-key pops take from a list found before the stream', async () => {
    expect(await call('LMPOP', '2', 'l', 's', 'LEFT')).toEqual(['l', ['a']]);
    expect(await call('BLPOP', 'l', 's', '0.01')).toEqual(['l', 'b']);
  });

  it('stream commands on a list answer WRONGTYPE', async () => {
    const commands: string[][] = [
      ['XADD', 'l', '*', 'f', 'v'],
      ['XLEN', 'l'],
      ['XRANGE', 'l', '-', '+'],
      ['XREVRANGE', 'l', '+', '-'],
      ['XDEL', 'l', '1-1'],
      ['XTRIM', 'l', 'MAXLEN', '0'],
      ['XREAD', 'STREAMS', 'l', '0'],
      ['XGROUP', 'CREATE', 'l', 'g', '$'],
    ];
    for (const args of commands) expect([args, await call(...args)]).toEqual([args, WRONGTYPE]);
    expect(await range('l')).toEqual(['a', 'b']);
  });
});

describe('keyspace commands on lists', () => {
  beforeEach(async () => {
    await call('RPUSH', 'l', 'a', 'b');
    await call('RPUSH', 'm', 'x');
    await call('XADD', 's', '1-1', 'f', 'v');
  });

  it('TYPE says list and EXISTS counts lists', async () => {
    expect(await call('TYPE', 'l')).toBe('list');
    expect(await call('TYPE', 's')).toBe('stream');
    expect(await call('EXISTS', 'l', 's', 'm', 'nokey', 'l')).toBe(4);
    expect(await call('DBSIZE')).toBe(3);
  });

  it('DEL removes lists and streams and counts them', async () => {
    expect(await call('DEL', 'l', 's', 'nokey')).toBe(2);
    expect(await call('EXISTS', 'l', 's', 'm')).toBe(1);
    expect(await call('LLEN', 'l')).toBe(0);
    expect(await call('RPUSH', 's', 'now a list')).toBe(1);
  });

  it('SCAN TYPE list returns only the lists, whatever the case of the type', async () => {
    const keys = async (...opts: string[]) => {
      const reply = (await call('SCAN', '0', 'COUNT', '100', ...opts)) as [string, string[]];
      expect(reply[0]).toBe('0');
      return [...reply[1]].sort();
    };
    expect(await keys('TYPE', 'list')).toEqual(['l', 'm']);
    expect(await keys('TYPE', 'LIST')).toEqual(['l', 'm']);
    expect(await keys('TYPE', 'stream')).toEqual(['s']);
    expect(await keys('TYPE', 'list', 'MATCH', 'm*')).toEqual(['m']);
    expect((await call('KEYS', '*')) as string[]).toHaveLength(3);
  });

  it('RENAME moves a list, and replaces a stream at the new name', async () => {
    expect(await call('RENAME', 'l', 'l2')).toBe('OK');
    expect(await call('EXISTS', 'l')).toBe(0);
    expect(await range('l2')).toEqual(['a', 'b']);
    expect(await call('RENAME', 'l2', 's')).toBe('OK');
    expect(await call('TYPE', 's')).toBe('list');
    expect(await range('s')).toEqual(['a', 'b']);
    expect(await call('RENAME', 'nokey', 'x')).toEqual(err('ERR no such key'));
  });

  it('RENAME of a stream onto a list replaces the list', async () => {
    expect(await call('RENAME', 's', 'm')).toBe('OK');
    expect(await call('TYPE', 'm')).toBe('stream');
    expect(await call('XLEN', 'm')).toBe(1);
  });

  it('RENAMENX moves a list only to a free name', async () => {
    expect(await call('RENAMENX', 'l', 'm')).toBe(0);
    expect(await call('RENAMENX', 'l', 'n')).toBe(1);
    expect(await range('n')).toEqual(['a', 'b']);
    expect(await range('m')).toEqual(['x']);
  });

  it('FLUSHALL removes lists in every database', async () => {
    const other: Session = { ...s.session(), db: 3 };
    await callIn(other, 'RPUSH', 'l', 'elsewhere');
    expect(await callIn(other, 'LRANGE', 'l', '0', '-1')).toEqual(['elsewhere']);
    expect(await range('l')).toEqual(['a', 'b']);
    expect(await call('FLUSHALL')).toBe('OK');
    expect(await call('DBSIZE')).toBe(0);
    expect(await callIn(other, 'DBSIZE')).toBe(0);
  });
});

describe('BLPOP and BRPOP', () => {
  it('serve at once from the first key that has data', async () => {
    await call('RPUSH', 'b', '1', '2', '3');
    expect(await call('BLPOP', 'a', 'b', '0')).toEqual(['b', '1']);
    expect(await call('BRPOP', 'a', 'b', '0')).toEqual(['b', '3']);
    await call('RPUSH', 'a', 'x');
    expect(await call('BRPOP', 'b', 'a', '0')).toEqual(['b', '2']);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('block on missing keys and are woken by a push from another session', async () => {
    const w = await blocked(['BLPOP', 'q', '0']);
    expect(await settlesWithin(w.reply, 20)).toBe(false);
    expect(await call('RPUSH', 'q', 'v')).toBe(1);
    expect(await w.reply).toEqual(['q', 'v']);
    expect(await call('EXISTS', 'q')).toBe(0);
  });

  it('BLPOP takes the head and BRPOP the tail of a push of several values', async () => {
    const left = await blocked(['BLPOP', 'q', '0']);
    await call('LPUSH', 'q', 'a', 'b', 'c');
    expect(await left.reply).toEqual(['q', 'c']);
    expect(await range('q')).toEqual(['b', 'a']);
    const right = await blocked(['BRPOP', 'r', '0']);
    await call('RPUSH', 'r', 'a', 'b', 'c');
    expect(await right.reply).toEqual(['r', 'c']);
    expect(await range('r')).toEqual(['a', 'b']);
  });

  it('a push on any key of the set wakes the waiter with that key', async () => {
    const w = await blocked(['BLPOP', 'k1', 'k2', 'k3', '0']);
    await call('RPUSH', 'k2', 'x');
    expect(await w.reply).toEqual(['k2', 'x']);
    const v = await blocked(['BRPOP', 'k1', 'k2', 'k3', '0']);
    await call('LPUSH', 'k3', 'y');
    expect(await v.reply).toEqual(['k3', 'y']);
  });

  it('a waiter on several keys is served once, by the first push', async () => {
    const w = await blocked(['BLPOP', 'x', 'y', '0']);
    await call('RPUSH', 'x', '1');
    await call('RPUSH', 'y', '2');
    expect(await w.reply).toEqual(['x', '1']);
    expect(await range('y')).toEqual(['2']);
    expect(await call('EXISTS', 'x')).toBe(0);
  });

  it('a fractional timeout times out with a null array', async () => {
    const started = Date.now();
    expect(await call('BLPOP', 'q', '0.05')).toBe(NIL_ARRAY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(await call('BRPOP', 'q', 'r', '0.05')).toBe(NIL_ARRAY);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('timeout 0 waits until data arrives', async () => {
    const w = await blocked(['BRPOP', 'q', '0']);
    expect(await settlesWithin(w.reply, 120)).toBe(false);
    await call('RPUSH', 'q', 'late');
    expect(await w.reply).toEqual(['q', 'late']);
  });

  it('answer timeout errors as Redis does, even when a key has data', async () => {
    await call('RPUSH', 'a', '1');
    const cases: Array<[string, Plain]> = [
      ['x', TIMEOUT_NOT_FLOAT],
      ['', TIMEOUT_NOT_FLOAT],
      ['0.1x', TIMEOUT_NOT_FLOAT],
      ['nan', TIMEOUT_NOT_FLOAT],
      ['-1', TIMEOUT_NEGATIVE],
      ['-0.5', TIMEOUT_NEGATIVE],
      ['inf', TIMEOUT_NEGATIVE],
      ['-inf', TIMEOUT_NEGATIVE],
      ['1e30', TIMEOUT_NEGATIVE],
    ];
    for (const [timeout, reply] of cases) {
      expect([timeout, await call('BLPOP', 'a', timeout)]).toEqual([timeout, reply]);
      expect([timeout, await call('BRPOP', 'a', timeout)]).toEqual([timeout, reply]);
    }
    expect(await call('LLEN', 'a')).toBe(1);
    expect(await call('BLPOP', 'a')).toEqual(arity('blpop'));
  });

  it('stay blocked while the key holds a stream, and are served once it is a list', async () => {
    const w = await blocked(['BLPOP', 'k', '0']);
    await call('XADD', 'k', '1-1', 'f', 'v');
    expect(await settlesWithin(w.reply, 30)).toBe(false);
    await call('DEL', 'k');
    expect(await settlesWithin(w.reply, 10)).toBe(false);
    await call('RPUSH', 'k', 'z');
    expect(await w.reply).toEqual(['k', 'z']);
  });

  it('a RENAME onto the key a client waits on serves it', async () => {
    const w = await blocked(['BLPOP', 'target', '0']);
    await call('RPUSH', 'other', 'r1', 'r2');
    expect(await call('RENAME', 'other', 'target')).toBe('OK');
    expect(await w.reply).toEqual(['target', 'r1']);
    expect(await range('target')).toEqual(['r2']);
  });

  it('a wait in another database is not served by a push to this one', async () => {
    const w = await blocked(['BLPOP', 'q', '0'], { ...s.session(), db: 2 });
    await call('RPUSH', 'q', 'db0');
    expect(await settlesWithin(w.reply, 20)).toBe(false);
    await callIn({ ...s.session(), db: 2 }, 'RPUSH', 'q', 'db2');
    expect(await w.reply).toEqual(['q', 'db2']);
    expect(await range('q')).toEqual(['db0']);
  });

  it('an infinite wait is capped by maxBlockMs', async () => {
    const capped = await openSluice({ maxBlockMs: 50 });
    try {
      expect(plain(await capped.call('BLPOP', 'q', '0'))).toBe(NIL_ARRAY);
      expect(capped.broker.blocking.blockedCount).toBe(0);
    } finally {
      await capped.close();
    }
  });
});

describe('blocked pops: who is served', () => {
  it('waiters on a key are served first come, first served', async () => {
    const first = await blocked(['BLPOP', 'q', '0']);
    const second = await blocked(['BRPOP', 'q', '0']);
    const third = await blocked(['BLPOP', 'q', '0']);
    await call('RPUSH', 'q', 'one');
    expect(await first.reply).toEqual(['q', 'one']);
    await call('RPUSH', 'q', 'two');
    expect(await second.reply).toEqual(['q', 'two']);
    await call('RPUSH', 'q', 'three');
    expect(await third.reply).toEqual(['q', 'three']);
  });

  it('one push of N values serves N waiters, in order, and the rest stay blocked', async () => {
    const waiters = [];
    for (let i = 0; i < 4; i++) waiters.push(await blocked(['BLPOP', 'q', '0']));
    expect(await call('RPUSH', 'q', 'a', 'b')).toBe(2);
    expect(await waiters[0]?.reply).toEqual(['q', 'a']);
    expect(await waiters[1]?.reply).toEqual(['q', 'b']);
    expect(await settlesWithin(Promise.race([waiters[2]?.reply, waiters[3]?.reply]), 20)).toBe(
      false,
    );
    expect(s.broker.blocking.blockedCount).toBe(2);
    await call('RPUSH', 'q', 'c', 'd', 'e');
    expect(await waiters[2]?.reply).toEqual(['q', 'c']);
    expect(await waiters[3]?.reply).toEqual(['q', 'd']);
    expect(await range('q')).toEqual(['e']);
  });

  it('a push serves the waiters before any other client can see the values', async () => {
    const w = await blocked(['BLPOP', 'q', '0']);
    const other = s.session();
    expect(await call('RPUSH', 'q', 'v')).toBe(1);
    expect(await callIn(other, 'LLEN', 'q')).toBe(0);
    expect(await callIn(other, 'LPOP', 'q')).toBeNull();
    expect(await w.reply).toEqual(['q', 'v']);
  });

  it('a competing LPOP sent with the push finds nothing', async () => {
    const w = await blocked(['BRPOP', 'q', '0']);
    const other = s.session();
    const [pushed, popped] = await Promise.all([
      call('RPUSH', 'q', 'v'),
      callIn(other, 'LPOP', 'q'),
      callIn(other, 'LLEN', 'q'),
    ]);
    expect(pushed).toBe(1);
    expect(popped).toBeNull();
    expect(await w.reply).toEqual(['q', 'v']);
  });

  it('a waiter blocked on several keys keeps its place on each of them', async () => {
    const wide = await blocked(['BLPOP', 'x', 'y', '0']);
    const narrow = await blocked(['BLPOP', 'y', '0']);
    await call('RPUSH', 'y', '1', '2');
    expect(await wide.reply).toEqual(['y', '1']);
    expect(await narrow.reply).toEqual(['y', '2']);
  });

  it('a key named twice is waited on once and served once', async () => {
    const w = await blocked(['BLPOP', 'q', 'q', '0']);
    const next = await blocked(['BLMPOP', '0', '2', 'q', 'q', 'LEFT']);
    expect(s.broker.blocking.blockedCount).toBe(2);
    await call('RPUSH', 'q', '1', '2', '3');
    expect(await w.reply).toEqual(['q', '1']);
    expect(await next.reply).toEqual(['q', ['2']]);
    expect(await range('q')).toEqual(['3']);
  });

  it('a wake-up with nothing to take leaves the waiter blocked', async () => {
    const w = await blocked(['BLPOP', 'q', '0']);
    s.broker.blocking.signal(String.fromCharCode(0) + 'q');
    expect(await settlesWithin(w.reply, 20)).toBe(false);
    expect(s.broker.blocking.blockedCount).toBe(1);
    await call('RPUSH', 'q', 'v');
    expect(await w.reply).toEqual(['q', 'v']);
  });
});

describe('BLMOVE and BRPOPLPUSH', () => {
  it('move at once when the source has data', async () => {
    await call('RPUSH', 'src', 'a', 'b', 'c');
    expect(await call('BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0')).toBe('a');
    expect(await call('BRPOPLPUSH', 'src', 'dst', '0')).toBe('c');
    expect(await range('dst')).toEqual(['c', 'a']);
    expect(await range('src')).toEqual(['b']);
  });

  it('block until a push to the source and move the value', async () => {
    const w = await blocked(['BLMOVE', 'src', 'dst', 'RIGHT', 'LEFT', '0']);
    expect(await settlesWithin(w.reply, 20)).toBe(false);
    await call('RPUSH', 'src', 'a', 'b');
    expect(await w.reply).toBe('b');
    expect(await range('src')).toEqual(['a']);
    expect(await range('dst')).toEqual(['b']);
    const v = await blocked(['BRPOPLPUSH', 'other', 'dst', '0']);
    await call('LPUSH', 'other', 'x', 'y');
    expect(await v.reply).toBe('x');
    expect(await range('dst')).toEqual(['x', 'b']);
  });

  it('a push to the destination does not wake them', async () => {
    const w = await blocked(['BLMOVE', 'src', 'dst', 'LEFT', 'LEFT', '0']);
    await call('RPUSH', 'dst', 'd');
    expect(await settlesWithin(w.reply, 20)).toBe(false);
    await call('RPUSH', 'src', 's');
    expect(await w.reply).toBe('s');
    expect(await range('dst')).toEqual(['s', 'd']);
  });

  it('a fractional timeout times out with a null array, as redis-server 7.0 replies', async () => {
    // Redis replies *-1 (replyToBlockedClientTimedOut), though the docs say a nil bulk.
    const started = Date.now();
    expect(await call('BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0.05')).toBe(NIL_ARRAY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(await call('BRPOPLPUSH', 'src', 'dst', '0.05')).toBe(NIL_ARRAY);
    expect(await call('EXISTS', 'dst')).toBe(0);
  });

  it('timeout 0 waits until data arrives', async () => {
    const w = await blocked(['BRPOPLPUSH', 'src', 'dst', '0']);
    expect(await settlesWithin(w.reply, 120)).toBe(false);
    await call('RPUSH', 'src', 'late');
    expect(await w.reply).toBe('late');
  });

  it('answer side errors first, then timeout errors', async () => {
    expect(await call('BLMOVE', 'a', 'b', 'UP', 'LEFT', 'x')).toEqual(SYNTAX);
    expect(await call('BLMOVE', 'a', 'b', 'LEFT', 'DOWN', '-1')).toEqual(SYNTAX);
    expect(await call('BLMOVE', 'a', 'b', 'LEFT', 'LEFT', 'x')).toEqual(TIMEOUT_NOT_FLOAT);
    expect(await call('BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '-1')).toEqual(TIMEOUT_NEGATIVE);
    expect(await call('BRPOPLPUSH', 'a', 'b', 'x')).toEqual(TIMEOUT_NOT_FLOAT);
    expect(await call('BRPOPLPUSH', 'a', 'b', '-0.5')).toEqual(TIMEOUT_NEGATIVE);
    await call('RPUSH', 'a', 'v');
    expect(await call('BRPOPLPUSH', 'a', 'b', 'inf')).toEqual(TIMEOUT_NEGATIVE);
    expect(await call('LLEN', 'a')).toBe(1);
    expect(await call('BLMOVE', 'a', 'b', 'LEFT', 'LEFT')).toEqual(arity('blmove'));
  });

  it('a waiter whose destination became a stream gets WRONGTYPE; the value stays', async () => {
    const w = await blocked(['BLMOVE', 'src', 'st', 'LEFT', 'RIGHT', '0']);
    await call('XADD', 'st', '1-1', 'f', 'v');
    expect(await call('RPUSH', 'src', 'x')).toBe(1);
    expect(await w.reply).toEqual(WRONGTYPE);
    expect(await range('src')).toEqual(['x']);
    expect(await call('XLEN', 'st')).toBe(1);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('the value refused by a WRONGTYPE waiter goes to the next waiter', async () => {
    const w = await blocked(['BRPOPLPUSH', 'src', 'st', '0']);
    const next = await blocked(['BLPOP', 'src', '0']);
    await call('XADD', 'st', '1-1', 'f', 'v');
    await call('RPUSH', 'src', 'x');
    expect(await w.reply).toEqual(WRONGTYPE);
    expect(await next.reply).toEqual(['src', 'x']);
  });

  it('an LMOVE onto a key another client is blocked on serves that client', async () => {
    const w = await blocked(['BRPOP', 'dst', '0']);
    await call('RPUSH', 'src', 'v');
    expect(await call('LMOVE', 'src', 'dst', 'LEFT', 'LEFT')).toBe('v');
    expect(await call('EXISTS', 'src', 'dst')).toBe(0);
    expect(await w.reply).toEqual(['dst', 'v']);
  });

  it('a chain of three queues passes a job all the way through at once', async () => {
    const first = await blocked(['BLMOVE', 'q1', 'q2', 'LEFT', 'RIGHT', '0']);
    const second = await blocked(['BRPOPLPUSH', 'q2', 'q3', '0']);
    const last = await blocked(['BLPOP', 'q3', '0']);
    expect(await call('RPUSH', 'q1', 'job')).toBe(1);
    expect(await call('EXISTS', 'q1', 'q2', 'q3')).toBe(0);
    expect(await first.reply).toBe('job');
    expect(await second.reply).toBe('job');
    expect(await last.reply).toEqual(['q3', 'job']);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('a blocked BLMOVE from a key onto itself rotates once when served', async () => {
    const w = await blocked(['BLMOVE', 'rot', 'rot', 'LEFT', 'RIGHT', '0']);
    expect(await call('RPUSH', 'rot', 'a', 'b')).toBe(2);
    expect(await within(w.reply)).toBe('a');
    expect(await range('rot')).toEqual(['b', 'a']);
  });

  it('a blocked self-move hands the rotated value on to the next waiter', async () => {
    const rotate = await blocked(['BRPOPLPUSH', 'rot', 'rot', '0']);
    const pop = await blocked(['BLPOP', 'rot', '0']);
    expect(await call('RPUSH', 'rot', 'a', 'b')).toBe(2);
    expect(await within(rotate.reply)).toBe('b');
    expect(await within(pop.reply)).toEqual(['rot', 'b']);
    expect(await range('rot')).toEqual(['a']);
  });

  it('two BLMOVEs in a cycle each move the value once', async () => {
    const there = await blocked(['BLMOVE', 'x', 'y', 'LEFT', 'RIGHT', '0']);
    const back = await blocked(['BLMOVE', 'y', 'x', 'LEFT', 'RIGHT', '0']);
    expect(await call('RPUSH', 'x', 'v')).toBe(1);
    expect(await within(there.reply)).toBe('v');
    expect(await within(back.reply)).toBe('v');
    expect(await range('x')).toEqual(['v']);
    expect(await call('EXISTS', 'y')).toBe(0);
  });
});

describe('BLMPOP', () => {
  it('pops at once from the first key with data', async () => {
    await call('RPUSH', 'a', '1', '2', '3');
    expect(await call('BLMPOP', '0', '2', 'z', 'a', 'RIGHT', 'COUNT', '2')).toEqual([
      'a',
      ['3', '2'],
    ]);
    expect(await call('BLMPOP', '0', '1', 'a', 'LEFT')).toEqual(['a', ['1']]);
    expect(await call('EXISTS', 'a')).toBe(0);
  });

  it('blocks and is woken by a push on any of its keys', async () => {
    const w = await blocked(['BLMPOP', '0', '3', 'k1', 'k2', 'k3', 'LEFT', 'COUNT', '2']);
    await call('RPUSH', 'k3', 'x', 'y', 'z');
    expect(await w.reply).toEqual(['k3', ['x', 'y']]);
    expect(await range('k3')).toEqual(['z']);
  });

  it('with COUNT, each waiter in turn takes up to COUNT values of one push', async () => {
    const first = await blocked(['BLMPOP', '0', '1', 'mp', 'LEFT', 'COUNT', '2']);
    const second = await blocked(['BLMPOP', '0', '1', 'mp', 'LEFT', 'COUNT', '2']);
    const third = await blocked(['BLMPOP', '0', '1', 'mp', 'RIGHT']);
    await call('RPUSH', 'mp', '1', '2', '3');
    expect(await first.reply).toEqual(['mp', ['1', '2']]);
    expect(await second.reply).toEqual(['mp', ['3']]);
    expect(await settlesWithin(third.reply, 20)).toBe(false);
    await call('RPUSH', 'mp', '4');
    expect(await third.reply).toEqual(['mp', ['4']]);
  });

  it('a fractional timeout times out with a null array', async () => {
    const started = Date.now();
    expect(await call('BLMPOP', '0.05', '2', 'a', 'b', 'LEFT')).toBe(NIL_ARRAY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('answers timeout errors as Redis does', async () => {
    expect(await call('BLMPOP', 'x', '1', 'a', 'LEFT')).toEqual(TIMEOUT_NOT_FLOAT);
    expect(await call('BLMPOP', '-1', '1', 'a', 'LEFT')).toEqual(TIMEOUT_NEGATIVE);
    expect(await call('BLMPOP', '0.01', '0', 'a', 'LEFT')).toEqual(NUMKEYS);
    expect(await call('BLMPOP', '0.01', '1', 'a', 'UP')).toEqual(SYNTAX);
    expect(await call('BLMPOP', '0.01', '1', 'a', 'LEFT', 'COUNT', '0')).toEqual(COUNT_POSITIVE);
    expect(await call('BLMPOP', '0.01', '2', 'a', 'LEFT')).toEqual(SYNTAX);
    expect(await call('BLMPOP', '0', '1', 'a')).toEqual(arity('blmpop'));
  });

  it('checks numkeys, side and COUNT before the timeout, as redis-server 7.0 does', async () => {
    expect(await call('BLMPOP', 'x', '0', 'a', 'LEFT')).toEqual(NUMKEYS);
    expect(await call('BLMPOP', 'x', '1', 'a', 'UP')).toEqual(SYNTAX);
    expect(await call('BLMPOP', 'x', '1', 'a', 'LEFT', 'COUNT', '0')).toEqual(COUNT_POSITIVE);
    expect(await call('BLMPOP', 'x', '2', 'a', 'LEFT')).toEqual(SYNTAX);
    expect(await call('BLMPOP', '-1', '1', 'a', 'LEFT', 'FOO')).toEqual(SYNTAX);
  });
});

describe('blocked clients that go away', () => {
  function abortable(): { session: Session; abort(): void } {
    const controller = new AbortController();
    return {
      session: { ...s.session(), abort: controller.signal },
      abort: () => controller.abort(),
    };
  }

  it('an aborted BLPOP is removed and takes nothing pushed afterwards', async () => {
    const client = abortable();
    const w = await blocked(['BLPOP', 'q', '0'], client.session);
    client.abort();
    await w.reply;
    expect(s.broker.blocking.blockedCount).toBe(0);
    expect(await call('RPUSH', 'q', 'v')).toBe(1);
    expect(await range('q')).toEqual(['v']);
  });

  it('an aborted BLMOVE moves nothing', async () => {
    const client = abortable();
    const w = await blocked(['BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0'], client.session);
    client.abort();
    await w.reply;
    await call('RPUSH', 'src', 'v');
    expect(await range('src')).toEqual(['v']);
    expect(await call('EXISTS', 'dst')).toBe(0);
  });

  it('the next waiter gets the value an aborted one would have had', async () => {
    const gone = abortable();
    const first = await blocked(['BLMPOP', '0', '1', 'q', 'LEFT'], gone.session);
    const second = await blocked(['BRPOP', 'q', '0']);
    gone.abort();
    await first.reply;
    await call('RPUSH', 'q', 'v');
    expect(await second.reply).toEqual(['q', 'v']);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('blockedCount counts waiters and goes back to 0 after serve, timeout and abort', async () => {
    const client = abortable();
    const served = await blocked(['BLPOP', 'a', '0']);
    const timed = await blocked(['BRPOP', 'b', '0.05']);
    const aborted = await blocked(['BRPOPLPUSH', 'c', 'd', '0'], client.session);
    expect(s.broker.blocking.blockedCount).toBe(3);
    await call('RPUSH', 'a', 'v');
    await served.reply;
    expect(s.broker.blocking.blockedCount).toBe(2);
    expect(await timed.reply).toBe(NIL_ARRAY);
    expect(s.broker.blocking.blockedCount).toBe(1);
    client.abort();
    await aborted.reply;
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('closing the broker ends every wait', async () => {
    const w = await blocked(['BLPOP', 'q', '0']);
    s.broker.blocking.abortAll();
    await w.reply;
    expect(s.broker.blocking.blockedCount).toBe(0);
  });
});

describe('the reliable queue', () => {
  it('BLMOVE to a processing list, LREM when done, and a lost job is put back', async () => {
    const workerA = s.session();
    const workerB = s.session();
    await call('RPUSH', 'queue', 'j1', 'j2', 'j3');
    const move = ['BLMOVE', 'queue', 'processing', 'LEFT', 'RIGHT', '0'];
    expect(await callIn(workerA, ...move)).toBe('j1');
    expect(await callIn(workerB, ...move)).toBe('j2');
    expect(await range('processing')).toEqual(['j1', 'j2']);
    expect(await callIn(workerA, 'LREM', 'processing', '1', 'j1')).toBe(1);
    // Worker B dies holding j2: a reaper puts it back at the head of the queue.
    expect(await call('LMOVE', 'processing', 'queue', 'LEFT', 'LEFT')).toBe('j2');
    expect(await call('EXISTS', 'processing')).toBe(0);
    expect(await range('queue')).toEqual(['j2', 'j3']);
    expect(await callIn(workerA, ...move)).toBe('j2');
    expect(await callIn(workerA, ...move)).toBe('j3');
    const idle = await blocked(move, workerB);
    await call('RPUSH', 'queue', 'j4');
    expect(await idle.reply).toBe('j4');
    expect(await range('processing')).toEqual(['j2', 'j3', 'j4']);
  });

  it('concurrent workers process every job exactly once', async () => {
    const jobs = Array.from({ length: 150 }, (_, i) => `job-${i}`);
    const done: string[] = [];
    let producing = true;
    const worker = async () => {
      const session = s.session();
      for (;;) {
        const job = await callIn(session, 'BLMOVE', 'queue', 'processing', 'LEFT', 'RIGHT', '0.05');
        if (typeof job !== 'string' || job === NIL_ARRAY) {
          if (!producing) return;
          continue;
        }
        done.push(job);
        expect(await callIn(session, 'LREM', 'processing', '-1', job)).toBe(1);
      }
    };
    const workers = [worker(), worker(), worker()];
    for (let i = 0; i < jobs.length; i += 5) {
      await call('RPUSH', 'queue', ...jobs.slice(i, i + 5));
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    producing = false;
    await Promise.all(workers);
    expect([...done].sort()).toEqual([...jobs].sort());
    expect(await call('EXISTS', 'queue', 'processing')).toBe(0);
  });
});

describe('the circular queue', () => {
  it('RPOPLPUSH q q visits every item once per round and keeps the order', async () => {
    await call('RPUSH', 'q', '1', '2', '3', '4', '5');
    const seen: Plain[] = [];
    for (let i = 0; i < 10; i++) seen.push(await call('RPOPLPUSH', 'q', 'q'));
    expect(seen).toEqual(['5', '4', '3', '2', '1', '5', '4', '3', '2', '1']);
    expect(await range('q')).toEqual(['1', '2', '3', '4', '5']);
  });

  it('items pushed while monitoring join the rotation', async () => {
    await call('RPUSH', 'q', 'a', 'b');
    const monitor = s.session();
    expect(await callIn(monitor, 'LMOVE', 'q', 'q', 'LEFT', 'RIGHT')).toBe('a');
    await call('RPUSH', 'q', 'c');
    const seen: Plain[] = [];
    for (let i = 0; i < 6; i++)
      seen.push(await callIn(monitor, 'LMOVE', 'q', 'q', 'LEFT', 'RIGHT'));
    expect(seen).toEqual(['b', 'a', 'c', 'b', 'a', 'c']);
  });

  it('two monitors share the rotation without losing items', async () => {
    const items = Array.from({ length: 20 }, (_, i) => `url-${i}`);
    await call('RPUSH', 'q', ...items);
    const [m1, m2] = [s.session(), s.session()];
    const seen = await Promise.all(
      Array.from({ length: 40 }, (_, i) => callIn(i % 2 ? m1 : m2, 'RPOPLPUSH', 'q', 'q')),
    );
    expect([...new Set(seen as string[])].sort()).toEqual([...items].sort());
    expect(((await range('q')) as string[]).sort()).toEqual([...items].sort());
  });
});

/** An Io whose fdatasync calls wait while the gate is closed. */
function gatedIo(): { io: Io; close(): void; open(): void; syncs(): number } {
  let gate: Promise<void> | null = null;
  let release = () => {};
  let count = 0;
  const io: Io = {
    ...nodeIo,
    async fdatasync(fd) {
      count++;
      if (gate) await gate;
      return nodeIo.fdatasync(fd);
    },
  };
  return {
    io,
    close() {
      gate = new Promise((r) => (release = r));
    },
    open() {
      gate = null;
      release();
    },
    syncs: () => count,
  };
}

describe("durability under fsync 'always'", () => {
  it('a list reply waits for journal.whenDurable of its change', async () => {
    const durable = await openSluice({ fsync: 'always' });
    try {
      let release = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const whenDurable = vi.spyOn(durable.broker.journal, 'whenDurable').mockReturnValue(gate);
      const reply = durable.call('RPUSH', 'q', 'a');
      expect(await settlesWithin(reply, 30)).toBe(false);
      expect(whenDurable).toHaveBeenCalledWith(durable.broker.lists.lastSeq);
      release();
      expect(plain(await reply)).toBe(1);
    } finally {
      await durable.close();
    }
  });

  it('a blocked pop served by a push replies only once the pop is durable', async () => {
    const durable = await openSluice({ fsync: 'always' });
    try {
      const waiter = durable.callIn(durable.session(), 'BLPOP', 'q', '0');
      for (let i = 0; i < 100 && durable.broker.blocking.blockedCount === 0; i++) {
        await new Promise((r) => setImmediate(r));
      }
      let release = () => {};
      const gate = new Promise<void>((r) => (release = r));
      vi.spyOn(durable.broker.journal, 'whenDurable').mockReturnValue(gate);
      const push = durable.call('RPUSH', 'q', 'v');
      expect(await settlesWithin(Promise.race([waiter, push]), 30)).toBe(false);
      release();
      expect(plain(await push)).toBe(1);
      expect(plain(await waiter)).toEqual(['q', 'v']);
    } finally {
      await durable.close();
    }
  });

  it("RPUSH replies only once the journal is fdatasync'd", async () => {
    const gate = gatedIo();
    const durable = await openSluice({ fsync: 'always', io: gate.io });
    try {
      expect(plain(await durable.call('RPUSH', 'q', 'a'))).toBe(1);
      gate.close();
      const before = gate.syncs();
      const reply = durable.call('RPUSH', 'q', 'b');
      expect(await settlesWithin(reply, 50)).toBe(false);
      expect(gate.syncs()).toBeGreaterThan(before);
      gate.open();
      expect(plain(await reply)).toBe(2);
    } finally {
      gate.open();
      await durable.close();
    }
  });

  it('every change is one journal record; reads and no-ops write none', async () => {
    const records = () => s.broker.journal.stats().records;
    const start = records();
    await call('RPUSH', 'q', 'a', 'b', 'c');
    expect(records()).toBe(start + 1);
    await call('LLEN', 'q');
    await call('LRANGE', 'q', '0', '-1');
    await call('LPUSHX', 'nokey', 'x');
    await call('LREM', 'q', '0', 'zz');
    await call('LPOP', 'nokey');
    await call('LTRIM', 'q', '0', '-1');
    expect(records()).toBe(start + 1);
    const w = await blocked(['BLPOP', 'r', '0']);
    await call('RPUSH', 'r', 'v');
    await w.reply;
    expect(records()).toBe(start + 3);
  });
});

describe('restart', () => {
  async function reopen(options: { journalCompactMinBytes?: number } = {}): Promise<void> {
    await s.close();
    s = await openSluice({ dataDir, ...options });
  }

  it('keeps lists, their order and binary values', async () => {
    await call('RPUSH', 'q', 'a', 'b', 'c');
    await call('LPUSH', 'q', 'z');
    await s.call('RPUSH', 'bin', Buffer.from([0, 0xff, 13, 10]));
    await callIn({ ...s.session(), db: 5 }, 'RPUSH', 'q', 'in db 5');
    await call('XADD', 's', '1-1', 'f', 'v');
    await reopen();
    expect(await range('q')).toEqual(['z', 'a', 'b', 'c']);
    const bin = await s.call('LINDEX', 'bin', '0');
    expect(bin.t === 'bulk' ? bin.v : bin).toEqual(Buffer.from([0, 0xff, 13, 10]));
    expect(await callIn({ ...s.session(), db: 5 }, 'LRANGE', 'q', '0', '-1')).toEqual(['in db 5']);
    expect(await call('TYPE', 's')).toBe('stream');
    expect(await call('DBSIZE')).toBe(3);
  });

  it('replays every kind of change', async () => {
    await call('RPUSH', 'l', '1', '2', '3', '4', '5', '6', '2');
    await call('LSET', 'l', '0', 'one');
    await call('LINSERT', 'l', 'AFTER', '3', 'three+');
    await call('LREM', 'l', '-1', '2');
    await call('LTRIM', 'l', '0', '5');
    await call('LMOVE', 'l', 'm', 'RIGHT', 'LEFT');
    await call('RPOPLPUSH', 'l', 'l');
    await call('LMPOP', '1', 'm', 'LEFT');
    await call('RPUSH', 'gone', 'x');
    await call('LPOP', 'gone');
    await call('RPUSH', 'old', 'r');
    await call('RENAME', 'old', 'new');
    await call('RPUSH', 'deleted', 'd');
    await call('DEL', 'deleted');
    const before = await range('l');
    await reopen();
    expect(await range('l')).toEqual(before);
    expect(before).toEqual(['4', 'one', '2', '3', 'three+']);
    expect(await call('EXISTS', 'm', 'gone', 'old', 'deleted')).toBe(0);
    expect(await range('new')).toEqual(['r']);
  });

  it('keeps the state reached by many pushes and pops', async () => {
    const model = await randomTraffic(1500);
    await reopen();
    await expectModel(model);
    await reopen();
    await expectModel(model);
  });

  it('keeps the state through journal compactions', async () => {
    await reopen({ journalCompactMinBytes: 4096 });
    const model = await randomTraffic(1500);
    await s.broker.journal.compact();
    expect(s.broker.journal.stats().compactions).toBeGreaterThan(0);
    await call('RPUSH', 'after-compaction', 'x');
    model.set('after-compaction', ['x']);
    await reopen({ journalCompactMinBytes: 4096 });
    await expectModel(model);
  });

  it('a key that was a list and is now a stream comes back as the stream', async () => {
    await call('RPUSH', 'k', 'a');
    await call('DEL', 'k');
    await call('XADD', 'k', '1-1', 'f', 'v');
    await reopen();
    expect(await call('TYPE', 'k')).toBe('stream');
    expect(await call('XLEN', 'k')).toBe(1);
  });

  it('blocked pops work on restored lists', async () => {
    await call('RPUSH', 'q', 'kept');
    await reopen();
    expect(await call('BLPOP', 'q', '0')).toEqual(['q', 'kept']);
    const w = await blocked(['BLPOP', 'q', '0']);
    await call('RPUSH', 'q', 'new');
    expect(await w.reply).toEqual(['q', 'new']);
    await reopen();
    expect(await call('EXISTS', 'q')).toBe(0);
  });
});

/** Seeded pushes, pops, moves and removals over a few keys; returns the expected lists. */
async function randomTraffic(ops: number): Promise<Map<string, string[]>> {
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const keys = ['a', 'b', 'c', 'd'];
  const model = new Map<string, string[]>();
  const get = (k: string) => model.get(k) ?? [];
  const put = (k: string, v: string[]) => (v.length ? model.set(k, v) : model.delete(k));
  for (let i = 0; i < ops; i++) {
    const k = keys[rand(keys.length)] as string;
    const other = keys[rand(keys.length)] as string;
    const list = [...get(k)];
    switch (rand(5)) {
      case 0:
        await call('RPUSH', k, `v${i}`, `w${i}`);
        put(k, [...list, `v${i}`, `w${i}`]);
        break;
      case 1:
        await call('LPUSH', k, `x${i}`);
        put(k, [`x${i}`, ...list]);
        break;
      case 2:
        expect(await call('LPOP', k, '2')).toEqual(list.length ? list.slice(0, 2) : NIL_ARRAY);
        put(k, list.slice(2));
        break;
      case 3:
        expect(await call('RPOPLPUSH', k, other)).toBe(list.length ? list.at(-1) : null);
        if (list.length) {
          const v = list.pop() as string;
          put(k, list);
          put(other, [v, ...get(other)]);
        }
        break;
      default:
        await call('LTRIM', k, '0', '20');
        put(k, list.slice(0, 21));
    }
  }
  return model;
}

async function expectModel(model: Map<string, string[]>): Promise<void> {
  for (const k of ['a', 'b', 'c', 'd'])
    expect([k, await range(k)]).toEqual([k, model.get(k) ?? []]);
  for (const [k, v] of model) expect([k, await range(k)]).toEqual([k, v]);
  expect(await call('DBSIZE')).toBe(model.size);
}
