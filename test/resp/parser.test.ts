// The RESP request parser: every sample gives the same commands however the stream is cut
// (whole, byte by byte, every two-chunk split, seeded random splits); errors carry Redis 7.0's
// texts, checked against a real redis-server; memory follows the bytes received.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import {
  PROTO_INLINE_MAX_BYTES,
  ProtocolError,
  RequestParser,
  type RequestParserOptions,
  splitArgs,
} from '../../src/resp/parser';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespClient, RespParser, encodeCommand } from '../helpers/resp-client';

interface Outcome {
  readonly commands: Buffer[][];
  readonly error: string | null;
}

/** Feeds `chunks` one at a time, draining next() after each, as the server does. */
function parseChunks(chunks: readonly Buffer[], options?: RequestParserOptions): Outcome {
  const parser = new RequestParser(options);
  const commands: Buffer[][] = [];
  for (const chunk of chunks) {
    parser.feed(chunk);
    for (let out = parser.next(); out !== null; out = parser.next()) {
      if (out instanceof ProtocolError) return { commands, error: out.message };
      commands.push(out);
    }
  }
  return { commands, error: null };
}

function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    chunks.push(bytes.subarray(from, at));
    from = at;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

function byteByByte(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return chunks;
}

/** mulberry32: a fixed-seed generator, so a failing split can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomOffsets(length: number, rand: () => number): number[] {
  const count = Math.floor(rand() * 8) + 1;
  const offsets = new Set<number>();
  for (let i = 0; i < count; i++) offsets.add(Math.floor(rand() * (length + 1)));
  return [...offsets].sort((x, y) => x - y);
}

function sameOutcome(got: Outcome, want: Outcome): boolean {
  if (got.error !== want.error || got.commands.length !== want.commands.length) return false;
  return got.commands.every((cmd, i) => {
    const expected = want.commands[i]!;
    return cmd.length === expected.length && cmd.every((arg, j) => arg.equals(expected[j]!));
  });
}

function show(outcome: Outcome): unknown {
  return {
    commands: outcome.commands.map((c) => c.map((a) => a.toString('latin1'))),
    error: outcome.error,
  };
}

/**
 * Checks that whole, byte-by-byte, every two-chunk split and seeded random splits of `bytes`
 * all give `want`. Returns the number of ways tried.
 */
function expectEverySplit(bytes: Buffer, want: Outcome, options?: RequestParserOptions): number {
  const whole = parseChunks([bytes], options);
  expect(show(whole)).toEqual(show(want));
  const ways: [string, Buffer[]][] = [['byte by byte', byteByByte(bytes)]];
  for (let at = 0; at <= bytes.length; at++) ways.push([`split at ${at}`, splitAt(bytes, [at])]);
  const rand = prng(0x5eed + bytes.length);
  for (let i = 0; i < 200; i++) {
    const offsets = randomOffsets(bytes.length, rand);
    ways.push([`split at ${offsets.join(',')}`, splitAt(bytes, offsets)]);
  }
  for (const [name, chunks] of ways) {
    const got = parseChunks(chunks, options);
    if (!sameOutcome(got, want)) expect(show(got), name).toEqual(show(want));
  }
  return ways.length + 1;
}

const b = (s: string) => Buffer.from(s, 'latin1');
const cmds = (...commands: (string | Buffer)[][]): Buffer[][] =>
  commands.map((c) => c.map((a) => (typeof a === 'string' ? b(a) : a)));
const ok = (...commands: (string | Buffer)[][]): Outcome => ({
  commands: cmds(...commands),
  error: null,
});
const fails = (error: string, ...commands: (string | Buffer)[][]): Outcome => ({
  commands: cmds(...commands),
  error,
});

function multibulk(...args: (string | Buffer)[]): Buffer {
  return encodeCommand(args.map((a) => (typeof a === 'string' ? b(a) : a)));
}

