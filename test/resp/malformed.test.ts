// Malformed input on the RESP port: bad lengths, huge declared bulks, negative counts, binary
// garbage, unbalanced quotes in inline commands and half-sent frames. Each gets what redis-server
// sends for the same bytes (its protocol error text, then a closed connection) and never
// crashes, hangs or buffers without bound: the server keeps serving other clients, and a client
// that vanished mid-frame leaves no connection or blocked command behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { mulberry32, randInt } from '../conformance/harness';
import { RespClient } from '../helpers/resp-client';
import {
  eventually,
  exchange,
  RawConnection,
  resp,
  startLocalSluice,
  type Exchange,
  type LocalSluice,
  redisAndSluice,
} from './fixture';

const servers = redisAndSluice();

/** The same bytes to both servers, one new connection each. */
async function both(bytes: Buffer | string): Promise<[Exchange, Exchange]> {
  return Promise.all([exchange(servers.redis.port, bytes), exchange(servers.sluice.port, bytes)]);
}

const err = (text: string) => `-ERR Protocol error: ${text}\r\n`;

/** Sluice still answers a fresh client, and every connection but that one is gone. */
async function stillServing(): Promise<void> {
  const after = await exchange(servers.sluice.port, resp('PING'), { quietMs: 50 });
  expect(after.reply).toBe('+PONG\r\n');
  const resp_ = servers.sluice.server.resp!;
  await eventually('connections to close', () => resp_.connectedClients === 0);
  expect(servers.sluice.server.broker.blocking.blockedCount).toBe(0);
}

