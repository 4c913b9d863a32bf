// Pub/sub over HTTP with real sockets: publish (JSON, MessagePack, raw bodies) returns the
// receivers, one SSE connection holds channels, patterns and shard channels and gets a message
// once per matching subscription, a disconnect removes its subscriptions at once, and a
// subscriber that does not read is cut off at the output limit and counted.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { sseSettings } from '../../src/http/sse-stream';
import { SluiceServer } from '../../src/server';
import { SseClient } from '../helpers/sse-client';

/** No RESP listener: these tests speak HTTP only, and need no second port. */
const OPTIONS = { httpPort: 0, fsync: 'no', resp: false } as const;
let server: SluiceServer;
let dir: string;
const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
const clients: SseClient[] = [];
const defaults = { ...sseSettings };

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-pubsub-'));
  warnings.length = 0;
  const logger = {
    info() {},
    error() {},
    warn: (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, fields }),
  };
  server = await SluiceServer.start({ ...OPTIONS, dataDir: dir, logger });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  Object.assign(sseSettings, defaults);
  await server.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function call(...args: string[]): Promise<Reply> {
  return server.deps.dispatcher!.execute(
    server.deps.session(),
    args.map((a) => Buffer.from(a)),
  );
}

async function subscribe(query: string): Promise<SseClient> {
  const c = await SseClient.connect(`${server.httpUrl}/v1/subscribe?${query}`);
  clients.push(c);
  expect((await c.next()).event).toBe('subscribed');
  return c;
}

