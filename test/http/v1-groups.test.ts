// Consumer groups under /v1/streams/:key/groups and POST /v1/readgroup: the group's life cycle,
// reading, acknowledging, pending entries and claims, through inject() and real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV1, waitFor, type V1Server } from './v1-fixture';

let s: V1Server;
beforeAll(async () => {
  s = await startV1({ maxBlockMs: 3000 });
});
afterAll(async () => {
  await s.close();
});

/** A stream `key` with entries 1-0..n-0 and a group `g` from the start. */
async function seeded(key: string, n: number): Promise<void> {
  const entries = Array.from({ length: n }, (_, i) => ({
    fields: { n: String(i + 1) },
    id: `${i + 1}-0`,
  }));
  expect((await s.call('POST', `/v1/streams/${key}/entries`, { entries })).status).toBe(201);
  expect((await s.call('PUT', `/v1/streams/${key}/groups/g`, { start: '0' })).status).toBe(201);
}

const ids = (entries: Array<{ id: string }>) => entries.map((e) => e.id);

describe('the group itself', () => {
  it('PUT creates a group: 201, then 409 BUSYGROUP', async () => {
    await s.call('POST', '/v1/streams/c1/entries', { fields: { a: '1' } });
    expect(await s.call('PUT', '/v1/streams/c1/groups/g')).toMatchObject({
      status: 201,
      body: { created: true },
    });
    const again = await s.call('PUT', '/v1/streams/c1/groups/g', { start: '0' });
    expect(again).toMatchObject({ status: 409, body: { code: 'BUSYGROUP', statusCode: 409 } });
  });

  it('a missing stream is 404 unless mkStream', async () => {
    const r = await s.call('PUT', '/v1/streams/c2/groups/g', { start: '$' });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/requires the key to exist/);
    expect((await s.call('PUT', '/v1/streams/c2/groups/g', { mkStream: true })).status).toBe(201);
    expect((await s.call('GET', '/v1/streams/c2')).body.length).toBe(0);
  });

  it('PATCH moves the last-delivered ID (SETID)', async () => {
    await seeded('c3', 3);
    expect((await s.call('PATCH', '/v1/streams/c3/groups/g', { lastId: '2-0' })).status).toBe(200);
    const r = await s.call('POST', '/v1/streams/c3/groups/g/read', { consumer: 'a' });
    expect(ids(r.body.entries)).toEqual(['3-0']);
    expect((await s.call('PATCH', '/v1/streams/c3/groups/nope', { lastId: '0' })).status).toBe(404);
    expect((await s.call('PATCH', '/v1/streams/c3/groups/g', {})).status).toBe(400);
  });

  it('DELETE destroys the group; a missing one is 404 NOGROUP', async () => {
    await seeded('c4', 1);
    expect((await s.call('DELETE', '/v1/streams/c4/groups/g')).body).toEqual({ destroyed: 1 });
    const r = await s.call('DELETE', '/v1/streams/c4/groups/g');
    expect(r).toMatchObject({ status: 404, body: { code: 'NOGROUP' } });
  });

  it('GET /groups answers XINFO GROUPS', async () => {
    await seeded('c5', 3);
    await s.call('POST', '/v1/streams/c5/groups/g/read', { consumer: 'a', count: 2 });
    const r = await s.call('GET', '/v1/streams/c5/groups');
    expect(r.body).toEqual({
      groups: [
        {
          name: 'g',
          consumers: 1,
          pending: 2,
          lastDeliveredId: '2-0',
          entriesRead: 2,
          lag: 1,
        },
      ],
    });
    expect((await s.call('GET', '/v1/streams/none/groups')).status).toBe(404);
  });
});

describe('consumers', () => {
  it('are created, listed and deleted', async () => {
    await seeded('k1', 2);
    const made = await s.call('PUT', '/v1/streams/k1/groups/g/consumers/alice');
    expect(made).toMatchObject({ status: 201, body: { created: true } });
    const again = await s.call('PUT', '/v1/streams/k1/groups/g/consumers/alice');
    expect(again).toMatchObject({ status: 200, body: { created: false } });
    await s.call('POST', '/v1/streams/k1/groups/g/read', { consumer: 'bob' });
    const list = await s.call('GET', '/v1/streams/k1/groups/g/consumers');
    expect(
      list.body.consumers.map((c: { name: string; pending: number }) => [c.name, c.pending]),
    ).toEqual([
      ['alice', 0],
      ['bob', 2],
    ]);
    expect(typeof list.body.consumers[0].idleMs).toBe('number');
    const del = await s.call('DELETE', '/v1/streams/k1/groups/g/consumers/bob');
    expect(del.body).toEqual({ pending: 2 });
    expect((await s.call('GET', '/v1/streams/k1/groups/nope/consumers')).status).toBe(404);
  });
});

