// Self-test of the conformance harness: redis-server on both sides (a second server stands in
// for Sluice) must compare equal despite different generated IDs and times, and altered
// replies must be reported. Also pins the reply parser and the canonical forms it relies on.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespParser, RespProtocolError, encodeCommand } from '../helpers/resp-client';
import {
  type Arg,
  type ClosableExecutor,
  type Executor,
  type Rand,
  ReplyNormaliser,
  conformanceSeed,
  defineCase,
  formatDouble,
  pick,
  randInt,
  redisExecutor,
  renderCanon,
  runCase,
  runRandom,
  toArgs,
  toCanon,
  withHint,
} from './harness';

const STREAM_CASE = defineCase('streams: generated IDs, groups, pending entries, XINFO', [
  ['XADD', 's', '*', 'f', 'v1'],
  ['XADD', 's', '*', 'f', 'v2'],
  ['XADD', 's', '*', 'f', 'v3'],
  ['XADD', 'e', '1-1', 'a', 'b'],
  ['XADD', 'e', '1-1', 'a', 'b'],
  ['XRANGE', 's', '-', '+'],
  ['XREVRANGE', 's', '+', '-', 'COUNT', '2'],
  ['XLEN', 's'],
  ['XGROUP', 'CREATE', 's', 'g', '0'],
  ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'],
  ['XPENDING', 's', 'g'],
  ['XPENDING', 's', 'g', '-', '+', '10'],
  ['XPENDING', 's', 'g', 'IDLE', '0', '-', '+', '10', 'alice'],
  ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0-0', 'COUNT', '1'],
  ['XINFO', 'STREAM', 's'],
  ['XINFO', 'STREAM', 's', 'FULL'],
  ['XINFO', 'GROUPS', 's'],
  ['XINFO', 'CONSUMERS', 's', 'g'],
  ['XTRIM', 's', 'MAXLEN', '1'],
  ['XRANGE', 's', '-', '+'],
  ['XINFO', 'STREAM', 'e'],
]);

const LIST_CASE = defineCase('lists as queues', [
  ['RPUSH', 'q', 'a', 'b', 'c'],
  ['LPUSH', 'q', 'z'],
  ['LRANGE', 'q', '0', '-1'],
  ['LPOP', 'q', '2'],
  ['LLEN', 'q'],
  ['LPOS', 'q', 'c'],
  ['BLPOP', 'empty', '0.01'],
  ['GET', 'missing'],
  ['XADD', 'q', '*', 'f', 'v'],
  ['TYPE', 'q'],
  ['TIME'],
  [Buffer.from([0x62, 0x00, 0xff]), 'x'],
]);

/** Commands whose RESP3 reply is only a retyped RESP2 reply (no XREAD, ZRANGE WITHSCORES). */
const SHAPES_CASE = defineCase('maps, sets and doubles', [
  ['HSET', 'h', 'a', '1', 'b', '2'],
  ['HGETALL', 'h'],
  ['SADD', 'set', 'x', 'y', 'z'],
  withHint(['SMEMBERS', 'set'], { unordered: true }),
  ['ZADD', 'z', '0.1', 'm', '1000000000000000.25', 'n', '-2.75', 'o', '1e20', 'p'],
  ['ZSCORE', 'z', 'm'],
  ['ZSCORE', 'z', 'n'],
  ['ZINCRBY', 'z', '1.5e-7', 'o'],
  ['ZSCORE', 'z', 'p'],
  ['ZSCORE', 'z', 'missing'],
  ['CONFIG', 'GET', 'maxmemory'],
  ['XADD', 's', '*', 'f', 'v'],
  ['XGROUP', 'CREATE', 's', 'g', '0'],
  // Redis replies a map over RESP3 but an array of [key, entries] pairs over RESP2.
  withHint(['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>'], { ignore: true }),
  ['XINFO', 'STREAM', 's', 'FULL'],
  ['XINFO', 'CONSUMERS', 's', 'g'],
  ['XPENDING', 's', 'g', '-', '+', '5'],
]);

/** Wraps an executor: `change` may replace the reply of the n-th call (0 is FLUSHALL). */
function altered(inner: Executor, change: (reply: Reply, n: number) => Reply): Executor {
  let n = 0;
  return { call: async (args) => change(await inner.call(args), n++) };
}

/** Waits before every call so the clock moves between the two sides. */
function lagging(inner: Executor, lagMs: number): Executor {
  return {
    call: async (args) => {
      await sleep(lagMs);
      return inner.call(args);
    },
  };
}