describe('protocol errors: the reply and the closed connection match redis-server', () => {
  const samples: [string, string, string | null][] = [
    ['a multibulk count that is not a number', '*abc\r\n', err('invalid multibulk length')],
    ['a multibulk count above INT_MAX', '*2147483648\r\n', err('invalid multibulk length')],
    ['a bulk length that is not a number', '*1\r\n$x\r\n', err('invalid bulk length')],
    ['a negative bulk length', '*1\r\n$-3\r\n', err('invalid bulk length')],
    ['a bulk above proto-max-bulk-len', '*1\r\n$2000000000\r\n', err('invalid bulk length')],
    ['a bulk length past int64', '*1\r\n$99999999999999999999\r\n', err('invalid bulk length')],
    ['an integer where a bulk should be', '*2\r\n$4\r\nECHO\r\n:5\r\n', null],
    ['a simple string where a bulk should be', '*1\r\n+PING\r\n', null],
    ['unbalanced double quotes inline', 'ECHO "abc\r\n', err('unbalanced quotes in request')],
    ['unbalanced single quotes inline', "ECHO 'abc\r\n", err('unbalanced quotes in request')],
    ['a closing quote glued to a word', 'ECHO "a"b\r\n', err('unbalanced quotes in request')],
    ['a too big inline request', 'A'.repeat(70_000), err('too big inline request')],
    ['a too big count line', `*${'1'.repeat(70_000)}`, err('too big mbulk count string')],
    ['a too big bulk length line', `*1\r\n$${'1'.repeat(70_000)}`, null],
  ];

  it.each(samples)('%s', async (_name, bytes, expected) => {
    const [fromRedis, fromSluice] = await both(bytes);
    expect(fromRedis.closed).toBe(true);
    if (expected !== null) expect(fromRedis.reply).toBe(expected);
    expect(fromSluice).toEqual(fromRedis);
    await stillServing();
  });

  it('commands before the bad frame in the same write are answered first', async () => {
    const bytes = Buffer.concat([resp('PING'), resp('ECHO', 'x'), Buffer.from('*1\r\n$-9\r\n')]);
    const [fromRedis, fromSluice] = await both(bytes);
    expect(fromRedis).toEqual({
      reply: `+PONG\r\n$1\r\nx\r\n${err('invalid bulk length')}`,
      closed: true,
    });
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('input that is not an error: as redis-server', () => {
  const samples: [string, string][] = [
    ['a negative multibulk count is skipped', '*-5\r\n*1\r\n$4\r\nPING\r\n'],
    ['a zero multibulk count is skipped', '*0\r\nPING\r\n'],
    ['empty inline lines are ignored', '\r\n\n\r\nPING\r\n'],
    ['the two bytes after a bulk are not checked', '*2\r\n$4\r\nECHO\r\n$3\r\nfooXX'],
    ['inline commands with quotes and escapes', "ECHO \"a\\x41\\n\" 'b\\'c'\r\nPING x\n"],
    ['an unknown command names its arguments', 'NOPE "a b" c\r\n'],
    [
      'an unknown command names its arguments up to 128 bytes, and its name up to 128',
      `${'N'.repeat(140)} ${Array.from({ length: 30 }, (_, i) => `a${i}`).join(' ')}\r\n` +
        `NOPE ${'x'.repeat(100)} ${'y'.repeat(100)} z\r\n`,
    ],
  ];

  it.each(samples)('%s', async (_name, bytes) => {
    const [fromRedis, fromSluice] = await both(bytes);
    expect(fromRedis.closed).toBe(false);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('binary garbage', () => {
  /** Random bytes with enough CR, LF, quotes, '*' and '$' to reach every parser state. */
  function garbage(seed: number, length: number): Buffer {
    const rand = mulberry32(seed);
    const special = [0x0d, 0x0a, 0x22, 0x27, 0x2a, 0x24, 0x20, 0x5c, 0x00];
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      out[i] = rand() < 0.3 ? special[randInt(rand, special.length)]! : randInt(rand, 256);
    }
    return out;
  }

  it.each(Array.from({ length: 12 }, (_, i) => 1000 + i))(
    'seed %i: the same replies and the same close as redis-server',
    async (seed) => {
      const [fromRedis, fromSluice] = await both(garbage(seed, 2048));
      expect(fromSluice).toEqual(fromRedis);
      await stillServing();
    },
  );

  it('garbage behind a complete command still gets that command answered', async () => {
    const bytes = Buffer.concat([resp('PING'), Buffer.from('*1\r\n\xff\xfe\r\n', 'latin1')]);
    const [fromRedis, fromSluice] = await both(bytes);
    expect(fromRedis.reply).toBe(`+PONG\r\n${err("expected '$', got '\xff'")}`);
    expect(fromSluice).toEqual(fromRedis);
  });
});

describe('half-sent frames and bounded memory', () => {
  it('a client that disconnects mid-frame leaves nothing behind', async () => {
    const halves = ['*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$10\r\nabc', '*2\r\n$4\r\nEC', 'PING', '*1'];
    for (const half of halves) {
      const conn = await RawConnection.connect(servers.sluice.port);
      conn.send(half);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await conn.destroy();
    }
    const check = await RawConnection.connect(servers.sluice.port);
    check.send(resp('EXISTS', 'q'));
    expect(await check.waitFor((r) => r.includes('\r\n'))).toBe(true);
    expect(check.text).toBe(':0\r\n'); // the half RPUSH never ran
    await check.destroy();
    await stillServing();
  });

  it('a client that disconnects while blocked is no longer counted as blocked', async () => {
    const conn = await RawConnection.connect(servers.sluice.port);
    conn.send(resp('BLPOP', 'never', '0'));
    await eventually(
      'the BLPOP to block',
      () => servers.sluice.server.broker.blocking.blockedCount === 1,
    );
    await conn.destroy();
    await eventually(
      'the block to end',
      () => servers.sluice.server.broker.blocking.blockedCount === 0,
    );
    await stillServing();
  });

  it('a huge declared bulk is not allocated: memory follows the bytes received', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const conns: RawConnection[] = [];
    for (let i = 0; i < 20; i++) {
      const conn = await RawConnection.connect(servers.sluice.port);
      // 500 MB declared (under proto-max-bulk-len, so legal), 64 KiB sent.
      conn.send(
        Buffer.concat([
          Buffer.from('*2\r\n$4\r\nECHO\r\n$500000000\r\n'),
          Buffer.alloc(65536, 0x61),
        ]),
      );
      conns.push(conn);
    }
    await eventually('20 connections', () => servers.sluice.server.resp!.connectedClients === 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const grownBytes = process.memoryUsage().arrayBuffers - before;
    expect(grownBytes).toBeLessThan(64 * 1024 * 1024);
    for (const conn of conns) {
      expect(conn.received.length).toBe(0); // still waiting for the rest: no reply, no close
      await conn.destroy();
    }
    await stillServing();
  });

  it('other clients are served while one sends a frame a byte at a time', async () => {
    const slow = await RawConnection.connect(servers.sluice.port);
    const frame = resp('ECHO', 'slowly');
    for (let i = 0; i < frame.length - 1; i++) {
      slow.send(frame.subarray(i, i + 1));
      if (i % 4 === 0) {
        const other = await exchange(servers.sluice.port, resp('PING'), { quietMs: 20 });
        expect(other.reply).toBe('+PONG\r\n');
      }
    }
    expect(slow.received.length).toBe(0);
    slow.send(frame.subarray(frame.length - 1));
    expect(await slow.waitFor((r) => r.toString() === '$6\r\nslowly\r\n')).toBe(true);
    await slow.destroy();
    await stillServing();
  });
});

describe('before AUTH, the tighter limits of Redis (CVE-2021-32675)', () => {
  let redisAuth: RedisServer;
  let sluiceAuth: LocalSluice;

  beforeAll(async () => {
    [redisAuth, sluiceAuth] = await Promise.all([
      startRedis(),
      startLocalSluice({ token: 'sekret' }),
    ]);
    // startRedis() checks readiness with a PING, so the password is set once it is up.
    const admin = await RespClient.connect(redisAuth.port);
    await admin.call('CONFIG', 'SET', 'requirepass', 'sekret');
    await admin.close();
  });

  afterAll(async () => {
    await Promise.all([sluiceAuth?.close(), redisAuth?.stop()]);
  });

  it.each([
    ['more than 10 arguments', `*11\r\n`],
    ['a bulk over 16 KiB', `*2\r\n$4\r\nAUTH\r\n$16385\r\n`],
    ['a command before AUTH', resp('RPUSH', 'l', 'a').toString('latin1')],
    ['a wrong password', resp('AUTH', 'nope').toString('latin1')],
    ['an unknown command before AUTH', resp('NOSUCH', 'x').toString('latin1')],
    ['a wrong arity before AUTH', resp('RPUSH', 'l').toString('latin1')],
    [
      'HELLO without AUTH, then with it',
      `${resp('HELLO', '2')}${resp('HELLO', '2', 'AUTH', 'default', 'sekret', 'SETNAME', 'x')}`,
    ],
    ['the right password lifts the limits', `${resp('AUTH', 'sekret')}*11\r\n`],
  ])('%s', async (_name, bytes) => {
    const [fromRedis, fromSluice] = await Promise.all([
      exchange(redisAuth.port, bytes),
      exchange(sluiceAuth.port, bytes),
    ]);
    // HELLO's reply carries the client ID, which the servers number differently.
    const id = (e: Exchange) => ({
      ...e,
      reply: e.reply.replace(/(\$2\r\nid\r\n):\d+/, '$1:<id>'),
    });
    expect(id(fromSluice)).toEqual(id(fromRedis));
  });
});

describe('under fsync always', () => {
  it('a protocol error is sent after the durable replies before it, then the close', async () => {
    const durable = await startLocalSluice({ fsync: 'always' });
    try {
      const bytes = Buffer.concat([resp('RPUSH', 'l', 'a'), resp('XADD', 's', '1-1', 'f', 'v')]);
      const got = await exchange(durable.port, Buffer.concat([bytes, Buffer.from('*x\r\n')]));
      expect(got).toEqual({
        reply: `:1\r\n$3\r\n1-1\r\n${err('invalid multibulk length')}`,
        closed: true,
      });
    } finally {
      await durable.close();
    }
  });
});
