// MULTI/EXEC/DISCARD/WATCH/UNWATCH over RESP: the replies match redis-server byte for byte
// (queuing errors abort with EXECABORT, nesting and misuse errors, WATCH aborts with a null
// array, blocking commands inside MULTI answer their timeout shape at once), in RESP2 and RESP3;
// and an EXEC of several list writes is one durable unit under fsync 'always': after kill -9,
// all of its writes are there or none.
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { startSluice } from '../../src/index';
import { RespClient } from '../helpers/resp-client';
import { mulberry32, randInt } from '../conformance/harness';
import {
  blockedScenario,
  eventually,
  plain,
  rawSession,
  RawConnection,
  resp,
  redisAndSluice,
  type BlockedScenario,
} from './fixture';

const servers = redisAndSluice();

const HELLO3 = resp('HELLO', '3');
const cmd = (line: string) => resp(...line.split(' '));

const scripts: [string, string[]][] = [
  [
    'EXEC with arguments aborts the transaction (EXECABORT), inside MULTI or not',
    ['MULTI', 'RPUSH k a', 'EXEC x', 'EXEC', 'LLEN k', 'EXEC x'],
  ],
  [
    'DISCARD, WATCH or MULTI with the wrong arguments inside MULTI make EXEC abort',
    ['MULTI', 'DISCARD x', 'EXEC', 'MULTI', 'WATCH', 'EXEC', 'MULTI', 'MULTI x', 'EXEC'],
  ],
  [
    'WATCH and MULTI refused inside MULTI leave the transaction to run',
    ['MULTI', 'WATCH a', 'MULTI', 'RPUSH k a', 'EXEC'],
  ],
  [
    'EXEC returns the queued replies in order',
    ['MULTI', 'RPUSH l a b', 'LPOP l', 'LLEN l', 'EXEC'],
  ],
  ['an empty transaction answers an empty array', ['MULTI', 'EXEC']],
  [
    'SHUTDOWN and SAVE are refused inside MULTI (EXEC then aborts); WAIT there does not block',
    ['MULTI', 'SHUTDOWN', 'SAVE', 'WAIT 1 0', 'EXEC', 'MULTI', 'WAIT 1 0', 'LASTSAVE x', 'EXEC'],
  ],
  [
    'a queuing error (unknown command) makes EXEC answer EXECABORT and run nothing',
    ['MULTI', 'RPUSH l a', 'NOSUCH x', 'RPUSH l b', 'EXEC', 'EXISTS l'],
  ],
  [
    'a queuing error (wrong arity) makes EXEC answer EXECABORT',
    ['MULTI', 'RPUSH l a', 'LPUSH', 'EXEC', 'EXISTS l'],
  ],
  [
    'a queuing error (unknown subcommand) makes EXEC answer EXECABORT',
    ['MULTI', 'XINFO NOPE s', 'EXEC'],
  ],
  [
    'an error while executing does not stop the other commands',
    ['MULTI', 'XADD s 1-1 f v', 'LPUSH s x', 'XADD s 1-1 f v', 'RPUSH l a', 'EXEC', 'LLEN l'],
  ],
  ['MULTI inside MULTI is an error that does not abort', ['MULTI', 'MULTI', 'RPUSH l a', 'EXEC']],
  ['EXEC without MULTI', ['EXEC']],
  ['DISCARD without MULTI', ['DISCARD']],
  ['DISCARD drops the queued commands', ['MULTI', 'RPUSH l a', 'DISCARD', 'EXISTS l', 'EXEC']],
  ['WATCH inside MULTI is an error', ['MULTI', 'WATCH l', 'RPUSH l a', 'EXEC']],
  ['WATCH and UNWATCH arity', ['WATCH', 'UNWATCH x', 'MULTI x']],
  [
    'a key written after WATCH by the same client aborts EXEC',
    ['WATCH l', 'RPUSH l a', 'MULTI', 'LPOP l', 'EXEC'],
  ],
  ['UNWATCH forgets the keys', ['WATCH l', 'RPUSH l a', 'UNWATCH', 'MULTI', 'LPOP l', 'EXEC']],
  [
    'DISCARD forgets the watched keys',
    ['WATCH l', 'MULTI', 'DISCARD', 'RPUSH l a', 'MULTI', 'LLEN l', 'EXEC'],
  ],
  [
    'EXEC forgets the watched keys',
    ['WATCH l', 'MULTI', 'EXEC', 'RPUSH l a', 'MULTI', 'LLEN l', 'EXEC'],
  ],
  [
    'a read of a watched key does not abort',
    ['RPUSH l a', 'WATCH l', 'LRANGE l 0 -1', 'MULTI', 'LLEN l', 'EXEC'],
  ],
  [
    'a failed write to a watched key does not abort',
    ['RPUSH l a', 'WATCH l', 'XADD l * f v', 'LPOP nothing', 'MULTI', 'LLEN l', 'EXEC'],
  ],
  [
    'FLUSHALL aborts a transaction watching a key that existed',
    ['RPUSH l a', 'WATCH l', 'FLUSHALL', 'MULTI', 'LLEN l', 'EXEC'],
  ],
  [
    'blocking pops inside MULTI answer as if they timed out, at once',
    ['MULTI', 'BLPOP empty 0', 'BRPOP empty 5', 'BLMPOP 0 1 empty LEFT', 'EXEC'],
  ],
  [
    // Not the null array a real timeout answers: Redis's CLIENT_DENY_BLOCKING path replies null.
    'BLMOVE and BRPOPLPUSH inside MULTI answer a null bulk string, at once',
    ['MULTI', 'BLMOVE empty dst LEFT RIGHT 0', 'BRPOPLPUSH empty dst 0', 'EXEC'],
  ],
  [
    'blocking stream reads inside MULTI answer as if they timed out, at once',
    [
      'XGROUP CREATE s g $ MKSTREAM',
      'MULTI',
      'XREAD BLOCK 0 STREAMS s $',
      'XREADGROUP GROUP g c BLOCK 0 STREAMS s >',
      'EXEC',
    ],
  ],
  [
    'blocking commands inside MULTI serve data that is there',
    ['RPUSH q a b', 'XADD s 1-1 f v', 'MULTI', 'BLPOP q 0', 'XREAD BLOCK 0 STREAMS s 0', 'EXEC'],
  ],
  [
    'connection commands queue and run inside MULTI',
    [
      'MULTI',
      'PING',
      'ECHO hi',
      'SELECT 2',
      'RPUSH l x',
      'EXEC',
      'EXISTS l',
      'SELECT 0',
      'EXISTS l',
    ],
  ],
  [
    'SWAPDB inside MULTI: the commands after it see the swapped databases',
    [
      'RPUSH l a',
      'MULTI',
      'RPUSH l b',
      'SWAPDB 0 1',
      'RPUSH l c',
      'XADD s 1-1 f v',
      'LRANGE l 0 -1',
      'EXEC',
      'LRANGE l 0 -1',
      'SELECT 1',
      'LRANGE l 0 -1',
      'XLEN s',
      'SELECT 0',
    ],
  ],
  [
    'SWAPDB errors inside MULTI',
    ['MULTI', 'SWAPDB 0', 'SWAPDB 0 x', 'EXEC', 'MULTI', 'SWAPDB 0 x', 'SWAPDB 0 99', 'EXEC'],
  ],
  ['SUBSCRIBE inside MULTI subscribes when EXEC runs', ['MULTI', 'SUBSCRIBE a', 'EXEC', 'PING']],
  [
    'RESET inside MULTI discards the transaction',
    ['MULTI', 'RPUSH l a', 'RESET', 'EXISTS l', 'EXEC'],
  ],
  [
    'CLIENT inside MULTI',
    ['MULTI', 'CLIENT SETNAME tx', 'CLIENT GETNAME', 'EXEC', 'CLIENT GETNAME'],
  ],
  ['QUIT inside MULTI answers OK and closes', ['MULTI', 'RPUSH l a', 'QUIT']],
];

