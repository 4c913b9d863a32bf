// Pub/sub over RESP: the replies to the SUBSCRIBE family, RESP2 subscriber mode (only
// (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET, with Redis's error for the rest) and
// the messages themselves match redis-server byte for byte; under RESP3 a subscribed connection
// runs any command and gets messages as pushes; messages cross between HTTP and RESP.
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { RespClient } from '../helpers/resp-client';
import { SseClient } from '../helpers/sse-client';
import { plain, rawSession, ReplyStream, resp, type Exchange, redisAndSluice } from './fixture';

const servers = redisAndSluice();

const HELLO3 = resp('HELLO', '3');

/** The same script on a new connection to each server; both views of it. */
function both(
  script: readonly Buffer[],
  prelude: readonly Buffer[] = [],
): Promise<[Exchange, Exchange]> {
  return Promise.all([
    rawSession(servers.redis.port, script, { prelude }),
    rawSession(servers.sluice.port, script, { prelude }),
  ]);
}

const cmd = (line: string) => resp(...line.split(' '));

describe('SUBSCRIBE family replies: byte for byte as redis-server', () => {
  const scripts: [string, string[]][] = [
    ['SUBSCRIBE to several channels, one of them twice', ['SUBSCRIBE a b a', 'SUBSCRIBE c']],
    ['UNSUBSCRIBE without arguments and no subscription', ['UNSUBSCRIBE']],
    ['PUNSUBSCRIBE without arguments and no subscription', ['PUNSUBSCRIBE']],
    ['SUNSUBSCRIBE without arguments and no subscription', ['SUNSUBSCRIBE']],
    ['UNSUBSCRIBE without arguments drops the only channel', ['SUBSCRIBE a', 'UNSUBSCRIBE']],
    [
      'channels and patterns share one count',
      ['SUBSCRIBE a', 'PSUBSCRIBE p* q*', 'UNSUBSCRIBE a', 'PUNSUBSCRIBE p*', 'PUNSUBSCRIBE'],
    ],
    ['UNSUBSCRIBE of a channel never subscribed', ['SUBSCRIBE a', 'UNSUBSCRIBE zz a zz']],
    ['shard channels count apart', ['SUBSCRIBE a', 'SSUBSCRIBE s1 s2', 'SUNSUBSCRIBE s1', 'PING']],
    ['SSUBSCRIBE then SUNSUBSCRIBE without arguments', ['SSUBSCRIBE s1', 'SUNSUBSCRIBE']],
    ['SUBSCRIBE without a channel is an arity error', ['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE']],
    ['PING in subscriber mode', ['SUBSCRIBE a', 'PING', 'PING hello']],
    ['RESET leaves subscriber mode', ['SUBSCRIBE a', 'RESET', 'LPUSH after-reset x', 'PING']],
    ['QUIT in subscriber mode answers OK and closes', ['SUBSCRIBE a', 'QUIT']],
  ];

  describe.each([
    ['RESP2', []],
    ['RESP3', [HELLO3]],
  ] as const)('%s', (_, prelude) => {
    it.each(scripts)('%s', async (_name, lines) => {
      const [fromRedis, fromSluice] = await both(lines.map(cmd), prelude);
      expect(fromSluice).toEqual(fromRedis);
    });
  });

  it('UNSUBSCRIBE without arguments drops every channel, the count going down to 0', async () => {
    // Redis walks its channel dict in hash order: compare the replies as a set.
    const script = ['SUBSCRIBE a b c', 'UNSUBSCRIBE'].map(cmd);
    const [fromRedis, fromSluice] = await both(script);
    const frames = (e: Exchange) => e.reply.split('*3\r\n').filter((f) => f !== '');
    const names = (e: Exchange) =>
      frames(e)
        .slice(3)
        .map((f) => f.split('\r\n')[3])
        .sort();
    const counts = (e: Exchange) => frames(e).map((f) => f.split('\r\n')[4]);
    expect(names(fromSluice)).toEqual(names(fromRedis));
    expect(counts(fromSluice)).toEqual(counts(fromRedis));
    expect(counts(fromRedis)).toEqual([':1', ':2', ':3', ':2', ':1', ':0']);
  });
});

describe('RESP2 subscriber mode', () => {
  const refused = [
    'LPUSH l x',
    'XADD s * f v',
    'ECHO hi',
    'SELECT 1',
    'MULTI',
    'PUBLISH a msg',
    'HELLO 2',
    'CLIENT ID',
    'CLIENT SETNAME me',
    'XINFO STREAM s',
    'NOSUCHCOMMAND x',
    'LPUSH',
  ];

  it.each(refused)("'%s' gets Redis's error and the connection stays subscribed", async (line) => {
    const script = ['SUBSCRIBE a', line, 'PING'].map(cmd);
    const [fromRedis, fromSluice] = await both(script);
    expect(fromRedis.closed).toBe(false);
    expect(fromSluice).toEqual(fromRedis);
  });

  it('inline commands in subscriber mode are refused the same way', async () => {
    const script = ['SUBSCRIBE a\r\n', 'rpush l x\r\n', 'ping\r\n'];
    const [fromRedis, fromSluice] = await both(script.map((s) => Buffer.from(s)));
    expect(fromSluice).toEqual(fromRedis);
  });

  it.each([
    ['message', 'SUBSCRIBE news', 'PUBLISH'],
    ['pmessage', 'PSUBSCRIBE n*', 'PUBLISH'],
    ['smessage', 'SSUBSCRIBE news', 'SPUBLISH'],
  ])('%s arrives as redis-server sends it (RESP2 and RESP3)', async (_name, sub, verb) => {
    for (const prelude of [[], [HELLO3]]) {
      const seen: string[] = [];
      for (const port of [servers.redis.port, servers.sluice.port])
        seen.push(await oneMessage(port, prelude, sub, verb));
      expect(seen[1]).toBe(seen[0]);
    }
  });
});