const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const big = Buffer.alloc(40 * 1024, 'x');
big.write('\r\n*1\r\n$4\r\nPING\r\n', 1000, 'latin1');
const justBelowBig = Buffer.alloc(32 * 1024 - 1, 'y');
const justBig = Buffer.alloc(32 * 1024, 'z');

const SAMPLES: [string, Buffer, Outcome][] = [
  ['a multibulk command', multibulk('SET', 'k', 'v'), ok(['SET', 'k', 'v'])],
  [
    'binary values, CR LF inside bulks included',
    multibulk('SET', binary, 'a\r\nb\r\n'),
    ok(['SET', binary, 'a\r\nb\r\n']),
  ],
  ['empty bulks', multibulk('', 'x', ''), ok(['', 'x', ''])],
  ['an inline command', b('PING\r\n'), ok(['PING'])],
  ['an inline command ended by LF alone', b('ECHO  hi\n'), ok(['ECHO', 'hi'])],
  [
    'inline double quotes with every escape',
    b('SET "a b" "\\n\\r\\t\\b\\a\\\\\\"\\x41\\xfF\\x4\\q"\r\n'),
    ok(['SET', 'a b', '\n\r\t\b\x07\\"A\xff' + 'x4q']),
  ],
  [
    "inline single quotes keep backslashes except before '",
    b("SET 'it\\'s' '\\n' ''\r\n"),
    ok(['SET', "it's", '\\n', '']),
  ],
  ['a quote opening mid-token', b('SET a"b c" x\r\n'), ok(['SET', 'ab c', 'x'])],
  [
    'blanks: \\v and \\f separate at token starts only',
    b('A\x0b\x0cB\x0bC\tD\r\n'),
    ok(['A\x0b\x0cB\x0bC', 'D']),
  ],
  ['empty inline lines are ignored', b('\r\n\n   \r\n\t\nPING\r\n'), ok(['PING'])],
  ['*0 and *-1 are skipped', b('*0\r\n*-1\r\n*-9223372036854775808\r\nPING\n'), ok(['PING'])],
  ['the bytes after a CR and after a payload are not checked', b('*1\rX$4\r?PINGab'), ok(['PING'])],
  ['a big bulk (>= 32 KiB) with protocol inside', multibulk('SET', big), ok(['SET', big])],
  [
    'bulks just below and at the big-argument size',
    Buffer.concat([multibulk(justBelowBig), multibulk(justBig)]),
    ok([justBelowBig], [justBig]),
  ],
  [
    'a pipelined mix of many commands',
    Buffer.concat([
      multibulk('PING'),
      b('ECHO "x y"\r\n'),
      multibulk('SET', 'k', binary),
      b('\r\n*0\r\n'),
      multibulk('GET', 'k'),
      b('  QUIT  \n'),
      ...Array.from({ length: 20 }, (_, i) => multibulk('INCR', `counter:${i}`)),
    ]),
    ok(
      ['PING'],
      ['ECHO', 'x y'],
      ['SET', 'k', binary],
      ['GET', 'k'],
      ['QUIT'],
      ...Array.from({ length: 20 }, (_, i) => ['INCR', `counter:${i}`]),
    ),
  ],
];