/** Writes that change nothing, and writes Redis does not count as touching the key. */
const watchTouches: [string, string[]][] = [
  ['FLUSHALL with the watched key missing', ['FLUSHALL']],
  ['DEL of the missing watched key', ['DEL w']],
  ['DEL of the missing watched key and a present one', ['RPUSH x a', 'DEL w x']],
  ['DEL of the present watched key and a missing one', ['RPUSH w a', 'WATCH w', 'DEL x w']],
  ['LREM that removes nothing', ['RPUSH w a', 'WATCH w', 'LREM w 0 zz']],
  ['LPOP of the missing watched key', ['LPOP w']],
  ['RPUSHX on the missing watched key', ['RPUSHX w a']],
  ['LTRIM that keeps every element', ['RPUSH w a', 'WATCH w', 'LTRIM w 0 -1']],
  ['LTRIM of the missing watched key', ['LTRIM w 0 1']],
  ['LTRIM that empties the watched list', ['RPUSH w a', 'WATCH w', 'LTRIM w 1 0']],
  ['RENAME of the watched key onto itself', ['RPUSH w a', 'WATCH w', 'RENAME w w']],
  ['LPOP and RPOP of 0 elements', ['RPUSH w a', 'WATCH w', 'LPOP w 0', 'RPOP w 0']],
  ['LMOVE of a one-element list onto itself', ['RPUSH w a', 'WATCH w', 'LMOVE w w LEFT RIGHT']],
  ['XDEL of a missing ID', ['XADD w 1-1 f v', 'WATCH w', 'XDEL w 9-9']],
  ['XTRIM that removes nothing', ['XADD w 1-1 f v', 'WATCH w', 'XTRIM w MAXLEN 10']],
  ['XADD NOMKSTREAM on the missing key', ['XADD w NOMKSTREAM * f v']],
  ['XGROUP CREATE', ['XADD w 1-1 f v', 'WATCH w', 'XGROUP CREATE w g 0']],
  [
    'XREADGROUP',
    ['XADD w 1-1 f v', 'XGROUP CREATE w g 0', 'WATCH w', 'XREADGROUP GROUP g c STREAMS w >'],
  ],
  [
    'XACK',
    [
      'XADD w 1-1 f v',
      'XGROUP CREATE w g 0',
      'XREADGROUP GROUP g c STREAMS w >',
      'WATCH w',
      'XACK w g 1-1',
    ],
  ],
  ['XSETID', ['XADD w 1-1 f v', 'WATCH w', 'XSETID w 5-5']],
  [
    'XCLAIM',
    [
      'XADD w 1-1 f v',
      'XGROUP CREATE w g 0',
      'XREADGROUP GROUP g c STREAMS w >',
      'WATCH w',
      'XCLAIM w g d 0 1-1',
    ],
  ],
  [
    'XAUTOCLAIM',
    [
      'XADD w 1-1 f v',
      'XGROUP CREATE w g 0',
      'XREADGROUP GROUP g c STREAMS w >',
      'WATCH w',
      'XAUTOCLAIM w g d 0 0',
    ],
  ],
  ['XGROUP SETID', ['XADD w 1-1 f v', 'XGROUP CREATE w g 0', 'WATCH w', 'XGROUP SETID w g $']],
  [
    'XGROUP CREATECONSUMER',
    ['XADD w 1-1 f v', 'XGROUP CREATE w g 0', 'WATCH w', 'XGROUP CREATECONSUMER w g c'],
  ],
  [
    'XGROUP DELCONSUMER',
    [
      'XADD w 1-1 f v',
      'XGROUP CREATE w g 0',
      'XGROUP CREATECONSUMER w g c',
      'WATCH w',
      'XGROUP DELCONSUMER w g c',
    ],
  ],
  ['XGROUP DESTROY', ['XADD w 1-1 f v', 'XGROUP CREATE w g 0', 'WATCH w', 'XGROUP DESTROY w g']],
  ['XADD', ['XADD w 1-1 f v']],
  ['RPUSH', ['RPUSH w a']],
  ['LSET', ['RPUSH w a', 'WATCH w', 'LSET w 0 a']],
  ['LINSERT with a missing pivot', ['RPUSH w a', 'WATCH w', 'LINSERT w BEFORE zz b']],
  ['RPOPLPUSH from the missing watched key', ['RPOPLPUSH w x']],
  ['LMPOP of the missing watched key', ['LMPOP 1 w LEFT']],
  ['FLUSHDB with the watched key present', ['RPUSH w a', 'WATCH w', 'FLUSHDB']],
  ['FLUSHDB of another database', ['RPUSH w a', 'WATCH w', 'SELECT 1', 'FLUSHDB', 'SELECT 0']],
  ['SWAPDB with the watched key present', ['RPUSH w a', 'WATCH w', 'SWAPDB 0 1']],
  ['SWAPDB bringing the key in', ['SELECT 1', 'RPUSH w a', 'SELECT 0', 'WATCH w', 'SWAPDB 0 1']],
  ['SWAPDB with the watched key in neither database', ['SWAPDB 0 1']],
  ['SWAPDB of two other databases', ['RPUSH w a', 'WATCH w', 'SWAPDB 1 2']],
  ['SWAPDB of the database with itself', ['RPUSH w a', 'WATCH w', 'SWAPDB 0 0']],
  [
    'SWAPDB of the database watched in, from another one',
    ['SELECT 2', 'XADD w 1-1 f v', 'SELECT 0', 'WATCH w', 'SELECT 5', 'SWAPDB 2 0', 'SELECT 0'],
  ],
  ['SWAPDB that fails', ['RPUSH w a', 'WATCH w', 'SWAPDB 0 99']],
  ['RENAME onto the watched key', ['RPUSH x a', 'RENAME x w']],
  ['RENAME of the watched key', ['RPUSH w a', 'WATCH w', 'RENAME w x']],
];

