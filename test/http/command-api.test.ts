// The Upstash-compatible command API through inject(): RESP2 reply shapes, errors, pipelines,
// base64 and MessagePack encodings, and refused bodies.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { undoPop } from '../../src/http/pop-undo';
import { MAX_PIPELINE_COMMANDS } from '../../src/limits';
import { SluiceServer } from '../../src/server';
import { silentLogger } from '../../storage/errors';

let server: SluiceServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-cmdapi-'));
  server = await SluiceServer.start({
    host: '127.0.0.1',
    httpPort: 0,
    dataDir,
    fsync: 'no',
    maxBlockMs: 200,
    bodyLimitBytes: 1024 * 1024,
  });
});

afterAll(async () => {
  await server.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

type Headers = Record<string, string>;

function post(url: string, payload: unknown, headers: Headers = {}) {
  const body =
    typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return server.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function result(args: unknown[], headers?: Headers): Promise<unknown> {
  const res = await post('/', args, headers);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { result: unknown }).result;
}

describe('POST / replies as a RESP2 client sees them', () => {
  it('XADD answers the new ID and XRANGE the entries as [id, [field, value...]]', async () => {
    const id = await result(['XADD', 'orders', '*', 'sku', '42', 'qty', 1]);
    expect(id).toMatch(/^\d+-\d+$/);
    expect(await result(['XRANGE', 'orders', '-', '+'])).toEqual([[id, ['sku', '42', 'qty', '1']]]);
  });

  it('LPUSH answers the length and BRPOP [key, value]', async () => {
    expect(await result(['LPUSH', 'jobs', 'a', 'b'])).toBe(2);
    expect(await result(['BRPOP', 'jobs', '1'])).toEqual(['jobs', 'a']);
  });

  it('a blocking pop that times out answers null (the wait is capped by maxBlockMs)', async () => {
    const t0 = Date.now();
    expect(await result(['BLPOP', 'nothing-here', '0'])).toBeNull();
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('XREADGROUP BLOCK that times out answers null', async () => {
    await result(['XGROUP', 'CREATE', 'gstream', 'g', '$', 'MKSTREAM']);
    expect(
      await result(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'gstream', '>']),
    ).toBeNull();
  });

  it('maps are flat arrays (XINFO STREAM)', async () => {
    await result(['XADD', 'info-s', '1-1', 'f', 'v']);
    const info = (await result(['XINFO', 'STREAM', 'info-s'])) as unknown[];
    expect(Array.isArray(info)).toBe(true);
    expect(info[0]).toBe('length');
    expect(info[1]).toBe(1);
    expect(info).toContain('last-generated-id');
  });

  it('both nulls are null: LPOP of a missing list, LMPOP of missing lists', async () => {
    expect(await result(['LPOP', 'missing'])).toBeNull();
    expect(await result(['LPOP', 'missing', '2'])).toBeNull();
    expect(await result(['LMPOP', '1', 'missing', 'LEFT'])).toBeNull();
    expect(await result(['XADD', 'missing-s', 'NOMKSTREAM', '*', 'f', 'v'])).toBeNull();
  });

  it('simple strings are strings (OK, PONG)', async () => {
    expect(await result(['PING'])).toBe('PONG');
    expect(await result(['XGROUP', 'CREATE', 'orders', 'workers', '0'])).toBe('OK');
  });
});

describe('POST / errors', () => {
  it('a command error is 400 with error, code and statusCode', async () => {
    await result(['RPUSH', 'a-list', 'x']);
    const res = await post('/', ['XADD', 'a-list', '*', 'f', 'v']);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'WRONGTYPE Operation against a key holding the wrong kind of value',
      code: 'WRONGTYPE',
      statusCode: 400,
    });
  });

  it('NOGROUP is 400 too, as Upstash answers every command error', async () => {
    const res = await post('/', ['XREADGROUP', 'GROUP', 'nog', 'c', 'STREAMS', 'orders', '>']);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'NOGROUP', statusCode: 400 });
  });

  it('an unknown command is a 400 ERR', async () => {
    const res = await post('/', ['FROBNICATE', 'x']);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^ERR unknown command 'FROBNICATE'/);
  });

  it('SUBSCRIBE points to the SSE endpoint', async () => {
    for (const cmd of ['SUBSCRIBE', 'psubscribe', 'SSUBSCRIBE']) {
      const res = await post('/', [cmd, 'news']);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toContain('/v1/subscribe');
    }
  });
});