describe('RequestParser: samples', () => {
  for (const [name, bytes, want] of SAMPLES) {
    it(`${name}: same commands whole, byte by byte and split anywhere`, () => {
      expectEverySplit(bytes, want);
    });
  }

  it('random commands with random bytes give the same commands under random splits', () => {
    const rand = prng(42);
    for (let round = 0; round < 30; round++) {
      const commands: Buffer[][] = [];
      for (let c = 0; c < 1 + Math.floor(rand() * 20); c++) {
        const argsCount = 1 + Math.floor(rand() * 5);
        const args = Array.from({ length: argsCount }, () => {
          const size = rand() < 0.05 ? 33_000 : Math.floor(rand() * 40);
          return Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256)));
        });
        commands.push(args);
      }
      const bytes = Buffer.concat(commands.map((args) => encodeCommand(args)));
      const want: Outcome = { commands, error: null };
      for (let i = 0; i < 50; i++) {
        const got = parseChunks(splitAt(bytes, randomOffsets(bytes.length, rand)));
        if (!sameOutcome(got, want)) expect(show(got)).toEqual(show(want));
      }
    }
  });

  it('half a frame then nothing yields nothing', () => {
    for (const bytes of SAMPLES.map((s) => s[1])) {
      for (const cut of [1, Math.floor(bytes.length / 2), bytes.length - 1]) {
        const parser = new RequestParser();
        parser.feed(bytes.subarray(0, cut));
        const seen: unknown[] = [];
        for (let out = parser.next(); out !== null; out = parser.next()) seen.push(out);
        expect(seen.every((c) => Array.isArray(c))).toBe(true);
        expect(parser.next()).toBeNull();
      }
    }
    const parser = new RequestParser();
    parser.feed(b('*2\r\n$3\r\nGET\r\n$1\r\nk\r'));
    expect(parser.next()).toBeNull();
    expect(parser.next()).toBeNull();
    parser.feed(b('\n'));
    expect(parser.next()).toEqual(cmds(['GET', 'k'])[0]);
  });

  it('arguments handed out are never overwritten by later parsing', () => {
    const parser = new RequestParser();
    const kept: Buffer[][] = [];
    const want: Buffer[][] = [];
    for (let i = 0; i < 200; i++) {
      const cmd = [b(`SET`), b(`key:${i}`), Buffer.alloc(i * 7, i)];
      want.push(cmd);
      const bytes = i % 3 === 0 ? b(`SET key:${i} "${'x'.repeat(i)}"\r\n`) : encodeCommand(cmd);
      if (i % 3 === 0) want[i] = [b('SET'), b(`key:${i}`), b('x'.repeat(i))];
      for (const chunk of splitAt(bytes, [1, 5, Math.floor(bytes.length / 2)])) {
        parser.feed(chunk);
        for (let out = parser.next(); out !== null; out = parser.next()) {
          kept.push(out as Buffer[]);
        }
      }
    }
    expect(kept.map((c) => c.map((a) => a.toString('hex')))).toEqual(
      want.map((c) => c.map((a) => a.toString('hex'))),
    );
  });

  it('chunks fed while earlier ones are queued keep their order', () => {
    const parser = new RequestParser();
    const commands: Buffer[][] = [];
    const drainOne = () => {
      const out = parser.next();
      if (Array.isArray(out)) commands.push(out);
      return out;
    };
    parser.feed(multibulk('A'));
    parser.feed(multibulk('B'));
    expect(drainOne()).not.toBeNull(); // A ends its chunk exactly; B is still queued
    for (let i = 0; i < 200; i++) {
      parser.feed(multibulk(`C${i}`));
      if (i % 3 === 0) drainOne();
    }
    while (drainOne() !== null);
    const names = commands.map((c) => c[0]!.toString());
    expect(names).toEqual(['A', 'B', ...Array.from({ length: 200 }, (_, i) => `C${i}`)]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('arguments are Buffers in every respect that callers test', () => {
    const [args] = parseChunks([multibulk('SET', 'key', 'value')]).commands;
    const value = args![2]!;
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value).toBeInstanceOf(Buffer);
    expect(value.constructor).toBe(Buffer);
    expect(value.toString('latin1')).toBe('value');
    expect(value.equals(b('value'))).toBe(true);
    expect(Object.getPrototypeOf(value.subarray(1))).toBe(Buffer.prototype);
    expect(Buffer.concat([value, value]).toString()).toBe('valuevalue');
    expect(value).toStrictEqual(Buffer.from('value'));
    expect(JSON.stringify(value)).toBe(JSON.stringify(Buffer.from('value')));
  });

  it('a big bulk split over chunks is one allocation of its exact size', () => {
    const bytes = multibulk('SET', big);
    const { commands } = parseChunks(splitAt(bytes, [100, 20_000, 30_000]));
    const value = commands[0]![1]!;
    expect(value.equals(big)).toBe(true);
    expect(value.byteOffset).toBe(0);
    expect(value.buffer.byteLength).toBe(big.length);
  });

  it('commands are parsed one at a time, so chunks fed ahead are queued, not copied', () => {
    const parser = new RequestParser();
    const chunks = Array.from({ length: 100 }, (_, i) => multibulk('INCR', `k${i}`));
    for (const chunk of chunks) parser.feed(chunk);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(parser.bufferedBytes).toBe(total);
    expect(parser.next()).toEqual(cmds(['INCR', 'k0'])[0]);
    expect(parser.bufferedBytes).toBe(total - chunks[0]!.length);
  });
});

