// Lists as queues under /v1/lists: push, pop (blocking or not, one key or several), move, peek,
// remove, delete; and a value popped or moved for a client that went away is put back.
import type { Socket } from 'node:net';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV1, waitFor, type V1Server } from './v1-fixture';

let s: V1Server;
beforeAll(async () => {
  s = await startV1({ maxBlockMs: 3000 });
});
afterAll(async () => {
  await s.close();
});

const push = (key: string, body: unknown) => s.call('POST', `/v1/lists/${key}/push`, body);
const pop = (key: string, body?: unknown) => s.call('POST', `/v1/lists/${key}/pop`, body);
const peek = async (key: string) => (await s.call('GET', `/v1/lists/${key}?start=0&stop=-1`)).body;

describe('push and pop', () => {
  it('push left and pop right make a FIFO queue', async () => {
    expect((await push('q1', { values: ['a', 'b'] })).body).toEqual({ length: 2 });
    expect((await push('q1', { value: 'c' })).body).toEqual({ length: 3 });
    expect((await pop('q1')).body).toEqual({ values: ['a'] });
    expect((await pop('q1', { count: 5 })).body).toEqual({ values: ['b', 'c'] });
    expect((await pop('q1')).body).toEqual({ values: [] });
  });

  it('end chooses the side; onlyIfExists pushes only onto an existing list', async () => {
    expect((await push('q2', { values: ['x'], onlyIfExists: true })).body).toEqual({ length: 0 });
    await push('q2', { values: ['a', 'b'], end: 'right' });
    expect(await peek('q2')).toEqual({ length: 2, values: ['a', 'b'] });
    expect((await push('q2', { values: ['c'], onlyIfExists: true })).body).toEqual({ length: 3 });
    expect((await pop('q2', { end: 'left' })).body).toEqual({ values: ['c'] });
  });

  it('values of any bytes survive as {base64} and as MessagePack bin', async () => {
    const raw = Buffer.from([0x80, 0xff, 0x00]);
    await push('bin', { values: [{ base64: raw.toString('base64') }] });
    await s.call('POST', '/v1/lists/bin/push', { values: [raw] }, { msgpack: true });
    expect((await pop('bin')).body).toEqual({ values: [{ base64: raw.toString('base64') }] });
    const mp = await s.call('POST', '/v1/lists/bin/pop', {}, { msgpack: true });
    expect(Buffer.from(mp.body.values[0]).equals(raw)).toBe(true);
  });

  it('a MessagePack body without Accept is answered in MessagePack', async () => {
    const res = await s.server.app.inject({
      method: 'POST',
      url: '/v1/lists/mp/push',
      headers: { 'content-type': 'application/vnd.msgpack' },
      payload: pack({ values: ['one'] }),
    });
    expect(res.headers['content-type']).toBe('application/vnd.msgpack');
    expect(unpack(res.rawPayload)).toEqual({ length: 1 });
  });

  it('bad bodies are 400; a stream at the key is 409', async () => {
    expect((await push('q3', {})).status).toBe(400);
    expect((await push('q3', { values: [] })).status).toBe(400);
    expect((await push('q3', { values: [{ x: 1 }] })).status).toBe(400);
    expect((await push('q3', { values: ['a'], end: 'middle' })).status).toBe(400);
    expect((await push('q3', { value: 'a', values: ['b'] })).status).toBe(400);
    expect((await pop('q3', { count: 0 })).status).toBe(400);
    expect((await pop('q3', { blockMs: -1 })).status).toBe(400);
    await s.call('POST', '/v1/streams/str/entries', { fields: { a: '1' } });
    const r = await push('str', { values: ['a'] });
    expect(r).toMatchObject({ status: 409, body: { code: 'WRONGTYPE' } });
    expect((await pop('str')).status).toBe(409);
  });
});

describe('blocking pops', () => {
  it('a blocked pop is served by the next push', async () => {
    const polled = s.request('POST', '/v1/lists/b1/pop', { blockMs: 5000 });
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    await push('b1', { values: ['job'] });
    expect((await polled.answer).body).toEqual({ values: ['job'] });
    expect(await peek('b1')).toEqual({ length: 0, values: [] });
  });

  it('a blocked pop times out with no values', async () => {
    const r = await s.request('POST', '/v1/lists/b2/pop', { blockMs: 200, count: 2 }).answer;
    expect(r).toMatchObject({ status: 200, body: { values: [] } });
  });

  it('POST /v1/lists/pop pops from the first non-empty key', async () => {
    await push('p2', { values: ['a', 'b'] });
    const r = await s.call('POST', '/v1/lists/pop', { keys: ['p1', 'p2'], count: 5 });
    expect(r.body).toEqual({ key: 'p2', values: ['a', 'b'] });
    const none = await s.call('POST', '/v1/lists/pop', { keys: ['p1', 'p2'], blockMs: 100 });
    expect(none.body).toEqual({ key: null, values: [] });
    const polled = s.request('POST', '/v1/lists/pop', { keys: ['p1', 'p3'], blockMs: 5000 });
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    await push('p3', { values: ['z'] });
    expect((await polled.answer).body).toEqual({ key: 'p3', values: ['z'] });
    expect((await s.call('POST', '/v1/lists/pop', { keys: [] })).status).toBe(400);
  });
});

