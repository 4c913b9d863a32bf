// Output backpressure over RESP: a client that sends commands without reading their replies
// has its commands stop running once about RESP_OUTPUT_PAUSE_BYTES of replies wait for it (and
// its socket stops being read), then gets every reply, in order, once it reads; a subscriber
// that does not read is cut off past Redis's hard pub/sub limit (32 MB) instead of growing the
// server's memory.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESP_OUTPUT_PAUSE_BYTES, SUBSCRIBER_OUTPUT_HARD_BYTES } from '../../src/limits';
import {
  eventually,
  ReplyStream,
  plain,
  resp,
  startLocalSluice,
  type LocalSluice,
} from './fixture';

let sluice: LocalSluice;

beforeAll(async () => {
  sluice = await startLocalSluice();
});

afterAll(async () => {
  await sluice?.close();
});

const resp_ = () => {
  const server = sluice.server.resp;
  if (!server) throw new Error('RESP is off');
  return server;
};

/** A client socket that does not read until told to. */
async function silentClient(): Promise<net.Socket> {
  const socket = net.createConnection({ host: '127.0.0.1', port: sluice.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.pause();
  return socket;
}

/** The server's side of the connection whose client end is `socket`. */
async function serverSideOf(socket: net.Socket) {
  const find = () =>
    resp_()
      .connections()
      .find((c) => c.socket.remotePort === socket.localPort);
  await eventually('the connection is registered', () => find() !== undefined);
  return find()!;
}

async function lrangeCalls(): Promise<number> {
  const c = await ReplyStream.connect(sluice.port);
  const info = plain(await c.call('INFO', 'commandstats')) as string;
  await c.close();
  return Number(/cmdstat_lrange:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('a client that does not read its replies', () => {
  it('has its commands stop near the output limit, and all answered once it reads', async () => {
    const valueBytes = 256 * 1024;
    const commands = 200; // 50 MB of replies, far past the limit
    const setup = await ReplyStream.connect(sluice.port);
    await setup.call('DEL', 'big');
    await setup.call('RPUSH', 'big', 'v'.repeat(valueBytes));
    await setup.close();
    const callsBefore = await lrangeCalls();

    const client = await silentClient();
    const conn = await serverSideOf(client);
    const request = Buffer.concat(
      Array.from({ length: commands }, () => resp('LRANGE', 'big', '0', '-1')),
    );
    client.write(request);

    // It stops: reading paused, commands left unrun, and what waits for the client bounded.
    await eventually('the server stopped for the client', () => conn.socket.isPaused());
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ran = (await lrangeCalls()) - callsBefore;
    expect(ran).toBeLessThan(commands);
    expect(conn.socket.writableLength).toBeLessThan(RESP_OUTPUT_PAUSE_BYTES + 2 * valueBytes);

    // Reading again, the client gets every reply, whole and in order.
    const reply = Buffer.from(`*1\r\n$${valueBytes}\r\n${'v'.repeat(valueBytes)}\r\n`);
    let received = 0;
    let mismatch = false;
    client.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length && !mismatch; i++) {
        if (chunk[i] !== reply[(received + i) % reply.length]) mismatch = true;
      }
      received += chunk.length;
    });
    client.resume();
    await eventually('every reply', () => mismatch || received >= commands * reply.length, 20_000);
    expect(mismatch).toBe(false);
    expect(received).toBe(commands * reply.length);
    expect((await lrangeCalls()) - callsBefore).toBe(commands);
    client.destroy();
  }, 30_000);
});

describe('a subscriber that does not read', () => {
  it('is cut off past the hard output limit; the publisher goes on', async () => {
    const sub = await ReplyStream.connect(sluice.port);
    expect(plain(await sub.call('SUBSCRIBE', 'slow'))).toEqual(['subscribe', 'slow', 1]);
    // Stop reading on the subscriber's side: its kernel buffers fill, then the server's.
    const raw = sub.socket;
    const subConn = await serverSideOf(raw);
    raw.pause();
    const before = resp_().slowSubscriberDisconnects;

    const pub = await ReplyStream.connect(sluice.port);
    const message = 'm'.repeat(1024 * 1024);
    const limitMessages = Math.ceil(SUBSCRIBER_OUTPUT_HARD_BYTES / message.length);
    let receivers: unknown[] = [];
    for (let i = 0; i < limitMessages + 16 && !subConn.closed; i++) {
      receivers.push(plain(await pub.call('PUBLISH', 'slow', message)));
    }
    await eventually('the subscriber is cut off', () => subConn.closed);
    expect(resp_().slowSubscriberDisconnects).toBe(before + 1);
    // Once it is gone, nobody receives: the publisher still gets its answers.
    receivers = [plain(await pub.call('PUBLISH', 'slow', 'after'))];
    expect(receivers).toEqual([0]);
    await pub.close();
    await sub.close();
  }, 30_000);
});