function recording(inner: Executor, replies: string[]): Executor {
  return {
    call: async (args) => {
      const reply = await inner.call(args);
      replies.push(renderCanon(toCanon(reply, 3)));
      return reply;
    },
  };
}

function flattenMaps(reply: Reply): Reply {
  switch (reply.t) {
    case 'map':
      return { t: 'array', v: reply.v.flat().map(flattenMaps) };
    case 'array':
    case 'set':
    case 'push':
      return { t: reply.t, v: reply.v.map(flattenMaps) };
    default:
      return reply;
  }
}

function randomCommand(rand: Rand): Arg[] {
  const list = `l${randInt(rand, 3)}`;
  const stream = `s${randInt(rand, 3)}`;
  const key = pick(rand, [list, stream]);
  const n = String(randInt(rand, 5));
  const commands: (() => Arg[])[] = [
    () => [pick(rand, ['RPUSH', 'LPUSH']), key, `v${randInt(rand, 100)}`],
    () => [pick(rand, ['LPOP', 'RPOP']), key, ...(rand() < 0.5 ? [n] : [])],
    () => ['LRANGE', key, '0', '-1'],
    () => ['LLEN', key],
    () => ['XADD', key, '*', 'f', `v${randInt(rand, 100)}`],
    () => ['XADD', key, 'MAXLEN', pick(rand, ['=', '~']), n, '*', 'g', 'x'],
    () => ['XADD', key, `${randInt(rand, 3)}-${randInt(rand, 3)}`, 'f', 'v'],
    () => ['XRANGE', key, '-', '+', 'COUNT', String(randInt(rand, 4) + 1)],
    () => ['XREVRANGE', key, '+', '-'],
    () => ['XLEN', key],
    () => ['XDEL', key, '1-1', '2-2'],
    () => ['XTRIM', key, 'MAXLEN', n],
    () => ['XINFO', 'STREAM', key],
    () => [pick(rand, ['DEL', 'EXISTS', 'TYPE']), key],
  ];
  return pick(rand, commands)();
}

