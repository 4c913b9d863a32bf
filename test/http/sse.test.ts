// Server-Sent Events over real sockets: the stream tail (order, resume with Last-Event-ID),
// the consumer-group feed (pending first, the maxUnacked cap), heartbeats, disconnects that
// free their blocked reads at once, and shutdown's final event.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { sseSettings } from '../../src/http/sse-stream';
import { SluiceServer } from '../../src/server';
import { SseClient, type SseEvent } from '../helpers/sse-client';

/** No RESP listener: these tests speak HTTP only, and need no second port. */
const OPTIONS = { httpPort: 0, fsync: 'no', resp: false } as const;
let server: SluiceServer;
let dir: string;
const clients: SseClient[] = [];
const defaults = { ...sseSettings };

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-sse-'));
  server = await SluiceServer.start({ ...OPTIONS, dataDir: dir });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  Object.assign(sseSettings, defaults);
  await server.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A command through the server's own dispatcher (set-up and checks, not under test). */
async function call(...args: string[]): Promise<Reply> {
  const { dispatcher } = server.deps;
  if (!dispatcher) throw new Error('server not ready');
  return dispatcher.execute(
    server.deps.session(),
    args.map((a) => Buffer.from(a)),
  );
}

async function connect(pathAndQuery: string, headers = {}): Promise<SseClient> {
  const c = await SseClient.connect(`${server.httpUrl}${pathAndQuery}`, headers);
  clients.push(c);
  return c;
}

const data = (e: SseEvent) => JSON.parse(e.data) as { id: string; fields: unknown };

async function xadd(key: string, id: string, ...fields: string[]): Promise<string> {
  const r = await call('XADD', key, id, ...fields);
  if (r.t !== 'bulk') throw new Error(`XADD failed: ${JSON.stringify(r)}`);
  return r.v.toString();
}

async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Acks by the HTTP route, as a feed's client does. */
async function ack(key: string, group: string, ...ids: string[]): Promise<unknown> {
  const res = await fetch(`${server.httpUrl}/v1/streams/${key}/groups/${group}/ack`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ids }),
  });
  return res.json();
}

const gauge = async (g: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await g.get()).values[0]?.value ?? 0;