/** Samples that end in a protocol error, with the commands parsed before it. */
const ERROR_SAMPLES: [string, Buffer, Outcome, RequestParserOptions?][] = [
  [
    'a count that is not an integer',
    b('PING\r\n*abc\r\n'),
    fails('ERR Protocol error: invalid multibulk length', ['PING']),
  ],
  ['a count of -0', b('*-0\r\n'), fails('ERR Protocol error: invalid multibulk length')],
  [
    'a count with a leading zero',
    b('*01\r\n'),
    fails('ERR Protocol error: invalid multibulk length'),
  ],
  ['a count with a plus sign', b('*+1\r\n'), fails('ERR Protocol error: invalid multibulk length')],
  ['a count with a space', b('* 1\r\n'), fails('ERR Protocol error: invalid multibulk length')],
  [
    'a count above INT_MAX',
    b('*2147483648\r\n'),
    fails('ERR Protocol error: invalid multibulk length'),
  ],
  [
    'a negative count below LLONG_MIN',
    b('*-9223372036854775809\r\n'),
    fails('ERR Protocol error: invalid multibulk length'),
  ],
  [
    'a count line ended by LF alone runs into the next line',
    b('*1\n$4\r\nPING\r\n'),
    fails('ERR Protocol error: invalid multibulk length'),
  ],
  [
    'an argument not starting with $',
    b('*1\r\nX4\r\nPING\r\n'),
    fails("ERR Protocol error: expected '$', got 'X'"),
  ],
  [
    'an empty argument header shows its CR as a space',
    b('*1\r\n\r\n\r\n'),
    fails("ERR Protocol error: expected '$', got ' '"),
  ],
  [
    'an argument header starting with LF shows it as a space',
    b('*1\r\n\n\r\n'),
    fails("ERR Protocol error: expected '$', got ' '"),
  ],
  ['a negative bulk length', b('*1\r\n$-1\r\n'), fails('ERR Protocol error: invalid bulk length')],
  ['an empty bulk length', b('*1\r\n$\r\n'), fails('ERR Protocol error: invalid bulk length')],
  [
    'a bulk length with a plus',
    b('*1\r\n$+1\r\n'),
    fails('ERR Protocol error: invalid bulk length'),
  ],
  [
    'a bulk length above proto-max-bulk-len',
    b('*1\r\n$536870913\r\n'),
    fails('ERR Protocol error: invalid bulk length'),
  ],
  [
    'a bulk length line ended by LF alone',
    b('*1\r\n$4\nPING\r\n'),
    fails('ERR Protocol error: invalid bulk length'),
  ],
  [
    'unbalanced double quotes',
    b('PING\r\nSET "a b\r\nPING\r\n'),
    fails('ERR Protocol error: unbalanced quotes in request', ['PING']),
  ],
  [
    'a closing quote followed by a letter',
    b('"PI"NG\r\n'),
    fails('ERR Protocol error: unbalanced quotes in request'),
  ],
  [
    'unbalanced single quotes',
    b("SET 'a\r\n"),
    fails('ERR Protocol error: unbalanced quotes in request'),
  ],
  [
    'an unauthenticated client sending more than 10 arguments',
    b('*11\r\n'),
    fails('ERR Protocol error: unauthenticated multibulk length'),
    { authenticated: false },
  ],
  [
    'an unauthenticated client sending an argument over 16 KiB',
    b('*1\r\n$16385\r\n'),
    fails('ERR Protocol error: unauthenticated bulk length'),
    { authenticated: false },
  ],
  [
    'an inline line over the limit (small limit)',
    b(`PING\r\n${'a'.repeat(101)}`),
    fails('ERR Protocol error: too big inline request', ['PING']),
    { maxInlineBytes: 100 },
  ],
  [
    'a count line over the limit (small limit)',
    b(`*${'1'.repeat(100)}`),
    fails('ERR Protocol error: too big mbulk count string'),
    { maxInlineBytes: 100 },
  ],
  [
    'a bulk count line over the limit (small limit)',
    b(`*1\r\n$${'1'.repeat(100)}`),
    fails('ERR Protocol error: too big bulk count string'),
    { maxInlineBytes: 100 },
  ],
  [
    'an inline line with a NUL waits, then errs once the limit is passed (small limit)',
    b(`PING\r\nPI\0NG\r\nPING\r\n${'x'.repeat(88)}`),
    fails('ERR Protocol error: too big inline request', ['PING']),
    { maxInlineBytes: 100 },
  ],
  [
    'a count line with a NUL waits, then errs (small limit)',
    b(`*1\0\r\n${'x'.repeat(96)}`),
    fails('ERR Protocol error: too big mbulk count string'),
    { maxInlineBytes: 100 },
  ],
  [
    'a bulk count line starting with a NUL waits, then errs (small limit)',
    b(`*1\r\n\0$4\r\nPING\r\n${'x'.repeat(90)}`),
    fails('ERR Protocol error: too big bulk count string'),
    { maxInlineBytes: 100 },
  ],
];