describe('POST /groups/:g/read', () => {
  it('delivers new entries once, then the history of a consumer from an ID', async () => {
    await seeded('r1', 3);
    const first = await s.call('POST', '/v1/streams/r1/groups/g/read', { consumer: 'a', count: 2 });
    expect(first.body.entries).toEqual([
      { id: '1-0', fields: ['n', '1'] },
      { id: '2-0', fields: ['n', '2'] },
    ]);
    const next = await s.call('POST', '/v1/streams/r1/groups/g/read', { consumer: 'b' });
    expect(ids(next.body.entries)).toEqual(['3-0']);
    const history = await s.call('POST', '/v1/streams/r1/groups/g/read', {
      consumer: 'a',
      id: '0',
    });
    expect(ids(history.body.entries)).toEqual(['1-0', '2-0']);
    const empty = await s.call('POST', '/v1/streams/r1/groups/g/read', { consumer: 'a' });
    expect(empty.body).toEqual({ entries: [] });
  });

  it('a pending entry deleted from the stream reads back with fields null', async () => {
    await seeded('r2', 2);
    await s.call('POST', '/v1/streams/r2/groups/g/read', { consumer: 'a' });
    await s.call('DELETE', '/v1/streams/r2/entries/1-0');
    const r = await s.call('POST', '/v1/streams/r2/groups/g/read', { consumer: 'a', id: '0' });
    expect(r.body.entries).toEqual([
      { id: '1-0', fields: null },
      { id: '2-0', fields: ['n', '2'] },
    ]);
  });

  it('noAck leaves nothing pending', async () => {
    await seeded('r3', 2);
    await s.call('POST', '/v1/streams/r3/groups/g/read', { consumer: 'a', noAck: true });
    expect((await s.call('GET', '/v1/streams/r3/groups/g/pending')).body.count).toBe(0);
  });

  it('a missing group is 404 NOGROUP; a missing consumer is 400', async () => {
    await seeded('r4', 1);
    const r = await s.call('POST', '/v1/streams/r4/groups/nope/read', { consumer: 'a' });
    expect(r).toMatchObject({ status: 404, body: { code: 'NOGROUP' } });
    expect((await s.call('POST', '/v1/streams/r4/groups/g/read', {})).status).toBe(400);
    const bad = await s.call('POST', '/v1/streams/r4/groups/g/read', { consumer: 'a', id: '$' });
    expect(bad.status).toBe(400);
  });

  it('a long-poll is answered by the next XADD', async () => {
    await s.call('PUT', '/v1/streams/r5/groups/g', { mkStream: true });
    const polled = s.request('POST', '/v1/streams/r5/groups/g/read', {
      consumer: 'a',
      blockMs: 5000,
    });
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    await s.call('POST', '/v1/streams/r5/entries', { fields: { x: '1' }, id: '7-0' });
    expect((await polled.answer).body).toEqual({ entries: [{ id: '7-0', fields: ['x', '1'] }] });
  });

  it('a long-poll times out with no entries', async () => {
    await s.call('PUT', '/v1/streams/r6/groups/g', { mkStream: true });
    const t0 = Date.now();
    const r = await s.request('POST', '/v1/streams/r6/groups/g/read', {
      consumer: 'a',
      blockMs: 300,
    }).answer;
    expect(r).toMatchObject({ status: 200, body: { entries: [] } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('POST /v1/readgroup reads several streams for one consumer', async () => {
    await seeded('m1', 1);
    await seeded('m2', 2);
    const r = await s.call('POST', '/v1/readgroup', {
      group: 'g',
      consumer: 'a',
      streams: { m1: '>', m2: '>' },
      count: 1,
    });
    expect(r.body).toEqual({
      streams: [
        { key: 'm1', entries: [{ id: '1-0', fields: ['n', '1'] }] },
        { key: 'm2', entries: [{ id: '1-0', fields: ['n', '1'] }] },
      ],
    });
    const arr = await s.call('POST', '/v1/readgroup', {
      group: 'g',
      consumer: 'a',
      streams: [{ key: 'm2' }],
    });
    expect(arr.body.streams).toEqual([{ key: 'm2', entries: [{ id: '2-0', fields: ['n', '2'] }] }]);
  });
});

describe('ack and pending', () => {
  it('ack removes entries from the pending list', async () => {
    await seeded('a1', 3);
    await s.call('POST', '/v1/streams/a1/groups/g/read', { consumer: 'a' });
    const r = await s.call('POST', '/v1/streams/a1/groups/g/ack', { ids: ['1-0', '3-0', '9-0'] });
    expect(r.body).toEqual({ acked: 2 });
    const summary = await s.call('GET', '/v1/streams/a1/groups/g/pending');
    expect(summary.body).toEqual({
      count: 1,
      minId: '2-0',
      maxId: '2-0',
      consumers: [{ name: 'a', pending: 1 }],
    });
  });

  it('ack on a missing group is 404; bad IDs are 400', async () => {
    await seeded('a2', 1);
    const r = await s.call('POST', '/v1/streams/a2/groups/nope/ack', { ids: ['1-0'] });
    expect(r).toMatchObject({ status: 404, body: { code: 'NOGROUP' } });
    expect((await s.call('POST', '/v1/streams/a2/groups/g/ack', { ids: [] })).status).toBe(400);
    expect((await s.call('POST', '/v1/streams/a2/groups/g/ack', { ids: ['x'] })).status).toBe(400);
  });

  it('an empty pending list has a summary of nulls', async () => {
    await seeded('a3', 1);
    const r = await s.call('GET', '/v1/streams/a3/groups/g/pending');
    expect(r.body).toEqual({ count: 0, minId: null, maxId: null, consumers: [] });
  });

  it('query parameters answer the detail, filtered by consumer and idle time', async () => {
    await seeded('a4', 4);
    await s.call('POST', '/v1/streams/a4/groups/g/read', { consumer: 'a', count: 1 });
    await s.call('POST', '/v1/streams/a4/groups/g/read', { consumer: 'b', count: 3 });
    const all = await s.call('GET', '/v1/streams/a4/groups/g/pending?start=-&end=%2B&count=10');
    expect(
      all.body.pending.map((p: { id: string; consumer: string }) => [p.id, p.consumer]),
    ).toEqual([
      ['1-0', 'a'],
      ['2-0', 'b'],
      ['3-0', 'b'],
      ['4-0', 'b'],
    ]);
    expect(all.body.pending[0]).toMatchObject({ deliveries: 1 });
    expect(typeof all.body.pending[0].idleMs).toBe('number');
    const b = await s.call('GET', '/v1/streams/a4/groups/g/pending?consumer=b&count=2');
    expect(ids(b.body.pending)).toEqual(['2-0', '3-0']);
    const idle = await s.call('GET', '/v1/streams/a4/groups/g/pending?minIdleMs=3600000');
    expect(idle.body).toEqual({ pending: [] });
    expect((await s.call('GET', '/v1/streams/a4/groups/nope/pending')).status).toBe(404);
  });
});

describe('claims', () => {
  it('claim moves pending entries to another consumer', async () => {
    await seeded('x1', 2);
    await s.call('POST', '/v1/streams/x1/groups/g/read', { consumer: 'a' });
    const r = await s.call('POST', '/v1/streams/x1/groups/g/claim', {
      consumer: 'b',
      minIdleMs: 0,
      ids: ['1-0'],
    });
    expect(r.body).toEqual({ entries: [{ id: '1-0', fields: ['n', '1'] }] });
    const just = await s.call('POST', '/v1/streams/x1/groups/g/claim', {
      consumer: 'b',
      minIdleMs: 0,
      ids: ['2-0'],
      justId: true,
    });
    expect(just.body).toEqual({ ids: ['2-0'] });
    const p = await s.call('GET', '/v1/streams/x1/groups/g/pending');
    expect(p.body.consumers).toEqual([{ name: 'b', pending: 2 }]);
    const idle = await s.call('POST', '/v1/streams/x1/groups/g/claim', {
      consumer: 'c',
      minIdleMs: 3_600_000,
      ids: ['1-0'],
    });
    expect(idle.body).toEqual({ entries: [] });
  });

  it('autoclaim scans the pending list and reports deleted entries', async () => {
    await seeded('x2', 3);
    await s.call('POST', '/v1/streams/x2/groups/g/read', { consumer: 'a' });
    await s.call('DELETE', '/v1/streams/x2/entries/2-0');
    const r = await s.call('POST', '/v1/streams/x2/groups/g/autoclaim', {
      consumer: 'b',
      minIdleMs: 0,
      count: 2,
    });
    expect(r.body).toEqual({
      next: '3-0',
      entries: [{ id: '1-0', fields: ['n', '1'] }],
      deleted: ['2-0'],
    });
    const rest = await s.call('POST', '/v1/streams/x2/groups/g/autoclaim', {
      consumer: 'b',
      minIdleMs: 0,
      start: r.body.next,
      justId: true,
    });
    expect(rest.body).toEqual({ next: '0-0', ids: ['3-0'], deleted: [] });
    const missing = await s.call('POST', '/v1/streams/x2/groups/g/autoclaim', { consumer: 'b' });
    expect(missing.status).toBe(400);
  });
});
