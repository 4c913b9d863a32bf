// SWAPDB over RESP, compared with redis-server 7.0: scripts across several databases (SELECT
// is a connection's, so these run over the wire) byte for byte, and clients blocked on keys of
// the swapped databases: served from what came in (BLPOP, BLMOVE, XREAD, XREADGROUP), ended
// with UNBLOCKED or NOGROUP when their stream went away or lost its group, or left blocked
// when what came in is of another type, exactly as redis-server answers them (and XREADGROUP
// when RENAME puts another stream at its key, by the same rule).
import { describe, expect, it } from 'vitest';
import { blockedScenario, rawSession, resp, redisAndSluice, type BlockedScenario } from './fixture';

const servers = redisAndSluice();

const cmd = (line: string) => resp(...line.split(' '));

const scripts: [string, string[]][] = [
  [
    'lists and streams of two databases trade places, the others stay',
    [
      'SELECT 1',
      'RPUSH l one',
      'XADD s 1-1 f v',
      'SELECT 2',
      'RPUSH l two',
      'SELECT 3',
      'RPUSH l three',
      'SWAPDB 1 2',
      'SELECT 1',
      'LRANGE l 0 -1',
      'EXISTS s',
      'SELECT 2',
      'LRANGE l 0 -1',
      'XRANGE s - +',
      'DBSIZE',
      'SELECT 3',
      'LRANGE l 0 -1',
      'INFO keyspace',
    ],
  ],
  [
    'keys written after a swap land in the database selected, swaps back restore',
    [
      'XADD s 1-1 a 0',
      'SWAPDB 0 5',
      'XADD s 2-1 a 1',
      'RPUSH q x',
      'SELECT 5',
      'XADD s 3-1 a 5',
      'SWAPDB 5 0',
      'XRANGE s - +',
      'LRANGE q 0 -1',
      'SELECT 0',
      'XRANGE s - +',
      'SWAPDB 0 5',
      'SWAPDB 5 0',
      'XRANGE s - +',
      'INFO keyspace',
    ],
  ],
  [
    'RENAME, DEL and FLUSHDB in swapped databases',
    [
      'XADD a 1-1 f v',
      'SELECT 1',
      'XADD a 2-2 f v',
      'SWAPDB 0 1',
      'RENAME a b',
      'SELECT 0',
      'XRANGE a - +',
      'DEL a',
      'SWAPDB 1 0',
      'XRANGE a - +',
      'SELECT 1',
      'XRANGE b - +',
      'FLUSHDB',
      'SELECT 0',
      'INFO keyspace',
    ],
  ],
  [
    'XREADGROUP and the group follow their stream through a swap',
    [
      'XADD s 1-1 f v',
      'XGROUP CREATE s g 0',
      'SWAPDB 0 1',
      'SELECT 1',
      'XREADGROUP GROUP g c COUNT 1 STREAMS s >',
      'XPENDING s g',
      'SELECT 0',
      'XINFO GROUPS s',
    ],
  ],
];

describe('SWAPDB across databases: byte for byte as redis-server', () => {
  it.each(scripts)('%s', async (_name, lines) => {
    const script = ['FLUSHALL', ...lines].map(cmd);
    const [fromRedis, fromSluice] = await Promise.all([
      rawSession(servers.redis.port, script),
      rawSession(servers.sluice.port, script),
    ]);
    expect(fromSluice).toEqual(fromRedis);
  });
});

