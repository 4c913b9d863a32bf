// The stream data commands through the real command table and dispatcher: every option and
// error of XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and XREAD, ID generation,
// approximate trims against Redis's node layout, blocking reads, durability under fsync
// 'always', and restarts on the same data directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeIo, type Io } from '../../storage/io';
import { StreamLog } from '../../storage/stream-log';
import { nodeModel, nodeModelSettings, MODEL_MAX_NODES } from '../../src/broker/streams';
import type { Session } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

/** A reply as plain data: strings for bulk and simple, null for nil, NIL_ARRAY for `*-1`. */
type Plain = string | number | null | { err: string } | { map: [Plain, Plain][] } | Plain[];
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
      return { map: r.v.map(([k, v]) => [plain(k), plain(v)] as [Plain, Plain]) };
    case 'array':
    case 'set':
    case 'push':
      return r.v.map(plain);
  }
}

const err = (text: string) => ({ err: text });
const MAX = '18446744073709551615';
const INVALID_ID = err('ERR Invalid stream ID specified as stream command argument');
const TOO_SMALL = err(
  'ERR The ID specified in XADD is equal or smaller than the target stream top item',
);
const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');

let s: InProcessSluice;
let dataDir: string;

async function call(...args: string[]): Promise<Plain> {
  return plain(await s.call(...args));
}

async function callIn(session: Session, ...args: string[]): Promise<Plain> {
  return plain(await s.callIn(session, ...args));
}

/** XADD key <ms>-0 f v for ms in [from, to], with `options` before the ID. */
async function addMany(key: string, from: number, to: number, options: string[] = []) {
  for (let ms = from; ms <= to; ms++) await call('XADD', key, ...options, `${ms}-0`, 'f', 'v');
}

