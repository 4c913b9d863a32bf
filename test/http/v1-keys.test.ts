// The keyspace under /v1/keys: SCAN with types, TYPE of one key, DEL of any type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV1, type V1Server } from './v1-fixture';

let s: V1Server;
beforeAll(async () => {
  s = await startV1();
  for (let i = 0; i < 12; i++) {
    await s.call('POST', `/v1/streams/stream:${i}/entries`, { fields: { a: '1' } });
    await s.call('POST', `/v1/lists/list:${i}/push`, { values: ['x'] });
  }
});
afterAll(async () => {
  await s.close();
});

type Key = { key: unknown; type: string };

/** Every key a full SCAN with `query` visits, sorted. */
async function scanAll(query: string): Promise<Key[]> {
  const found: Key[] = [];
  let cursor = '0';
  for (let rounds = 0; rounds < 1000; rounds++) {
    const r = await s.call('GET', `/v1/keys?cursor=${cursor}&${query}`);
    expect(r.status).toBe(200);
    found.push(...r.body.keys);
    cursor = r.body.cursor;
    if (cursor === '0') break;
  }
  return found.sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

describe('GET /v1/keys', () => {
  it('answers each key with its type', async () => {
    const r = await s.call('GET', '/v1/keys');
    expect(r.body.cursor).toBe('0');
    expect(r.body.keys).toHaveLength(24);
    expect(r.body.keys).toContainEqual({ key: 'stream:3', type: 'stream' });
    expect(r.body.keys).toContainEqual({ key: 'list:3', type: 'list' });
  });

  it('filters by match and type, and pages with the cursor', async () => {
    const lists = await scanAll('type=list&count=5');
    expect(lists).toHaveLength(12);
    expect(lists.every((k) => k.type === 'list')).toBe(true);
    const ones = await scanAll('match=*:1*&count=3');
    expect(ones.map((k) => k.key)).toEqual([
      'list:1',
      'list:10',
      'list:11',
      'stream:1',
      'stream:10',
      'stream:11',
    ]);
  });

  it('a key that is not UTF-8 is answered as {base64}', async () => {
    const key = Buffer.from([0xfe, 0x01]);
    await s.call('POST', `/v1/lists/base64:${key.toString('base64url')}/push`, { values: ['v'] });
    const r = await s.call('GET', '/v1/keys?type=list&count=1000');
    expect(r.body.keys).toContainEqual({ key: { base64: key.toString('base64') }, type: 'list' });
  });

  it('a bad cursor or count is 400', async () => {
    expect((await s.call('GET', '/v1/keys?cursor=abc')).status).toBe(400);
    expect((await s.call('GET', '/v1/keys?count=0')).status).toBe(400);
  });
});

describe('one key', () => {
  it('GET answers its type; a missing key is 404', async () => {
    expect((await s.call('GET', '/v1/keys/stream:1')).body).toEqual({
      key: 'stream:1',
      type: 'stream',
    });
    expect((await s.call('GET', '/v1/keys/list:1')).body.type).toBe('list');
    const r = await s.call('GET', '/v1/keys/none');
    expect(r).toMatchObject({ status: 404, body: { error: 'ERR no such key', statusCode: 404 } });
  });

  it('DELETE removes a key of any type', async () => {
    expect((await s.call('DELETE', '/v1/keys/stream:11')).body).toEqual({ deleted: 1 });
    expect((await s.call('DELETE', '/v1/keys/list:11')).body).toEqual({ deleted: 1 });
    expect((await s.call('DELETE', '/v1/keys/list:11')).body).toEqual({ deleted: 0 });
    expect((await s.call('GET', '/v1/keys/stream:11')).status).toBe(404);
  });
});

describe('the read-only token', () => {
  let t: V1Server;
  beforeAll(async () => {
    t = await startV1({ token: 'admin', readonlyToken: 'reader' });
    const admin = { headers: { authorization: 'Bearer admin' } };
    await t.call('POST', '/v1/streams/s/entries', { fields: { a: '1' }, id: '1-0' }, admin);
    await t.call('PUT', '/v1/streams/s/groups/g', { start: '0' }, admin);
    await t.call('POST', '/v1/lists/l/push', { values: ['x'] }, admin);
  });
  afterAll(async () => {
    await t.close();
  });
  const reader = { headers: { authorization: 'Bearer reader' } };

  it.each([
    ['GET', '/v1/streams/s/entries', undefined],
    ['GET', '/v1/streams/s', undefined],
    ['GET', '/v1/streams/s/read?after=0', undefined],
    ['POST', '/v1/read', { streams: { s: '0' } }],
    ['GET', '/v1/streams/s/groups', undefined],
    ['GET', '/v1/streams/s/groups/g/consumers', undefined],
    ['GET', '/v1/streams/s/groups/g/pending', undefined],
    ['GET', '/v1/lists/l', undefined],
    ['GET', '/v1/keys', undefined],
    ['GET', '/v1/keys/s', undefined],
  ])('may %s %s', async (method, url, body) => {
    expect((await t.call(method, url, body, reader)).status).toBe(200);
  });

  it.each([
    ['POST', '/v1/streams/s/entries', { fields: { a: '1' } }],
    ['DELETE', '/v1/streams/s/entries/1-0', undefined],
    ['POST', '/v1/streams/s/trim', { maxLen: 0 }],
    ['DELETE', '/v1/streams/s', undefined],
    ['PUT', '/v1/streams/s/groups/h', {}],
    ['PATCH', '/v1/streams/s/groups/g', { lastId: '0' }],
    ['DELETE', '/v1/streams/s/groups/g', undefined],
    ['PUT', '/v1/streams/s/groups/g/consumers/c', undefined],
    ['DELETE', '/v1/streams/s/groups/g/consumers/c', undefined],
    ['POST', '/v1/streams/s/groups/g/read', { consumer: 'c' }],
    ['POST', '/v1/streams/s/groups/g/ack', { ids: ['1-0'] }],
    ['POST', '/v1/streams/s/groups/g/claim', { consumer: 'c', minIdleMs: 0, ids: ['1-0'] }],
    ['POST', '/v1/streams/s/groups/g/autoclaim', { consumer: 'c', minIdleMs: 0 }],
    ['POST', '/v1/readgroup', { group: 'g', consumer: 'c', streams: { s: '>' } }],
    ['POST', '/v1/lists/l/push', { values: ['y'] }],
    ['POST', '/v1/lists/l/pop', {}],
    ['POST', '/v1/lists/pop', { keys: ['l'] }],
    ['POST', '/v1/lists/l/move', { destination: 'm' }],
    ['POST', '/v1/lists/l/remove', { value: 'x' }],
    ['DELETE', '/v1/lists/l', undefined],
    ['DELETE', '/v1/keys/l', undefined],
  ])('may not %s %s (403 NOPERM)', async (method, url, body) => {
    const r = await t.call(method, url, body, reader);
    expect(r).toMatchObject({ status: 403, body: { code: 'NOPERM' } });
  });
});