describe('GET /v1/streams/:key/events (tail)', () => {
  it('sends the event-stream headers and the retry line first', async () => {
    const c = await connect('/v1/streams/s/events');
    expect(c.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.res.headers['cache-control']).toBe('no-cache');
    expect(c.res.headers['x-accel-buffering']).toBe('no');
    await c.until(() => c.lines.length > 0);
    expect(c.lines[0]).toBe('retry: 3000');
  });

  it('delivers only entries added after it connected, in order, with id and fields', async () => {
    await xadd('s', '1-0', 'old', 'x');
    const c = await connect('/v1/streams/s/events');
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await xadd('s', '*', 'n', String(i), 'n', 'dup'));
    const events = await c.take(300);
    expect(events.map((e) => e.id)).toEqual(ids);
    expect(events.every((e) => e.event === 'entry')).toBe(true);
    expect(data(events[7]!)).toEqual({ id: ids[7], fields: ['n', '7', 'n', 'dup'] });
  });

  it('values that are not UTF-8 come as {base64}', async () => {
    const c = await connect('/v1/streams/bin/events');
    const { dispatcher } = server.deps;
    await dispatcher!.execute(server.deps.session(), [
      Buffer.from('XADD'),
      Buffer.from('bin'),
      Buffer.from('*'),
      Buffer.from('f'),
      Buffer.from([0xff, 0xfe]),
    ]);
    expect(data(await c.next()).fields).toEqual(['f', { base64: '//4=' }]);
  });

  it('resumes after Last-Event-ID with nothing lost or repeated', async () => {
    const first = await connect('/v1/streams/s/events?after=0');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await xadd('s', '*', 'n', String(i)));
    const seen = await first.take(3);
    first.close();
    for (let i = 5; i < 10; i++) ids.push(await xadd('s', '*', 'n', String(i)));
    // As EventSource reconnects: the same URL, with the last ID it saw.
    const again = await connect('/v1/streams/s/events?after=0', { 'last-event-id': seen[2]!.id });
    const rest = await again.take(7);
    expect([...seen, ...rest].map((e) => e.id)).toEqual(ids);
    ids.push(await xadd('s', '*', 'n', 'late'));
    expect((await again.next()).id).toBe(ids[10]);
    await new Promise((r) => setTimeout(r, 50));
    expect(again.pendingCount).toBe(0);
  });

  it('?after= starts after an entry ID, reading the history in batches of count', async () => {
    for (let i = 1; i <= 25; i++) await xadd('h', `${i}-0`, 'n', String(i));
    const c = await connect('/v1/streams/h/events?after=5-0&count=7');
    const events = await c.take(20);
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => `${i + 6}-0`));
  });

  it('refuses a bad ID, a bad count or a key of another type with a JSON error', async () => {
    const bad = await SseClient.open(`${server.httpUrl}/v1/streams/s/events?after=nope`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).code).toBe('ERR');
    const count = await SseClient.open(`${server.httpUrl}/v1/streams/s/events?count=0`);
    expect(count.status).toBe(400);
    await call('RPUSH', 'list', 'a');
    const wrong = await SseClient.open(`${server.httpUrl}/v1/streams/list/events`);
    expect(wrong.status).toBe(409);
    expect(JSON.parse(wrong.body).code).toBe('WRONGTYPE');
  });

  it('answers 406 to a client that does not accept text/event-stream', async () => {
    const r = await SseClient.open(`${server.httpUrl}/v1/streams/s/events`, {
      accept: 'application/json',
    });
    expect(r.status).toBe(406);
  });

  it('a client that disconnects has its blocked read removed at once', async () => {
    const c = await connect('/v1/streams/s/events');
    await eventually(() => server.broker.blocking.blockedCount === 1);
    expect(await gauge(server.deps.metrics.sseConnections)).toBe(1);
    c.close();
    await eventually(() => server.broker.blocking.blockedCount === 0, 500);
    await eventually(async () => (await gauge(server.deps.metrics.sseConnections)) === 0, 500);
  });

  it('stops reading while the client does not read, then catches up in order', async () => {
    // A raw socket that reads nothing: the server must wait for 'drain', not buffer the stream.
    const big = 'v'.repeat(64 * 1024);
    for (let i = 1; i <= 600; i++) await xadd('big', `${i}-0`, 'v', big);
    const socket = net.connect(server.httpPort, '127.0.0.1');
    socket.pause();
    socket.write('GET /v1/streams/big/events?after=0&count=10 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    // 600 entries of 64 KiB are 39 MB; the server holds a batch or so beyond the socket buffers.
    const reads = Number(
      (await server.deps.metrics.commands.get()).values.find((v) => v.labels.cmd === 'xread')
        ?.value ?? 0,
    );
    expect(reads).toBeLessThan(40);
    const ids: number[] = [];
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('id: ')) ids.push(Number(line.slice(4, -2)));
    });
    socket.resume();
    await eventually(() => ids.length === 600, 10_000);
    expect(ids).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    socket.destroy();
  });
});

describe('GET /v1/streams/:key/groups/:group/events (group feed)', () => {
  it("delivers the consumer's pending entries first, then new ones", async () => {
    for (let i = 1; i <= 4; i++) await xadd('q', `${i}-0`, 'n', String(i));
    await call('XGROUP', 'CREATE', 'q', 'g', '0');
    await call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '2', 'STREAMS', 'q', '>');
    await call('XREADGROUP', 'GROUP', 'g', 'other', 'COUNT', '1', 'STREAMS', 'q', '>');
    const c = await connect('/v1/streams/q/groups/g/events?consumer=c');
    const first = await c.take(3);
    expect(first.map((e) => e.id)).toEqual(['1-0', '2-0', '4-0']);
    await xadd('q', '5-0', 'n', '5');
    expect((await c.next()).id).toBe('5-0');
    const pel = await call('XPENDING', 'q', 'g');
    expect(pel.t === 'array' && pel.v[0]).toEqual({ t: 'int', v: 5 });
  });

  it('holds new entries while maxUnacked are pending, and resumes after acks', async () => {
    sseSettings.ackPollMs = 10;
    for (let i = 1; i <= 6; i++) await xadd('q', `${i}-0`, 'n', String(i));
    await call('XGROUP', 'CREATE', 'q', 'g', '0');
    const c = await connect('/v1/streams/q/groups/g/events?consumer=c&maxUnacked=2');
    expect((await c.take(2)).map((e) => e.id)).toEqual(['1-0', '2-0']);
    await new Promise((r) => setTimeout(r, 150));
    expect(c.pendingCount).toBe(0);
    expect(await ack('q', 'g', '1-0')).toEqual({ acked: 1 });
    expect((await c.next()).id).toBe('3-0');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.pendingCount).toBe(0);
    await ack('q', 'g', '2-0', '3-0');
    expect((await c.take(2)).map((e) => e.id)).toEqual(['4-0', '5-0']);
    await ack('q', 'g', '4-0', '5-0');
    expect((await c.next()).id).toBe('6-0');
    await xadd('q', '7-0', 'n', '7');
    expect((await c.next()).id).toBe('7-0');
    await xadd('q', '8-0', 'n', '8');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.pendingCount).toBe(0);
  });

  it('answers 404 NOGROUP for a missing group and 400 without a consumer', async () => {
    const r = await SseClient.open(`${server.httpUrl}/v1/streams/q/groups/nog/events?consumer=c`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).code).toBe('NOGROUP');
    const noConsumer = await SseClient.open(`${server.httpUrl}/v1/streams/q/groups/g/events`);
    expect(noConsumer.status).toBe(400);
  });

  it('ends with an error event when the group is destroyed under it', async () => {
    await call('XGROUP', 'CREATE', 'q', 'g', '$', 'MKSTREAM');
    const c = await connect('/v1/streams/q/groups/g/events?consumer=c');
    await eventually(() => server.broker.blocking.blockedCount === 1);
    await call('XGROUP', 'DESTROY', 'q', 'g');
    await xadd('q', '*', 'n', '1');
    const e = await c.next();
    expect(e.event).toBe('error');
    expect(JSON.parse(e.data).code).toBe('NOGROUP');
    await c.done;
  });
});

