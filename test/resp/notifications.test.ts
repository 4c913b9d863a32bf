// Keyspace notifications (notify-keyspace-events) compared with a real redis-server: the same
// commands run on both, one at a time, while a subscriber to every channel collects what was
// published; a marker message ends each command's share. Covers the classes beyond the usual
// (m: key misses, n: new keys) and the events a command's reply does not show.
import { describe, expect, it } from 'vitest';
import { RespClient } from '../helpers/resp-client';
import { plain, redisAndSluice, ReplyStream } from './fixture';

const servers = redisAndSluice();

/** Per command of `lines`: the [channel, payload] pairs it caused, in order. */
async function eventsOf(port: number, flags: string, lines: readonly string[]) {
  const client = await RespClient.connect(port);
  const sub = await ReplyStream.connect(port);
  try {
    await client.call('FLUSHALL');
    await client.call('CONFIG', 'SET', 'notify-keyspace-events', flags);
    await sub.call('PSUBSCRIBE', '*');
    const out: unknown[] = [];
    for (const line of lines) {
      await client.call(...line.split(' '));
      await client.call('PUBLISH', 'marker', line);
      const got: unknown[] = [line];
      for (;;) {
        const m = plain(await sub.next()) as unknown[];
        if (m[2] === 'marker') break;
        got.push([m[2], m[3]]);
      }
      out.push(got);
    }
    return out;
  } finally {
    await client.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    await Promise.all([client.close(), sub.close()]);
  }
}

const scripts: [string, string, string[]][] = [
  [
    'key misses of the read lookups (m), none for writes or failed arguments',
    'KEAm',
    [
      ...['EXISTS x x', 'TYPE x', 'LLEN x', 'LRANGE x 0 -1', 'LRANGE x a b', 'LINDEX x 0'],
      ...['LPOS x a', 'LPOP x', 'RPOP x', 'LMPOP 1 x LEFT', 'LMOVE x y LEFT LEFT', 'LTRIM x 0 1'],
      ...['XLEN x', 'XRANGE x - +', 'XREVRANGE x + -', 'XREAD STREAMS x y 0 0', 'XINFO STREAM x'],
      ...['XINFO GROUPS x', 'XINFO CONSUMERS x g', 'XPENDING x g', 'XACK x g 1-1', 'XDEL x 1-1'],
      ...['XCLAIM x g c 0 1-1', 'XAUTOCLAIM x g c 0 0', 'XGROUP CREATE x g $', 'DEL x'],
      ...['RENAME x y', 'OBJECT ENCODING x', 'SCAN 0 MATCH x', 'BLPOP x 0.01'],
      ...['XREADGROUP GROUP g c STREAMS x y > >', 'XREAD BLOCK 10 STREAMS x 0', 'LPUSH x a'],
      ...['LLEN x', 'XLEN x'],
    ],
  ],
  [
    'new keys (n) before the command that made them, and what replies do not show',
    'KEAn',
    [
      ...['LPUSH a 1', 'RPUSH b 1', 'LPUSH a 2', 'XADD s 1-1 f v', 'XADD s2 MAXLEN 0 1-1 f v'],
      ...['XGROUP CREATE s3 g $ MKSTREAM', 'LMOVE a c LEFT LEFT', 'RPOPLPUSH b d', 'RENAME c e'],
      ...['RENAME e e', 'LPUSH f 1', 'RENAME f e', 'XADD s MAXLEN 0 2-1 f v'],
      ...['XADD s4 NOMKSTREAM * f v', 'XGROUP CREATE s g $', 'XREADGROUP GROUP g c1 STREAMS s >'],
      ...['XADD s 3-1 f v', 'XREADGROUP GROUP g c1 STREAMS s >', 'XAUTOCLAIM s g c2 0 0'],
      ...['XCLAIM s g c3 0 3-1', 'XCLAIM s g c4 0 9-1', 'XGROUP CREATECONSUMER s g c5'],
      ...['XREADGROUP GROUP g c6 COUNT 1 STREAMS s 0', 'XADD s MAXLEN 5 4-1 f v'],
      ...['XADD s MAXLEN = 1 5-1 f v', 'XADD s MINID 9-0 6-1 f v', 'LPUSH g 1', 'LMPOP 1 g LEFT'],
      ...['LPUSHX h 1', 'RENAMENX a e'],
    ],
  ],
  [
    'writes that change nothing fire nothing: pops of 0, a missing consumer',
    'KEA',
    [
      ...['RPUSH k a b', 'LPOP k 0', 'RPOP k 0', 'LPOP k 1', 'XADD s 1-1 f v'],
      ...['XGROUP CREATE s g 0', 'XGROUP DELCONSUMER s g nobody', 'XGROUP CREATECONSUMER s g c'],
      ...['XGROUP CREATECONSUMER s g c', 'XGROUP DELCONSUMER s g c', 'XGROUP DELCONSUMER s g c'],
      ...['LREM k 0 zz', 'XDEL s 9-9', 'XTRIM s MAXLEN 5', 'LPUSHX nothing a', 'DEL nothing'],
    ],
  ],
];

