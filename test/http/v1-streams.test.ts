// The stream resources under /v1/streams/:key and POST /v1/read, through inject() and, for
// long-polls and disconnects, real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV1, waitFor, type V1Server } from './v1-fixture';

let s: V1Server;
beforeAll(async () => {
  s = await startV1({ maxBlockMs: 2000 });
});
afterAll(async () => {
  await s.close();
});

const add = (key: string, body: unknown) => s.call('POST', `/v1/streams/${key}/entries`, body);

describe('POST /v1/streams/:key/entries', () => {
  it('appends one entry and answers 201 with its ID', async () => {
    const a = await add('one', { fields: { sku: '42' }, id: '5-1' });
    expect(a).toMatchObject({ status: 201, body: { id: '5-1' } });
    const auto = await add('one', { fields: { sku: '43' } });
    expect(auto.status).toBe(201);
    expect(auto.body.id).toMatch(/^\d+-\d+$/);
  });

  it('appends many entries in order and answers their IDs', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ fields: ['n', String(i)] }));
    const a = await add('many', { entries });
    expect(a.status).toBe(201);
    expect(a.body.ids).toHaveLength(50);
    const r = await s.call('GET', '/v1/streams/many/entries?count=100');
    expect(r.body.entries.map((e: { id: string }) => e.id)).toEqual(a.body.ids);
    expect(r.body.entries.map((e: { fields: string[] }) => e.fields[1])).toEqual(
      entries.map((e) => e.fields[1]),
    );
  });

  it('entries of a batch that share field names each keep their own names and values', async () => {
    // The route makes each name's bytes once per request: every entry must still read back whole.
    const names = ['n', 'ключ', 'n2', '😀'];
    const entries = Array.from({ length: 80 }, (_, i) => ({
      fields: Object.fromEntries(names.map((n, j) => [n, `${n}=${i}:${j}`])),
    }));
    entries.push({ fields: { other: 'x', n: 'last' } });
    const a = await add('shared', { entries });
    expect(a.status).toBe(201);
    const r = await s.call('GET', '/v1/streams/shared/entries?count=1000');
    expect(r.body.entries.map((e: { id: string }) => e.id)).toEqual(a.body.ids);
    expect(r.body.entries.map((e: { fields: string[] }) => e.fields)).toEqual(
      entries.map((e) => Object.entries(e.fields).flat()),
    );
  });

  it('keeps field order and duplicate field names', async () => {
    await add('dups', { fields: ['b', '1', 'a', '2', 'b', '3'] });
    await add('dups', { fields: { z: '1', a: '2', 10: 'x' } });
    const r = await s.call('GET', '/v1/streams/dups/entries');
    expect(r.body.entries[0].fields).toEqual(['b', '1', 'a', '2', 'b', '3']);
    // Object keys keep JavaScript's order (integer-like names first): use the array form.
    expect(r.body.entries[1].fields).toEqual(['10', 'x', 'z', '1', 'a', '2']);
    const o = await s.call('GET', '/v1/streams/dups/entries?fieldsAs=object');
    expect(o.body.entries[0].fields).toEqual({ b: '3', a: '2' });
  });

  it('an ID not above the top is 400, and a batch answers which entries were added', async () => {
    await add('ids', { fields: { a: '1' }, id: '10-0' });
    const one = await add('ids', { fields: { a: '1' }, id: '10-0' });
    expect(one.status).toBe(400);
    expect(one.body).toEqual({
      error: 'ERR The ID specified in XADD is equal or smaller than the target stream top item',
      code: 'ERR',
      statusCode: 400,
    });
    const batch = await add('ids', {
      entries: [
        { fields: { a: '1' }, id: '11-0' },
        { fields: { a: '1' }, id: '9-0' },
        { fields: { a: '1' }, id: '12-0' },
      ],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.ids).toEqual(['11-0', null, '12-0']);
  });

  it('noMkStream on a missing key is 404 and creates nothing', async () => {
    const a = await add('absent', { fields: { a: '1' }, noMkStream: true });
    expect(a).toMatchObject({ status: 404, body: { error: 'ERR no such key', statusCode: 404 } });
    expect((await s.call('GET', '/v1/keys/absent')).status).toBe(404);
  });

  it('maxLen trims the stream as it appends', async () => {
    for (let i = 0; i < 5; i++) await add('capped', { fields: { i: String(i) }, maxLen: 3 });
    const info = await s.call('GET', '/v1/streams/capped');
    expect(info.body.length).toBe(3);
    expect(info.body.firstEntry.fields).toEqual(['i', '2']);
  });

  it('a key holding a list is 409 WRONGTYPE', async () => {
    await s.call('POST', '/v1/lists/alist/push', { values: ['x'] });
    const a = await add('alist', { fields: { a: '1' } });
    expect(a.status).toBe(409);
    expect(a.body.code).toBe('WRONGTYPE');
  });

  it.each([
    ['no fields', {}],
    ['fields of odd length', { fields: ['a', '1', 'b'] }],
    ['empty fields', { fields: {} }],
    ['fields that are a string', { fields: 'a' }],
    ['a value that is an object', { fields: { a: { nested: true } } }],
    ['fields and entries together', { fields: { a: '1' }, entries: [{ fields: { a: '1' } }] }],
    ['maxLen that is not a number', { fields: { a: '1' }, maxLen: 'many' }],
    ['bad base64', { fields: { a: { base64: '!!' } } }],
  ])('%s is 400 in the error format', async (_name, body) => {
    const a = await add('bad', body);
    expect(a.status).toBe(400);
    expect(a.body.code).toBe('ERR');
    expect(a.body.statusCode).toBe(400);
    expect(a.body.error).toMatch(/^ERR /);
  });

  it('malformed JSON is 400', async () => {
    const a = await s.call('POST', '/v1/streams/bad/entries', '{"fields":');
    expect(a.status).toBe(400);
    expect(a.body.code).toBe('ERR');
  });
});

