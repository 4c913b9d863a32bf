// Consumer groups through the real command table and dispatcher: every option and error of
// XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO, blocking reads, and
// durability: restarts with and without a checkpoint, a crash simulated by copying the data
// directory of a running broker, and replay of the group records over any snapshot.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamGroups } from '../../src/broker/groups';
import type { Session } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

/** A reply as plain data: strings for bulk and simple, null for nil, NIL_ARRAY for `*-1`. */
type Plain = string | number | null | { err: string } | { map: Plain[][] } | Plain[];
const NIL_ARRAY = '<nil-array>';

/** `resp` 2 flattens maps into field/value arrays, as RESP2 clients see them. */
function plain(r: Reply, resp: 2 | 3 = 2): Plain {
  switch (r.t) {
    case 'bulk':
      return r.v.toString('latin1');
    case 'simple':
      return r.v;
    case 'int':
      return typeof r.v === 'bigint' && !Number.isSafeInteger(Number(r.v))
        ? `${r.v}n`
        : Number(r.v);
    case 'error':
      return { err: r.v };
    case 'null':
      return null;
    case 'nullarray':
      return NIL_ARRAY;
    case 'double':
      return r.v;
    case 'map':
      if (resp === 2) return r.v.flatMap(([k, v]) => [plain(k, resp), plain(v, resp)]);
      return { map: r.v.map(([k, v]) => [plain(k, resp), plain(v, resp)]) };
    case 'array':
    case 'set':
    case 'push':
      return r.v.map((x) => plain(x, resp));
  }
}

const err = (text: string) => ({ err: text });
const NOKEY =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to ' +
  'use the MKSTREAM option to create an empty stream automatically.';