/**
 * RESP3, one connection subscribed to every channel running `lines`: per command, the frames it
 * got (pushes marked) up to the reply of a PING sent after it.
 */
async function ownEvents(port: number, lines: readonly string[]) {
  const conn = await ReplyStream.connect(port, 3);
  try {
    await conn.call('FLUSHALL');
    await conn.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    await conn.call('PSUBSCRIBE', '__key*');
    const out: unknown[] = [];
    for (const line of lines) {
      conn.send(...line.split(' '));
      conn.send('PING');
      const frames: unknown[] = [line];
      for (;;) {
        const f = await conn.next();
        if (f.t === 'simple' && f.v === 'PONG') break;
        frames.push(f.t === 'push' ? ['push', ...(plain(f) as unknown[]).slice(2)] : plain(f));
      }
      out.push(frames);
    }
    await conn.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    return out;
  } finally {
    await conn.close();
  }
}

describe('keyspace notifications: as redis-server', () => {
  it('a RESP3 client gets its own events around its reply as Redis orders them', async () => {
    const lines = [
      ...['LPUSH q a b c', 'RPUSH q d', 'LSET q 0 x', 'LPOP q', 'RPOP q 1', 'LREM q 0 b'],
      ...[
        'LMOVE q r LEFT RIGHT',
        'RPOPLPUSH q r',
        'LTRIM r 0 0',
        'LPUSHX r y',
        'LINSERT r BEFORE y z',
      ],
      ...['XADD s 1-1 f v', 'XADD s MAXLEN 1 2-1 f v', 'XDEL s 1-1', 'XTRIM s MAXLEN 0'],
      ...['XGROUP CREATE s g $', 'XGROUP SETID s g 0', 'XGROUP CREATECONSUMER s g c'],
      ...['XGROUP DELCONSUMER s g c', 'XGROUP DESTROY s g', 'XSETID s 5-5', 'RENAME s t'],
      ...['DEL t r', 'LPUSH m 1', 'LMPOP 1 m LEFT'],
    ];
    const fromRedis = await ownEvents(servers.redis.port, lines);
    const fromSluice = await ownEvents(servers.sluice.port, lines);
    expect(fromSluice).toEqual(fromRedis);
  });

  it.each(scripts)('%s', async (_name, flags, lines) => {
    const fromRedis = await eventsOf(servers.redis.port, flags, lines);
    const fromSluice = await eventsOf(servers.sluice.port, flags, lines);
    expect(fromSluice).toEqual(fromRedis);
  });

  it.each([
    ['KEn', 'nKE'],
    ['KEAmn', 'AKEm'],
  ])('CONFIG GET writes %s back as redis-server does', async (flags) => {
    const got: unknown[] = [];
    for (const port of [servers.redis.port, servers.sluice.port]) {
      const client = await RespClient.connect(port);
      await client.call('CONFIG', 'SET', 'notify-keyspace-events', flags);
      got.push(plain(await client.call('CONFIG', 'GET', 'notify-keyspace-events')));
      await client.call('CONFIG', 'SET', 'notify-keyspace-events', '');
      await client.close();
    }
    expect(got[1]).toEqual(got[0]);
  });
});