describe('conformance harness against two redis-servers', () => {
  let servers: RedisServer[] = [];
  const executors: ClosableExecutor[] = [];
  let redis2: Executor;
  let other2: Executor;
  let redis3: Executor;
  let other3: Executor;

  beforeAll(async () => {
    servers = await Promise.all([startRedis(), startRedis()]);
    const [a, b] = servers as [RedisServer, RedisServer];
    executors.push(
      ...(await Promise.all([
        redisExecutor(a.port, 2),
        redisExecutor(b.port, 2),
        redisExecutor(a.port, 3),
        redisExecutor(b.port, 3),
      ])),
    );
    [redis2, other2, redis3, other3] = executors as unknown as [
      Executor,
      Executor,
      Executor,
      Executor,
    ];
  });

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('finds no difference between two redis-servers, in RESP2 and RESP3 shape', async () => {
    for (const c of [STREAM_CASE, LIST_CASE, SHAPES_CASE]) {
      expect(await runCase(c, redis2, other2)).toBeNull();
      expect(await runCase(c, redis3, other3, { resp: 3 })).toBeNull();
    }
  });

  it('tolerates different generated IDs and times on the two sides', async () => {
    const seenRedis: string[] = [];
    const seenOther: string[] = [];
    const a = recording(redis2, seenRedis);
    const b = recording(lagging(other2, 3), seenOther);
    expect(await runCase(STREAM_CASE, a, b)).toBeNull();
    // The run proves something only if the raw replies really differed.
    expect(seenRedis[1]).toMatch(/^"\d{13}-\d+"$/);
    expect(seenOther[1]).toMatch(/^"\d{13}-\d+"$/);
    expect(seenRedis[1]).not.toBe(seenOther[1]);
  });

  it('renders RESP3 replies in the shape redis-server sends over RESP2', async () => {
    expect(await runCase(SHAPES_CASE, redis2, other3)).toBeNull();
    const flat = altered(other3, (reply) => flattenMaps(reply));
    expect(await runCase(SHAPES_CASE, redis2, flat)).toBeNull();
  });

  it('RESP3-exact mode tells a map from a flat array', async () => {
    const flat = altered(other3, (reply) => flattenMaps(reply));
    const report = await runCase(SHAPES_CASE, redis3, flat, { resp: 3 });
    expect(report).toContain('differs at step 1: HGETALL h');
    expect(report).toContain('redis %{"a": "1", "b": "2"} | sluice ["a", "1", "b", "2"]');
  });

  it('reports an altered reply with its step, path and both replies', async () => {
    const changed = altered(other2, (reply, n) =>
      n === 6 && reply.t === 'array' ? { t: 'array', v: reply.v.slice(0, 2) } : reply,
    );
    const report = await runCase(STREAM_CASE, redis2, changed);
    expect(report).toContain('case "streams: generated IDs, groups, pending entries, XINFO"');
    expect(report).toContain('differs at step 5: XRANGE s - +');
    expect(report).toContain('at [5,2]: redis ["<id:3>", ["f", "v3"]] | sluice (nothing)');
  });

  it('reports a generated ID that differs from the one seen before', async () => {
    const script = defineCase('same ID twice', [
      ['XADD', 's', '*', 'f', 'v'],
      ['XADD', 's', '*', 'f', 'v'],
      ['XRANGE', 's', '-', '+', 'COUNT', '1'],
    ]);
    // Sluice's XRANGE answering with the second ID instead of the first.
    let second: Reply | null = null;
    const swapped = altered(other2, (reply, n) => {
      if (n === 2) second = reply;
      if (n !== 3 || reply.t !== 'array' || second === null) return reply;
      const entry = reply.v[0] as { t: 'array'; v: Reply[] };
      return { t: 'array', v: [{ t: 'array', v: [second, entry.v[1]!] }] };
    });
    const report = await runCase(script, redis2, swapped);
    expect(report).toContain('at [2,0,0]: redis "<id:1>" | sluice "<id:2>"');
  });

  it('runRandom: two redis-servers agree over 300 random commands', async () => {
    const seed = conformanceSeed();
    expect(await runRandom(seed, 300, randomCommand, redis2, other2)).toBeNull();
    expect(await runRandom(seed, 100, randomCommand, redis3, other3, { resp: 3 })).toBeNull();
  });

  it('runRandom stops at the first difference and reports seed, step and history', async () => {
    const broken = altered(other2, (reply, n) =>
      n === 58 ? { t: 'error', v: 'ERR injected' } : reply,
    );
    const report = await runRandom(7, 300, randomCommand, redis2, broken);
    expect(report).not.toBeNull();
    const lines = report!.split('\n');
    expect(lines[0]).toBe(
      'random run diverged: seed 7 (rerun with CONFORMANCE_SEED=7), step 57 of 300, RESP2',
    );
    expect(lines[1]).toMatch(/^command: \w+ /);
    expect(lines[3]).toBe('sluice: -ERR injected');
    expect(lines[5]).toBe('last 10 commands before it:');
    expect(lines.slice(6)).toHaveLength(10);
    expect(lines[6]).toMatch(/^ {2}47: /);
    expect(lines[15]).toMatch(/^ {2}56: /);
  });
});