let dataDir: string;
let s: InProcessSluice;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-groups-'));
  s = await openSluice({ dataDir, fsync: 'always' });
  mainSession = s.session();
});
afterEach(async () => {
  await s.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const run = async (...args: string[]): Promise<Plain> => runIn(mainSession, ...args);
const runIn = async (session: Session, ...args: string[]): Promise<Plain> =>
  plain(await s.callIn(session, ...args), session.resp);
let mainSession: Session;

/** XADD through the dispatcher. */
async function xadd(key: string, id: string, ...fields: string[]): Promise<Plain> {
  return run('XADD', key, id, ...(fields.length > 0 ? fields : ['f', 'v']));
}

/** Stream `s` with entries 1-0 .. n-0 (f = v1..vn) and group `g` at 0-0. */
async function seed(n: number, key = 's'): Promise<void> {
  for (let i = 1; i <= n; i++) await xadd(key, `${i}-0`, 'f', `v${i}`);
  expect(await run('XGROUP', 'CREATE', key, 'g', '0')).toBe('OK');
}

const entry = (id: string, ...fields: string[]): Plain => [id, fields];
const readNew = (consumer: string, ...opts: string[]) =>
  run('XREADGROUP', 'GROUP', 'g', consumer, ...opts, 'STREAMS', 's', '>');
const history = (consumer: string, from = '0', ...opts: string[]) =>
  run('XREADGROUP', 'GROUP', 'g', consumer, ...opts, 'STREAMS', 's', from);

/** XPENDING's extended form without idle times: [id, consumer, count]. */
async function pendingRows(...extra: string[]): Promise<Plain[]> {
  const rows = (await run('XPENDING', 's', 'g', '-', '+', '1000', ...extra)) as Plain[][];
  return rows.map(([id, consumer, , count]) => [id, consumer, count] as Plain);
}

/** A field of a flat field/value list (XINFO replies in RESP2). */
function field(flat: Plain, name: string): Plain {
  const list = flat as Plain[];
  const i = list.indexOf(name);
  expect(i).toBeGreaterThanOrEqual(0);
  return list[i + 1] as Plain;
}

const groupInfo = async () => ((await run('XINFO', 'GROUPS', 's')) as Plain[])[0] as Plain;

describe('XGROUP CREATE', () => {
  it('creates a group at an ID, at $ or with MKSTREAM', async () => {
    await xadd('s', '1-0');
    await xadd('s', '2-5');
    expect(await run('XGROUP', 'CREATE', 's', 'a', '0')).toBe('OK');
    expect(await run('XGROUP', 'CREATE', 's', 'b', '$')).toBe('OK');
    expect(await run('XGROUP', 'CREATE', 's', 'c', '1')).toBe('OK');
    expect(await run('XGROUP', 'CREATE', 'new', 'g', '$', 'MKSTREAM')).toBe('OK');
    const groups = (await run('XINFO', 'GROUPS', 's')) as Plain[];
    expect(groups.map((g) => [field(g, 'name'), field(g, 'last-delivered-id')])).toEqual([
      ['a', '0-0'],
      ['b', '2-5'],
      ['c', '1-0'],
    ]);
    expect(await run('XLEN', 'new')).toBe(0);
  });

  it('answers BUSYGROUP for a taken name', async () => {
    await seed(1);
    expect(await run('XGROUP', 'CREATE', 's', 'g', '$')).toEqual(
      err('BUSYGROUP Consumer Group name already exists'),
    );
  });

  it('needs the key unless MKSTREAM, and makes no stream when the ID is bad', async () => {
    expect(await run('XGROUP', 'CREATE', 's', 'g', '0')).toEqual(err(NOKEY));
    expect(await run('XGROUP', 'CREATE', 's', 'g', 'x', 'MKSTREAM')).toEqual(
      err('ERR Invalid stream ID specified as stream command argument'),
    );
    expect(await run('EXISTS', 's')).toBe(0);
  });

  it('sets ENTRIESREAD, accepting -1 and refusing other negatives', async () => {
    await seed(3);
    expect(await run('XGROUP', 'CREATE', 's', 'h', '2-0', 'ENTRIESREAD', '2')).toBe('OK');
    expect(await run('XGROUP', 'CREATE', 's', 'i', '0', 'ENTRIESREAD', '-1')).toBe('OK');
    expect(await run('XGROUP', 'CREATE', 's', 'j', '0', 'ENTRIESREAD', '-2')).toEqual(
      err('ERR value for ENTRIESREAD must be positive or -1'),
    );
    expect(await run('XGROUP', 'CREATE', 's', 'j', '0', 'ENTRIESREAD', 'x')).toEqual(
      err('ERR value is not an integer or out of range'),
    );
    const h = ((await run('XINFO', 'GROUPS', 's')) as Plain[])[1] as Plain;
    expect([field(h, 'entries-read'), field(h, 'lag')]).toEqual([2, 1]);
  });

  it('refuses unknown and repeated options with the subcommand syntax error', async () => {
    await seed(1);
    const syntax = err(
      "ERR unknown subcommand or wrong number of arguments for 'cReate'. Try XGROUP HELP.",
    );
    expect(await run('XGROUP', 'cReate', 's', 'h', '0', 'FOO')).toEqual(syntax);
    expect(await run('XGROUP', 'cReate', 'nokey', 'h', '0', 'ENTRIESREAD')).toEqual(syntax);
    expect(
      await run('XGROUP', 'cReate', 's', 'h', '0', 'ENTRIESREAD', '1', 'ENTRIESREAD', '2'),
    ).toEqual(syntax);
  });

  it('refuses - and + as IDs', async () => {
    await xadd('s', '1-0');
    const bad = err('ERR Invalid stream ID specified as stream command argument');
    expect(await run('XGROUP', 'CREATE', 's', 'g', '-')).toEqual(bad);
    expect(await run('XGROUP', 'CREATE', 's', 'g', '+')).toEqual(bad);
  });
});

describe('XGROUP SETID, DESTROY, CREATECONSUMER, DELCONSUMER and HELP', () => {
  it('SETID moves the group, and $ means the last ID', async () => {
    await seed(3);
    await readNew('c');
    expect(await run('XGROUP', 'SETID', 's', 'g', '1-0')).toBe('OK');
    expect(await readNew('c')).toEqual([['s', [entry('2-0', 'f', 'v2'), entry('3-0', 'f', 'v3')]]]);
    expect(await run('XGROUP', 'SETID', 's', 'g', '$', 'ENTRIESREAD', '3')).toBe('OK');
    expect([
      field(await groupInfo(), 'last-delivered-id'),
      field(await groupInfo(), 'lag'),
    ]).toEqual(['3-0', 0]);
  });

  it('SETID errors', async () => {
    await seed(1);
    expect(await run('XGROUP', 'SETID', 's', 'nog', '0')).toEqual(
      err("NOGROUP No such consumer group 'nog' for key name 's'"),
    );
    expect(await run('XGROUP', 'SETID', 'nokey', 'g', '0')).toEqual(err(NOKEY));
    expect(await run('XGROUP', 'SETID', 's', 'g', '0', 'MKSTREAM')).toEqual(
      err("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."),
    );
    expect(await run('XGROUP', 'SETID', 's', 'g')).toEqual(
      err("ERR wrong number of arguments for 'xgroup|setid' command"),
    );
  });

  it('DESTROY answers 1 then 0, and the group is gone', async () => {
    await seed(2);
    await readNew('c');
    expect(await run('XGROUP', 'DESTROY', 's', 'g')).toBe(1);
    expect(await run('XGROUP', 'DESTROY', 's', 'g')).toBe(0);
    expect(await run('XPENDING', 's', 'g')).toEqual(
      err("NOGROUP No such key 's' or consumer group 'g'"),
    );
    expect(await run('XGROUP', 'DESTROY', 'nokey', 'g')).toEqual(err(NOKEY));
  });

  it('CREATECONSUMER answers 1 for a new consumer, 0 for an existing one', async () => {
    await seed(1);
    expect(await run('XGROUP', 'CREATECONSUMER', 's', 'g', 'c')).toBe(1);
    expect(await run('XGROUP', 'CREATECONSUMER', 's', 'g', 'c')).toBe(0);
    expect(await run('XGROUP', 'CREATECONSUMER', 's', 'nog', 'c')).toEqual(
      err("NOGROUP No such consumer group 'nog' for key name 's'"),
    );
    expect(field(await groupInfo(), 'consumers')).toBe(1);
  });

  it('DELCONSUMER answers the pending count and drops the entries', async () => {
    await seed(3);
    await readNew('a', 'COUNT', '2');
    await readNew('b');
    expect(await run('XGROUP', 'DELCONSUMER', 's', 'g', 'a')).toBe(2);
    expect(await run('XGROUP', 'DELCONSUMER', 's', 'g', 'a')).toBe(0);
    expect(await pendingRows()).toEqual([['3-0', 'b', 1]]);
    expect(await run('XGROUP', 'DELCONSUMER', 'nokey', 'g', 'a')).toEqual(err(NOKEY));
  });

  it('HELP and unknown subcommands', async () => {
    const help = (await run('XGROUP', 'HELP')) as string[];
    expect(help[0]).toBe('XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help[help.length - 1]).toBe('    Prints this help.');
    expect(help).toHaveLength(17);
    expect(await run('XGROUP', 'FOO')).toEqual(
      err("ERR unknown subcommand 'FOO'. Try XGROUP HELP."),
    );
    expect(await run('XGROUP')).toEqual(err("ERR wrong number of arguments for 'xgroup' command"));
  });
});

describe('XREADGROUP', () => {
  it('> delivers new entries once, moving the group and filling the PEL', async () => {
    await seed(3);
    expect(await readNew('c', 'COUNT', '2')).toEqual([
      ['s', [entry('1-0', 'f', 'v1'), entry('2-0', 'f', 'v2')]],
    ]);
    expect(await readNew('d')).toEqual([['s', [entry('3-0', 'f', 'v3')]]]);
    expect(await readNew('c')).toBe(NIL_ARRAY);
    expect(await pendingRows()).toEqual([
      ['1-0', 'c', 1],
      ['2-0', 'c', 1],
      ['3-0', 'd', 1],
    ]);
    const g = await groupInfo();
    expect([field(g, 'last-delivered-id'), field(g, 'entries-read'), field(g, 'lag')]).toEqual([
      '3-0',
      3,
      0,
    ]);
  });

  it('answers a map in RESP3', async () => {
    await seed(1);
    const resp3: Session = { ...s.session(), resp: 3 };
    expect(await runIn(resp3, 'XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>')).toEqual({
      map: [['s', [entry('1-0', 'f', 'v1')]]],
    });
  });

  it('NOACK delivers without pending entries', async () => {
    await seed(2);
    expect(await readNew('c', 'NOACK')).toEqual([
      ['s', [entry('1-0', 'f', 'v1'), entry('2-0', 'f', 'v2')]],
    ]);
    expect(await run('XPENDING', 's', 'g')).toEqual([0, null, null, NIL_ARRAY]);
    expect(field(await groupInfo(), 'consumers')).toBe(1);
  });

  it('history re-delivers the consumer own entries, counting, nil for deleted ones', async () => {
    await seed(3);
    await readNew('a', 'COUNT', '2');
    await readNew('b');
    await run('XDEL', 's', '2-0');
    expect(await history('a')).toEqual([['s', [entry('1-0', 'f', 'v1'), ['2-0', NIL_ARRAY]]]]);
    expect(await history('a', '1-0')).toEqual([['s', [['2-0', NIL_ARRAY]]]]);
    expect(await history('a', '0', 'COUNT', '1')).toEqual([['s', [entry('1-0', 'f', 'v1')]]]);
    expect(await history('nobody')).toEqual([['s', []]]);
    // Deleted entries keep their count: they were not delivered again.
    expect(await pendingRows()).toEqual([
      ['1-0', 'a', 3],
      ['2-0', 'a', 1],
      ['3-0', 'b', 1],
    ]);
  });

  it('the top ID reads as >', async () => {
    await seed(1);
    const top = '18446744073709551615-18446744073709551615';
    expect(await history('c', top)).toEqual([['s', [entry('1-0', 'f', 'v1')]]]);
    expect(await history('c', top)).toBe(NIL_ARRAY);
  });

  it('serves several streams in argument order, only those with entries', async () => {
    await seed(1);
    await seed(2, 't');
    await run('XGROUP', 'CREATE', 'u', 'g', '$', 'MKSTREAM');
    const call = (...ids: string[]) =>
      run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 't', 'u', 's', ...ids);
    expect(await call('>', '>', '>')).toEqual([
      ['t', [entry('1-0', 'f', 'v1'), entry('2-0', 'f', 'v2')]],
      ['s', [entry('1-0', 'f', 'v1')]],
    ]);
    expect(await call('>', '0', '>')).toEqual([['u', []]]);
  });

  it('argument errors, in Redis order', async () => {
    await seed(1);
    const cases: Array<[string[], string]> = [
      [
        ['COUNT', '1', 'BLOCK', '1', 'STREAMS', 's', '>'],
        'ERR Missing GROUP option for XREADGROUP',
      ],
      [
        ['GROUP', 'g', 'c', 'COUNT', 'x', 'STREAMS', 's', '>'],
        'ERR value is not an integer or out of range',
      ],
      [['GROUP', 'g', 'c', 'BLOCK', '-1', 'STREAMS', 's', '>'], 'ERR timeout is negative'],
      [
        ['GROUP', 'g', 'c', 'BLOCK', '1.5', 'STREAMS', 's', '>'],
        'ERR timeout is not an integer or out of range',
      ],
      [['GROUP', 'g', 'c', 'FOO', 'STREAMS', 's', '>'], 'ERR syntax error'],
      [
        ['GROUP', 'g', 'c', 'STREAMS', 's', '>', '>'],
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
      ],
      [
        ['GROUP', 'g', 'c', 'STREAMS', 'nokey', '>'],
        "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option",
      ],
      [
        ['GROUP', 'nog', 'c', 'STREAMS', 's', '>'],
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option",
      ],
      [
        ['GROUP', 'g', 'c', 'STREAMS', 's', 'nokey', 'x', '>'],
        'ERR Invalid stream ID specified as stream command argument',
      ],
      [
        ['GROUP', 'g', 'c', 'STREAMS', 's', '+'],
        'ERR Invalid stream ID specified as stream command argument',
      ],
    ];
    for (const [args, text] of cases) expect(await run('XREADGROUP', ...args)).toEqual(err(text));
    expect(await history('c', '$')).toEqual(
      err(
        'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history ' +
          'of this consumer by specifying a proper ID, or use the > ID to get new messages. ' +
          'The $ ID would just return an empty result set.',
      ),
    );
    expect(await run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's')).toEqual(
      err("ERR wrong number of arguments for 'xreadgroup' command"),
    );
  });

  it('refreshes the seen time when it serves, not when it finds nothing new', async () => {
    await seed(1);
    const seenTime = async () => {
      const full = (await run('XINFO', 'STREAM', 's', 'FULL')) as Plain[];
      const [g] = field(full, 'groups') as Plain[];
      const [c] = field(g as Plain, 'consumers') as Plain[];
      return field(c as Plain, 'seen-time') as number;
    };
    const sleep = () => new Promise((r) => setTimeout(r, 15));
    await readNew('c');
    const first = await seenTime();
    await sleep();
    expect(await readNew('c')).toBe(NIL_ARRAY);
    expect(await seenTime()).toBe(first);
    await history('c');
    const second = await seenTime();
    expect(second).toBeGreaterThan(first);
    await sleep();
    expect(await run('XCLAIM', 's', 'g', 'c', '3600000', '1-0')).toEqual([]);
    expect(await seenTime()).toBe(second);
  });

  it('updates entries-read as Redis 7.0 does around deleted entries', async () => {
    for (const id of ['1-0', '2-0', '3-0', '4-0']) await xadd('s', id);
    await run('XDEL', 's', '2-0');
    await run('XGROUP', 'CREATE', 's', 'g', '0');
    const progress: Plain[] = [];
    for (let i = 0; i < 3; i++) {
      await readNew('c', 'COUNT', '1');
      const g = await groupInfo();
      progress.push([field(g, 'last-delivered-id'), field(g, 'entries-read'), field(g, 'lag')]);
    }
    expect(progress).toEqual([
      ['1-0', null, null],
      ['3-0', null, null],
      ['4-0', 4, 0],
    ]);
  });
});

describe('XREADGROUP BLOCK', () => {
  it('waits for XADD and gets the new entry', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const reader = runIn(
      s.session(),
      'XREADGROUP',
      'GROUP',
      'g',
      'c',
      'BLOCK',
      '0',
      'STREAMS',
      's',
      '>',
    );
    await new Promise((r) => setTimeout(r, 20));
    await xadd('s', '5-0', 'k', 'x');
    expect(await reader).toEqual([['s', [entry('5-0', 'k', 'x')]]]);
    expect(await pendingRows()).toEqual([['5-0', 'c', 1]]);
  });

  it('wakes readers in the order they blocked, one entry each', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const block = (c: string) =>
      runIn(
        s.session(),
        'XREADGROUP',
        'GROUP',
        'g',
        c,
        'BLOCK',
        '0',
        'COUNT',
        '1',
        'STREAMS',
        's',
        '>',
      );
    const first = block('first');
    await new Promise((r) => setTimeout(r, 10));
    const second = block('second');
    await new Promise((r) => setTimeout(r, 10));
    await xadd('s', '1-0');
    expect(await first).toEqual([['s', [entry('1-0', 'f', 'v')]]]);
    await xadd('s', '2-0');
    expect(await second).toEqual([['s', [entry('2-0', 'f', 'v')]]]);
  });

  it('never gives two consumers the same entry', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const readers = Array.from({ length: 8 }, (_, i) =>
      runIn(s.session(), 'XREADGROUP', 'GROUP', 'g', `c${i}`, 'BLOCK', '300', 'STREAMS', 's', '>'),
    );
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all(Array.from({ length: 8 }, (_, i) => xadd('s', `${i + 1}-0`)));
    const got = (await Promise.all(readers)).flatMap((r) =>
      r === NIL_ARRAY ? [] : ((r as Plain[][])[0]?.[1] as Plain[][]).map((e) => e[0] as string),
    );
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0', '6-0', '7-0', '8-0']);
    expect((await pendingRows()).length).toBe(8);
  });

  it('a timeout beyond what a timer holds waits for data instead of expiring at once', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const reader = runIn(
      s.session(),
      ...['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '9999999999', 'STREAMS', 's', '>'],
    );
    await new Promise((r) => setTimeout(r, 30));
    await xadd('s', '1-0');
    expect(await reader).toEqual([['s', [entry('1-0', 'f', 'v')]]]);
  });

  it('times out with a null array and creates no consumer', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const started = Date.now();
    expect(await run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '50', 'STREAMS', 's', '>')).toBe(
      NIL_ARRAY,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(await run('XINFO', 'CONSUMERS', 's', 'g')).toEqual([]);
  });

  it('a deleted key ends the wait with UNBLOCKED', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const reader = runIn(
      s.session(),
      'XREADGROUP',
      'GROUP',
      'g',
      'c',
      'BLOCK',
      '0',
      'STREAMS',
      's',
      '>',
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(await run('DEL', 's')).toBe(1);
    expect(await reader).toEqual(err('UNBLOCKED the stream key no longer exists'));
  });

  it('a destroyed group ends the wait with NOGROUP', async () => {
    await run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const reader = runIn(
      s.session(),
      'XREADGROUP',
      'GROUP',
      'g',
      'c',
      'BLOCK',
      '0',
      'STREAMS',
      's',
      '>',
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(await run('XGROUP', 'DESTROY', 's', 'g')).toBe(1);
    expect(await reader).toEqual(
      err('NOGROUP the consumer group this client was blocked on no longer exists'),
    );
  });

  it('serves the stream that got entries, alone, with NOACK and COUNT kept', async () => {
    await run('XGROUP', 'CREATE', 'a', 'g', '$', 'MKSTREAM');
    await run('XGROUP', 'CREATE', 'b', 'g', '$', 'MKSTREAM');
    const reader = runIn(
      s.session(),
      ...['XREADGROUP', 'GROUP', 'g', 'c', 'NOACK', 'COUNT', '1', 'BLOCK', '0'],
      ...['STREAMS', 'a', 'b', '>', '>'],
    );
    await new Promise((r) => setTimeout(r, 20));
    await run('XADD', 'b', '1-0', 'f', '1');
    expect(await reader).toEqual([['b', [entry('1-0', 'f', '1')]]]);
    expect(await run('XPENDING', 'b', 'g')).toEqual([0, null, null, NIL_ARRAY]);
  });

  it('does not block when history or new entries can be served', async () => {
    await seed(1);
    expect(await history('c', '0', 'BLOCK', '0')).toEqual([['s', []]]);
    expect(await readNew('c', 'BLOCK', '0')).toEqual([['s', [entry('1-0', 'f', 'v1')]]]);
  });
});