describe('binary values and keys', () => {
  const raw = Buffer.from([0xff, 0x00, 0xc3, 0x28]);

  it('a value that is not UTF-8 round-trips as {base64} in JSON', async () => {
    const b64 = raw.toString('base64');
    await add('bin', { fields: ['f', { base64: b64 }, { base64: b64 }, 'text'] });
    const r = await s.call('GET', '/v1/streams/bin/entries');
    expect(r.body.entries[0].fields).toEqual(['f', { base64: b64 }, { base64: b64 }, 'text']);
  });

  it('MessagePack bin values round-trip as bin', async () => {
    const a = await s.call(
      'POST',
      '/v1/streams/mp/entries',
      { fields: ['f', raw] },
      { msgpack: true },
    );
    expect(a.status).toBe(201);
    expect(a.type).toContain('msgpack');
    const r = await s.call('GET', '/v1/streams/mp/entries', undefined, { msgpack: true });
    const [f, v] = r.body.entries[0].fields;
    expect(f).toBe('f');
    expect(Buffer.from(v).equals(raw)).toBe(true);
  });

  it('a key of any bytes is named in the path as base64:', async () => {
    const key = Buffer.from([0x6b, 0xff, 0x2f]);
    const path = `/v1/streams/base64:${key.toString('base64url')}`;
    expect((await s.call('POST', `${path}/entries`, { fields: { a: '1' } })).status).toBe(201);
    const scan = await s.call('GET', '/v1/keys?match=k*');
    expect(scan.body.keys).toContainEqual({
      key: { base64: key.toString('base64') },
      type: 'stream',
    });
    expect((await s.call('GET', path)).body.length).toBe(1);
    expect((await s.call('GET', '/v1/streams/base64:%21%21')).status).toBe(400);
  });

  it('a percent-encoded key may hold slashes and any UTF-8', async () => {
    const key = 'orders/2024 €?#';
    const path = `/v1/streams/${encodeURIComponent(key)}`;
    expect((await s.call('POST', `${path}/entries`, { fields: { a: '1' } })).status).toBe(201);
    expect((await s.call('GET', `/v1/keys/${encodeURIComponent(key)}`)).body).toEqual({
      key,
      type: 'stream',
    });
  });
});