async function publish(
  channel: string,
  body: string | Buffer,
  type = 'application/json',
  route = 'channels',
) {
  const res = await fetch(`${server.httpUrl}/v1/${route}/${encodeURIComponent(channel)}/messages`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = (message: unknown) => JSON.stringify({ message });

async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const numsub = async (ch: string) => {
  const r = await call('PUBSUB', 'NUMSUB', ch);
  return r.t === 'array' && r.v[1]?.t === 'int' ? Number(r.v[1].v) : -1;
};

describe('POST /v1/channels/:ch/messages', () => {
  it('returns 0 receivers when nobody listens', async () => {
    expect(await publish('nobody', json('hi'))).toEqual({ status: 200, body: { receivers: 0 } });
  });

  it('delivers {message} to every subscriber and returns the receivers', async () => {
    const [a, b] = [await subscribe('channel=news'), await subscribe('channel=news')];
    expect(await publish('news', json('hello'))).toEqual({ status: 200, body: { receivers: 2 } });
    for (const c of [a, b]) {
      const e = await c.next();
      expect(e.event).toBe('message');
      expect(JSON.parse(e.data)).toEqual({ channel: 'news', message: 'hello' });
    }
  });

  it('takes raw text/plain and octet-stream bodies; non-UTF-8 bytes arrive as base64', async () => {
    const c = await subscribe('channel=raw');
    expect((await publish('raw', 'line one\nline two', 'text/plain')).body.receivers).toBe(1);
    const bytes = Buffer.from([0x00, 0xff, 0x10]);
    expect((await publish('raw', bytes, 'application/octet-stream')).body.receivers).toBe(1);
    expect((await publish('raw', '', 'text/plain')).body.receivers).toBe(1);
    const events = await c.take(3);
    expect(events.map((e) => JSON.parse(e.data).message)).toEqual([
      'line one\nline two',
      { base64: bytes.toString('base64') },
      '',
    ]);
  });

  it('takes {base64} in JSON and bin in MessagePack, answering MessagePack if asked', async () => {
    const c = await subscribe('channel=mp');
    expect((await publish('mp', json({ base64: '/w==' }))).body.receivers).toBe(1);
    const res = await fetch(`${server.httpUrl}/v1/channels/mp/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.msgpack', accept: 'application/vnd.msgpack' },
      body: pack({ message: Buffer.from([0xfe]) }),
    });
    expect(res.headers.get('content-type')).toMatch(/msgpack/);
    expect(unpack(Buffer.from(await res.arrayBuffer()))).toEqual({ receivers: 1 });
    const events = await c.take(2);
    expect(events.map((e) => JSON.parse(e.data).message)).toEqual([
      { base64: '/w==' },
      { base64: '/g==' },
    ]);
  });

  it('refuses a body without a usable message with 400', async () => {
    for (const body of ['{}', json([1]), json({ nested: 1 }), '[]', json(null)]) {
      const r = await publish('x', body);
      expect(r.status, body).toBe(400);
      expect(r.body.code).toBe('ERR');
    }
  });
});

describe('POST /v1/shard-channels/:ch/messages', () => {
  it('reaches shard subscribers only, and PUBLISH does not reach them', async () => {
    const shard = await subscribe('shardChannel=s');
    const plain = await subscribe('channel=s&pattern=*');
    expect((await publish('s', json('m'), 'application/json', 'shard-channels')).body).toEqual({
      receivers: 1,
    });
    const e = await shard.next();
    expect(e.event).toBe('smessage');
    expect(JSON.parse(e.data)).toEqual({ channel: 's', message: 'm' });
    expect((await publish('s', json('n'))).body.receivers).toBe(2);
    expect((await plain.take(2)).map((x) => x.event)).toEqual(['message', 'pmessage']);
    await new Promise((r) => setTimeout(r, 50));
    expect(shard.pendingCount).toBe(0);
  });
});

describe('GET /v1/subscribe', () => {
  it('a message reaches a connection once per matching subscription, as in Redis', async () => {
    const c = await subscribe(
      'channel=news.eu&channel=news.us&pattern=news.*&pattern=*.eu&pattern=sport.*' +
        '&shardChannel=news.eu',
    );
    expect((await publish('news.eu', json('a'))).body.receivers).toBe(3);
    const got = await c.take(3);
    expect(got.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['message', { channel: 'news.eu', message: 'a' }],
      ['pmessage', { channel: 'news.eu', pattern: 'news.*', message: 'a' }],
      ['pmessage', { channel: 'news.eu', pattern: '*.eu', message: 'a' }],
    ]);
    expect((await publish('news.us', json('b'))).body.receivers).toBe(2);
    expect((await publish('weather', json('c'))).body.receivers).toBe(0);
    expect((await c.take(2)).map((e) => e.event)).toEqual(['message', 'pmessage']);
  });

  it('confirms the subscriptions in a first `subscribed` event', async () => {
    const c = await SseClient.connect(
      `${server.httpUrl}/v1/subscribe?channel=a&channel=a&pattern=p*&shardChannel=s`,
    );
    clients.push(c);
    const e = await c.next();
    expect(e.event).toBe('subscribed');
    expect(JSON.parse(e.data)).toEqual({ channels: ['a'], patterns: ['p*'], shardChannels: ['s'] });
  });

  it('answers 400 without any channel, pattern or shardChannel', async () => {
    const r = await SseClient.open(`${server.httpUrl}/v1/subscribe`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).code).toBe('ERR');
  });

  it('a disconnect removes every subscription at once', async () => {
    const c = await subscribe('channel=gone&pattern=gone*&shardChannel=gone');
    expect(await numsub('gone')).toBe(1);
    c.close();
    await eventually(async () => (await numsub('gone')) === 0, 500);
    const numpat = await call('PUBSUB', 'NUMPAT');
    expect(numpat).toEqual({ t: 'int', v: 0 });
    expect(server.broker.pubsub.subscribers('shard', Buffer.from('gone'))).toBe(0);
    expect((await publish('gone', json('x'))).body.receivers).toBe(0);
  });
});

interface ChannelList {
  channels: { name: string; subscribers: number }[];
  shardChannels: { name: string; subscribers: number }[];
  patterns: number;
}

describe('GET /v1/channels', () => {
  it('lists active channels and subscribers, filtered by a pattern; counts patterns', async () => {
    await subscribe('channel=news.eu&channel=sport&pattern=x*&shardChannel=sh');
    await subscribe('channel=news.eu&pattern=x*&pattern=y*');
    const all = (await (await fetch(`${server.httpUrl}/v1/channels`)).json()) as ChannelList;
    expect({
      ...all,
      channels: [...all.channels].sort((x, y) => (x.name < y.name ? -1 : 1)),
    }).toEqual({
      channels: [
        { name: 'news.eu', subscribers: 2 },
        { name: 'sport', subscribers: 1 },
      ],
      shardChannels: [{ name: 'sh', subscribers: 1 }],
      patterns: 2,
    });
    const some = (await (
      await fetch(`${server.httpUrl}/v1/channels?pattern=news.*`)
    ).json()) as ChannelList;
    expect(some.channels).toEqual([{ name: 'news.eu', subscribers: 2 }]);
  });
});

/** A subscriber that never reads: a raw socket, paused. */
async function stalledSubscriber(channel: string): Promise<net.Socket> {
  const socket = net.connect(server.httpPort, '127.0.0.1');
  socket.pause();
  socket.write(`GET /v1/subscribe?channel=${channel} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await eventually(async () => (await numsub(channel)) === 1);
  return socket;
}

async function slowDisconnects(): Promise<number> {
  return (await server.deps.metrics.slowSubscriberDisconnects.get()).values[0]?.value ?? 0;
}

describe('slow subscribers', () => {
  it('are cut off past the hard output limit and counted; memory stays bounded', async () => {
    sseSettings.hardBytes = 256 * 1024;
    sseSettings.endGraceMs = 50;
    const socket = await stalledSubscriber('big');
    const closed = new Promise((r) => socket.once('close', r));
    const fast = await subscribe('channel=big');
    const message = 'x'.repeat(64 * 1024);
    let published = 0;
    // The kernel's socket buffers take some megabytes before the server's own buffer grows.
    while ((await publish('big', json(message))).body.receivers === 2) {
      published++;
      expect(published).toBeLessThan(1000);
    }
    expect(await slowDisconnects()).toBe(1);
    const cut = warnings.find((w) => w.msg.includes('slow'));
    expect(Number(cut?.fields?.['unsentBytes'])).toBeLessThanOrEqual(
      sseSettings.hardBytes + message.length + 100,
    );
    expect(await numsub('big')).toBe(1);
    // Reading now drains what the kernel held, then the end: the server closed the socket.
    socket.resume();
    await closed;
    // The subscriber that reads got everything, and still gets messages.
    await fast.take(published + 1, 10_000);
    expect((await publish('big', json('after'))).body.receivers).toBe(1);
    expect(JSON.parse((await fast.next()).data).message).toBe('after');
  });

  it('are cut off after staying above the soft limit for the soft period', async () => {
    sseSettings.softBytes = 64 * 1024;
    sseSettings.softSeconds = 0.2;
    sseSettings.heartbeatMs = 20;
    sseSettings.endGraceMs = 50;
    const socket = await stalledSubscriber('soft');
    const message = 'x'.repeat(64 * 1024);
    // Fill the socket buffers until the server holds more than the soft limit.
    const t0 = Date.now();
    let receivers = 1;
    while (receivers === 1 && Date.now() - t0 < 10_000) {
      receivers = Number((await publish('soft', json(message))).body.receivers);
    }
    // Either a publish found it past the soft period, or the heartbeat check did.
    await eventually(async () => (await slowDisconnects()) === 1, 3000);
    await eventually(async () => (await numsub('soft')) === 0, 500);
    expect(warnings.some((w) => w.msg.includes('slow'))).toBe(true);
    socket.destroy();
  });
});

describe('tokens', () => {
  it('the read-only token may not publish', async () => {
    await server.stop();
    server = await SluiceServer.start({
      ...OPTIONS,
      dataDir: dir,
      token: 'admin-secret',
      readonlyToken: 'reader-secret',
    });
    const post = (token: string, route: string) =>
      fetch(`${server.httpUrl}/v1/${route}/a/messages`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` },
        body: 'm',
      });
    for (const route of ['channels', 'shard-channels']) {
      expect((await post('reader-secret', route)).status).toBe(403);
      expect((await post('admin-secret', route)).status).toBe(200);
    }
    const list = await fetch(`${server.httpUrl}/v1/channels`, {
      headers: { authorization: 'Bearer reader-secret' },
    });
    expect(list.status).toBe(200);
  });
});

describe('SSE connections gauge', () => {
  it('counts open event streams', async () => {
    const gauge = async () => (await server.deps.metrics.sseConnections.get()).values[0]?.value;
    const a = await subscribe('channel=a');
    await subscribe('channel=b');
    expect(await gauge()).toBe(2);
    a.close();
    await eventually(async () => (await gauge()) === 1, 500);
  });
});