describe('XACK', () => {
  it('acknowledges pending IDs once each', async () => {
    await seed(3);
    await readNew('c');
    expect(await run('XACK', 's', 'g', '1-0', '1-0', '2', '9-0')).toBe(2);
    expect(await run('XACK', 's', 'g', '1-0', '2-0')).toBe(0);
    expect(await pendingRows()).toEqual([['3-0', 'c', 1]]);
  });

  it('answers 0 for a missing key or group before parsing IDs; a bad ID acks nothing', async () => {
    await seed(2);
    await readNew('c');
    expect(await run('XACK', 'nokey', 'g', 'bad')).toBe(0);
    expect(await run('XACK', 's', 'nog', 'bad')).toBe(0);
    expect(await run('XACK', 's', 'g', '1-0', 'bad')).toEqual(
      err('ERR Invalid stream ID specified as stream command argument'),
    );
    expect((await pendingRows()).length).toBe(2);
  });
});

describe('XPENDING', () => {
  it('summary: count, smallest, largest, per consumer as bulk strings', async () => {
    await seed(4);
    expect(await run('XPENDING', 's', 'g')).toEqual([0, null, null, NIL_ARRAY]);
    await readNew('zed', 'COUNT', '1');
    await readNew('amy');
    expect(await run('XPENDING', 's', 'g')).toEqual([
      4,
      '1-0',
      '4-0',
      [
        ['amy', '3'],
        ['zed', '1'],
      ],
    ]);
  });

  it('extended form: ranges, exclusive bounds, count, consumer, IDLE', async () => {
    await seed(4);
    await readNew('a', 'COUNT', '2');
    await readNew('b');
    const ids = async (...args: string[]) =>
      ((await run('XPENDING', 's', 'g', ...args)) as Plain[][]).map((r) => r[0]);
    // An incomplete end ID means <ms>-18446744073709551615, so `(4` still takes 4-0.
    expect(await ids('(1-0', '(4', '10')).toEqual(['2-0', '3-0', '4-0']);
    expect(await ids('(1-0', '(4-0', '10')).toEqual(['2-0', '3-0']);
    expect(await ids('-', '+', '2')).toEqual(['1-0', '2-0']);
    expect(await ids('-', '+', '10', 'b')).toEqual(['3-0', '4-0']);
    expect(await ids('-', '+', '10', 'nobody')).toEqual([]);
    expect(await ids('-', '+', '-1')).toEqual([]);
    expect(await ids('IDLE', '3600000', '-', '+', '10')).toEqual([]);
    expect(await ids('IDLE', '0', '-', '+', '10', 'a')).toEqual(['1-0', '2-0']);
    expect(await ids('-', '+', '10', 'a', 'ignored')).toEqual(['1-0', '2-0']);
    const [row] = (await run('XPENDING', 's', 'g', '-', '+', '1')) as Plain[][];
    expect(row?.length).toBe(4);
    expect(row?.[1]).toBe('a');
    expect(row?.[3]).toBe(1);
    expect(typeof row?.[2]).toBe('number');
  });

  it('errors', async () => {
    await seed(1);
    expect(await run('XPENDING', 's', 'g', '-', '+')).toEqual(err('ERR syntax error'));
    expect(await run('XPENDING', 's', 'g', 'IDLE', '1', '-', '+')).toEqual(err('ERR syntax error'));
    expect(await run('XPENDING', 'nokey', 'g', '-', '+', 'x')).toEqual(
      err('ERR value is not an integer or out of range'),
    );
    expect(
      await run('XPENDING', 's', 'g', '(18446744073709551615-18446744073709551615', '+', '1'),
    ).toEqual(err('ERR invalid start ID for the interval'));
    expect(await run('XPENDING', 's', 'g', '-', '(0-0', '1')).toEqual(
      err('ERR invalid end ID for the interval'),
    );
    expect(await run('XPENDING', 's', 'nog')).toEqual(
      err("NOGROUP No such key 's' or consumer group 'nog'"),
    );
  });
});