describe('GET /v1/streams/:key/entries', () => {
  beforeAll(async () => {
    const entries = Array.from({ length: 7 }, (_, i) => ({
      fields: { i: String(i) },
      id: `${i + 1}-0`,
    }));
    await add('range', { entries });
  });

  it('pages through the stream with count and next', async () => {
    const seen: string[] = [];
    let url = '/v1/streams/range/entries?count=3';
    for (;;) {
      const r = await s.call('GET', url);
      seen.push(...r.body.entries.map((e: { id: string }) => e.id));
      if (r.body.next === null) break;
      url = `/v1/streams/range/entries?count=3&start=${encodeURIComponent(r.body.next)}`;
    }
    expect(seen).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0', '6-0', '7-0']);
  });

  it('order=desc reads newest first between start and end', async () => {
    const r = await s.call('GET', '/v1/streams/range/entries?order=desc&start=2&end=5&count=2');
    expect(r.body.entries.map((e: { id: string }) => e.id)).toEqual(['5-0', '4-0']);
    expect(r.body.next).toBe('(4-0');
  });

  it('a missing key has no entries', async () => {
    const r = await s.call('GET', '/v1/streams/nothing/entries');
    expect(r).toMatchObject({ status: 200, body: { entries: [], next: null } });
  });

  it('a bad ID or order is 400', async () => {
    expect((await s.call('GET', '/v1/streams/range/entries?start=abc')).status).toBe(400);
    expect((await s.call('GET', '/v1/streams/range/entries?order=up')).status).toBe(400);
    expect((await s.call('GET', '/v1/streams/range/entries?count=0')).status).toBe(400);
  });
});

describe('deleting and trimming', () => {
  it('DELETE /entries/:id deletes one entry', async () => {
    await add('del', {
      entries: [
        { fields: { a: '1' }, id: '1-0' },
        { fields: { a: '2' }, id: '2-0' },
      ],
    });
    expect((await s.call('DELETE', '/v1/streams/del/entries/1-0')).body).toEqual({ deleted: 1 });
    expect((await s.call('DELETE', '/v1/streams/del/entries/1-0')).body).toEqual({ deleted: 0 });
    expect((await s.call('DELETE', '/v1/streams/del/entries/x')).status).toBe(400);
  });

  it('POST /trim trims by maxLen or minId', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({
      fields: { i: String(i) },
      id: `${i + 1}-0`,
    }));
    await add('trim', { entries });
    expect((await s.call('POST', '/v1/streams/trim/trim', { maxLen: 8 })).body).toEqual({
      trimmed: 2,
    });
    expect((await s.call('POST', '/v1/streams/trim/trim', { minId: '6-0' })).body).toEqual({
      trimmed: 3,
    });
    expect((await s.call('POST', '/v1/streams/trim/trim', {})).status).toBe(400);
    const both = await s.call('POST', '/v1/streams/trim/trim', { maxLen: 1, minId: '1-0' });
    expect(both.status).toBe(400);
  });

  it('DELETE the key removes the stream, and refuses a list', async () => {
    await add('gone', { fields: { a: '1' } });
    expect((await s.call('DELETE', '/v1/streams/gone')).body).toEqual({ deleted: 1 });
    expect((await s.call('DELETE', '/v1/streams/gone')).body).toEqual({ deleted: 0 });
    await s.call('POST', '/v1/lists/listkey/push', { values: ['x'] });
    expect((await s.call('DELETE', '/v1/streams/listkey')).status).toBe(409);
  });
});

