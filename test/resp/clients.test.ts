// Real Redis clients against Sluice's RESP listener, unchanged: ioredis 5 and node-redis 5
// (RESP2, and RESP3 with HELLO 3) run streams with consumer groups, blocking pops served by
// another client's push, pub/sub with patterns, pipelines and transactions (WATCH included).
import { Redis } from 'ioredis';
import { createClient, WatchError } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalSluice, type LocalSluice } from './fixture';

let sluice: LocalSluice;
const opened: { quit(): Promise<unknown> }[] = [];

beforeAll(async () => {
  sluice = await startLocalSluice();
});

afterEach(async () => {
  for (const c of opened.splice(0)) await c.quit().catch(() => {});
});

afterAll(async () => {
  await sluice?.close();
});

/** A blocked command has reached the broker (so a push made now wakes it, not precedes it). */
const blockedClients = (n: number) =>
  eventually(`${n} blocked client(s)`, () => sluice.server.broker.blocking.blockedCount === n);

// ---- ioredis ------------------------------------------------------------------------------------

async function ioredis(): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port: sluice.port, lazyConnect: true });
  opened.push(client);
  await client.connect();
  return client;
}

describe('ioredis', () => {
  it('consumer group: XADD, XGROUP CREATE, XREADGROUP, XACK, XPENDING, XAUTOCLAIM', async () => {
    const r = await ioredis();
    await r.flushall();
    expect(await r.xgroup('CREATE', 's', 'g', '$', 'MKSTREAM')).toBe('OK');
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push((await r.xadd('s', '*', 'n', String(n))) as string);
    expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
    const read = await r.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', 's', '>');
    expect(read).toEqual([
      [
        's',
        [
          [ids[0], ['n', '1']],
          [ids[1], ['n', '2']],
        ],
      ],
    ]);
    expect(await r.xack('s', 'g', ids[0]!)).toBe(1);
    expect(await r.xpending('s', 'g')).toEqual([1, ids[1], ids[1], [['c1', '1']]]);
    expect(await r.xautoclaim('s', 'g', 'c2', 0, '0-0')).toEqual([
      '0-0',
      [[ids[1], ['n', '2']]],
      [],
    ]);
    const detail = (await r.xpending('s', 'g', '-', '+', 10)) as unknown[][];
    expect(detail.map((e) => [e[0], e[1], e[3]])).toEqual([[ids[1], 'c2', 2]]);
    const rest = await r.xreadgroup('GROUP', 'g', 'c1', 'STREAMS', 's', '>');
    expect(rest).toEqual([['s', [[ids[2], ['n', '3']]]]]);
  });

  it('BRPOP waits until another client pushes, then gets the element', async () => {
    const [blocker, pusher] = [await ioredis(), await ioredis()];
    await pusher.flushall();
    const popped = blocker.brpop('q', 10);
    await blockedClients(1);
    expect(await pusher.lpush('q', 'job')).toBe(1);
    expect(await popped).toEqual(['q', 'job']);
    expect(await pusher.exists('q')).toBe(0);
  });

  it('BLMOVE moves the element another client pushes', async () => {
    const [blocker, pusher] = [await ioredis(), await ioredis()];
    await pusher.flushall();
    const moved = blocker.blmove('src', 'dst', 'LEFT', 'RIGHT', 10);
    await blockedClients(1);
    await pusher.rpush('src', 'a', 'b');
    expect(await moved).toBe('a');
    expect(await pusher.lrange('src', 0, -1)).toEqual(['b']);
    expect(await pusher.lrange('dst', 0, -1)).toEqual(['a']);
  });

  it('BRPOP with a timeout answers null when nothing comes', async () => {
    const r = await ioredis();
    await r.flushall();
    expect(await r.brpop('nothing', 0.05)).toBeNull();
  });

  it('PSUBSCRIBE gets pmessage for matching channels only', async () => {
    const [sub, pub] = [await ioredis(), await ioredis()];
    const got: string[][] = [];
    sub.on('pmessage', (pattern: string, channel: string, message: string) =>
      got.push([pattern, channel, message]),
    );
    expect(await sub.psubscribe('news.*')).toBe(1);
    expect(await pub.publish('news.tech', 'one')).toBe(1);
    expect(await pub.publish('sport', 'ignored')).toBe(0);
    expect(await pub.publish('news.art', 'two')).toBe(1);
    await eventually('two pmessages', () => got.length === 2);
    expect(got).toEqual([
      ['news.*', 'news.tech', 'one'],
      ['news.*', 'news.art', 'two'],
    ]);
    expect(await sub.punsubscribe('news.*')).toBe(0);
    expect(await pub.publish('news.tech', 'after')).toBe(0);
  });

  it('a pipeline of 1000 commands answers each in order', async () => {
    const r = await ioredis();
    await r.flushall();
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.rpush('l', `v${i}`).xadd('s', `${i + 1}-0`, 'i', String(i));
    const results = (await p.exec())!;
    expect(results).toHaveLength(1000);
    results.forEach(([err, value], i) => {
      expect(err).toBeNull();
      expect(value).toEqual(i % 2 === 0 ? i / 2 + 1 : `${(i - 1) / 2 + 1}-0`);
    });
    expect([await r.llen('l'), await r.xlen('s')]).toEqual([500, 500]);
  });

  it('MULTI/EXEC returns every queued command result', async () => {
    const r = await ioredis();
    await r.flushall();
    const results = await r
      .multi()
      .rpush('l', 'a', 'b')
      .lpop('l')
      .xadd('s', '1-1', 'f', 'v')
      .exec();
    expect(results).toEqual([
      [null, 2],
      [null, 'a'],
      [null, '1-1'],
    ]);
  });

  it('WATCH makes EXEC answer null when another client changed the key', async () => {
    const [r, other] = [await ioredis(), await ioredis()];
    await r.flushall();
    await r.rpush('l', 'a');
    expect(await r.watch('l')).toBe('OK');
    await other.rpush('l', 'b');
    expect(await r.multi().rpush('l', 'c').exec()).toBeNull();
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b']);
    await r.watch('l');
    expect(await r.multi().rpush('l', 'c').exec()).toEqual([[null, 3]]);
  });
});