const blockedCases: [string, BlockedScenario][] = [
  [
    'BLPOP is served from the list the swap brings in',
    {
      setup: [[1, 'RPUSH q a b']],
      block: [0, 'BLPOP q 5'],
      after: [
        [0, 'LRANGE q 0 -1'],
        [1, 'EXISTS q'],
      ],
    },
  ],
  [
    'a client blocked in the other database is served too',
    { setup: [[0, 'RPUSH q a']], block: [1, 'BLPOP q 5'], after: [[1, 'EXISTS q']] },
  ],
  [
    'BLPOP on several keys is served from the one that came in',
    { setup: [[1, 'RPUSH q a']], block: [0, 'BLPOP x q y 5'], after: [[0, 'DBSIZE']] },
  ],
  [
    'BLMOVE is served, and the value lands in the database the client selected',
    {
      setup: [[1, 'RPUSH q a b']],
      block: [0, 'BLMOVE q dst LEFT RIGHT 5'],
      after: [
        [0, 'LRANGE dst 0 -1'],
        [0, 'LRANGE q 0 -1'],
        [1, 'DBSIZE'],
      ],
    },
  ],
  [
    'BLPOP stays blocked when a stream comes in',
    { setup: [[1, 'XADD q 1-1 f v']], block: [0, 'BLPOP q 0.3'], after: [[0, 'TYPE q']] },
  ],
  [
    'clients blocked in a database the swap does not touch stay blocked',
    { setup: [[1, 'RPUSH q a']], block: [2, 'BLPOP q 0.3'], after: [[0, 'LLEN q']] },
  ],
  [
    'SWAPDB inside MULTI serves the blocked client once EXEC runs',
    {
      setup: [[1, 'RPUSH q a']],
      block: [0, 'BLPOP q 5'],
      // The transaction's LLEN sees the list the swap brought in: the client is served after.
      swap: ['MULTI', 'SWAPDB 0 1', 'LLEN q', 'RPUSH q b', 'EXEC'],
      after: [[0, 'LRANGE q 0 -1']],
    },
  ],
  [
    'XREAD BLOCK $ on a missing stream is served by the stream the swap brings in',
    {
      setup: [
        [1, 'XADD s 1-1 f v'],
        [1, 'XADD s 2-1 f w'],
      ],
      block: [0, 'XREAD BLOCK 5000 STREAMS s $'],
    },
  ],
  [
    'XREAD BLOCK $ stays blocked when the stream that comes in has only older entries',
    {
      setup: [
        [0, 'XADD s 5-1 f v'],
        [1, 'XADD s 1-1 f v'],
      ],
      block: [0, 'XREAD BLOCK 300 STREAMS s $'],
    },
  ],
  [
    'XREAD stays blocked when a list comes in',
    { setup: [[1, 'RPUSH s a']], block: [0, 'XREAD BLOCK 300 STREAMS s $'] },
  ],
  [
    'XREADGROUP ends with UNBLOCKED when the swap takes its stream away',
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
    },
  ],
  [
    "XREADGROUP is served by the swapped-in stream's group of the same name",
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
        [1, 'XADD s 1-1 f v'],
        [1, 'XADD s 2-1 f v'],
        [1, 'XGROUP CREATE s g 0'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      after: [
        [0, 'XPENDING s g'],
        [1, 'XPENDING s g'],
      ],
    },
  ],
  [
    'XREADGROUP ends with NOGROUP when the swapped-in stream lacks the group',
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
        [1, 'XADD s 1-1 f v'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
    },
  ],
  [
    'XREADGROUP ends with UNBLOCKED when a list takes the key',
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
        [1, 'RPUSH s a'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
    },
  ],
  [
    // Not a swap, but the same rule: the group is looked up again by name in the new stream.
    'XREADGROUP is served when RENAME puts a stream with the group in place',
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
        [0, 'XADD t 1-1 f v'],
        [0, 'XGROUP CREATE t g 0'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['RENAME t s'],
    },
  ],
  [
    'XREADGROUP ends with NOGROUP when RENAME puts a stream without the group in place',
    {
      setup: [
        [0, 'XADD s 1-1 f v'],
        [0, 'XGROUP CREATE s g $'],
        [0, 'XADD t 1-1 f v'],
      ],
      block: [0, 'XREADGROUP GROUP g c BLOCK 5000 STREAMS s >'],
      swap: ['RENAME t s'],
    },
  ],
];

describe('clients blocked on keys of swapped databases: as redis-server', () => {
  it.each(blockedCases)('%s', async (_name, scenario) => {
    const fromRedis = await blockedScenario(servers.redis.port, scenario);
    const fromSluice = await blockedScenario(servers.sluice.port, scenario);
    expect(fromSluice).toEqual(fromRedis);
  });
});