/** Resolves true when `p` settles within `ms` milliseconds. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-streams-'));
  s = await openSluice({ dataDir });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await s.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('XADD', () => {
  it('replies with an explicit ID and keeps the fields in order, repeats included', async () => {
    expect(await call('XADD', 's', '5-3', 'f', 'a', 'f', 'b', '', '')).toBe('5-3');
    expect(await call('XRANGE', 's', '-', '+')).toEqual([['5-3', ['f', 'a', 'f', 'b', '', '']]]);
  });

  it('IDs are incremental when the ms part is the same', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('1700000000000-0');
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('1700000000000-1');
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('1700000000000-2');
  });

  it('takes the clock with sequence 0 once the clock moves on', async () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    await call('XADD', 's', '*', 'f', 'v');
    now.mockReturnValue(1_700_000_000_007);
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('1700000000007-0');
  });

  it('increments the sequence of the last ID when it is ahead of the clock', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_000);
    await call('XADD', 's', '5000-7', 'f', 'v');
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('5000-8');
    await call('XADD', 's', `6000-${MAX}`, 'f', 'v');
    expect(await call('XADD', 's', '*', 'f', 'v')).toBe('6001-0');
  });

  it('generates strictly increasing IDs with the real clock', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await call('XADD', 's', '*', 'f', 'v')) as string);
    for (let i = 1; i < ids.length; i++) {
      const [pm, ps] = (ids[i - 1] as string).split('-').map(BigInt) as [bigint, bigint];
      const [m, q] = (ids[i] as string).split('-').map(BigInt) as [bigint, bigint];
      expect(m > pm || (m === pm && q === ps + 1n)).toBe(true);
    }
  });

  it('<ms>-* starts a new ms at sequence 0 and increments within the last ms', async () => {
    expect(await call('XADD', 's', '0-*', 'f', 'v')).toBe('0-1');
    expect(await call('XADD', 's', '7-*', 'f', 'v')).toBe('7-0');
    expect(await call('XADD', 's', '7-*', 'f', 'v')).toBe('7-1');
    expect(await call('XADD', 's', '6-*', 'f', 'v')).toEqual(TOO_SMALL);
  });

  it('an ms-only ID means sequence 0', async () => {
    expect(await call('XADD', 's', '12', 'f', 'v')).toBe('12-0');
    expect(await call('XADD', 's', '12', 'f', 'v')).toEqual(TOO_SMALL);
  });

  it('refuses IDs equal to or below the top item, and 0-0 before creating the key', async () => {
    expect(await call('XADD', 's', '0-0', 'f', 'v')).toEqual(
      err('ERR The ID specified in XADD must be greater than 0-0'),
    );
    expect(await call('XLEN', 's')).toBe(0);
    expect(await call('EXISTS', 's')).toBe(0);
    await call('XADD', 's', '5-5', 'f', 'v');
    expect(await call('XADD', 's', '5-5', 'f', 'v')).toEqual(TOO_SMALL);
    expect(await call('XADD', 's', '5-4', 'f', 'v')).toEqual(TOO_SMALL);
    expect(await call('XLEN', 's')).toBe(1);
  });

  it('refuses any ID after the largest, and <ms>-* past the largest sequence', async () => {
    const exhausted = err(
      'ERR The stream has exhausted the last possible ID, unable to add more items',
    );
    await call('XADD', 'a', `5-${MAX}`, 'f', 'v');
    expect(await call('XADD', 'a', '5-*', 'f', 'v')).toEqual(
      err('ERR Elements are too large to be stored'),
    );
    expect(await call('XADD', 'a', '6-*', 'f', 'v')).toBe('6-0');
    await call('XADD', 'b', `${MAX}-${MAX}`, 'f', 'v');
    expect(await call('XADD', 'b', '*', 'f', 'v')).toEqual(exhausted);
    expect(await call('XADD', 'b', `${MAX}-*`, 'f', 'v')).toEqual(exhausted);
  });

  it('refuses IDs that are not IDs', async () => {
    for (const id of ['abc', '-', '+', '1-2-3', '1-', '-1', `${MAX}0-0`, '1-*-2']) {
      expect(await call('XADD', 's', id, 'f', 'v')).toEqual(INVALID_ID);
    }
    expect(await call('EXISTS', 's')).toBe(0);
  });

  it('NOMKSTREAM replies nil for a missing key and creates nothing', async () => {
    expect(await call('XADD', 's', 'NOMKSTREAM', '1-1', 'f', 'v')).toBeNull();
    expect(await call('EXISTS', 's')).toBe(0);
    await call('XADD', 's', '1-1', 'f', 'v');
    expect(await call('XADD', 's', 'nomkstream', '2-1', 'f', 'v')).toBe('2-1');
  });

  it('answers option and arity errors as Redis does', async () => {
    const cases: Array<[string[], Plain]> = [
      [['*', 'f'], err("ERR wrong number of arguments for 'xadd' command")],
      [['1-1', 'f', 'v', 'g'], err("ERR wrong number of arguments for 'xadd' command")],
      [['NOMKSTREAM', 'MAXLEN', '5'], err("ERR wrong number of arguments for 'xadd' command")],
      [['MAXLEN', '5', 'f'], INVALID_ID],
      [['MAXLEN', 'x', '*', 'f'], NOT_INT],
      [['MAXLEN', '~', 'f', 'v'], NOT_INT],
      [['MAXLEN', '-1', '*', 'f', 'v'], err('ERR The MAXLEN argument must be >= 0.')],
      [
        ['MAXLEN', '1', 'MINID', '1', '*', 'f', 'v'],
        err('ERR syntax error, MAXLEN and MINID options at the same time are not compatible'),
      ],
      [['MINID', '-', '*', 'f', 'v'], INVALID_ID],
      [
        ['MAXLEN', '1', 'LIMIT', '10', '*', 'f', 'v'],
        err('ERR syntax error, LIMIT cannot be used without the special ~ option'),
      ],
      [
        ['LIMIT', '10', '*', 'f', 'v'],
        err('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy'),
      ],
      [
        ['LIMIT', '0', '*', 'f', 'v'],
        err('ERR syntax error, LIMIT cannot be used without the special ~ option'),
      ],
      [
        ['MAXLEN', '~', '1', 'LIMIT', '-1', '*', 'f', 'v'],
        err('ERR The LIMIT argument must be >= 0.'),
      ],
    ];
    for (const [args, reply] of cases) expect(await call('XADD', 's', ...args)).toEqual(reply);
    expect(await call('EXISTS', 's')).toBe(0);
  });

  it('MAXLEN and MINID trim exactly in the same command', async () => {
    await addMany('s', 1, 5, ['MAXLEN', '=', '2']);
    expect(await call('XRANGE', 's', '-', '+')).toEqual([
      ['4-0', ['f', 'v']],
      ['5-0', ['f', 'v']],
    ]);
    expect(await call('XADD', 's', 'MINID', '5-1', '6-0', 'f', 'v')).toBe('6-0');
    expect(await call('XLEN', 's')).toBe(1);
    expect(await call('XADD', 's', 'MAXLEN', '0', '7-0', 'f', 'v')).toBe('7-0');
    expect(await call('XLEN', 's')).toBe(0);
    expect(await call('TYPE', 's')).toBe('stream');
  });

  it('MAXLEN ~ removes whole nodes of 100 entries, as Redis does', async () => {
    await addMany('s', 1, 260, ['MAXLEN', '~', '10']);
    expect(await call('XLEN', 's')).toBe(60); // redis-server 7.0: 60
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', '1')).toEqual([['201-0', ['f', 'v']]]);
  });

  it('MAXLEN ~ with LIMIT removes at most LIMIT entries, whole nodes only', async () => {
    await addMany('s', 1, 250);
    expect(await call('XADD', 's', 'MAXLEN', '~', '0', 'LIMIT', '99', '251-0', 'f', 'v')).toBe(
      '251-0',
    );
    expect(await call('XLEN', 's')).toBe(251);
    await call('XADD', 's', 'MAXLEN', '~', '0', 'LIMIT', '150', '252-0', 'f', 'v');
    expect(await call('XLEN', 's')).toBe(152);
  });

  it('MINID ~ removes nodes whose last entry is below the ID', async () => {
    await addMany('s', 1, 250);
    await call('XADD', 's', 'MINID', '~', '230', '251-0', 'f', 'v');
    expect(await call('XLEN', 's')).toBe(51);
  });

  it('refuses an entry too large for a log record with Redis text', async () => {
    const big = 'x'.repeat(33 * 1024 * 1024);
    expect(await call('XADD', 's', '1-1', 'f', big)).toEqual(
      err('ERR Elements are too large to be stored'),
    );
    expect(await call('XADD', 's', '1-1', 'f', 'v')).toBe('1-1');
  });

  it('on a key of another type answers WRONGTYPE, after the 0-0 check', async () => {
    (s.broker.keyspace.db(0) as Map<string, unknown>).set('l', { type: 'list' });
    const wrongType = err('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await call('XADD', 'l', '0-0', 'f', 'v')).toEqual(
      err('ERR The ID specified in XADD must be greater than 0-0'),
    );
    expect(await call('XADD', 'l', '*', 'f', 'v')).toEqual(wrongType);
    expect(await call('XLEN', 'l')).toEqual(wrongType);
    expect(await call('XRANGE', 'l', '-', '+')).toEqual(wrongType);
    expect(await call('XDEL', 'l', 'abc')).toEqual(wrongType);
    expect(await call('XTRIM', 'l', 'MAXLEN', '0')).toEqual(wrongType);
    expect(await call('XSETID', 'l', '1-1')).toEqual(wrongType);
    expect(await call('XREAD', 'STREAMS', 'l', '0')).toEqual(wrongType);
  });
});

describe('XLEN', () => {
  it('counts live entries and is 0 for a missing key', async () => {
    expect(await call('XLEN', 's')).toBe(0);
    await addMany('s', 1, 3);
    await call('XDEL', 's', '2-0');
    expect(await call('XLEN', 's')).toBe(2);
    expect(await call('XLEN')).toEqual(err("ERR wrong number of arguments for 'xlen' command"));
  });
});

describe('XRANGE and XREVRANGE', () => {
  beforeEach(async () => {
    for (const id of ['1-1', '1-2', '2-0', '4-5']) await call('XADD', 's', id, 'f', id);
  });
  const ids = (r: Plain) => (r as Plain[][]).map((e) => e[0]);

  it('read all entries in either direction', async () => {
    expect(ids(await call('XRANGE', 's', '-', '+'))).toEqual(['1-1', '1-2', '2-0', '4-5']);
    expect(ids(await call('XREVRANGE', 's', '+', '-'))).toEqual(['4-5', '2-0', '1-2', '1-1']);
  });

  it('complete a missing sequence with 0 for the start and the largest for the end', async () => {
    expect(ids(await call('XRANGE', 's', '1', '1'))).toEqual(['1-1', '1-2']);
    expect(ids(await call('XREVRANGE', 's', '2', '2'))).toEqual(['2-0']);
  });

  it('leave out exclusive bounds', async () => {
    expect(ids(await call('XRANGE', 's', '(1-1', '(4-5'))).toEqual(['1-2', '2-0']);
    expect(ids(await call('XREVRANGE', 's', '(4-5', '(1-1'))).toEqual(['2-0', '1-2']);
  });

  it('COUNT limits, the last COUNT wins, and 0 or less replies a null array', async () => {
    expect(ids(await call('XRANGE', 's', '-', '+', 'COUNT', '2'))).toEqual(['1-1', '1-2']);
    expect(ids(await call('XREVRANGE', 's', '+', '-', 'count', '9', 'COUNT', '1'))).toEqual([
      '4-5',
    ]);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', '0')).toBe(NIL_ARRAY);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', '-3')).toBe(NIL_ARRAY);
    expect(await call('XRANGE', 'nokey', '-', '+', 'COUNT', '0')).toEqual([]);
  });

  it('answer argument errors as Redis does', async () => {
    expect(await call('XRANGE', 's', `(${MAX}-${MAX}`, '+')).toEqual(
      err('ERR invalid start ID for the interval'),
    );
    expect(await call('XRANGE', 's', '-', '(0-0')).toEqual(
      err('ERR invalid end ID for the interval'),
    );
    expect(await call('XREVRANGE', 's', '(0-0', '-')).toEqual(
      err('ERR invalid end ID for the interval'),
    );
    expect(await call('XRANGE', 's', '(-', '+')).toEqual(INVALID_ID);
    expect(await call('XRANGE', 's', '-', '(+')).toEqual(INVALID_ID);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT')).toEqual(SYNTAX);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', 'x')).toEqual(NOT_INT);
    expect(await call('XRANGE', 's', '-', '+', 'FOO', '1')).toEqual(SYNTAX);
  });

  it('reply in RESP3 with the same arrays', async () => {
    const session: Session = { ...s.session(), resp: 3 };
    expect(await callIn(session, 'XRANGE', 's', '4', '+')).toEqual([['4-5', ['f', '4-5']]]);
  });
});

describe('XDEL', () => {
  it('counts the IDs that existed, each once', async () => {
    await addMany('s', 1, 4);
    expect(await call('XDEL', 's', '1-0', '1-0', '9-0', '3')).toBe(2);
    expect(await call('XRANGE', 's', '-', '+')).toEqual([
      ['2-0', ['f', 'v']],
      ['4-0', ['f', 'v']],
    ]);
  });

  it('deletes nothing when one ID is invalid, and answers 0 for a missing key first', async () => {
    await addMany('s', 1, 2);
    expect(await call('XDEL', 's', '1-0', 'abc')).toEqual(INVALID_ID);
    expect(await call('XLEN', 's')).toBe(2);
    expect(await call('XDEL', 'nokey', 'abc')).toBe(0);
  });

  it('leaves an empty stream that keeps its last ID', async () => {
    await addMany('s', 1, 2);
    expect(await call('XDEL', 's', '1-0', '2-0')).toBe(2);
    expect(await call('XLEN', 's')).toBe(0);
    expect(await call('TYPE', 's')).toBe('stream');
    expect(await call('XADD', 's', '2-0', 'f', 'v')).toEqual(TOO_SMALL);
    expect(await call('XADD', 's', '2-*', 'f', 'v')).toBe('2-1');
  });

  it('frees a Redis node once its last entry goes, which approximate trims then see', async () => {
    await addMany('s', 1, 250);
    expect(await call('XDEL', 's', '1-0', '2-0', '3-0')).toBe(3);
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '100')).toBe(97); // redis-server 7.0: 97
    expect(await call('XLEN', 's')).toBe(150);
  });
});

describe('XTRIM', () => {
  it('trims exactly by MAXLEN and MINID, and 0 for a missing key', async () => {
    expect(await call('XTRIM', 's', 'MAXLEN', '0')).toBe(0);
    await addMany('s', 1, 10);
    expect(await call('XTRIM', 's', 'MAXLEN', '8')).toBe(2);
    expect(await call('XTRIM', 's', 'MINID', '=', '5')).toBe(2);
    expect(await call('XTRIM', 's', 'MAXLEN', '100')).toBe(0);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', '1')).toEqual([['5-0', ['f', 'v']]]);
    expect(await call('XTRIM', 's', 'MAXLEN', '0')).toBe(6);
    expect(await call('EXISTS', 's')).toBe(1);
  });

  it('MAXLEN ~ cuts at Redis node boundaries, including nodes cut at 4 KiB', async () => {
    for (let ms = 1; ms <= 120; ms++) await call('XADD', 's', `${ms}-0`, 'f', 'x'.repeat(100));
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '10')).toBe(108); // redis-server 7.0: 108
  });

  it('MAXLEN ~ without LIMIT removes at most 10000 entries; LIMIT 0 has no limit', async () => {
    await addMany('s', 1, 10100);
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '0')).toBe(10000);
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '0', 'LIMIT', '0')).toBe(100);
  }, 60_000);

  it('approximate trims count the slots an exact trim left deleted in a node', async () => {
    await addMany('s', 1, 250);
    expect(await call('XTRIM', 's', 'MAXLEN', '230')).toBe(20);
    // The first node still spans 1..100, 80 of them live.
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '150')).toBe(80);
    expect(await call('XLEN', 's')).toBe(150);
  });

  it('answers option errors as Redis does', async () => {
    const cases: Array<[string[], Plain]> = [
      [['LIMIT', '0'], err('ERR syntax error, XTRIM must be called with a trimming strategy')],
      [
        ['LIMIT', '5'],
        err('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy'),
      ],
      [['FOO', '1'], SYNTAX],
      [['MAXLEN', '~'], NOT_INT],
      [
        ['MAXLEN', '1', 'LIMIT', '5'],
        err('ERR syntax error, LIMIT cannot be used without the special ~ option'),
      ],
      [['MAXLEN', '-5'], err('ERR The MAXLEN argument must be >= 0.')],
      [['MINID', '+'], INVALID_ID],
    ];
    for (const [args, reply] of cases) expect(await call('XTRIM', 's', ...args)).toEqual(reply);
    expect(await call('XTRIM', 's', 'MAXLEN')).toEqual(
      err("ERR wrong number of arguments for 'xtrim' command"),
    );
  });
});

describe('XSETID', () => {
  it('moves the last ID forward, and XADD follows it', async () => {
    await addMany('s', 1, 2);
    expect(await call('XSETID', 's', '9-9')).toBe('OK');
    expect(await call('XADD', 's', '9-9', 'f', 'v')).toEqual(TOO_SMALL);
    expect(await call('XADD', 's', '9-*', 'f', 'v')).toBe('9-10');
  });

  it('answers argument and stream errors as Redis does', async () => {
    expect(await call('XSETID', 's', '1-1')).toEqual(err('ERR no such key'));
    expect(await call('XSETID', 's', '1-1', 'ENTRIESADDED', '-1')).toEqual(
      err('ERR entries_added must be positive'),
    );
    expect(await call('XSETID', 's', '1-1', 'MAXDELETEDID', '2-2')).toEqual(
      err('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id'),
    );
    expect(await call('XSETID', 's', '1-1', 'ENTRIESADDED')).toEqual(SYNTAX);
    await addMany('s', 1, 3);
    expect(await call('XSETID', 's', '2-9')).toEqual(
      err('ERR The ID specified in XSETID is smaller than the target stream top item'),
    );
    expect(await call('XSETID', 's', '3-0', 'ENTRIESADDED', '2')).toEqual(
      err('ERR The entries_added specified in XSETID is smaller than the target stream length'),
    );
    expect(await call('XSETID', 's', '3-0', 'ENTRIESADDED', '3', 'MAXDELETEDID', '3-0')).toBe('OK');
  });

  it('refuses to go below entries the log still holds (Redis 7.0 would accept)', async () => {
    await addMany('s', 1, 3);
    await call('XDEL', 's', '3-0');
    expect(await call('XSETID', 's', '2-5')).toEqual(
      err('ERR The ID specified in XSETID is smaller than current max_deleted_entry_id'),
    );
    await addMany('t', 1, 3);
    await call('XTRIM', 't', 'MAXLEN', '0');
    expect(await call('XSETID', 't', '3-0')).toBe('OK');
    expect(await call('XSETID', 't', '2-0')).toEqual(
      err('ERR The ID specified in XSETID is smaller than an entry the stream once held'),
    );
  });

  it('leaves the Redis node layout alone', async () => {
    await addMany('s', 1, 250);
    await call('XDEL', 's', '1-0', '2-0', '3-0');
    expect(await call('XSETID', 's', '250-0', 'ENTRIESADDED', '1000')).toBe('OK');
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '100')).toBe(97); // redis-server 7.0: 97
  });

  it('lowers the last ID when no stored entry is above it', async () => {
    await addMany('s', 1, 1);
    await call('XSETID', 's', '10-0');
    expect(await call('XSETID', 's', '5-0')).toBe('OK');
    expect(await call('XADD', 's', '6-0', 'f', 'v')).toBe('6-0');
  });
});

describe('XREAD', () => {
  beforeEach(async () => {
    for (const id of ['1-1', '1-2', '2-0']) await call('XADD', 's', id, 'f', id);
    await call('XADD', 't', '3-1', 'g', 'x');
  });

  it('reads entries after each ID from several streams, leaving out empty results', async () => {
    expect(await call('XREAD', 'STREAMS', 's', 'nokey', 't', '1-1', '0', '$')).toEqual([
      [
        's',
        [
          ['1-2', ['f', '1-2']],
          ['2-0', ['f', '2-0']],
        ],
      ],
    ]);
    expect(await call('XREAD', 'COUNT', '1', 'STREAMS', 's', 't', '0', '0')).toEqual([
      ['s', [['1-1', ['f', '1-1']]]],
      ['t', [['3-1', ['g', 'x']]]],
    ]);
  });

  it('replies a map in RESP3 and a null array when nothing is new', async () => {
    const session: Session = { ...s.session(), resp: 3 };
    expect(await callIn(session, 'XREAD', 'STREAMS', 't', '0')).toEqual({
      map: [['t', [['3-1', ['g', 'x']]]]],
    });
    expect(await call('XREAD', 'STREAMS', 's', 't', '$', '$')).toBe(NIL_ARRAY);
  });

  it('COUNT 0 and negative COUNT read everything', async () => {
    const all = await call('XREAD', 'STREAMS', 's', '0');
    expect(await call('XREAD', 'COUNT', '0', 'STREAMS', 's', '0')).toEqual(all);
    expect(await call('XREAD', 'COUNT', '-2', 'STREAMS', 's', '0')).toEqual(all);
  });

  it('+ reads the last live entry (Redis 7.4)', async () => {
    expect(await call('XREAD', 'STREAMS', 's', 'nokey', '+', '+')).toEqual([
      ['s', [['2-0', ['f', '2-0']]]],
    ]);
    await call('XDEL', 's', '2-0');
    expect(await call('XREAD', 'STREAMS', 's', '+')).toEqual([['s', [['1-2', ['f', '1-2']]]]]);
  });

  it('answers argument errors as Redis does', async () => {
    const cases: Array<[string[], Plain]> = [
      [
        ['STREAMS', 's', 't', '0'],
        err(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be " +
            'specified.',
        ),
      ],
      [['COUNT', '1', 'BLOCK', '1'], SYNTAX],
      [['FOO', 'STREAMS', 's', '0'], SYNTAX],
      [['COUNT', 'x', 'STREAMS', 's', '0'], NOT_INT],
      [['BLOCK', '-1', 'STREAMS', 's', '0'], err('ERR timeout is negative')],
      [['BLOCK', '1.5', 'STREAMS', 's', '0'], err('ERR timeout is not an integer or out of range')],
      [
        ['GROUP', 'g', 'c', 'STREAMS', 's', '0'],
        err('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.'),
      ],
      [
        ['NOACK', 'STREAMS', 's', '0'],
        err('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.'),
      ],
      [
        ['STREAMS', 's', '>'],
        err(
          'ERR The > ID can be specified only when calling XREADGROUP using the GROUP ' +
            '<group> <consumer> option.',
        ),
      ],
      [['STREAMS', 's', '-'], INVALID_ID],
    ];
    for (const [args, reply] of cases) expect(await call('XREAD', ...args)).toEqual(reply);
  });

  it('flags the keys after STREAMS for the dispatcher', () => {
    const row = s.dispatcher.table.get('xread');
    const args = ['XREAD', 'COUNT', '2', 'BLOCK', '0', 'STREAMS', 'a', 'b', '0', '0'];
    expect(row?.keys?.(args.map((a) => Buffer.from(a)))).toEqual([6, 7]);
    expect(row?.flags).toContain('readonly');
    expect(row?.flags).not.toContain('write');
  });
});

describe('XREAD BLOCK', () => {
  let reader: Session;
  beforeEach(() => {
    reader = s.session();
  });

  it('wakes on XADD without polling', async () => {
    const read = vi.spyOn(StreamLog.prototype, 'read');
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    expect(await settlesWithin(pending, 50)).toBe(false);
    expect(s.broker.blocking.blockedCount).toBe(1);
    const readsWhileBlocked = read.mock.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(read.mock.calls.length).toBe(readsWhileBlocked);
    await call('XADD', 's', '5-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['5-0', ['f', 'v']]]]]);
    expect(s.broker.blocking.blockedCount).toBe(0);
  });

  it('watches several streams and replies with the one that got data', async () => {
    await call('XADD', 'b', '1-0', 'f', 'old');
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 'a', 'b', '$', '$');
    expect(await settlesWithin(pending, 30)).toBe(false);
    await call('XADD', 'b', '2-0', 'f', 'new');
    expect(await pending).toEqual([['b', [['2-0', ['f', 'new']]]]]);
  });

  it('times out with a null array', async () => {
    const started = Date.now();
    expect(await callIn(reader, 'XREAD', 'BLOCK', '60', 'STREAMS', 's', '$')).toBe(NIL_ARRAY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('BLOCK 0 waits until data arrives', async () => {
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '0');
    expect(await settlesWithin(pending, 150)).toBe(false);
    await call('XADD', 's', '1-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['1-0', ['f', 'v']]]]]);
  });

  it('wakes every client blocked on the stream', async () => {
    const first = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    const second = callIn(s.session(), 'XREAD', 'BLOCK', '0', 'COUNT', '1', 'STREAMS', 's', '0');
    expect(await settlesWithin(Promise.race([first, second]), 30)).toBe(false);
    expect(s.broker.blocking.blockedCount).toBe(2);
    await call('XADD', 's', '3-0', 'f', 'v');
    const reply = [['s', [['3-0', ['f', 'v']]]]];
    expect(await first).toEqual(reply);
    expect(await second).toEqual(reply);
  });

  it('$ keeps the last ID of the first call across wake-ups', async () => {
    await call('XADD', 's', '1-0', 'f', 'v');
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    await settlesWithin(pending, 20);
    // A wake-up with nothing new (XTRIM signals nothing, so signal by hand) blocks again.
    s.broker.blocking.signal(String.fromCharCode(0) + 's');
    expect(await settlesWithin(pending, 20)).toBe(false);
    await call('XADD', 's', '2-0', 'f', 'v');
    await call('XADD', 's', '3-0', 'f', 'v');
    const reply = (await pending) as Plain[][];
    expect((reply[0]?.[1] as Plain[][]).map((e) => e[0])).toContain('2-0');
  });

  it('$ on a missing stream serves the first entry added', async () => {
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    await settlesWithin(pending, 20);
    await call('XADD', 's', '1-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['1-0', ['f', 'v']]]]]);
  });

  it('+ on an empty stream serves the last entry once one arrives', async () => {
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '+');
    expect(await settlesWithin(pending, 20)).toBe(false);
    await call('XADD', 's', '1-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['1-0', ['f', 'v']]]]]);
  });

  it('a timeout beyond the timer range (2^31 ms) does not end the wait early', async () => {
    const pending = callIn(reader, 'XREAD', 'BLOCK', '9000000000000', 'STREAMS', 's', '$');
    expect(await settlesWithin(pending, 50)).toBe(false);
    await call('XADD', 's', '1-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['1-0', ['f', 'v']]]]]);
  });

  it('keeps waiting when the stream is deleted, and serves it once re-created', async () => {
    await call('XADD', 's', '5-0', 'f', 'v');
    const pending = callIn(reader, 'XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    await settlesWithin(pending, 20);
    await call('DEL', 's');
    expect(await settlesWithin(pending, 30)).toBe(false);
    await call('XADD', 's', '6-0', 'f', 'v');
    expect(await pending).toEqual([['s', [['6-0', ['f', 'v']]]]]);
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

describe('durability', () => {
  it("XADD under fsync 'always' replies only once the entry is fdatasync'd", async () => {
    const gate = gatedIo();
    const durable = await openSluice({ fsync: 'always', io: gate.io });
    try {
      expect(plain(await durable.call('XADD', 's', '1-0', 'f', 'v'))).toBe('1-0');
      gate.close();
      const before = gate.syncs();
      const reply = durable.call('XADD', 's', '2-0', 'f', 'v');
      expect(await settlesWithin(reply, 50)).toBe(false);
      expect(gate.syncs()).toBeGreaterThan(before);
      gate.open();
      expect(plain(await reply)).toBe('2-0');
    } finally {
      gate.open();
      await durable.close();
    }
  });

  it("XDEL, XTRIM and XSETID under fsync 'always' are acknowledged after their sync", async () => {
    const gate = gatedIo();
    const durable = await openSluice({ fsync: 'always', io: gate.io });
    try {
      for (let i = 1; i <= 5; i++) await durable.call('XADD', 's', `${i}-0`, 'f', 'v');
      for (const args of [
        ['XDEL', 's', '1-0'],
        ['XTRIM', 's', 'MAXLEN', '2'],
        ['XSETID', 's', '9-0'],
      ]) {
        gate.close();
        const reply = durable.call(...args);
        expect(await settlesWithin(reply, 30)).toBe(false);
        gate.open();
        expect((await reply).t).not.toBe('error');
      }
    } finally {
      gate.open();
      await durable.close();
    }
  });
});

describe('restart', () => {
  async function reopen(): Promise<void> {
    await s.close();
    s = await openSluice({ dataDir });
  }

  it('keeps entries, lengths and the ID generator', async () => {
    await addMany('s', 1, 5);
    await call('XDEL', 's', '5-0');
    await call('XADD', 'e', 'MAXLEN', '0', '7-3', 'f', 'v');
    const before = await call('XRANGE', 's', '-', '+');
    await reopen();
    expect(await call('XRANGE', 's', '-', '+')).toEqual(before);
    expect(await call('XLEN', 's')).toBe(4);
    expect(await call('XADD', 's', '5-0', 'f', 'v')).toEqual(TOO_SMALL);
    expect(await call('XADD', 's', '5-*', 'f', 'v')).toBe('5-1');
    expect(await call('XLEN', 'e')).toBe(0);
    expect(await call('TYPE', 'e')).toBe('stream');
    expect(await call('XADD', 'e', '7-*', 'f', 'v')).toBe('7-4');
  });

  it('keeps XSETID counters', async () => {
    await addMany('s', 1, 2);
    await call('XSETID', 's', '50-0');
    await reopen();
    expect(await call('XADD', 's', '50-*', 'f', 'v')).toBe('50-1');
  });

  it('approximate trims after a restart pack the stored entries into fresh nodes', async () => {
    await addMany('s', 1, 250);
    await reopen();
    expect(nodeModel(streamLog('s')).hasLazyRegion).toBe(true);
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '10')).toBe(200);
    expect(await call('XRANGE', 's', '-', '+', 'COUNT', '1')).toEqual([['201-0', ['f', 'v']]]);
  });
});

function streamLog(key: string): StreamLog {
  const value = s.broker.keyspace.stream(0, Buffer.from(key));
  if (!value) throw new Error(`no stream ${key}`);
  return value.log;
}

describe('Redis node emulation', () => {
  afterEach(() => {
    nodeModelSettings.maxNodes = MODEL_MAX_NODES;
  });

  it('counts the nodes redis-server makes for entries cut by size', async () => {
    for (let ms = 1; ms <= 120; ms++) await call('XADD', 's', `${ms}-0`, 'f', 'x'.repeat(100));
    expect(nodeModel(streamLog('s')).knownNodes).toBe(4); // XINFO radix-tree-keys: 4
  });

  it('gives the same trims when old nodes fold into the lazy region', async () => {
    const run = async (key: string) => {
      const lengths: Plain[] = [];
      for (let ms = 1; ms <= 900; ms++) {
        const value = 'y'.repeat((ms * 7) % 90);
        await call('XADD', key, 'MAXLEN', '~', '420', `${ms}-0`, 'f', value);
        if (ms % 50 === 0) lengths.push(await call('XLEN', key));
      }
      return lengths;
    };
    const unfolded = await run('a');
    nodeModelSettings.maxNodes = 2;
    const folded = await run('b');
    expect(nodeModel(streamLog('b')).hasLazyRegion).toBe(true);
    expect(folded).toEqual(unfolded);
  });

  it('starts over from the log when entries were added without it', async () => {
    await addMany('s', 1, 150);
    const log = streamLog('s');
    await log.append(() => [
      { id: log.lastId.next()!, fields: [Buffer.from('f'), Buffer.from('v')] },
    ]);
    expect(nodeModel(log).hasLazyRegion).toBe(true);
    expect(await call('XTRIM', 's', 'MAXLEN', '~', '0')).toBe(151);
  });
});