/**
 * Clients blocked on keys an EXEC (or one command) writes are served once it is done, from what
 * it left, one stream from the key written first, as Redis 7.0 serves them.
 */
const blockedCases: [string, BlockedScenario][] = [
  [
    'a push and a pop in one EXEC leave a blocked BLPOP blocked',
    {
      setup: [],
      block: [0, 'BLPOP q 0.3'],
      swap: ['MULTI', 'RPUSH q a', 'LLEN q', 'LPOP q', 'EXEC'],
      after: [[0, 'EXISTS q']],
    },
  ],
  [
    'a blocked BLPOP gets the value the EXEC left, after its reads',
    {
      setup: [],
      block: [0, 'BLPOP q 5'],
      swap: ['MULTI', 'RPUSH q a b c', 'LPOP q', 'LRANGE q 0 -1', 'EXEC'],
      after: [[0, 'LRANGE q 0 -1']],
    },
  ],
  [
    'a blocked BLMOVE moves what the EXEC left',
    {
      setup: [],
      block: [0, 'BLMOVE q dst RIGHT LEFT 5'],
      swap: ['MULTI', 'LPUSH q a b', 'RPOP q', 'LLEN dst', 'EXEC'],
      after: [
        [0, 'LRANGE q 0 -1'],
        [0, 'LRANGE dst 0 -1'],
      ],
    },
  ],
  [
    'a blocked XREAD gets every entry the EXEC added',
    {
      setup: [[0, 'XADD s 1-1 f v']],
      block: [0, 'XREAD BLOCK 5000 STREAMS s $'],
      swap: ['MULTI', 'XADD s 2-1 f a', 'XADD s 3-1 f b', 'XLEN s', 'EXEC'],
    },
  ],
  [
    'a blocked XREADGROUP gets the entries the EXEC added and did not delete',
    {
      setup: [[0, 'XGROUP CREATE s g $ MKSTREAM']],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['MULTI', 'XADD s 1-1 f a', 'XADD s 2-1 f b', 'XDEL s 1-1', 'EXEC'],
      after: [[0, 'XPENDING s g']],
    },
  ],
  [
    'a blocked XREADGROUP on two streams is served from the one the EXEC wrote first',
    {
      setup: [
        [0, 'XGROUP CREATE s g $ MKSTREAM'],
        [0, 'XGROUP CREATE t g $ MKSTREAM'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s t > >'],
      swap: ['MULTI', 'XADD t 1-1 a 1', 'XADD s 1-1 a 1', 'EXEC'],
      after: [
        [0, 'XPENDING s g'],
        [0, 'XPENDING t g'],
      ],
    },
  ],
  [
    'a blocked XREAD on two streams gets only the one the EXEC wrote first',
    {
      setup: [],
      block: [0, 'XREAD BLOCK 5000 STREAMS s t $ $'],
      swap: ['MULTI', 'XADD t 1-1 a 1', 'XADD s 1-1 a 1', 'EXEC'],
    },
  ],
  [
    'a blocked XREAD without COUNT gets at most 1000 of the entries an EXEC added',
    {
      setup: [],
      block: [0, 'XREAD BLOCK 5000 STREAMS s $'],
      swap: ['MULTI', ...Array.from({ length: 1010 }, (_, i) => `XADD s ${i + 1}-1 f v`), 'EXEC'],
    },
  ],
  [
    'a blocked XREADGROUP whose new entry the EXEC deleted gets an empty reply',
    {
      setup: [[0, 'XGROUP CREATE s g $ MKSTREAM']],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['MULTI', 'XADD s 1-1 f a', 'XDEL s 1-1', 'EXEC'],
      after: [
        [0, 'XPENDING s g'],
        [0, 'XINFO GROUPS s'],
      ],
    },
  ],
  [
    'a blocked XREADGROUP reads from a group the EXEC destroyed and created again',
    {
      setup: [[0, 'XGROUP CREATE s g $ MKSTREAM']],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['MULTI', 'XGROUP DESTROY s g', 'XGROUP CREATE s g $', 'XADD s 1-1 f a', 'EXEC'],
      after: [[0, 'XPENDING s g']],
    },
  ],
  [
    'a blocked XREAD woken by an XADD that trimmed its own entry gets an empty reply',
    {
      setup: [[0, 'XADD s 1-1 f v']],
      block: [0, 'XREAD BLOCK 5000 STREAMS s $'],
      swap: ['XADD s MAXLEN 0 2-1 f a'],
    },
  ],
  [
    'a blocked XREADGROUP woken by an XADD that trimmed its own entry gets an empty reply',
    {
      setup: [[0, 'XGROUP CREATE s g $ MKSTREAM']],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['XADD s MAXLEN 0 1-1 f a'],
      after: [[0, 'XINFO GROUPS s']],
    },
  ],
];

describe('clients blocked on keys a transaction or a command writes: as redis-server', () => {
  it.each(blockedCases)('%s', async (_name, scenario) => {
    const fromRedis = await blockedScenario(servers.redis.port, scenario);
    const fromSluice = await blockedScenario(servers.sluice.port, scenario);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('which writes of the watching client abort EXEC: as redis-server', () => {
  it.each(watchTouches)('%s', async (_name, writes) => {
    // WATCH first unless the script watches after setting the key up.
    const watchFirst = writes.some((w) => w.startsWith('WATCH')) ? [] : ['WATCH w'];
    const script = ['FLUSHALL', ...watchFirst, ...writes, 'MULTI', 'PING', 'EXEC'].map(cmd);
    const [fromRedis, fromSluice] = await Promise.all([
      rawSession(servers.redis.port, script),
      rawSession(servers.sluice.port, script),
    ]);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('transactions: byte for byte as redis-server', () => {
  describe.each([
    ['RESP2', []],
    ['RESP3', [HELLO3]],
  ] as const)('%s', (_, prelude) => {
    it.each(scripts)('%s', async (_name, lines) => {
      const script = ['FLUSHALL', ...lines].map(cmd);
      const started = Date.now();
      const [fromRedis, fromSluice] = await Promise.all([
        rawSession(servers.redis.port, script, { prelude }),
        rawSession(servers.sluice.port, script, { prelude }),
      ]);
      expect(fromSluice).toEqual(fromRedis);
      // No blocking command waited (rawSession waits ~20 ms of quiet per step).
      expect(Date.now() - started).toBeLessThan(script.length * 300 + 2000);
    });
  });
});

/** On each server: A watches `l`, B writes it, A runs a transaction; the bytes A received. */
async function watchedByAnother(port: number, prelude: Buffer[], write: string): Promise<string> {
  const setup = await RespClient.connect(port);
  await setup.call('FLUSHALL');
  await setup.call('RPUSH', 'l', 'a');
  const a = await rawSession(port, ['WATCH l'].map(cmd), { prelude, keepOpen: true });
  await setup.call(...write.split(' '));
  const conn = a.conn!;
  const mark = conn.received.length;
  conn.send(Buffer.concat(['MULTI', 'RPUSH l mine', 'EXEC', 'LRANGE l 0 -1'].map(cmd)));
  await conn.waitFor((r) => r.subarray(mark).includes('*') && countReplies(r.subarray(mark)) >= 4);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const bytes = conn.received.subarray(mark).toString('latin1');
  await Promise.all([conn.destroy(), setup.close()]);
  return a.reply + bytes;
}

/** Top-level reply count in bytes of simple replies and flat arrays (enough for these scripts). */
function countReplies(bytes: Buffer): number {
  return bytes
    .toString('latin1')
    .split('\r\n')
    .filter((l) => /^[+\-:*_>%]/.test(l)).length;
}

describe('WATCH across clients', () => {
  describe.each([
    ['RESP2', []],
    ['RESP3', [HELLO3]],
  ] as const)('%s', (_, prelude) => {
    it.each([
      ['another client pushing to the watched key makes EXEC answer a null array', 'RPUSH l b'],
      ['another client deleting the watched key aborts EXEC', 'DEL l'],
      ['another client popping the watched key aborts EXEC', 'LPOP l'],
      ['another client writing a different key does not abort EXEC', 'RPUSH other b'],
    ])('%s', async (_name, write) => {
      const fromRedis = await watchedByAnother(servers.redis.port, [...prelude], write);
      const fromSluice = await watchedByAnother(servers.sluice.port, [...prelude], write);
      expect(fromSluice).toBe(fromRedis);
    });
  });

  it('a transaction runs alone: another client never sees half of it', async () => {
    const writer = await RespClient.connect(servers.sluice.port);
    const reader = await RespClient.connect(servers.sluice.port);
    try {
      await writer.call('FLUSHALL');
      const tx: Promise<Reply>[] = [];
      const reads: Promise<Reply>[] = [];
      for (let i = 0; i < 200; i++) {
        tx.push(
          writer.call('MULTI'),
          writer.call('RPUSH', 'a', `${i}`),
          writer.call('RPUSH', 'b', `${i}`),
        );
        tx.push(writer.call('EXEC'));
        reads.push(reader.call('LLEN', 'a'), reader.call('LLEN', 'b'));
      }
      await Promise.all(tx);
      const lens = await Promise.all(reads);
      // LLEN a, then LLEN b: a transaction that lands between them makes b longer, but only a
      // half-visible one (a pushed, b not yet) could make b shorter.
      for (let i = 0; i < lens.length; i += 2) {
        const [la, lb] = [
          Number((lens[i] as { v: number }).v),
          Number((lens[i + 1] as { v: number }).v),
        ];
        expect(lb).toBeGreaterThanOrEqual(la);
      }
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});

describe('EXEC durability under fsync always', () => {
  it('after kill -9 each EXEC of several list writes is all there or not at all', async () => {
    const broker = await startSluice({ fsync: 'always' });
    const rand = mulberry32(20_261_202);
    const POOL = 5000;
    /** Transactions whose EXEC was answered, by number. */
    const acked = new Set<number>();
    let nextTx = 0;
    try {
      const setup = await RespClient.connect(broker.respPort);
      const pool = Array.from({ length: POOL }, (_, i) => `p${i}`);
      expect(await setup.call('RPUSH', 'pool', ...pool)).toEqual({ t: 'int', v: POOL });
      await setup.close();
      for (let round = 0; round < 3; round++) {
        const clients = await Promise.all([1, 2, 3].map(() => RespClient.connect(broker.respPort)));
        const loops = clients.map(async (c) => {
          for (;;) {
            const n = nextTx++;
            // Several list writes and a move: all of them or none after a crash.
            queue(c.call('MULTI'));
            queue(c.call('RPUSH', 'a', `${n}`));
            queue(c.call('LPUSH', 'b', `${n}`));
            queue(c.call('LMOVE', 'pool', 'taken', 'LEFT', 'RIGHT'));
            queue(c.call('RPUSH', 'c', `${n}`, `${n}`));
            const r = await c.call('EXEC');
            if (r.t !== 'array' || r.v.length !== 4) throw new Error(`EXEC answered ${r.t}`);
            acked.add(n);
          }
        });
        const stopped = loops.map((l) =>
          l.then(
            () => null,
            (e: unknown) => e,
          ),
        );
        const before = acked.size;
        await eventually('an answered EXEC', () => acked.size > before, 20_000);
        await new Promise((resolve) => setTimeout(resolve, 50 + randInt(rand, 400)));
        await broker.kill();
        for (const e of await Promise.all(stopped)) expect(String(e)).not.toMatch(/answered/);
        await Promise.all(clients.map((c) => c.close()));
        await broker.restart();
        await checkAtomic(broker.respPort, acked, POOL);
      }
    } finally {
      await broker.destroy();
    }
  }, 120_000);
});

/** A pipelined call whose reply is not looked at (a kill may reject it). */
function queue(reply: Promise<Reply>): void {
  reply.catch(() => {});
}

/** Every transaction found in one list is in all of them, and every answered one is there. */
async function checkAtomic(port: number, acked: ReadonlySet<number>, pool: number) {
  const c = await RespClient.connect(port);
  try {
    const list = async (key: string) => {
      const r = await c.call('LRANGE', key, '0', '-1');
      return r.t === 'array' ? r.v.map((e) => (e.t === 'bulk' ? e.v.toString() : '?')) : [];
    };
    const [a, b, cc, taken, left] = await Promise.all(['a', 'b', 'c', 'taken', 'pool'].map(list));
    const txs = new Set(a!.map(Number));
    expect(new Set(b!.map(Number))).toEqual(txs);
    expect(cc!.length).toBe(2 * txs.size);
    expect(new Set(cc!.map(Number))).toEqual(txs);
    expect(taken!.length).toBe(txs.size);
    expect(taken!.length + left!.length).toBe(pool);
    expect([...acked].filter((n) => !txs.has(n))).toEqual([]);
  } finally {
    await c.close();
  }
}

/** Connection commands' argument checks without a password set (the default user: nopass). */
const connectionScripts: [string, string[]][] = [
  [
    'AUTH without a password: the default user takes any password, others are refused',
    ['AUTH default pw', 'AUTH nouser pw', 'AUTH a b c', 'AUTH pw', 'HELLO 2 AUTH nouser pw'],
  ],
  [
    'HELLO reads its version as a long long: no leading zeros, no overflow',
    ['HELLO 03', 'HELLO 9999999999999999999999', 'HELLO -1', 'HELLO 1', 'HELLO x'],
  ],
  ['RESET takes no arguments', ['RESET x', 'MULTI', 'RESET x', 'EXEC']],
];

/** CLIENT's argument checks: none of these kills a client (SKIPME is on, or the filter is bad). */
const clientScripts: [string, string[]][] = [
  [
    'CLIENT subcommands with the wrong number of arguments',
    ['CLIENT SETNAME', 'CLIENT SETNAME a b', 'CLIENT GETNAME x', 'CLIENT ID x', 'CLIENT INFO x'],
  ],
  ['more of them', ['CLIENT KILL', 'CLIENT UNBLOCK', 'CLIENT REPLY', 'CLIENT HELP x']],
  [
    'CLIENT KILL filters are checked',
    ['CLIENT KILL ID abc', 'CLIENT KILL ID 0', 'CLIENT KILL TYPE foo', 'CLIENT KILL SKIPME maybe'],
  ],
  ['CLIENT KILL that matches nobody', ['CLIENT KILL USER nobody', 'CLIENT KILL ID 999999']],
  ['CLIENT KILL of no replica', ['CLIENT KILL TYPE master', 'CLIENT KILL TYPE replica']],
  [
    'CLIENT LIST filters',
    ['CLIENT LIST FOO', 'CLIENT LIST TYPE foo', 'CLIENT LIST ID abc', 'CLIENT LIST TYPE pubsub'],
  ],
  ['CLIENT LIST of no such client', ['CLIENT LIST ID 999999', 'CLIENT LIST TYPE master']],
  ['CLIENT NO-EVICT takes ON or OFF', ['CLIENT NO-EVICT maybe', 'CLIENT NO-EVICT on']],
  [
    'CLIENT REPLY SKIP while OFF leaves the replies off',
    ['CLIENT REPLY OFF', 'PING', 'CLIENT REPLY SKIP', 'PING 2', 'CLIENT REPLY ON', 'PING 3'],
  ],
];

/** A client that kills itself: what it is sent before the close. */
async function selfKill(port: number): Promise<{ text: string; closed: boolean }> {
  const conn = await RawConnection.connect(port);
  conn.send(resp('CLIENT', 'ID'));
  await conn.waitFor((b) => b.includes('\r\n'));
  const id = conn.text.slice(1).trim();
  const sent = conn.text.length;
  const kill = ['CLIENT', 'KILL', 'ID', id, 'SKIPME', 'no'];
  // Not inside MULTI: there Redis cuts the EXEC reply short after the kill's (`*2 :1`, close).
  conn.send(Buffer.concat([resp('PING'), resp(...kill), resp('PING')]));
  await conn.ended;
  return { text: conn.text.slice(sent), closed: conn.closed };
}

describe('CLIENT: byte for byte as redis-server', () => {
  it.each(clientScripts)('%s', async (_name, lines) => {
    const script = lines.map(cmd);
    const [fromRedis, fromSluice] = await Promise.all([
      rawSession(servers.redis.port, script),
      rawSession(servers.sluice.port, script),
    ]);
    expect(fromSluice).toEqual(fromRedis);
  });

  it('a client that kills itself gets the replies before the kill, then is closed', async () => {
    const [fromRedis, fromSluice] = await Promise.all([
      selfKill(servers.redis.port),
      selfKill(servers.sluice.port),
    ]);
    expect(fromRedis.closed).toBe(true);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('connection commands: byte for byte as redis-server', () => {
  it.each(connectionScripts)('%s', async (_name, lines) => {
    const script = lines.map(cmd);
    const [fromRedis, fromSluice] = await Promise.all([
      rawSession(servers.redis.port, script),
      rawSession(servers.sluice.port, script),
    ]);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('CONFIG RESETSTAT: as redis-server', () => {
  it('counts connections received from zero again', async () => {
    const got: string[] = [];
    for (const port of [servers.redis.port, servers.sluice.port]) {
      const client = await RespClient.connect(port);
      await client.call('CONFIG', 'RESETSTAT');
      const info = plain(await client.call('INFO', 'stats')) as string;
      got.push(/total_connections_received:(\d+)/.exec(info)?.[1] ?? 'none');
      await client.close();
    }
    expect(got[0]).toBe('0');
    expect(got[1]).toEqual(got[0]);
  });
});