describe('move, peek, remove, delete', () => {
  it('move takes from the right of the source to the left of the destination', async () => {
    await push('src', { values: ['a', 'b'], end: 'right' });
    const r = await s.call('POST', '/v1/lists/src/move', { destination: 'dst' });
    expect(r.body).toEqual({ value: 'b' });
    const left = await s.call('POST', '/v1/lists/src/move', {
      destination: 'dst',
      from: 'left',
      to: 'right',
    });
    expect(left.body).toEqual({ value: 'a' });
    expect(await peek('dst')).toEqual({ length: 2, values: ['b', 'a'] });
    expect((await s.call('POST', '/v1/lists/src/move', { destination: 'dst' })).body).toEqual({
      value: null,
    });
  });

  it('a blocking move waits for the source', async () => {
    const polled = s.request('POST', '/v1/lists/msrc/move', { destination: 'mdst', blockMs: 5000 });
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    await push('msrc', { values: ['m'] });
    expect((await polled.answer).body).toEqual({ value: 'm' });
    const timeout = await s.call('POST', '/v1/lists/msrc/move', {
      destination: 'mdst',
      blockMs: 50,
    });
    expect(timeout.body).toEqual({ value: null });
  });

  it('peek answers the length and a range without removing anything', async () => {
    await push('pk', { values: Array.from({ length: 150 }, (_, i) => String(i)), end: 'right' });
    const first = await s.call('GET', '/v1/lists/pk');
    expect(first.body.length).toBe(150);
    expect(first.body.values).toHaveLength(100);
    const tail = await s.call('GET', '/v1/lists/pk?start=-2&stop=-1');
    expect(tail.body).toEqual({ length: 150, values: ['148', '149'] });
    expect((await s.call('GET', '/v1/lists/missing')).body).toEqual({ length: 0, values: [] });
    expect((await s.call('GET', '/v1/lists/pk?start=x')).status).toBe(400);
  });

  it('remove deletes occurrences of a value (LREM)', async () => {
    await push('rm', { values: ['a', 'x', 'b', 'x', 'x'], end: 'right' });
    expect((await s.call('POST', '/v1/lists/rm/remove', { value: 'x' })).body).toEqual({
      removed: 1,
    });
    expect((await s.call('POST', '/v1/lists/rm/remove', { value: 'x', count: 0 })).body).toEqual({
      removed: 2,
    });
    expect(await peek('rm')).toEqual({ length: 2, values: ['a', 'b'] });
    expect((await s.call('POST', '/v1/lists/rm/remove', {})).status).toBe(400);
  });

  it('DELETE removes the list and refuses a stream', async () => {
    await push('dl', { values: ['a'] });
    expect((await s.call('DELETE', '/v1/lists/dl')).body).toEqual({ deleted: 1 });
    expect((await s.call('DELETE', '/v1/lists/str')).status).toBe(409);
  });
});

describe('a client that went away loses nothing', () => {
  /** Runs `body` with the server destroying every socket right after each `cmd` returns. */
  async function dropAfter(cmd: string, body: () => Promise<void>): Promise<void> {
    const d = s.server.deps.dispatcher;
    if (!d) throw new Error('not ready');
    const sockets = new Set<Socket>();
    const track = (c: Socket) => sockets.add(c);
    s.server.app.server.on('connection', track);
    const original = d.execute;
    d.execute = async (session, args) => {
      const r = await original.call(d, session, args);
      if (args[0]?.toString().toUpperCase() === cmd) for (const c of sockets) c.destroy();
      return r;
    };
    try {
      await body();
    } finally {
      d.execute = original;
      s.server.app.server.off('connection', track);
    }
  }

  it('values popped for a client gone before the answer are pushed back in order', async () => {
    await push('g1', { values: ['a', 'b', 'c'] });
    await dropAfter('LMPOP', async () => {
      const r = s.request('POST', '/v1/lists/g1/pop', { count: 2 });
      await expect(r.answer).rejects.toThrow();
    });
    expect(await peek('g1')).toEqual({ length: 3, values: ['c', 'b', 'a'] });
    await dropAfter('LMPOP', async () => {
      const r = s.request('POST', '/v1/lists/g1/pop', { count: 2, end: 'left' });
      await expect(r.answer).rejects.toThrow();
    });
    expect(await peek('g1')).toEqual({ length: 3, values: ['c', 'b', 'a'] });
  });

  it('a value served to a blocked client that is gone is pushed back', async () => {
    await dropAfter('BLMPOP', async () => {
      const r = s.request('POST', '/v1/lists/pop', { keys: ['g2'], blockMs: 5000 });
      const failed = r.answer.catch(() => 'gone');
      await waitFor(() => s.server.broker.blocking.blockedCount === 1);
      await push('g2', { values: ['job'] });
      expect(await failed).toBe('gone');
    });
    expect(await peek('g2')).toEqual({ length: 1, values: ['job'] });
  });

  it('a blocked pop whose client disconnects takes nothing later', async () => {
    const r = s.request('POST', '/v1/lists/g3/pop', { blockMs: 5000 });
    const failed = r.answer.catch(() => 'gone');
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    r.cancel();
    expect(await failed).toBe('gone');
    await waitFor(() => s.server.broker.blocking.blockedCount === 0);
    await push('g3', { values: ['kept'] });
    expect(await peek('g3')).toEqual({ length: 1, values: ['kept'] });
  });

  it('a value moved for a client that is gone is moved back', async () => {
    await push('g4', { values: ['a', 'b'], end: 'right' });
    await dropAfter('LMOVE', async () => {
      const r = s.request('POST', '/v1/lists/g4/move', { destination: 'g4dst' });
      await expect(r.answer).rejects.toThrow();
    });
    expect(await peek('g4')).toEqual({ length: 2, values: ['a', 'b'] });
    expect(await peek('g4dst')).toEqual({ length: 0, values: [] });
  });
});