describe('HEAD', () => {
  it('answers the event-stream headers only, opening no stream and no subscription', async () => {
    for (const url of ['/v1/subscribe?channel=h', '/v1/streams/s/events']) {
      const res = await fetch(`${server.httpUrl}${url}`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    }
    expect(server.broker.pubsub.subscribers('channel', Buffer.from('h'))).toBe(0);
    expect(await gauge(server.deps.metrics.sseConnections)).toBe(0);
  });
});

describe('heartbeats and shutdown', () => {
  it('sends a `: ping` comment every heartbeat interval', async () => {
    sseSettings.heartbeatMs = 30;
    const c = await connect('/v1/streams/s/events');
    await c.until(() => c.comments.filter((x) => x === 'ping').length >= 3, 2000, '3 pings');
  });

  it('server stop sends event: shutdown on every stream and ends them', async () => {
    await call('XGROUP', 'CREATE', 'q', 'g', '$', 'MKSTREAM');
    const streams = [
      await connect('/v1/streams/s/events'),
      await connect('/v1/streams/q/groups/g/events?consumer=c'),
      await connect('/v1/subscribe?channel=a&pattern=b*'),
    ];
    await eventually(() => server.broker.blocking.blockedCount === 2);
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    for (const c of streams) {
      await c.done;
      expect(c.events.at(-1)?.event).toBe('shutdown');
    }
  });

  it('server stop is not held up by a client that reads nothing', async () => {
    sseSettings.endGraceMs = 100;
    const socket = net.connect(server.httpPort, '127.0.0.1');
    socket.pause();
    socket.write('GET /v1/subscribe?channel=a HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => server.broker.pubsub.subscribers('channel', Buffer.from('a')) === 1);
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    socket.destroy();
  });
});

describe('tokens', () => {
  it('the read-only token may tail and subscribe (?_token=), not consume a group', async () => {
    await server.stop();
    server = await SluiceServer.start({
      ...OPTIONS,
      dataDir: dir,
      token: 'admin-secret',
      readonlyToken: 'reader-secret',
    });
    await call('XGROUP', 'CREATE', 'q', 'g', '$', 'MKSTREAM');
    const tail = await connect('/v1/streams/q/events?_token=reader-secret');
    const sub = await connect('/v1/subscribe?channel=a&_token=reader-secret');
    expect((await sub.next()).event).toBe('subscribed');
    const group = await SseClient.open(
      `${server.httpUrl}/v1/streams/q/groups/g/events?consumer=c&_token=reader-secret`,
    );
    expect(group.status).toBe(403);
    const none = await SseClient.open(`${server.httpUrl}/v1/streams/q/events`);
    expect(none.status).toBe(401);
    await connect('/v1/streams/q/groups/g/events?consumer=c', {
      authorization: 'Bearer admin-secret',
    });
    await xadd('q', '*', 'n', '1');
    expect((await tail.next()).event).toBe('entry');
  });
});