describe('POST / refuses malformed bodies with a clear 4xx', () => {
  it.each([
    ['an object', { cmd: 'PING' }, /must be an array/],
    ['a string', '"PING"', /must be an array/],
    ['an empty array', [], /empty command/],
    ['a nested array', ['LPUSH', 'k', ['x']], /body\[2\] must be/],
    ['a nested object', ['LPUSH', 'k', { v: 1 }], /body\[2\] must be/],
    ['a boolean', ['ECHO', true], /body\[1\] must be/],
    ['a null', ['ECHO', null], /body\[1\] must be/],
  ])('%s is a 400', async (_what, body, message) => {
    const res = await post('/', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'ERR', statusCode: 400 });
    expect(res.json().error).toMatch(message);
  });

  it('malformed JSON is a 400', async () => {
    const res = await post('/', '["PING"');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'ERR', statusCode: 400 });
  });

  it('a body over the limit is a 413', async () => {
    const huge = JSON.stringify(['ECHO', 'x'.repeat(2 * 1024 * 1024)]);
    const res = await post('/', huge);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'ERR request body too large', statusCode: 413 });
  });

  it('an unknown content type is a 415', async () => {
    const res = await post('/', '["PING"]', { 'content-type': 'application/xml' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ statusCode: 415 });
  });

  it('a form-encoded body (curl -d) is read as JSON', async () => {
    const res = await post('/', '["ECHO","hi"]', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.json()).toEqual({ result: 'hi' });
  });

  it.each(['text/plain;charset=UTF-8', 'application/octet-stream'])(
    'a %s body (fetch with a string body) is read as JSON',
    async (type) => {
      const res = await post('/', '["ECHO","hi"]', { 'content-type': type });
      expect(res.json()).toEqual({ result: 'hi' });
      const pipe = await post('/pipeline', '[["ECHO","a"],["ECHO","b"]]', { 'content-type': type });
      expect(pipe.json()).toEqual([{ result: 'a' }, { result: 'b' }]);
    },
  );

  it('a text/plain body that is not JSON is a 400', async () => {
    const res = await post('/', 'PING', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'ERR invalid request: body is not valid JSON' });
  });
});

describe('POST /pipeline', () => {
  it('answers each command in order, errors in place, not atomically', async () => {
    const res = await post('/pipeline', [
      ['RPUSH', 'pl', 'a'],
      ['XADD', 'pl', '*', 'f', 'v'],
      ['RPUSH', 'pl', 'b'],
      ['LRANGE', 'pl', '0', '-1'],
    ]);
    expect(res.statusCode).toBe(200);
    const out = res.json() as unknown[];
    expect(out[0]).toEqual({ result: 1 });
    expect(out[1]).toMatchObject({ error: expect.stringMatching(/^WRONGTYPE/) });
    expect(out[2]).toEqual({ result: 2 });
    expect(out[3]).toEqual({ result: ['a', 'b'] });
  });

  it('runs every command in one session: a blocked pop is fed by no one else', async () => {
    const res = await post('/pipeline', [['BLPOP', 'pl-empty', '0'], ['PING']]);
    expect(res.json()).toEqual([{ result: null }, { result: 'PONG' }]);
  });

  it('refuses a malformed pipeline before running any of it', async () => {
    const bad = await post('/pipeline', [['RPUSH', 'never', 'x'], 'PING']);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/body\[1\] must be an array/);
    expect(await result(['EXISTS', 'never'])).toBe(0);
    expect((await post('/pipeline', [])).statusCode).toBe(400);
    expect((await post('/pipeline', { a: 1 })).statusCode).toBe(400);
  });

  it(`refuses more than ${MAX_PIPELINE_COMMANDS} commands`, async () => {
    const many = Array.from({ length: MAX_PIPELINE_COMMANDS + 1 }, () => ['PING']);
    const res = await post('/pipeline', many);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain(String(MAX_PIPELINE_COMMANDS));
  });
});