describe('XCLAIM', () => {
  it('moves entries, counting a delivery; JUSTID keeps the count', async () => {
    await seed(3);
    await readNew('a');
    expect(await run('XCLAIM', 's', 'g', 'b', '0', '1-0', '3-0')).toEqual([
      entry('1-0', 'f', 'v1'),
      entry('3-0', 'f', 'v3'),
    ]);
    expect(await run('XCLAIM', 's', 'g', 'c', '0', '3-0', '3-0', 'JUSTID')).toEqual(['3-0', '3-0']);
    expect(await pendingRows()).toEqual([
      ['1-0', 'b', 2],
      ['2-0', 'a', 1],
      ['3-0', 'c', 2],
    ]);
  });

  it('min-idle-time, IDLE, TIME, RETRYCOUNT, FORCE and LASTID', async () => {
    await seed(4);
    await readNew('a', 'COUNT', '2');
    expect(await run('XCLAIM', 's', 'g', 'b', '3600000', '1-0')).toEqual([]);
    await run('XCLAIM', 's', 'g', 'b', '0', '1-0', 'IDLE', '7200000', 'RETRYCOUNT', '9', 'JUSTID');
    expect(await run('XCLAIM', 's', 'g', 'c', '3600000', '1-0', 'JUSTID')).toEqual(['1-0']);
    await run('XCLAIM', 's', 'g', 'c', '0', '2-0', 'TIME', '1000', 'JUSTID');
    const rows = (await run('XPENDING', 's', 'g', '2-0', '2-0', '1')) as Plain[][];
    expect(rows[0]?.[2] as number).toBeGreaterThan(Date.now() - 1000 - 60_000);
    expect(await run('XCLAIM', 's', 'g', 'd', '0', '4-0', '9-0', 'FORCE', 'JUSTID')).toEqual([
      '4-0',
    ]);
    expect(await run('XCLAIM', 's', 'g', 'd', '0', '4-0', 'LASTID', '3-0')).toEqual([
      entry('4-0', 'f', 'v4'),
    ]);
    expect(await pendingRows()).toEqual([
      ['1-0', 'c', 9],
      ['2-0', 'c', 1],
      ['4-0', 'd', 2],
    ]);
    expect(field(await groupInfo(), 'last-delivered-id')).toBe('3-0');
  });

  it('drops pending entries whose stream entry is gone', async () => {
    await seed(2);
    await readNew('a');
    await run('XDEL', 's', '1-0');
    expect(await run('XCLAIM', 's', 'g', 'b', '0', '1-0', '2-0')).toEqual([
      entry('2-0', 'f', 'v2'),
    ]);
    expect(await pendingRows()).toEqual([['2-0', 'b', 2]]);
  });

  it('creates the consumer only when it claims something', async () => {
    await seed(1);
    expect(await run('XCLAIM', 's', 'g', 'b', '0', '1-0')).toEqual([]);
    expect(await run('XINFO', 'CONSUMERS', 's', 'g')).toEqual([]);
  });

  it('errors', async () => {
    await seed(1);
    await readNew('a');
    const cases: Array<[string[], string]> = [
      [['nokey', 'g', 'b', 'x', '1-0'], "NOGROUP No such key 'nokey' or consumer group 'g'"],
      [['s', 'g', 'b', 'x', '1-0'], 'ERR Invalid min-idle-time argument for XCLAIM'],
      [['s', 'g', 'b', '0', '1-0', 'bad'], "ERR Unrecognized XCLAIM option 'bad'"],
      [['s', 'g', 'b', '0', '1-0', 'IDLE'], "ERR Unrecognized XCLAIM option 'IDLE'"],
      [['s', 'g', 'b', '0', '1-0', 'IDLE', 'x'], 'ERR Invalid IDLE option argument for XCLAIM'],
      [['s', 'g', 'b', '0', '1-0', 'TIME', 'x'], 'ERR Invalid TIME option argument for XCLAIM'],
      [
        ['s', 'g', 'b', '0', '1-0', 'RETRYCOUNT', 'x'],
        'ERR Invalid RETRYCOUNT option argument for XCLAIM',
      ],
      [
        ['s', 'g', 'b', '0', '1-0', 'LASTID', '+'],
        'ERR Invalid stream ID specified as stream command argument',
      ],
      [['s', 'g', 'b', '0', '1-0', 'JUSTID', '1-0'], "ERR Unrecognized XCLAIM option '1-0'"],
    ];
    for (const [args, text] of cases) expect(await run('XCLAIM', ...args)).toEqual(err(text));
    expect(await pendingRows()).toEqual([['1-0', 'a', 1]]);
  });
});

