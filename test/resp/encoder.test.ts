// The RESP encoder: each Reply type in RESP2 and RESP3 byte for byte, compared with what a
// real redis-server 7.0 sends for commands that reply with those types; doubles as "%.17g".
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NIL,
  NIL_ARRAY,
  type Reply,
  arr,
  bulk,
  double,
  errorReply,
  int,
  map,
  set,
  simple,
  verbatim,
  Latin1Bulk,
} from '../../src/commands/reply';
import { Encoder, type RespVersion, encode, formatDouble } from '../../src/resp/encoder';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespParser, encodeCommand } from '../helpers/resp-client';
import { rawSession, redisAndSluice } from './fixture';

const latin1 = (bytes: Buffer) => bytes.toString('latin1');
const push = (v: Reply[]): Reply => ({ t: 'push', v });

/** [name, reply, RESP2 bytes, RESP3 bytes] */
const CASES: [string, Reply, string, string][] = [
  ['a simple string', simple('OK'), '+OK\r\n', '+OK\r\n'],
  ['a simple string with CR LF inside', simple('a\r\nb\nc'), '+a  b c\r\n', '+a  b c\r\n'],
  ['an error', errorReply('ERR syntax error'), '-ERR syntax error\r\n', '-ERR syntax error\r\n'],
  ['an error with CR LF inside', errorReply("ERR 'a\r\nb'"), "-ERR 'a  b'\r\n", "-ERR 'a  b'\r\n"],
  ['zero', int(0), ':0\r\n', ':0\r\n'],
  ['a negative integer', int(-1234567), ':-1234567\r\n', ':-1234567\r\n'],
  ['the largest safe integer', int(2 ** 53 - 1), ':9007199254740991\r\n', ':9007199254740991\r\n'],
  [
    'an integral number past 2^53',
    int(2 ** 60),
    ':1152921504606846976\r\n',
    ':1152921504606846976\r\n',
  ],
  [
    'INT64_MAX as a bigint',
    int(2n ** 63n - 1n),
    ':9223372036854775807\r\n',
    ':9223372036854775807\r\n',
  ],
  [
    'INT64_MIN as a bigint',
    int(-(2n ** 63n)),
    ':-9223372036854775808\r\n',
    ':-9223372036854775808\r\n',
  ],
  ['an empty bulk', bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
  ['a short bulk', bulk('abc'), '$3\r\nabc\r\n', '$3\r\nabc\r\n'],
  [
    'a bulk with CR LF and high bytes kept raw',
    bulk(Buffer.from('a\r\n\xff\x00b-longer-than-16-bytes', 'latin1')),
    '$27\r\na\r\n\xff\x00b-longer-than-16-bytes\r\n',
    '$27\r\na\r\n\xff\x00b-longer-than-16-bytes\r\n',
  ],
  ['a null bulk', NIL, '$-1\r\n', '_\r\n'],
  ['a null array', NIL_ARRAY, '*-1\r\n', '_\r\n'],
  ['a double', double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
  [
    'a double printed with 17 digits',
    double(0.1),
    '$19\r\n0.10000000000000001\r\n',
    ',0.10000000000000001\r\n',
  ],
  ['infinity', double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
  ['minus infinity', double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
  ['not a number', double(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
  ['an empty array', arr([]), '*0\r\n', '*0\r\n'],
  [
    'a nested array',
    arr([bulk('a'), arr([int(1), NIL]), NIL_ARRAY]),
    '*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n*-1\r\n',
    '*3\r\n$1\r\na\r\n*2\r\n:1\r\n_\r\n_\r\n',
  ],
  [
    'a set',
    set([bulk('x'), bulk('y')]),
    '*2\r\n$1\r\nx\r\n$1\r\ny\r\n',
    '~2\r\n$1\r\nx\r\n$1\r\ny\r\n',
  ],
  [
    'a map: a flat array in RESP2',
    map([
      [bulk('f'), int(1)],
      [bulk('g'), arr([])],
    ]),
    '*4\r\n$1\r\nf\r\n:1\r\n$1\r\ng\r\n*0\r\n',
    '%2\r\n$1\r\nf\r\n:1\r\n$1\r\ng\r\n*0\r\n',
  ],
  ['an empty map', map([]), '*0\r\n', '%0\r\n'],
  [
    'a push',
    push([bulk('message'), bulk('ch'), bulk('hi')]),
    '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
    '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
  ],
];

describe('encode', () => {
  for (const [name, reply, resp2, resp3] of CASES) {
    it(`${name} renders as Redis writes it in RESP2 and RESP3`, () => {
      expect(latin1(encode(reply, 2))).toBe(resp2);
      expect(latin1(encode(reply, 3))).toBe(resp3);
    });
  }

  it('simple strings and errors keep latin1 characters as single bytes', () => {
    const shown = Buffer.from([0x61, 0xe9, 0xff]).toString('latin1'); // how errors.ts shows bytes
    expect(encode(errorReply(`ERR '${shown}'`), 2)).toEqual(
      Buffer.from([0x2d, ...Buffer.from("ERR '"), 0x61, 0xe9, 0xff, 0x27, 0x0d, 0x0a]),
    );
  });

  it('a string with characters past latin1 is written as UTF-8', () => {
    expect(encode(simple('€ é\r\n'), 3)).toEqual(Buffer.from('+€ é  \r\n', 'utf8'));
  });

  it('an integer reply must be an integer within int64', () => {
    expect(() => encode(int(1.5), 2)).toThrow();
    expect(() => encode(int(2n ** 63n), 2)).toThrow();
  });

  it('a Latin1Bulk (list values) encodes as the bulk of its bytes, short, long or empty', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const bytes of [Buffer.alloc(0), all.subarray(250), all.subarray(0, 16), all]) {
      const text = bytes.toString('latin1');
      for (const resp of [2, 3] as const) {
        const asList = encode(arr([new Latin1Bulk(text), new Latin1Bulk(text)]), resp);
        expect(asList.equals(encode(arr([bulk(bytes), bulk(bytes)]), resp))).toBe(true);
      }
      expect(new Latin1Bulk(text).v.equals(bytes)).toBe(true);
    }
  });

  it('a bulk of several MiB is written whole', () => {
    const value = Buffer.alloc(3 * 1024 * 1024, 7);
    const bytes = encode(bulk(value), 2);
    expect(latin1(bytes.subarray(0, 10))).toBe('$3145728\r\n');
    expect(bytes.subarray(10, bytes.length - 2).equals(value)).toBe(true);
    expect(latin1(bytes.subarray(bytes.length - 2))).toBe('\r\n');
  });
});

describe('Encoder', () => {
  it('appends a pipeline of replies into one buffer, in order', () => {
    const encoder = new Encoder();
    const replies = CASES.map((c) => c[1]);
    for (const r of replies) encoder.append(r, 3);
    expect(encoder.length).toBe(replies.reduce((n, r) => n + encode(r, 3).length, 0));
    const want = Buffer.concat(replies.map((r) => encode(r, 3)));
    expect(encoder.take().equals(want)).toBe(true);
    expect(encoder.length).toBe(0);
    expect(encoder.take().length).toBe(0);
  });

  it('bytes already taken are never written again, whether the buffer grows or not', () => {
    const encoder = new Encoder();
    const taken: [Buffer, string][] = [];
    for (let i = 0; i < 300; i++) {
      const reply = i % 50 === 0 ? bulk(Buffer.alloc(20_000 + i, i)) : bulk(`reply ${i}`);
      encoder.append(reply, 2);
      if (i % 3 === 0) {
        const bytes = encoder.take();
        taken.push([bytes, bytes.toString('hex')]);
      }
    }
    for (const [bytes, hex] of taken) expect(bytes.toString('hex')).toBe(hex);
  });

  it('a buffer grown for a huge reply is let go after take()', () => {
    const encoder = new Encoder();
    encoder.append(bulk(Buffer.alloc(4 * 1024 * 1024)), 2);
    expect(encoder.take().buffer.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    encoder.append(simple('OK'), 2);
    expect(encoder.take().buffer.byteLength).toBeLessThanOrEqual(1024 * 1024);
  });

  it('RESP2 and RESP3 replies can be mixed (HELLO switches mid-pipeline)', () => {
    const encoder = new Encoder();
    encoder.append(NIL, 2);
    encoder.append(NIL, 3);
    expect(latin1(encoder.take())).toBe('$-1\r\n_\r\n');
  });
});

// ---- doubles ------------------------------------------------------------------------------------

/** Reference "%.17g" by exact BigInt arithmetic: the exact decimal value, rounded half to even. */
function referenceG17(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = biased === 0 ? -1074 : biased - 1075;
  if (m === 0n) return negative ? '-0' : '0';
  const exact = e >= 0 ? (m << BigInt(e)).toString() : (m * 5n ** BigInt(-e)).toString();
  let exponent = exact.length - 1 + (e >= 0 ? 0 : e);
  let head = BigInt(exact.slice(0, 17).padEnd(17, '0'));
  const rest = exact.slice(17);
  const half =
    rest === ''
      ? -1
      : rest[0]! > '5'
        ? 1
        : rest[0]! < '5'
          ? -1
          : /[1-9]/.test(rest.slice(1))
            ? 1
            : 0;
  if (half > 0 || (half === 0 && head % 2n === 1n)) head += 1n;
  let digits = head.toString();
  if (digits.length > 17) {
    digits = digits.slice(0, 17);
    exponent++;
  }
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 17) {
    const frac = digits.slice(1).replace(/0+$/, '');
    const abs = Math.abs(exponent);
    const exp = `e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
    return `${sign}${digits[0]}${frac ? '.' + frac : ''}${exp}`;
  }
  const point = exponent + 1;
  const whole = point > 0 ? digits.slice(0, point) : '0';
  const frac = (point > 0 ? digits.slice(point) : '0'.repeat(-point) + digits).replace(/0+$/, '');
  return `${sign}${whole}${frac ? '.' + frac : ''}`;
}

describe('formatDouble (%.17g as Redis 7.0 prints doubles)', () => {
  // Expected strings from C's printf("%.17g") (glibc), rounding exact ties to even.
  const KNOWN: [number, string][] = [
    [1.5, '1.5'],
    [0.1, '0.10000000000000001'],
    [1e20, '1e+20'],
    [2 ** -25, '2.9802322387695312e-08'], // a tie rounded down to even
    [3 * 2 ** -25, '8.9406967163085938e-08'], // a tie rounded up to even
    [1 / 3, '0.33333333333333331'],
    [-0, '-0'],
    [1e-5, '1.0000000000000001e-05'],
    [1e-4, '0.0001'],
    [123456.789, '123456.789'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '4.9406564584124654e-324'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [2 ** 60, '1.152921504606847e+18'],
    [-2.5, '-2.5'],
    [3.14159, '3.1415899999999999'],
    [100, '100'],
    [-1e-7, '-9.9999999999999995e-08'],
    [12345678901234568, '12345678901234568'],
  ];
  for (const [value, text] of KNOWN) {
    it(`${value} prints as ${text}`, () => {
      expect(formatDouble(value)).toBe(text);
      expect(referenceG17(value)).toBe(text);
    });
  }

  it('random doubles print as the exact reference does', () => {
    let seed = 12345;
    const next32 = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    const view = new DataView(new ArrayBuffer(8));
    const values: number[] = [];
    for (let i = 0; i < 3000; i++) {
      view.setUint32(0, next32());
      view.setUint32(4, next32());
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) values.push(x);
      values.push(Math.round((next32() / 2 ** 32) * 1e9) / 10 ** (next32() % 12));
    }
    // Ties: odd m times 2^-k whose exact decimal has 18 digits.
    for (let k = 1; k <= 25; k++) {
      const low = 10n ** 17n / 5n ** BigInt(k) + 1n;
      for (let j = 0n; j < 40n; j++) {
        const m = (low + j * 7919n) | 1n;
        if (m < 2n ** 53n && (m * 5n ** BigInt(k)).toString().length === 18) {
          values.push(Number(m) * 2 ** -k);
        }
      }
    }
    const wrong = values.filter((x) => formatDouble(x) !== referenceG17(x));
    expect(wrong.map((x) => [x, formatDouble(x), referenceG17(x)])).toEqual([]);
    expect(values.length).toBeGreaterThan(5000);
  });
});

// ---- against a real redis-server ----------------------------------------------------------------

/** One connection that sends a command at a time and keeps the raw bytes of each reply. */
class Capture {
  private received: Buffer[] = [];
  private waiting: ((bytes: Buffer) => void) | null = null;
  private readonly parser = new RespParser(() => {
    const bytes = Buffer.concat(this.received);
    this.received = [];
    this.waiting?.(bytes);
  });

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.parser.feed(chunk);
    });
  }

  static open(port: number): Promise<Capture> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => resolve(new Capture(socket)));
    });
  }

  send(...args: (string | Buffer)[]): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parses one captured reply with the test client's parser (an independent implementation). */
function parseReply(bytes: Buffer): Reply {
  const replies: Reply[] = [];
  new RespParser((r) => replies.push(r)).feed(bytes);
  expect(replies).toHaveLength(1);
  return replies[0]!;
}

const BINARY = Buffer.from([...Array.from({ length: 256 }, (_, i) => i), 0x0d, 0x0a]);
const SCORES = ['1.5', '0.1', '1e20', '2.98023223876953125e-8', '-0', '5e-324', '1e-5', '3.14159'];

/** Commands whose replies cover every Reply type; setup commands are checked too. */
const SCRIPT: (string | Buffer)[][] = [
  ['PING'],
  ['SET', 'k', 'v'],
  ['SET', 'bin', BINARY],
  ['GET', 'bin'],
  ['GET', 'missing'],
  ['INCR', 'n'],
  ['INCRBY', 'big', '9223372036854775807'],
  ['DECRBY', 'neg', '9223372036854775807'],
  ['DECR', 'neg'],
  ['RPUSH', 'l', 'a', '', 'c'],
  ['LRANGE', 'l', '0', '-1'],
  ['LRANGE', 'nothing', '0', '-1'],
  ['BLPOP', 'nothing', '0.01'],
  ['SADD', 's', 'x', 'y'],
  ['SMEMBERS', 's'],
  ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'],
  ['HGETALL', 'h'],
  ['HGETALL', 'nothing'],
  ...SCORES.map((score, i) => ['ZADD', 'z', score, `m${i}`]),
  ...SCORES.map((_, i) => ['ZSCORE', 'z', `m${i}`]),
  ['ZADD', 'z', 'inf', 'top', '-inf', 'bottom'],
  ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
  ['ZINCRBY', 'z', '0.25', 'm0'],
  ['XADD', 'x', '1-1', 'f', 'v'],
  ['XADD', 'x', '2-1', 'f', 'w', 'g', BINARY],
  ['XRANGE', 'x', '-', '+'],
  ['XINFO', 'STREAM', 'x'],
  ['CONFIG', 'GET', 'maxmemory-policy'],
  ['LPUSH', 'k', 'x'],
  ['a\r\nb'],
];

describe('encode against redis-server 7', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function captureScript(resp: RespVersion): Promise<[string, Buffer][]> {
    const conn = await Capture.open(redis.port);
    const out: [string, Buffer][] = [];
    if (resp === 3) out.push(['HELLO 3', await conn.send('HELLO', '3')]);
    await conn.send('FLUSHALL');
    for (const args of SCRIPT) out.push([args.map(String).join(' '), await conn.send(...args)]);
    out.push(['SUBSCRIBE ch', await conn.send('SUBSCRIBE', 'ch')]);
    conn.close();
    return out;
  }

  for (const resp of [2, 3] as const) {
    it(`every RESP${resp} reply re-encodes to the bytes Redis sent`, async () => {
      const captured = await captureScript(resp);
      for (const [command, bytes] of captured) {
        expect(latin1(encode(parseReply(bytes), resp)), command).toBe(latin1(bytes));
      }
    });
  }

  it('INFO and CLIENT INFO: verbatim strings under RESP3, bulk strings under RESP2', async () => {
    for (const resp of [2, 3] as const) {
      const conn = await Capture.open(redis.port);
      if (resp === 3) await conn.send('HELLO', '3');
      for (const args of [
        ['INFO', 'server'],
        ['CLIENT', 'INFO'],
      ]) {
        const bytes = latin1(await conn.send(...args));
        // The text after the header (and after `txt:` under RESP3), rebuilt as INFO builds it.
        const body = bytes.slice(bytes.indexOf('\r\n') + 2, -2);
        const mine = latin1(encode(verbatim(resp === 3 ? body.slice(4) : body), resp));
        expect(mine, `RESP${resp} ${args.join(' ')}`).toBe(bytes);
      }
      conn.close();
    }
  });

  it('replies built as handlers build them match Redis byte for byte', async () => {
    const expected: [(string | Buffer)[], Reply][] = [
      [['PING'], simple('PONG')],
      [['GET', 'bin'], bulk(BINARY)],
      [['GET', 'missing'], NIL],
      [['INCRBY', 'big', '1'], int(2n ** 63n - 1n)],
      [['BLPOP', 'nothing', '0.01'], NIL_ARRAY],
      [['SMEMBERS', 's'], set([bulk('x')])],
      [['HGETALL', 'h'], map([[bulk('f'), bulk('v')]])],
      [['ZSCORE', 'z', 'm'], double(0.1)],
      [['ZSCORE', 'z', 'tie'], double(2 ** -25)],
      [
        ['LPUSH', 'k', 'x'],
        errorReply('WRONGTYPE Operation against a key holding the wrong kind of value'),
      ],
      [['a\r\nb', 'c'], errorReply("ERR unknown command 'a\r\nb', with args beginning with: 'c' ")],
      [[Buffer.from([0xe9])], errorReply(`ERR unknown command '\xe9', with args beginning with: `)],
      [['SUBSCRIBE', 'ch'], push([bulk('subscribe'), bulk('ch'), int(1)])],
    ];
    for (const resp of [2, 3] as const) {
      const conn = await Capture.open(redis.port);
      if (resp === 3) await conn.send('HELLO', '3');
      await conn.send('FLUSHALL');
      await conn.send('SET', 'big', '9223372036854775806');
      await conn.send('SET', 'bin', BINARY);
      await conn.send('SET', 'k', 'v');
      await conn.send('SADD', 's', 'x');
      await conn.send('HSET', 'h', 'f', 'v');
      await conn.send('ZADD', 'z', '0.1', 'm', '2.98023223876953125e-8', 'tie');
      for (const [args, reply] of expected) {
        const bytes = await conn.send(...args);
        expect(latin1(encode(reply, resp)), `RESP${resp} ${args.map(String).join(' ')}`).toBe(
          latin1(bytes),
        );
      }
      conn.close();
    }
  });
});

describe('verbatim replies from Sluice, as redis-server sends them', () => {
  const servers = redisAndSluice();

  /** The reply's type byte, and `txt:` when the text starts with it. */
  const shape = (reply = '') => {
    const body = reply.slice(reply.indexOf('\r\n') + 2);
    return `${reply[0]}${body.startsWith('txt:') ? 'txt:' : ''}`;
  };

  for (const resp of [2, 3] as const) {
    it(`INFO and CLIENT INFO under RESP${resp}`, async () => {
      const prelude = resp === 3 ? [encodeCommand(['HELLO', '3'])] : [];
      for (const args of [
        ['INFO', 'server'],
        ['CLIENT', 'INFO'],
      ]) {
        const [want, got] = await Promise.all(
          [servers.redis.port, servers.sluice.port].map((port) =>
            rawSession(port, [encodeCommand(args)], { prelude }),
          ),
        );
        expect(shape(got?.reply), args.join(' ')).toBe(shape(want?.reply));
      }
    });
  }
});