// ---- node-redis ---------------------------------------------------------------------------------

async function nodeRedis(resp: 2 | 3) {
  const client = createClient({
    socket: { host: '127.0.0.1', port: sluice.port, reconnectStrategy: false },
    RESP: resp,
    // XREADGROUP's RESP3 reply is a map node-redis passes through only when asked to.
    unstableResp3: true,
  });
  client.on('error', () => {});
  await client.connect();
  opened.push({ quit: () => client.close() });
  return client;
}

describe.each([2, 3] as const)('node-redis, RESP%i', (resp) => {
  it('HELLO negotiated the protocol', async () => {
    const r = await nodeRedis(resp);
    const info = await r.sendCommand(['CLIENT', 'INFO']);
    expect(String(info)).toContain(` resp=${resp}`);
  });

  it('consumer group: XADD, XGROUP CREATE, XREADGROUP, XACK, XPENDING, XAUTOCLAIM', async () => {
    const r = await nodeRedis(resp);
    await r.flushAll();
    expect(await r.xGroupCreate('s', 'g', '$', { MKSTREAM: true })).toBe('OK');
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push(await r.xAdd('s', '*', { n: String(n) }));
    const read = await r.xReadGroup('g', 'c1', { key: 's', id: '>' }, { COUNT: 2 });
    const entries = [
      { id: ids[0], message: { n: '1' } },
      { id: ids[1], message: { n: '2' } },
    ];
    if (resp === 2) expect(read).toEqual([{ name: 's', messages: entries }]);
    else
      expect(read).toEqual({
        s: [
          [ids[0], ['n', '1']],
          [ids[1], ['n', '2']],
        ],
      });
    expect(await r.xAck('s', 'g', ids[0]!)).toBe(1);
    expect(await r.xPending('s', 'g')).toEqual({
      pending: 1,
      firstId: ids[1],
      lastId: ids[1],
      consumers: [{ name: 'c1', deliveriesCounter: 1 }],
    });
    const claimed = await r.xAutoClaim('s', 'g', 'c2', 0, '0-0');
    expect(claimed).toEqual({
      nextId: '0-0',
      messages: [{ id: ids[1], message: { n: '2' } }],
      deletedMessages: [],
    });
    const detail = await r.xPendingRange('s', 'g', '-', '+', 10);
    expect(detail.map((e) => [e.id, e.consumer, e.deliveriesCounter])).toEqual([[ids[1], 'c2', 2]]);
  });

  it('BRPOP waits until another client pushes, then gets the element', async () => {
    const [blocker, pusher] = [await nodeRedis(resp), await nodeRedis(resp)];
    await pusher.flushAll();
    const popped = blocker.brPop('q', 10);
    await blockedClients(1);
    await pusher.lPush('q', 'job');
    expect(await popped).toEqual({ key: 'q', element: 'job' });
  });

  it('BLMOVE moves the element another client pushes', async () => {
    const [blocker, pusher] = [await nodeRedis(resp), await nodeRedis(resp)];
    await pusher.flushAll();
    const moved = blocker.blMove('src', 'dst', 'RIGHT', 'LEFT', 10);
    await blockedClients(1);
    await pusher.rPush('src', ['a', 'b']);
    expect(await moved).toBe('b');
    expect(await pusher.lRange('dst', 0, -1)).toEqual(['b']);
  });

  it('PSUBSCRIBE gets pmessage for matching channels only', async () => {
    const [sub, pub] = [await nodeRedis(resp), await nodeRedis(resp)];
    const got: string[][] = [];
    await sub.pSubscribe('news.*', (message, channel) => got.push([channel, message]));
    expect(await pub.publish('news.tech', 'one')).toBe(1);
    expect(await pub.publish('sport', 'ignored')).toBe(0);
    await eventually('a pmessage', () => got.length === 1);
    expect(got).toEqual([['news.tech', 'one']]);
    if (resp === 3) {
      // Under RESP3 the subscribed connection still runs ordinary commands.
      expect(await sub.ping()).toBe('PONG');
      expect(await sub.lPush('side', 'x')).toBe(1);
    }
    await sub.pUnsubscribe('news.*');
    expect(await pub.publish('news.tech', 'after')).toBe(0);
  });

  it('pipelined commands (one write, many replies) answer in order', async () => {
    const r = await nodeRedis(resp);
    await r.flushAll();
    const results = await r
      .multi()
      .rPush('l', ['a', 'b', 'c'])
      .lLen('l')
      .xAdd('s', '5-1', { f: 'v' })
      .lPop('l')
      .execAsPipeline();
    expect(results).toEqual([3, 3, '5-1', 'a']);
    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => r.rPush('m', `${i}`)));
    expect(many).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('MULTI/EXEC returns every queued command result', async () => {
    const r = await nodeRedis(resp);
    await r.flushAll();
    const results = await r.multi().rPush('l', ['a', 'b']).rPop('l').xLen('s').exec();
    expect(results).toEqual([2, 'b', 0]);
  });

  it('WATCH makes EXEC fail with WatchError when another client changed the key', async () => {
    const [r, other] = [await nodeRedis(resp), await nodeRedis(resp)];
    await r.flushAll();
    await r.watch('l');
    await other.rPush('l', 'x');
    await expect(r.multi().rPush('l', 'mine').exec()).rejects.toBeInstanceOf(WatchError);
    expect(await r.lRange('l', 0, -1)).toEqual(['x']);
  });
});

describe('blocking over RESP is not capped like HTTP long-polls', () => {
  it('BRPOP with timeout 0 outlasts --max-block-ms and gets the element pushed later', async () => {
    // --max-block-ms bounds HTTP requests; Redis clients expect 0 to mean "forever".
    const capped = await startLocalSluice({ maxBlockMs: 200 });
    const [blocker, pusher] = [
      new Redis({ host: '127.0.0.1', port: capped.port }),
      new Redis({ host: '127.0.0.1', port: capped.port }),
    ];
    try {
      const popped = blocker.brpop('forever', 0);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await pusher.lpush('forever', 'late');
      expect(await popped).toEqual(['forever', 'late']);
    } finally {
      blocker.disconnect();
      pusher.disconnect();
      await capped.close();
    }
  });
});
