// The command API over real sockets: long-polls end at the cap, a client that disconnects
// while blocked is removed at once and takes nothing, and stop() ends long-polls promptly.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceServer, type ServerOptions } from '../../src/server';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: ServerOptions = {}): Promise<SluiceServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-srv-'));
  const server = await SluiceServer.start({
    host: '127.0.0.1',
    httpPort: 0,
    dataDir,
    fsync: 'no',
    ...options,
  });
  cleanups.push(async () => {
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  return server;
}

async function command(server: SluiceServer, args: unknown[]): Promise<unknown> {
  const res = await fetch(`${server.httpUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  return res.json();
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends a command on a raw socket we can cut; resolves once the request is fully written. */
function rawCommand(server: SluiceServer, args: unknown[]): Promise<http.ClientRequest> {
  return new Promise((resolve) => {
    const body = JSON.stringify(args);
    const req = http.request(`${server.httpUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => {});
    req.end(body, () => resolve(req));
  });
}

describe('long-poll through POST /', () => {
  it('BLPOP on an empty list answers {"result": null} once maxBlockMs has passed', async () => {
    const server = await start({ maxBlockMs: 300 });
    const t0 = Date.now();
    expect(await command(server, ['BLPOP', 'empty', '0'])).toEqual({ result: null });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
  });

  it('BLPOP is answered as soon as a value is pushed', async () => {
    const server = await start({ maxBlockMs: 10_000 });
    const pending = command(server, ['BLPOP', 'q', '0']);
    await until(() => server.broker.blocking.blockedCount === 1);
    expect(await command(server, ['RPUSH', 'q', 'job'])).toEqual({ result: 1 });
    expect(await pending).toEqual({ result: ['q', 'job'] });
  });

  it('a client that disconnects while blocked is removed at once and takes nothing', async () => {
    const server = await start({ maxBlockMs: 20_000 });
    const req = await rawCommand(server, ['BLPOP', 'q', '0']);
    await until(() => server.broker.blocking.blockedCount === 1);
    req.destroy();
    await until(() => server.broker.blocking.blockedCount === 0, 1000);
    expect(await command(server, ['RPUSH', 'q', 'kept'])).toEqual({ result: 1 });
    expect(await command(server, ['LRANGE', 'q', '0', '-1'])).toEqual({ result: ['kept'] });
  });

  it('stop() answers a waiting BLPOP with {"result": null} and resolves promptly', async () => {
    const server = await start({ maxBlockMs: 20_000 });
    const pending = command(server, ['BLPOP', 'q', '0']);
    await until(() => server.broker.blocking.blockedCount === 1);
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await pending).toEqual({ result: null });
  });

  it('a pipeline blocked in its first command is answered when stop() begins', async () => {
    const server = await start({ maxBlockMs: 20_000 });
    const res = fetch(`${server.httpUrl}/pipeline`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        ['BLPOP', 'q', '0'],
        ['BRPOP', 'q', '0'],
      ]),
    });
    await until(() => server.broker.blocking.blockedCount === 1);
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await (await res).json()).toEqual([{ result: null }, { result: null }]);
  });
});
