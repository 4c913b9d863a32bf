// redis-cli from Debian's redis-tools against Sluice: a scripted session piped through stdin
// prints the same as the same script against a real redis-server (generated IDs normalised),
// in RESP2 and RESP3 (-3), and `--pipe` mass insertion loads 20k commands with its summary
// reporting every reply (and exactly the errors it should).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RespClient } from '../helpers/resp-client';
import { normaliseIdsInText, resp, redisAndSluice } from './fixture';

const CLI_TIMEOUT_MS = 30_000;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs redis-cli against 127.0.0.1:`port` with `input` on stdin (async: Sluice runs here). */
function redisCli(port: number, args: readonly string[], input: Buffer | string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {}); // a cli that exits early closes its stdin
    child.stdin.end(input);
  });
}

/**
 * A session as a user would type it: streams, groups, lists, generic commands and errors. Only
 * one stream gets generated IDs: two streams written in the same millisecond would share an ID
 * string on one side and not on the other, which text normalisation cannot tell apart.
 */
const SESSION = [
  'FLUSHALL',
  'PING',
  'PING "hello there"',
  'ECHO "quoted \\"text\\" with \\x41 escapes"',
  "ECHO 'single quoted'",
  'RPUSH jobs a b "c d" e',
  'LRANGE jobs 0 -1',
  'LPOP jobs 2',
  'LLEN jobs',
  'LMOVE jobs done RIGHT LEFT',
  'BLPOP jobs 0.01',
  'BRPOP nothing 0.01',
  'LPOS done e',
  'XADD events * kind signup user alice',
  'XADD events * kind login user alice',
  'XADD events 1-1 kind stale',
  'XADD orders 5-1 item book',
  'XADD orders 5-* item pen',
  'XADD orders MAXLEN 10 6 item cup',
  'XLEN events',
  'XRANGE orders - +',
  'XREVRANGE orders + - COUNT 1',
  'XGROUP CREATE orders shop 0',
  'XGROUP CREATE orders shop 0',
  'XREADGROUP GROUP shop worker COUNT 2 STREAMS orders >',
  'XACK orders shop 5-1',
  'XPENDING orders shop',
  'XCLAIM orders shop other 0 5-2 JUSTID',
  'XAUTOCLAIM orders shop third 0 0-0 COUNT 5',
  'XINFO STREAM orders',
  'XINFO GROUPS orders',
  'XREAD COUNT 1 STREAMS events orders 0 0',
  'XDEL orders 5-1',
  'XTRIM events MAXLEN 1',
  'XLEN events',
  'TYPE orders',
  'TYPE jobs',
  'TYPE nothing',
  'EXISTS orders done nothing',
  'LPUSH orders x',
  'XADD done * f v',
  'MULTI',
  'RPUSH tx 1 2 3',
  'LPOP tx',
  'EXEC',
  'LRANGE tx 0 -1',
  'SELECT 3',
  'RPUSH other 1',
  'DBSIZE',
  'SELECT 0',
  'DBSIZE',
  'KEYS d*',
  'RENAME done finished',
  'DEL finished tx orders',
  'NOSUCHCOMMAND a b',
  'LRANGE jobs',
  'XADD',
].join('\n');

const servers = redisAndSluice();

describe('redis-cli scripted session', () => {
  describe.each([
    ['RESP2', []],
    ['RESP3', ['-3']],
  ] as const)('%s', (_, protocol) => {
    it.each([
      ['raw output (stdout not a tty)', []],
      ['formatted output (--no-raw)', ['--no-raw']],
    ] as const)('prints the same as against redis-server: %s', async (_name, format) => {
      const args = [...protocol, ...format];
      const expected = await redisCli(servers.redis.port, args, SESSION);
      const actual = await redisCli(servers.sluice.port, args, SESSION);
      expect(expected.code).toBe(0);
      expect(actual.stderr).toBe(expected.stderr);
      expect(normaliseIdsInText(actual.stdout)).toBe(normaliseIdsInText(expected.stdout));
      expect(actual.code).toBe(0);
    });
  });
});

/** `count` commands in RESP, alternating RPUSH and XADD, as a mass-insertion file would hold. */
function massInsertion(count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(
      i % 2 === 0
        ? resp('RPUSH', 'mass:list', `element-${i}`)
        : resp('XADD', 'mass:stream', '*', 'n', String(i), 'payload', 'x'.repeat(i % 50)),
    );
  }
  return Buffer.concat(parts);
}

describe('redis-cli --pipe', () => {
  it('inserts 20k RPUSH and XADD commands with errors: 0 and every reply counted', async () => {
    const count = 20_000;
    const client = await RespClient.connect(servers.sluice.port);
    try {
      await client.call('FLUSHALL');
      const run = await redisCli(servers.sluice.port, ['--pipe'], massInsertion(count));
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('All data transferred');
      expect(run.stdout).toContain(`errors: 0, replies: ${count}`);
      expect(run.code).toBe(0);
      expect(await client.call('LLEN', 'mass:list')).toEqual({ t: 'int', v: count / 2 });
      expect(await client.call('XLEN', 'mass:stream')).toEqual({ t: 'int', v: count / 2 });
      const first = await client.call('LINDEX', 'mass:list', '0');
      expect(first).toEqual({ t: 'bulk', v: Buffer.from('element-0') });
    } finally {
      await client.close();
    }
  });

  it('counts the commands that fail as errors, as redis-server does', async () => {
    const input = Buffer.concat([
      resp('RPUSH', 'p', 'a'),
      resp('XADD', 'p', '*', 'f', 'v'), // WRONGTYPE
      resp('XADD', 'ps', '1-1', 'f', 'v'),
      resp('XADD', 'ps', '1-1', 'f', 'v'), // ID equal to the top item
      resp('LPUSH'), // wrong number of arguments
      resp('RPUSH', 'p', 'b'),
    ]);
    const summaries: string[] = [];
    for (const port of [servers.redis.port, servers.sluice.port]) {
      const client = await RespClient.connect(port);
      await client.call('FLUSHALL');
      const run = await redisCli(port, ['--pipe'], input);
      summaries.push(run.stdout.split('\n').filter((l) => l.startsWith('errors:'))[0] ?? '');
      expect(await client.call('LLEN', 'p')).toEqual({ t: 'int', v: 2 });
      await client.close();
    }
    expect(summaries[0]).toBe('errors: 3, replies: 6');
    expect(summaries[1]).toBe(summaries[0]);
  });
});
