// Bearer tokens: admin and read-only, the header or ?_token=, which routes need none, and the
// refusal to listen beyond loopback without a token.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenCheck } from '../../src/http/auth';
import { send } from '../../src/http/codec';
import { SluiceServer } from '../../src/server';
import { appFixture, type AppFixture } from './deps-fixture';

const ADMIN = 'admin-secret-token';
const READONLY = 'ro';

let fx: AppFixture;

beforeAll(async () => {
  fx = await appFixture({ token: ADMIN, readonlyToken: READONLY, maxBlockMs: 100 }, (app) => {
    app.post('/test/write', { config: { write: true } }, (req, reply) =>
      send(req, reply, 200, { wrote: true }),
    );
    app.post('/test/read', (req, reply) => send(req, reply, 200, { read: true }));
  });
});

afterAll(() => fx.close());

function cmd(args: unknown[], token?: string, url = '/') {
  return fx.app.inject({
    method: 'POST',
    url,
    payload: args,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('missing or bad token', () => {
  it('no token is a 401 NOAUTH with WWW-Authenticate: Bearer', async () => {
    const res = await cmd(['PING']);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toMatchObject({ code: 'NOAUTH', statusCode: 401 });
  });

  it('a wrong token of any length is a 401 (constant-time compare never throws)', async () => {
    for (const token of ['', 'x', 'admin-secret-toke', `${ADMIN}x`, 'é'.repeat(5000)]) {
      const res = await cmd(['PING'], token);
      expect(res.statusCode, token.slice(0, 20)).toBe(401);
      expect(res.json().code).toBe('NOAUTH');
    }
  });

  it('another scheme than Bearer is a 401', async () => {
    const res = await fx.app.inject({
      method: 'POST',
      url: '/',
      payload: ['PING'],
      headers: { authorization: `Basic ${ADMIN}` },
    });
    expect(res.statusCode).toBe(401);
  });

  it('a token for routes that do not exist is still asked for (no route probing)', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(401);
  });
});

describe('admin token', () => {
  it('runs writes through the command API and the resource routes', async () => {
    expect((await cmd(['RPUSH', 'q', 'a'], ADMIN)).json()).toEqual({ result: 1 });
    expect((await cmd([], ADMIN, '/test/write')).statusCode).toBe(200);
  });

  it('the scheme is case-insensitive', async () => {
    const res = await fx.app.inject({
      method: 'POST',
      url: '/',
      payload: ['PING'],
      headers: { authorization: `bearer ${ADMIN}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('?_token= works as well as the header (EventSource)', async () => {
    const res = await fx.app.inject({
      method: 'POST',
      url: `/?_token=${encodeURIComponent(ADMIN)}`,
      payload: ['PING'],
    });
    expect(res.json()).toEqual({ result: 'PONG' });
  });
});

describe('read-only token', () => {
  it('runs read commands', async () => {
    expect((await cmd(['LRANGE', 'q', '0', '-1'], READONLY)).json()).toEqual({ result: ['a'] });
    expect((await cmd(['XREAD', 'STREAMS', 'nostream', '0'], READONLY)).statusCode).toBe(200);
    expect((await cmd(['PUBSUB', 'CHANNELS'], READONLY)).statusCode).toBe(200);
  });

  it('gets 403 NOPERM for writes, blocking pops, XREADGROUP and PUBLISH', async () => {
    const writes = [
      ['RPUSH', 'q', 'b'],
      ['BLPOP', 'q', '0'],
      ['LMOVE', 'q', 'r', 'LEFT', 'LEFT'],
      ['XADD', 's', '*', 'f', 'v'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>'],
      ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
      ['PUBLISH', 'ch', 'm'],
      ['FLUSHALL'],
    ];
    for (const args of writes) {
      const res = await cmd(args, READONLY);
      expect(res.statusCode, args[0]).toBe(403);
      expect(res.json()).toEqual({
        error: 'NOPERM this token is read-only',
        code: 'NOPERM',
        statusCode: 403,
      });
    }
    expect((await cmd(['LRANGE', 'q', '0', '-1'], ADMIN)).json()).toEqual({ result: ['a'] });
  });

  it('a pipeline with one write is refused whole, before anything runs', async () => {
    const res = await cmd(
      [
        ['LLEN', 'q'],
        ['RPUSH', 'q', 'sneaky'],
      ],
      READONLY,
      '/pipeline',
    );
    expect(res.statusCode).toBe(403);
    expect((await cmd(['LLEN', 'q'], ADMIN)).json()).toEqual({ result: 1 });
    const reads = await cmd([['LLEN', 'q'], ['PING']], READONLY, '/pipeline');
    expect(reads.json()).toEqual([{ result: 1 }, { result: 'PONG' }]);
  });

  it('an unknown command gets its own error, not NOPERM', async () => {
    const res = await cmd(['NOSUCH'], READONLY);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('ERR');
  });

  it('routes marked write are 403, other routes answer', async () => {
    expect((await cmd([], READONLY, '/test/write')).statusCode).toBe(403);
    expect((await cmd([], READONLY, '/test/read')).statusCode).toBe(200);
    const info = await fx.app.inject({
      method: 'GET',
      url: '/v1/info',
      headers: { authorization: `Bearer ${READONLY}` },
    });
    expect(info.statusCode).toBe(200);
  });
});

describe('routes that need no token', () => {
  it('probes answer without a token; /metrics needs one', async () => {
    expect((await fx.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await fx.app.inject({ url: `/metrics?_token=${READONLY}` })).statusCode).toBe(200);
  });

  it('the API description and docs page are public', async () => {
    expect((await fx.app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/docs' })).statusCode).toBe(200);
  });
});

describe('no token configured', () => {
  it('everything is allowed', async () => {
    const open = await appFixture();
    try {
      const res = await open.app.inject({ method: 'POST', url: '/', payload: ['RPUSH', 'k', 'v'] });
      expect(res.json()).toEqual({ result: 1 });
    } finally {
      await open.close();
    }
  });
});

describe('TokenCheck', () => {
  it('tells admin from read-only and refuses anything else', () => {
    const check = new TokenCheck('a', 'b');
    expect(check.accessOf('a')).toBe('admin');
    expect(check.accessOf('b')).toBe('readonly');
    expect(check.accessOf('')).toBeNull();
    expect(check.accessOf('a'.repeat(100_000))).toBeNull();
    expect(new TokenCheck('', '').enabled).toBe(false);
    expect(new TokenCheck('', 'b').accessOf('')).toBeNull();
  });
});

describe('listening beyond loopback', () => {
  it('without a token, start refuses before listening or taking the lock', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-bind-'));
    try {
      await expect(
        SluiceServer.start({ host: '0.0.0.0', httpPort: 0, dataDir, fsync: 'no' }),
      ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without --token/);
      expect(await fs.readdir(dataDir)).toEqual([]);
      const ok = await SluiceServer.start({ host: '127.0.0.1', httpPort: 0, dataDir, fsync: 'no' });
      await ok.stop();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