describe('encodings', () => {
  const binary = Buffer.from([0xff, 0x00, 0xfe, 0x41]);

  it('values that are not UTF-8 come back marked {base64} in JSON', async () => {
    await result(['RPUSH', 'bin', { base64: binary.toString('base64') }, 'plain']);
    expect(await result(['LRANGE', 'bin', '0', '-1'])).toEqual([
      { base64: binary.toString('base64') },
      'plain',
    ]);
  });

  it('Upstash-Encoding: base64 encodes every string but OK, and round-trips bytes', async () => {
    const h = { 'upstash-encoding': 'base64' };
    const values = (await result(['LRANGE', 'bin', '0', '-1'], h)) as string[];
    expect(values.map((v) => Buffer.from(v, 'base64'))).toEqual([binary, Buffer.from('plain')]);
    expect(await result(['PING'], h)).toBe(Buffer.from('PONG').toString('base64'));
    expect(await result(['XGROUP', 'CREATE', 'orders', 'b64', '0'], h)).toBe('OK');
    expect(await result(['LLEN', 'bin'], h)).toBe(2);
  });

  it('MessagePack in and out: bytes travel as bin', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/',
      payload: pack(['RPUSH', 'mp', binary, 'text']),
      headers: { 'content-type': 'application/vnd.msgpack' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.msgpack');
    expect(unpack(res.rawPayload)).toEqual({ result: 2 });
    const read = await server.app.inject({
      method: 'POST',
      url: '/',
      payload: pack(['LRANGE', 'mp', '0', '-1']),
      headers: { 'content-type': 'application/vnd.msgpack' },
    });
    const out = unpack(read.rawPayload) as { result: unknown[] };
    expect(Buffer.from(out.result[0] as Uint8Array)).toEqual(binary);
    expect(out.result[1]).toBe('text');
  });

  it('Accept: application/vnd.msgpack answers JSON requests in MessagePack', async () => {
    const res = await post('/', ['ECHO', 'x'], { accept: 'application/vnd.msgpack' });
    expect(unpack(res.rawPayload)).toEqual({ result: 'x' });
  });

  it('invalid MessagePack is a 400', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/',
      payload: Buffer.from([0xc1]),
      headers: { 'content-type': 'application/vnd.msgpack' },
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('a pop for a client that has gone is given back', () => {
  const call = (...args: string[]): Promise<Reply> => {
    const dispatcher = server.deps.dispatcher as Dispatcher;
    return dispatcher.execute(
      server.deps.session(),
      args.map((a) => Buffer.from(a)),
    );
  };
  const undo = (args: string[], r: Reply) =>
    undoPop(
      server.broker,
      silentLogger,
      0,
      args.map((a) => Buffer.from(a)),
      r,
    );
  const range = async (key: string) => result(['LRANGE', key, '0', '-1']);

  it('LPOP with a count: the values go back to the head in order', async () => {
    await result(['RPUSH', 'u1', 'a', 'b', 'c', 'd']);
    const args = ['LPOP', 'u1', '3'];
    await undo(args, await call(...args));
    expect(await range('u1')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('RPOP and BRPOP: the values go back to the tail', async () => {
    await result(['RPUSH', 'u2', 'a', 'b', 'c']);
    for (const args of [
      ['RPOP', 'u2', '2'],
      ['RPOP', 'u2'],
      ['BRPOP', 'u2', '0'],
    ]) {
      await undo(args, await call(...args));
      expect(await range('u2')).toEqual(['a', 'b', 'c']);
    }
  });

  it('BLMPOP RIGHT COUNT: the values go back to the tail in order', async () => {
    await result(['RPUSH', 'u3', 'a', 'b', 'c']);
    const args = ['BLMPOP', '0', '2', 'nope', 'u3', 'RIGHT', 'COUNT', '2'];
    await undo(args, await call(...args));
    expect(await range('u3')).toEqual(['a', 'b', 'c']);
  });

  it('a popped list that was emptied is recreated', async () => {
    await result(['RPUSH', 'u4', 'only']);
    const args = ['LPOP', 'u4'];
    await undo(args, await call(...args));
    expect(await range('u4')).toEqual(['only']);
  });

  it('LMOVE and BRPOPLPUSH move the value back', async () => {
    await result(['RPUSH', 'src', 'a', 'b']);
    for (const args of [
      ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'],
      ['BRPOPLPUSH', 'src', 'dst', '0'],
    ]) {
      await undo(args, await call(...args));
      expect(await range('src')).toEqual(['a', 'b']);
      expect(await range('dst')).toEqual([]);
    }
  });

  it('a moved value already taken from the destination is left alone', async () => {
    await result(['RPUSH', 'src2', 'a']);
    const args = ['LMOVE', 'src2', 'dst2', 'LEFT', 'LEFT'];
    const r = await call(...args);
    await result(['LPOP', 'dst2']);
    await result(['RPUSH', 'dst2', 'other']);
    await undo(args, r);
    expect(await range('src2')).toEqual([]);
    expect(await range('dst2')).toEqual(['other']);
  });

  it('other commands and empty replies are left alone', async () => {
    await result(['RPUSH', 'u5', 'a']);
    await undo(['LRANGE', 'u5', '0', '-1'], await call('LRANGE', 'u5', '0', '-1'));
    await undo(['LPOP', 'missing-u'], await call('LPOP', 'missing-u'));
    expect(await range('u5')).toEqual(['a']);
    expect(await result(['EXISTS', 'missing-u'])).toBe(0);
  });
});