describe('XAUTOCLAIM', () => {
  it('claims from a start ID with a cursor, COUNT and JUSTID', async () => {
    await seed(5);
    await readNew('a');
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '2')).toEqual([
      '3-0',
      [entry('1-0', 'f', 'v1'), entry('2-0', 'f', 'v2')],
      [],
    ]);
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '0', '3-0', 'COUNT', '2', 'JUSTID')).toEqual([
      '5-0',
      ['3-0', '4-0'],
      [],
    ]);
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '0', '(4-0')).toEqual([
      '0-0',
      [entry('5-0', 'f', 'v5')],
      [],
    ]);
    expect(await pendingRows()).toEqual([
      ['1-0', 'b', 2],
      ['2-0', 'b', 2],
      ['3-0', 'b', 1],
      ['4-0', 'b', 1],
      ['5-0', 'b', 2],
    ]);
  });

  it('drops deleted entries, listing them and counting them toward COUNT', async () => {
    await seed(4);
    await readNew('a');
    await run('XDEL', 's', '2-0', '3-0');
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '3600000', '0', 'COUNT', '1')).toEqual([
      '3-0',
      [],
      ['2-0'],
    ]);
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '0', '0')).toEqual([
      '0-0',
      [entry('1-0', 'f', 'v1'), entry('4-0', 'f', 'v4')],
      ['3-0'],
    ]);
  });

  it('visits at most COUNT * 10 entries', async () => {
    for (let i = 1; i <= 25; i++) await xadd('s', `${i}-0`);
    await run('XGROUP', 'CREATE', 's', 'g', '0');
    await readNew('a');
    expect(await run('XAUTOCLAIM', 's', 'g', 'b', '3600000', '0', 'COUNT', '2')).toEqual([
      '21-0',
      [],
      [],
    ]);
  });

  it('errors', async () => {
    await seed(1);
    const cases: Array<[string[], string]> = [
      [['nokey', 'g', 'b', 'x', '0'], 'ERR Invalid min-idle-time argument for XAUTOCLAIM'],
      [['nokey', 'g', 'b', '0', 'x'], 'ERR Invalid stream ID specified as stream command argument'],
      [['nokey', 'g', 'b', '0', '0', 'COUNT', '0'], 'ERR COUNT must be > 0'],
      [['nokey', 'g', 'b', '0', '0', 'COUNT', '576460752303423488'], 'ERR COUNT must be > 0'],
      [['nokey', 'g', 'b', '0', '0', 'FOO'], 'ERR syntax error'],
      [['nokey', 'g', 'b', '0', '0'], "NOGROUP No such key 'nokey' or consumer group 'g'"],
      [
        ['s', 'g', 'b', '0', '(18446744073709551615-18446744073709551615'],
        'ERR invalid start ID for the interval',
      ],
    ];
    for (const [args, text] of cases) expect(await run('XAUTOCLAIM', ...args)).toEqual(err(text));
  });
});