/** Subscribes with `sub`, publishes a binary payload with `verb`; the bytes the message took. */
async function oneMessage(port: number, prelude: Buffer[], sub: string, verb: string) {
  const payload = Buffer.from('bin\x00\r\n\xff', 'latin1');
  const subscribed = await rawSession(port, [cmd(sub)], { prelude, keepOpen: true });
  const conn = subscribed.conn!;
  const publisher = await RespClient.connect(port);
  try {
    const mark = conn.received.length;
    expect(await publisher.call(verb, 'news', payload)).toEqual({ t: 'int', v: 1 });
    const tail = `${payload.toString('latin1')}\r\n`;
    expect(await conn.waitFor((r) => r.subarray(mark).toString('latin1').endsWith(tail))).toBe(
      true,
    );
    return conn.received.subarray(mark).toString('latin1');
  } finally {
    await publisher.close();
    await conn.destroy();
  }
}

describe('RESP3 subscribed connection', () => {
  it('runs any command and receives messages as pushes in between', async () => {
    const sub = await ReplyStream.connect(servers.sluice.port, 3);
    const pub = await RespClient.connect(servers.sluice.port);
    try {
      expect(await sub.call('SUBSCRIBE', 'ch')).toEqual(push('subscribe', 'ch', 1));
      expect(await sub.call('RPUSH', 'r3', 'a', 'b')).toEqual({ t: 'int', v: 2 });
      expect(await pub.call('PUBLISH', 'ch', 'm1')).toEqual({ t: 'int', v: 1 });
      expect(await sub.next()).toEqual(push('message', 'ch', 'm1'));
      expect(plain(await sub.call('LRANGE', 'r3', '0', '-1'))).toEqual(['a', 'b']);
      expect(await sub.call('PING')).toEqual({ t: 'simple', v: 'PONG' });
      expect(plain(await sub.call('XADD', 'x3', '1-1', 'f', 'v'))).toBe('1-1');
      expect(await sub.call('UNSUBSCRIBE')).toEqual(push('unsubscribe', 'ch', 0));
    } finally {
      await Promise.all([sub.close(), pub.close()]);
    }
  });
});

/** A RESP3 push of bulks and integers. */
function push(...items: (string | number)[]): Reply {
  return {
    t: 'push',
    v: items.map((i) =>
      typeof i === 'number' ? { t: 'int', v: i } : { t: 'bulk', v: Buffer.from(i) },
    ),
  };
}

describe('pub/sub between HTTP and RESP', () => {
  it('a message published with POST / reaches RESP subscribers (RESP2 and RESP3)', async () => {
    const subs = [
      await ReplyStream.connect(servers.sluice.port),
      await ReplyStream.connect(servers.sluice.port, 3),
    ];
    try {
      expect(plain(await subs[0]!.call('SUBSCRIBE', 'from-http'))).toEqual([
        'subscribe',
        'from-http',
        1,
      ]);
      expect(plain(await subs[1]!.call('PSUBSCRIBE', 'from-*'))).toEqual([
        'psubscribe',
        'from-*',
        1,
      ]);
      const res = await fetch(`${servers.sluice.httpUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(['PUBLISH', 'from-http', 'hi over http']),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 2 });
      const message = await subs[0]!.next();
      expect(message.t).toBe('array'); // RESP2: a plain array
      expect(plain(message)).toEqual(['message', 'from-http', 'hi over http']);
      expect(await subs[1]!.next()).toEqual(
        push('pmessage', 'from-*', 'from-http', 'hi over http'),
      );
    } finally {
      for (const s of subs) await s.close();
    }
  });

  it('PUBLISH over RESP reaches an SSE subscriber of /v1/subscribe', async (ctx) => {
    const opened = await SseClient.open(
      `${servers.sluice.httpUrl}/v1/subscribe?channel=to-http&pattern=to-*`,
    );
    if (opened.status === 404) return ctx.skip();
    expect(opened.status).toBe(200);
    const sse = opened.client!;
    const pub = await RespClient.connect(servers.sluice.port);
    try {
      expect((await sse.next()).event).toBe('subscribed');
      expect(await pub.call('PUBLISH', 'to-http', 'hi over resp')).toEqual({ t: 'int', v: 2 });
      const events = await sse.take(2);
      expect(events.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
        ['message', { channel: 'to-http', message: 'hi over resp' }],
        ['pmessage', { channel: 'to-http', pattern: 'to-*', message: 'hi over resp' }],
      ]);
    } finally {
      await pub.close();
      sse.close();
    }
  });
});