describe('GET /v1/streams/:key', () => {
  it('answers XINFO STREAM with camelCase names', async () => {
    await add('info', {
      entries: [
        { fields: { a: '1' }, id: '1-0' },
        { fields: { b: '2' }, id: '2-0' },
      ],
    });
    await s.call('PUT', '/v1/streams/info/groups/g', { start: '0' });
    const r = await s.call('GET', '/v1/streams/info');
    expect(r.body).toMatchObject({
      length: 2,
      groups: 1,
      lastGeneratedId: '2-0',
      maxDeletedEntryId: '0-0',
      entriesAdded: 2,
      firstEntry: { id: '1-0', fields: ['a', '1'] },
      lastEntry: { id: '2-0', fields: ['b', '2'] },
    });
  });

  it('a missing stream is 404 ERR no such key', async () => {
    const r = await s.call('GET', '/v1/streams/nope');
    expect(r).toMatchObject({ status: 404, body: { error: 'ERR no such key', code: 'ERR' } });
  });
});

describe('XREAD', () => {
  it('GET /read answers the entries after an ID', async () => {
    await add('rd', {
      entries: [
        { fields: { a: '1' }, id: '1-0' },
        { fields: { a: '2' }, id: '2-0' },
      ],
    });
    const r = await s.call('GET', '/v1/streams/rd/read?after=1-0');
    expect(r.body.entries).toEqual([{ id: '2-0', fields: ['a', '2'] }]);
    const none = await s.call('GET', '/v1/streams/rd/read?after=$');
    expect(none.body).toEqual({ entries: [] });
  });

  it('a long-poll is answered by the next XADD', async () => {
    const polled = s.request('GET', '/v1/streams/lp/read?after=$&blockMs=5000');
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    const { body } = await add('lp', { fields: { hello: 'world' } });
    expect((await polled.answer).body).toEqual({
      entries: [{ id: body.id, fields: ['hello', 'world'] }],
    });
  });

  it('long-polls that time out answer nothing, capped by maxBlockMs (0, huge)', async () => {
    const t0 = Date.now();
    const huge = '100000000000000000000';
    const [zero, big, pop] = await Promise.all([
      s.request('GET', '/v1/streams/quiet/read?blockMs=0').answer,
      s.request('GET', `/v1/streams/quiet/read?blockMs=${huge}`).answer,
      s.request('POST', '/v1/lists/quiet-list/pop', { blockMs: Number(huge) }).answer,
    ]);
    expect(zero).toMatchObject({ status: 200, body: { entries: [] } });
    expect(big).toMatchObject({ status: 200, body: { entries: [] } });
    expect(pop).toMatchObject({ status: 200, body: { values: [] } });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(4000);
  });

  it('a long-poll whose client disconnects is removed at once', async () => {
    const polled = s.request('GET', '/v1/streams/dc/read?blockMs=10000');
    const failed = polled.answer.catch(() => 'gone');
    await waitFor(() => s.server.broker.blocking.blockedCount === 1);
    polled.cancel();
    expect(await failed).toBe('gone');
    await waitFor(() => s.server.broker.blocking.blockedCount === 0);
  });

  it('POST /v1/read reads several streams', async () => {
    await add('m1', { fields: { a: '1' }, id: '1-0' });
    await add('m2', { fields: { b: '2' }, id: '1-0' });
    const r = await s.call('POST', '/v1/read', { streams: { m1: '0', m2: '0', m3: '0' } });
    expect(r.body).toEqual({
      streams: [
        { key: 'm1', entries: [{ id: '1-0', fields: ['a', '1'] }] },
        { key: 'm2', entries: [{ id: '1-0', fields: ['b', '2'] }] },
      ],
    });
    const arr = await s.call('POST', '/v1/read', { streams: [{ key: 'm2', id: '0' }], count: 1 });
    expect(arr.body.streams).toHaveLength(1);
    expect((await s.call('POST', '/v1/read', { streams: {} })).status).toBe(400);
    expect((await s.call('POST', '/v1/read', {})).status).toBe(400);
  });
});
