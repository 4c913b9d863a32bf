// SHUTDOWN on a real broker process, as redis-cli and test suites use it: over RESP the client
// gets no reply and its connection closes; over HTTP the command API answers OK. Either way
// the process stops as at SIGTERM (everything flushed and fsynced, lock released), exits 0,
// and starts again on the same directory with every acknowledged write. A read-only token may
// not shut the broker down, nor SAVE.
import { afterEach, describe, expect, it } from 'vitest';
import { startSluice, type SluiceProcess } from '../../src/index';
import { RespClient } from '../helpers/resp-client';

let broker: SluiceProcess | null = null;
afterEach(async () => {
  await broker?.destroy();
  broker = null;
});

async function command(b: SluiceProcess, args: string[], token?: string) {
  const res = await fetch(`${b.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(args),
  });
  return { status: res.status, body: (await res.json()) as { result?: unknown; error?: string } };
}

describe('SHUTDOWN', () => {
  it('over RESP: no reply, the connection closes, the process exits 0, data kept', async () => {
    broker = await startSluice({ fsync: 'everysec' });
    const c = await RespClient.connect(broker.respPort);
    expect(await c.call('XADD', 's', '1-1', 'f', 'v')).toEqual({
      t: 'bulk',
      v: Buffer.from('1-1'),
    });
    expect(await c.call('RPUSH', 'q', 'a', 'b')).toEqual({ t: 'int', v: 2 });
    await expect(c.call('SHUTDOWN')).rejects.toThrow('connection closed');
    expect(await broker.exited()).toBe(0);
    await broker.restart();
    const d = await RespClient.connect(broker.respPort);
    expect(await d.call('XLEN', 's')).toEqual({ t: 'int', v: 1 });
    expect(await d.call('LLEN', 'q')).toEqual({ t: 'int', v: 2 });
    // Errors leave it running.
    expect(await d.call('SHUTDOWN', 'ABORT')).toEqual(
      expect.objectContaining({ t: 'error', v: 'ERR No shutdown in progress.' }),
    );
    expect(await d.call('SHUTDOWN', 'NOSAVE', 'SAVE')).toEqual(
      expect.objectContaining({ t: 'error', v: 'ERR syntax error' }),
    );
    expect(await d.call('PING')).toEqual({ t: 'simple', v: 'PONG' });
    await d.close();
  });

  it('over HTTP: the command API answers OK, then the process exits 0', async () => {
    broker = await startSluice({ fsync: 'always' });
    expect((await command(broker, ['RPUSH', 'q', 'job'])).body).toEqual({ result: 1 });
    expect(await command(broker, ['SHUTDOWN', 'NOW'])).toEqual({
      status: 200,
      body: { result: 'OK' },
    });
    expect(await broker.exited()).toBe(0);
    await broker.restart();
    expect((await command(broker, ['LRANGE', 'q', '0', '-1'])).body).toEqual({ result: ['job'] });
  });

  it('a read-only token may neither SHUTDOWN nor SAVE, over HTTP or RESP', async () => {
    broker = await startSluice({ token: 'admin-t', args: ['--readonly-token', 'ro-t'] });
    for (const args of [['SHUTDOWN'], ['SAVE']]) {
      const r = await command(broker, args, 'ro-t');
      expect(r.status).toBe(403);
      expect(r.body.error).toMatch(/^NOPERM/);
    }
    const c = await RespClient.connect(broker.respPort);
    expect(await c.call('AUTH', 'ro-t')).toEqual({ t: 'simple', v: 'OK' });
    for (const args of [['SHUTDOWN'], ['SAVE'], ['BGSAVE']]) {
      const r = await c.call(...args);
      expect(r.t === 'error' && r.v).toMatch(/^NOPERM/);
    }
    expect(await c.call('XLEN', 's')).toEqual({ t: 'int', v: 0 });
    await c.close();
    expect((await command(broker, ['SAVE'], 'admin-t')).body).toEqual({ result: 'OK' });
    expect((await command(broker, ['PING'], 'admin-t')).body).toEqual({ result: 'PONG' });
  });
});