describe('ReplyNormaliser', () => {
  const bulk = (s: string): Reply => ({ t: 'bulk', v: Buffer.from(s) });
  const int = (v: number): Reply => ({ t: 'int', v });
  const arr = (...v: Reply[]): Reply => ({ t: 'array', v });
  const norm = (n: ReplyNormaliser, r: Reply, args: Arg[], step = 0) =>
    renderCanon(n.normalise(r, step, args));

  it('numbers generated IDs by first appearance and keeps small explicit IDs', () => {
    const n = new ReplyNormaliser(2);
    const ids = arr(bulk('1700000000001-0'), bulk('1-1'), bulk('1700000000000-5'));
    expect(norm(n, ids, ['X'])).toBe('["<id:1>", "1-1", "<id:2>"]');
    expect(norm(n, bulk('1700000000000-5'), ['X'], 1)).toBe('"<id:2>"');
    const err: Reply = { t: 'error', v: 'ERR 1700000000000-5 and 1800000000000-0 and 1-1' };
    expect(norm(n, err, ['X'], 2)).toBe('-ERR <id:2> and <id:3> and 1-1');
  });

  it('scopes IDs by stream, and starts a scope over when its key is deleted', () => {
    const sides = [new ReplyNormaliser(2), new ReplyNormaliser(2)] as const;
    const entry = (id: string) => arr(bulk(id), arr(bulk('f'), bulk('v')));
    // Side 0 writes both streams in one millisecond, side 1 in two; s1 is then recreated.
    const script: [Arg[], Reply, Reply][] = [
      [['XADD', 's1', '*'], bulk('1700000000000-0'), bulk('1700000000000-0')],
      [['XADD', 's2', '*'], bulk('1700000000000-0'), bulk('1700000000001-0')],
      [['DEL', 's1'], int(1), int(1)],
      [['XADD', 's1', '*'], bulk('1700000000000-0'), bulk('1700000000002-0')],
      [
        ['XREAD', 'STREAMS', 's1', 's2', '0', '0'],
        arr(
          arr(bulk('s1'), arr(entry('1700000000000-0'))),
          arr(bulk('s2'), arr(entry('1700000000000-0'))),
        ),
        arr(
          arr(bulk('s1'), arr(entry('1700000000002-0'))),
          arr(bulk('s2'), arr(entry('1700000000001-0'))),
        ),
      ],
    ];
    const seen = script.map(([args, a, b], step) => [
      norm(sides[0], a, args, step),
      norm(sides[1], b, args, step),
    ]);
    for (const [a, b] of seen) expect(a).toBe(b);
    expect(seen.map(([a]) => a)).toEqual([
      '"<id:1>"',
      '"<id:2>"',
      ':1',
      '"<id:3>"',
      '[["s1", [["<id:3>", ["f", "v"]]]], ["s2", [["<id:2>", ["f", "v"]]]]]',
    ]);
  });

  it('replaces integer times by field name, in maps and flat arrays', () => {
    const n = new ReplyNormaliser(2);
    const flat = arr(bulk('name'), bulk('c'), bulk('idle'), int(17), bulk('pending'), int(2));
    expect(norm(n, flat, ['XINFO', 'CONSUMERS', 's', 'g'])).toBe(
      '["name", "c", "idle", :<t>, "pending", :2]',
    );
    const m: Reply = { t: 'map', v: [[bulk('seen-time'), int(1700000000000)]] };
    expect(norm(n, m, ['X'])).toBe('["seen-time", :<t>]');
    expect(norm(new ReplyNormaliser(3), m, ['X'])).toBe('%{"seen-time": :<t>}');
    expect(norm(n, arr(bulk('idle'), bulk('12')), ['HGETALL', 'h'])).toBe('["idle", "12"]');
  });

  it('replaces XPENDING idle times, XINFO STREAM FULL delivery times and TIME', () => {
    const n = new ReplyNormaliser(2);
    const entry = arr(bulk('1-1'), bulk('alice'), int(99), int(1));
    expect(norm(n, arr(entry), ['XPENDING', 's', 'g', '-', '+', '10'])).toBe(
      '[["1-1", "alice", :<t>, :1]]',
    );
    expect(norm(n, arr(bulk('1700000000'), bulk('123456')), ['TIME'])).toBe('["<t>", "<t>"]');
    expect(norm(n, arr(int(1), bulk('1-1'), bulk('1-1'), arr()), ['XPENDING', 's', 'g'])).toBe(
      '[:1, "1-1", "1-1", []]',
    );
    const consumer = arr(bulk('pending'), arr(arr(bulk('1-1'), int(1700000000000), int(1))));
    const group = arr(bulk('pending'), arr(arr(bulk('1-1'), bulk('c'), int(170000000000), int(1))));
    const full = arr(bulk('radix-tree-keys'), int(1), bulk('g'), group, bulk('c'), consumer);
    expect(norm(n, full, ['XINFO', 'STREAM', 's', 'FULL'])).toBe(
      '["g", ["pending", [["1-1", "c", :<t>, :1]]], "c", ["pending", [["1-1", :<t>, :1]]]]',
    );
  });

  it('sorts unordered replies and blanks ignored paths', () => {
    const n = new ReplyNormaliser(2, {
      unordered: true,
      ignore: (path, command) => command[0] === 'X' && path.length === 2 && path[1] === 0,
    });
    expect(norm(n, arr(bulk('b'), bulk('a')), ['S'])).toBe('["a", "b"]');
    expect(norm(n, arr(int(5), int(6)), ['X'])).toBe('[+<ignored>, :6]');
  });
});