describe('RequestParser: protocol errors', () => {
  for (const [name, bytes, want, options] of ERROR_SAMPLES) {
    it(`${name}: the error comes after the same commands however the bytes are cut`, () => {
      expectEverySplit(bytes, want, options);
    });
  }

  it('lines at the limit are accepted: the limit counts bytes before the terminator', () => {
    const options = { maxInlineBytes: 100 };
    expectEverySplit(b(`${'a'.repeat(99)}\r\n`), ok(['a'.repeat(99)]), options);
    expectEverySplit(b(`${'a'.repeat(100)}\n`), ok(['a'.repeat(100)]), options);
    const tooBig = fails('ERR Protocol error: too big inline request');
    expectEverySplit(b(`${'a'.repeat(100)}\r\n`), tooBig, options);
    const count = `*${'1'.repeat(99)}\r\n`; // 100 bytes before CR: parsed, and not a number
    expectEverySplit(b(count), fails('ERR Protocol error: invalid multibulk length'), options);
    const nul = b(`PI\0NG\r\n${'x'.repeat(93)}`); // 100 bytes buffered behind the NUL
    expectEverySplit(nul, ok(), options);
    expectEverySplit(Buffer.concat([nul, b('x')]), tooBig, options);
  });

  it('the default limits are 64 KiB lines', () => {
    expect(PROTO_INLINE_MAX_BYTES).toBe(65536);
    const line = 'a'.repeat(65536);
    const cases: [Buffer, Outcome][] = [
      [b(`${line}\n`), ok([line])],
      [b(`${line}a`), fails('ERR Protocol error: too big inline request')],
      [b(`*${line}`), fails('ERR Protocol error: too big mbulk count string')],
      [b(`*1\r\n$${line}`), fails('ERR Protocol error: too big bulk count string')],
    ];
    for (const [bytes, want] of cases) {
      for (const chunks of [[bytes], byteByByte(bytes), splitAt(bytes, [1000, 65536])]) {
        expect(show(parseChunks(chunks))).toEqual(show(want));
      }
    }
  });

  it('the error is sticky and later bytes are dropped', () => {
    const parser = new RequestParser();
    parser.feed(b('*x\r\n'));
    const error = parser.next();
    expect(error).toBeInstanceOf(ProtocolError);
    parser.feed(b('PING\r\n'));
    expect(parser.next()).toBe(error);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('authenticated can be flipped between commands (after AUTH)', () => {
    const parser = new RequestParser({ authenticated: false });
    parser.feed(multibulk('AUTH', 'pw'));
    parser.feed(multibulk(...Array.from({ length: 11 }, () => 'x'.repeat(20_000))));
    expect(parser.next()).toEqual(cmds(['AUTH', 'pw'])[0]);
    parser.authenticated = true;
    const out = parser.next();
    expect(Array.isArray(out) && out.length).toBe(11);
  });
});

describe('RequestParser: memory', () => {
  it('a huge declared bulk length is not allocated: memory follows the bytes received', () => {
    const parser = new RequestParser();
    parser.feed(b('*1\r\n$536870912\r\n'));
    const before = process.memoryUsage().arrayBuffers;
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 16; i++) {
      parser.feed(chunk);
      expect(parser.next()).toBeNull();
    }
    const grownBytes = process.memoryUsage().arrayBuffers - before;
    expect(grownBytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('a stuck line holds nothing while it counts bytes to the limit', () => {
    const parser = new RequestParser();
    parser.feed(b('PI\0NG\r\n'));
    expect(parser.next()).toBeNull();
    for (let i = 0; i < 7; i++) {
      parser.feed(Buffer.alloc(8192, 0x61));
      expect(parser.next()).toBeNull();
      expect(parser.bufferedBytes).toBe(0);
    }
    parser.feed(Buffer.alloc(8192, 0x61));
    expect((parser.next() as ProtocolError).message).toBe(
      'ERR Protocol error: too big inline request',
    );
  });
});

describe('splitArgs (sdssplitargs)', () => {
  it('splits on blanks and returns views into one fresh buffer', () => {
    const line = b('  a  bc\t"d e"  ');
    const args = splitArgs(line, 0, line.length)!;
    line.fill(0);
    expect(args.map(String)).toEqual(['a', 'bc', 'd e']);
    expect(args.every((a) => a.buffer === args[0]!.buffer)).toBe(true);
  });

  it('an empty or blank line has no arguments; unbalanced quotes give null', () => {
    expect(splitArgs(b(''), 0, 0)).toEqual([]);
    expect(splitArgs(b(' \t\x0b'), 0, 3)).toEqual([]);
    expect(splitArgs(b('"a\\"'), 0, 4)).toBeNull();
    expect(splitArgs(b("'a'b"), 0, 4)).toBeNull();
  });
});

// ---- against a real redis-server --------------------------------------------------------------

/** Sends `bytes` on a fresh connection; collects replies until the server closes or goes quiet. */
async function exchange(
  port: number,
  bytes: Buffer,
  quietMs = 150,
): Promise<{
  replies: Reply[];
  closed: boolean;
}> {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  const replies: Reply[] = [];
  const parser = new RespParser((r) => replies.push(r));
  let timer: NodeJS.Timeout | undefined;
  const closed = await new Promise<boolean>((resolve) => {
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => resolve(false), quietMs);
    };
    socket.on('data', (chunk: Buffer) => {
      parser.feed(chunk);
      quiet();
    });
    socket.on('close', () => resolve(true));
    socket.on('error', () => resolve(true));
    socket.on('connect', () => {
      socket.write(bytes);
      quiet();
    });
  });
  clearTimeout(timer);
  socket.destroy();
  return { replies, closed };
}

describe('RequestParser against redis-server 7', () => {
  let redis: RedisServer;
  let locked: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
    locked = await startRedis();
    const admin = await RespClient.connect(locked.port);
    await admin.call('CONFIG', 'SET', 'requirepass', 'pw');
    await admin.close();
  });
  afterAll(async () => {
    await redis?.stop();
    await locked?.stop();
  });

  it('every error sample gets the same error text and the connection is closed', async () => {
    const full = ERROR_SAMPLES.filter(([, , , options]) => options?.maxInlineBytes === undefined);
    const nul = b(`PI\0NG\r\n${'x'.repeat(70_000)}`);
    const samples: [Buffer, Outcome, RequestParserOptions?][] = [
      ...full.map(([, bytes, want, options]): [Buffer, Outcome, RequestParserOptions?] => [
        bytes,
        want,
        options,
      ]),
      [b('a'.repeat(70_000)), fails('ERR Protocol error: too big inline request')],
      [b(`*${'1'.repeat(70_000)}`), fails('ERR Protocol error: too big mbulk count string')],
      [nul, fails('ERR Protocol error: too big inline request')],
    ];
    for (const [bytes, want, options] of samples) {
      const server = options?.authenticated === false ? locked : redis;
      const got = await exchange(server.port, bytes);
      const mine = parseChunks([bytes], options);
      expect(mine.error, bytes.toString('latin1').slice(0, 40)).toBe(want.error);
      const texts = got.replies.map((r) => (r.t === 'error' ? r.v : r.t));
      expect(texts.at(-1)).toBe(mine.error);
      expect(got.closed).toBe(true);
    }
  });

  it('bytes that are no command at all get no reply and the connection stays open', async () => {
    for (const bytes of [b('*1\r'), b('*2147483647\r\n'), b('PING\0\r\nPING\r\n'), b('\r\n\n')]) {
      const got = await exchange(redis.port, bytes);
      expect(got).toEqual({ replies: [], closed: false });
      expect(parseChunks([bytes])).toEqual({ commands: [], error: null });
    }
  });

  it('the unauthenticated limits apply until AUTH succeeds', async () => {
    const bytes = Buffer.concat([multibulk('AUTH', 'pw'), multibulk('ECHO', 'x'.repeat(16385))]);
    const got = await exchange(locked.port, bytes);
    expect(got.replies.map((r) => r.t)).toEqual(['simple', 'bulk']);
    const parser = new RequestParser({ authenticated: false });
    parser.feed(bytes);
    expect(parser.next()).toHaveLength(2);
    parser.authenticated = true;
    expect(parser.next()).toHaveLength(2);
  });

  it('inline arguments split as Redis splits them', async () => {
    const lines = [
      'RPUSH L a b  c',
      'RPUSH L "a b" \'c d\' "" \'\'',
      'RPUSH L "\\x41\\x4g\\n\\r\\t\\b\\a\\\\\\"\\q" \'\\\'\\n\\\\x\'',
      'RPUSH L x"y z" q\'r s\'',
      'RPUSH L \x0b\x0ca\x0bb\x0c \x7f\xff',
      'RPUSH\tL\ta\t\tb\r',
    ];
    for (const line of lines) {
      const bytes = Buffer.concat([
        multibulk('DEL', 'L'),
        b(`${line}\r\n`),
        multibulk('LRANGE', 'L', '0', '-1'),
      ]);
      const got = await exchange(redis.port, bytes);
      const range = got.replies[2]!;
      expect(range?.t, line).toBe('array');
      const theirs = range.t === 'array' ? range.v.map((r) => (r.t === 'bulk' ? r.v : EMPTY)) : [];
      const mine = parseChunks([bytes]).commands[1]!.slice(2);
      expect(
        mine.map((a) => a.toString('hex')),
        line,
      ).toEqual(theirs.map((a) => a.toString('hex')));
    }
  });
});

const EMPTY = Buffer.alloc(0);