describe('XINFO', () => {
  it('STREAM reports counters, group count and first and last entries', async () => {
    await seed(3);
    await run('XDEL', 's', '3-0');
    const info = (await run('XINFO', 'STREAM', 's')) as Plain[];
    const pick = (name: string) => field(info, name);
    expect(
      ['length', 'last-generated-id', 'max-deleted-entry-id', 'entries-added'].map(pick),
    ).toEqual([2, '3-0', '3-0', 3]);
    expect(pick('recorded-first-entry-id')).toBe('1-0');
    expect(pick('groups')).toBe(1);
    expect(pick('first-entry')).toEqual(entry('1-0', 'f', 'v1'));
    expect(pick('last-entry')).toEqual(entry('2-0', 'f', 'v2'));
    expect(info.filter((_, i) => i % 2 === 0)).toHaveLength(10);
  });

  it('STREAM FULL shows entries, groups, PELs and consumers, cut at COUNT', async () => {
    await seed(3);
    await readNew('a', 'COUNT', '2');
    const full = (await run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', '1')) as Plain[];
    expect(field(full, 'entries')).toEqual([entry('1-0', 'f', 'v1')]);
    const [g] = field(full, 'groups') as Plain[][];
    expect(g?.filter((_, i) => i % 2 === 0)).toEqual([
      'name',
      'last-delivered-id',
      'entries-read',
      'lag',
      'pel-count',
      'pending',
      'consumers',
    ]);
    expect(field(g as Plain, 'pel-count')).toBe(2);
    const pel = field(g as Plain, 'pending') as Plain[][];
    expect(pel.map((p) => [p[0], p[1], p[3]])).toEqual([['1-0', 'a', 1]]);
    const [c] = field(g as Plain, 'consumers') as Plain[][];
    expect(c?.filter((_, i) => i % 2 === 0)).toEqual(['name', 'seen-time', 'pel-count', 'pending']);
    expect(await run('XINFO', 'STREAM', 's', 'FULL', 'COUNT')).toEqual(
      err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."),
    );
  });

  it('GROUPS and CONSUMERS, in name order, and their errors', async () => {
    await seed(2);
    await run('XGROUP', 'CREATE', 's', 'a', '$');
    await readNew('zed', 'COUNT', '1');
    await readNew('amy');
    const groups = (await run('XINFO', 'GROUPS', 's')) as Plain[];
    expect(groups.map((g) => field(g, 'name'))).toEqual(['a', 'g']);
    const consumers = (await run('XINFO', 'CONSUMERS', 's', 'g')) as Plain[][];
    expect(consumers.map((c) => [c[0], c[1], c[2], c[3], c[4]])).toEqual([
      ['name', 'amy', 'pending', 1, 'idle'],
      ['name', 'zed', 'pending', 1, 'idle'],
    ]);
    expect(await run('XINFO', 'GROUPS', 'nokey')).toEqual(err('ERR no such key'));
    expect(await run('XINFO', 'CONSUMERS', 's', 'nog')).toEqual(
      err("NOGROUP No such consumer group 'nog' for key name 's'"),
    );
    expect(((await run('XINFO', 'HELP')) as string[]).length).toBe(9);
  });
});

// ---- durability --------------------------------------------------------------------------

/** Every reply that shows group state, with clock readings removed. */
async function groupState(): Promise<Plain> {
  const dropTimes = (flat: Plain): Plain =>
    (flat as Plain[]).map((v, i, all) => (i > 0 && all[i - 1] === 'idle' ? '<t>' : v));
  return {
    map: [
      ['summary', await run('XPENDING', 's', 'g')],
      ['pending', await pendingRows()],
      ['groups', await run('XINFO', 'GROUPS', 's')],
      ['consumers', ((await run('XINFO', 'CONSUMERS', 's', 'g')) as Plain[]).map(dropTimes)],
    ],
  };
}

/** A group history with every kind of change. */
async function busyGroup(): Promise<void> {
  await seed(8);
  await run('XGROUP', 'CREATE', 's', 'h', '$');
  await readNew('a', 'COUNT', '3');
  await readNew('b', 'COUNT', '2');
  await readNew('n', 'NOACK', 'COUNT', '1');
  await history('a', '0', 'COUNT', '1');
  await run('XACK', 's', 'g', '2-0');
  await run('XCLAIM', 's', 'g', 'c', '0', '4-0', 'RETRYCOUNT', '9223372036854775807');
  await run('XCLAIM', 's', 'g', 'c', '0', '3-0', 'IDLE', '5000', 'JUSTID');
  await run('XDEL', 's', '5-0');
  await run('XAUTOCLAIM', 's', 'g', 'd', '0', '0', 'COUNT', '10');
  await run('XGROUP', 'CREATECONSUMER', 's', 'g', 'idle');
  await run('XGROUP', 'CREATECONSUMER', 's', 'g', 'gone');
  await run('XGROUP', 'DELCONSUMER', 's', 'g', 'gone');
  await run('XGROUP', 'CREATE', 's', 'x', '0');
  await run('XGROUP', 'DESTROY', 's', 'x');
  await run('XGROUP', 'SETID', 's', 'h', '3-0', 'ENTRIESREAD', '3');
}

async function reopen(dir: string): Promise<void> {
  s = await openSluice({ dataDir: dir, fsync: 'always' });
  mainSession = s.session();
}

describe('durability', () => {
  it('a restart keeps pending entries, groups and consumers, exact times included', async () => {
    await busyGroup();
    const before = await groupState();
    const full = await run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0');
    await s.close();
    await reopen(dataDir);
    expect(
      s.broker.store.reports.get(Buffer.from('\u0000s').toString('latin1'))?.fromCheckpoint,
    ).toBe(true);
    expect(await groupState()).toEqual(before);
    expect(await run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0')).toEqual(full);
  });

  it('XREADGROUP > continues right after the last delivered ID', async () => {
    await seed(4);
    await readNew('a', 'COUNT', '2');
    await s.close();
    await reopen(dataDir);
    expect(await readNew('b', 'COUNT', '1')).toEqual([['s', [entry('3-0', 'f', 'v3')]]]);
    await s.close();
    await reopen(dataDir);
    expect(await readNew('b')).toEqual([['s', [entry('4-0', 'f', 'v4')]]]);
  });

  it('a crash without a checkpoint replays the group records', async () => {
    await busyGroup();
    const before = await groupState();
    const copy = await crashCopy();
    try {
      await s.close();
      await reopen(copy);
      const report = [...s.broker.store.reports.values()][0];
      expect(report?.framesReplayed).toBeGreaterThan(0);
      expect(await groupState()).toEqual(before);
      expect(await readNew('z')).toEqual([
        ['s', [entry('7-0', 'f', 'v7'), entry('8-0', 'f', 'v8')]],
      ]);
    } finally {
      await s.close();
      await reopen(dataDir);
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it('a crash after a checkpoint restores it, then replays what followed', async () => {
    await seed(6);
    await readNew('a', 'COUNT', '2');
    await s.broker.keyspace.stream(0, Buffer.from('s'))?.log.checkpoint();
    await readNew('b', 'COUNT', '2');
    await run('XACK', 's', 'g', '1-0');
    await run('XCLAIM', 's', 'g', 'c', '0', '2-0');
    const before = await groupState();
    const copy = await crashCopy();
    try {
      await s.close();
      await reopen(copy);
      const report = [...s.broker.store.reports.values()][0];
      expect(report?.fromCheckpoint).toBe(true);
      expect(report?.framesReplayed).toBeGreaterThan(0);
      expect(await groupState()).toEqual(before);
      expect(await readNew('z')).toEqual([
        ['s', [entry('5-0', 'f', 'v5'), entry('6-0', 'f', 'v6')]],
      ]);
    } finally {
      await s.close();
      await reopen(dataDir);
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it('records replayed over any later snapshot give the same state', async () => {
    const value = async () => s.broker.keyspace.streamOrCreate(0, Buffer.from('s'));
    const records: Array<[number, Buffer]> = [];
    const log = (await value()).log;
    const append = log.appendExtApplied.bind(log);
    log.appendExtApplied = (kind: number, body: Buffer) => {
      records.push([kind, Buffer.from(body)]);
      return append(kind, body);
    };
    await busyGroup();
    const replay = (from: StreamGroups, list: Array<[number, Buffer]>) => {
      for (const [kind, body] of list) from.apply(kind, body);
      return from;
    };
    const final = replay(fresh(null), records).snapshot();
    expect(final).toEqual((await value()).groups.snapshot());
    // A checkpoint drafted after record m covers records up to k <= m: replay from k.
    for (let m = 0; m <= records.length; m += 3) {
      const snap = replay(fresh(null), records.slice(0, m)).snapshot();
      for (let k = Math.max(0, m - 4); k <= m; k++) {
        expect(replay(fresh(snap), records.slice(k)).snapshot()).toEqual(final);
      }
    }
  });

  it('restore resets what an earlier restore or replay left', () => {
    const g = fresh(null);
    g.restore(null);
    expect(g.size).toBe(0);
    expect(g.snapshot()).toBeNull();
  });

  it('refuses a record of an unknown format version', () => {
    expect(() => fresh(null).apply(64, Buffer.from([2, 0x80]))).toThrow(/version/);
    expect(() => fresh(null).apply(69, Buffer.from([1, 0x80]))).toThrow(/field 'g'/);
  });
});

function fresh(snapshot: Buffer | null): StreamGroups {
  const g = new StreamGroups();
  g.restore(snapshot);
  return g;
}

/** Copies the data directory of the running broker, as a crash would leave it (no LOCK). */
async function crashCopy(): Promise<string> {
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-groups-crash-'));
  await fs.cp(dataDir, copy, { recursive: true });
  await fs.rm(path.join(copy, 'LOCK'), { force: true });
  return copy;
}