describe('formatDouble (Redis 7.0 RESP2 doubles, %.17g)', () => {
  it.each([
    [0.1, '0.10000000000000001'],
    [1.5, '1.5'],
    [100, '100'],
    [1e20, '1e+20'],
    [1.5e-7, '1.4999999999999999e-07'],
    [0.0001, '0.0001'],
    [0.00012345, '0.00012344999999999999'],
    [1e-5, '1.0000000000000001e-05'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [12345678901234568, '12345678901234568'],
    [1000000000000000.25, '1000000000000000.2'],
    [5e-324, '4.9406564584124654e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [-2.75, '-2.75'],
    [0, '0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('%s -> %s', (d, text) => {
    expect(formatDouble(d)).toBe(text);
  });
});

/** Every way to split `bytes` into two chunks, and byte by byte; all must parse alike. */
function parseSplits(bytes: Buffer): Reply[][] {
  const runs: Reply[][] = [];
  const parse = (chunks: Buffer[]) => {
    const out: Reply[] = [];
    const parser = new RespParser((r) => out.push(r));
    for (const c of chunks) parser.feed(c);
    expect(parser.idle).toBe(true);
    runs.push(out);
  };
  for (let i = 0; i <= bytes.length; i++) parse([bytes.subarray(0, i), bytes.subarray(i)]);
  parse([...bytes].map((b) => Buffer.from([b])));
  return runs;
}

describe('RespParser', () => {
  const b = (s: string) => Buffer.from(s);

  it('parses every RESP2 and RESP3 type, split at every byte offset', () => {
    const sample = b(
      '+OK\r\n-ERR bad\r\n:-42\r\n$3\r\na\r\n\r\n$0\r\n\r\n$-1\r\n*-1\r\n_\r\n' +
        '*2\r\n:1\r\n*1\r\n+x\r\n%1\r\n+k\r\n~1\r\n,1.5\r\n#t\r\n#f\r\n' +
        '(123456789012345678901\r\n=7\r\ntxt:hey\r\n!5\r\nERR e\r\n,inf\r\n,-inf\r\n' +
        '|1\r\n+meta\r\n:0\r\n*0\r\n%0\r\n>2\r\n+message\r\n$1\r\nm\r\n',
    );
    const expected: Reply[] = [
      { t: 'simple', v: 'OK' },
      { t: 'error', v: 'ERR bad' },
      { t: 'int', v: -42 },
      { t: 'bulk', v: b('a\r\n') },
      { t: 'bulk', v: b('') },
      { t: 'null' },
      { t: 'nullarray' },
      { t: 'null' },
      {
        t: 'array',
        v: [
          { t: 'int', v: 1 },
          { t: 'array', v: [{ t: 'simple', v: 'x' }] },
        ],
      },
      {
        t: 'map',
        v: [
          [
            { t: 'simple', v: 'k' },
            { t: 'set', v: [{ t: 'double', v: 1.5 }] },
          ],
        ],
      },
      { t: 'int', v: 1 },
      { t: 'int', v: 0 },
      { t: 'int', v: 123456789012345678901n },
      { t: 'bulk', v: b('hey') },
      { t: 'error', v: 'ERR e' },
      { t: 'double', v: Infinity },
      { t: 'double', v: -Infinity },
      { t: 'array', v: [] },
      { t: 'map', v: [] },
      {
        t: 'push',
        v: [
          { t: 'simple', v: 'message' },
          { t: 'bulk', v: b('m') },
        ],
      },
    ];
    for (const run of parseSplits(sample)) expect(run).toEqual(expected);
  });

  it('parses a real redis-server reply stream the same however it is split', async () => {
    const server = await startRedis();
    try {
      const bytes = await rawReplies(server.port, [
        ['HELLO', '3'],
        ['XADD', 's', '*', 'f', 'v'],
        ['XINFO', 'STREAM', 's', 'FULL'],
        ['HELLO', '2'],
        ['XINFO', 'STREAM', 's', 'FULL'],
        ['BLPOP', 'nothing', '0.01'],
      ]);
      const runs = parseSplits(bytes);
      expect(runs[0]).toHaveLength(6);
      for (const run of runs) expect(run).toEqual(runs[0]);
    } finally {
      await server.stop();
    }
  });

  it('rejects bad input and stays failed', () => {
    const parser = new RespParser(() => undefined);
    expect(() => parser.feed(b('?x\r\n'))).toThrow(RespProtocolError);
    expect(() => parser.feed(b('+OK\r\n'))).toThrow(RespProtocolError);
    expect(() => new RespParser(() => undefined).feed(b('$2\r\nabc\r\n'))).toThrow(/CRLF/);
    const small = new RespParser(() => undefined, { maxBulkBytes: 4, maxLineBytes: 8 });
    expect(() => small.feed(b('$5\r\n'))).toThrow(/exceeds/);
    expect(() =>
      new RespParser(() => undefined, { maxLineBytes: 8 }).feed(b('+123456789')),
    ).toThrow(/too long/);
  });
});

/** Sends commands on a raw socket and returns the reply bytes once `count` replies arrived. */
async function rawReplies(port: number, commands: string[][]): Promise<Buffer> {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let replies = 0;
  const parser = new RespParser(() => (replies += 1));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        parser.feed(chunk);
        if (replies === commands.length) resolve();
      });
      socket.write(Buffer.concat(commands.map((c) => encodeCommand(toArgs(c)))));
    });
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks);
}
