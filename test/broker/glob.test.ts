// globMatch against Redis's own behaviour: unit cases (each also checked on a real
// redis-server through KEYS), then ~1000 seeded random patterns over ~300 keys full of special
// characters compared with KEYS, and nocase patterns compared with COMMAND LIST FILTERBY PATTERN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../src/broker/glob';
import { escapeBytes, mulberry32, pick, randInt, type Rand } from '../conformance/harness';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespClient } from '../helpers/resp-client';

const b = (s: string) => Buffer.from(s, 'latin1');
const KEY_ALPHABET = 'abcAB12[]\\*?^-';
const KEYS_COUNT = 300;
const PATTERNS_COUNT = 1000;
const NOCASE_PATTERNS_COUNT = 300;
/** Where redis-server's C `char` is signed, as globMatch assumes. */
const SIGNED_CHAR_HOST = process.arch === 'x64' || process.arch === 'ia32';

/** [pattern, subject, expected]: case-sensitive cases, all checked against redis-server too. */
const CASES: readonly (readonly [string, string, boolean])[] = [
  ['', '', true],
  ['', 'a', false],
  ['*', '', false], // stringmatchlen's own answer; KEYS special-cases the pattern "*"
  ['**', '', false],
  ['a*', 'a', true],
  ['*a', 'a', true],
  ['**a', 'ba', true],
  ['a**', 'abc', true],
  ['a*b*c', 'abbbc', true],
  ['a*b*c', 'acb', false],
  ['?', '', false],
  ['?', 'x', true],
  ['??', 'x', false],
  ['h?llo', 'hello', true],
  ['h*llo', 'hllo', true],
  ['h[ae]llo', 'hello', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hello', false],
  ['h[^e]llo', 'hallo', true],
  ['h[!e]llo', '!', false],
  ['h[a-b]llo', 'hbllo', true],
  ['[z-a]', 'm', true], // reversed range
  ['[a-c-e]', '-', true], // a-c, then '-' and 'e' as plain members
  ['[a-c-e]', 'e', true],
  ['[a-c-e]', 'd', false],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['\\a', 'a', true],
  ['a\\', 'a\\', true], // a trailing backslash is a literal
  ['[\\]]', ']', true],
  ['[\\]a]', 'a', true],
  ['[]]', ']', false], // `]` right after `[` closes an empty class
  ['[]a]', 'a', false],
  ['[^]]', 'x]', true],
  ['[^]]', 'x', false],
  ['[', '[', false], // unterminated classes run to the end of the pattern
  ['[a', 'a', true],
  ['[^', 'x', true],
  ['[^', '', false],
  ['[a-', 'a', true],
  ['[a-', '-', true],
  ['[a-', 'b', false],
  ['[a-]', '^', true], // the range `]`..`a`
  ['[a-]', 'a', true],
  ['[a-]', 'b', false],
  ['[a-]x', 'x', true],
  ['[a-]x', 'ax', false],
  ['[\\', '\\', true],
  ['a\x00b', 'a\x00b', true],
  ['?', '\x00', true],
  ['[\x01-\xff]', '\x80', false], // bytes compare as signed chars (x86-64)
  ['[\x01-\xff]', '\xff', true],
  ['[\x01-\xff]', '\x00', true],
  ['[\x01-\x7f]', '\x80', false],
  ['[\x80-\xff]', '\xc0', true],
  ['*a'.repeat(1000), 'a'.repeat(1000), true], // 1000 nested stars are allowed...
  ['*a'.repeat(1001), 'a'.repeat(1001), false], // ...one more fails (Redis's nesting guard)
  ['*?'.repeat(5000), 'a'.repeat(6000), false],
  ['a*'.repeat(40) + 'b', 'a'.repeat(60), false], // linear, not exponential
  ['*a*b*', 'xxaxxbxx', true],
];

/** Cases that need nocase (no KEYS equivalent). */
const NOCASE_CASES: readonly (readonly [string, string, boolean])[] = [
  ['HELLO', 'hello', true],
  ['h?LLO', 'HeLlo', true],
  ['[A-Z]', 'q', true],
  ['[a-z]', 'Q', true],
  ['[Z-a]', 'z', false], // swapped first, then lowered: [z-a] matches nothing
  ['[Z-a]', '_', false],
  ['[\\A]', 'a', false], // an escape inside a class compares exactly
  ['[A]', 'a', true],
  ['\\A', 'a', true],
  ['[^A]', 'a', false],
  ['\xc0', '\xe0', false], // only ASCII letters fold
];

describe('globMatch', () => {
  for (const [pattern, subject, expected] of CASES) {
    it(`${show(pattern)} ${expected ? 'matches' : 'does not match'} ${show(subject)}`, () => {
      expect(globMatch(b(pattern), b(subject))).toBe(expected);
    });
  }

  for (const [pattern, subject, expected] of NOCASE_CASES) {
    const verb = expected ? 'matches' : 'does not match';
    it(`with nocase, ${show(pattern)} ${verb} ${show(subject)}`, () => {
      expect(globMatch(b(pattern), b(subject), true)).toBe(expected);
    });
  }

  it('is case-sensitive unless nocase', () => {
    expect(globMatch(b('[Z-a]'), b('_'))).toBe(true);
    expect(globMatch(b('HELLO'), b('hello'))).toBe(false);
  });
});

/** A test-name form of a pattern or subject: escaped bytes in quotes, long ones shortened. */
function show(text: string): string {
  if (text.length > 24) return `"${escapeBytes(b(text.slice(0, 8)))}..." (${text.length} bytes)`;
  return `"${escapeBytes(b(text))}"`;
}

/** What KEYS returns: Redis treats the one-byte pattern `*` as "all keys" before matching. */
function keysLike(pattern: Buffer, keys: readonly Buffer[]): string[] {
  const all = pattern.length === 1 && pattern[0] === 0x2a;
  return sortedHex(keys.filter((k) => all || globMatch(pattern, k)));
}

function sortedHex(items: readonly Buffer[]): string[] {
  return items.map((k) => k.toString('hex')).sort();
}

function replyHex(reply: Awaited<ReturnType<RespClient['call']>>): string[] {
  if (reply.t !== 'array') throw new Error(`expected an array, got ${reply.t}`);
  return sortedHex(reply.v.map((r) => (r.t === 'bulk' ? r.v : Buffer.from(`<${r.t}>`))));
}

function randomKey(rand: Rand): string {
  let key = '';
  const length = randInt(rand, 7);
  for (let i = 0; i < length; i++) key += pick(rand, [...KEY_ALPHABET]);
  return key;
}

function randomClass(rand: Rand, alphabet: readonly string[]): string {
  let out = rand() < 0.3 ? '[^' : '[';
  const items = randInt(rand, 4);
  for (let i = 0; i < items; i++) {
    const r = rand();
    if (r < 0.4) out += pick(rand, alphabet);
    else if (r < 0.75) out += `${pick(rand, alphabet)}-${pick(rand, alphabet)}`;
    else out += `\\${pick(rand, alphabet)}`;
  }
  return rand() < 0.85 ? out + ']' : out;
}

function randomPattern(rand: Rand, alphabet: readonly string[]): string {
  let out = '';
  const tokens = 1 + randInt(rand, 6);
  for (let i = 0; i < tokens; i++) {
    const r = rand();
    if (r < 0.35) out += pick(rand, alphabet);
    else if (r < 0.55) out += '*';
    else if (r < 0.65) out += '?';
    else if (r < 0.85) out += randomClass(rand, alphabet);
    else if (r < 0.95) out += `\\${pick(rand, alphabet)}`;
    else out += pick(rand, ['[', ']', '\\', '^', '-', '*']);
  }
  return out;
}

describe('globMatch agrees with redis-server', () => {
  let server: RedisServer;
  let client: RespClient;

  beforeAll(async () => {
    server = await startRedis();
    client = await RespClient.connect(server.port);
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('on every unit case, through KEYS', async () => {
    for (const [pattern, subject, expected] of CASES) {
      // A redis-server built where C's char is unsigned (arm64) orders high bytes differently.
      if (!SIGNED_CHAR_HOST && /[\x80-\xff]/.test(pattern)) continue;
      await client.call('FLUSHALL');
      await client.call('SET', b(subject), '1');
      const keys = replyHex(await client.call('KEYS', b(pattern)));
      const all = pattern === '*';
      expect({ pattern, matched: keys.length === 1 }).toEqual({
        pattern,
        matched: expected || all,
      });
    }
  });

  it('on 1000 random patterns over 300 keys of special characters, through KEYS', async () => {
    const rand = mulberry32(0x61ab);
    const keySet = new Set<string>(['']);
    while (keySet.size < KEYS_COUNT) keySet.add(randomKey(rand));
    const keys = [...keySet].map(b);
    await client.call('FLUSHALL');
    await Promise.all(keys.map((k) => client.call('SET', k, '1')));
    const alphabet = [...KEY_ALPHABET];
    const patterns = Array.from({ length: PATTERNS_COUNT }, () => b(randomPattern(rand, alphabet)));
    const replies = await Promise.all(patterns.map((p) => client.call('KEYS', p)));
    let matchedCount = 0;
    patterns.forEach((pattern, i) => {
      const got = replyHex(replies[i]!);
      matchedCount += got.length;
      expect({ pattern: pattern.toString('latin1'), keys: keysLike(pattern, keys) }).toEqual({
        pattern: pattern.toString('latin1'),
        keys: got,
      });
    });
    // The comparison is only meaningful if patterns match a fair share of keys.
    expect(matchedCount).toBeGreaterThan(PATTERNS_COUNT);
  });

  it('with nocase on 300 random patterns, through COMMAND LIST FILTERBY PATTERN', async () => {
    const names = await client.call('COMMAND', 'LIST');
    if (names.t !== 'array') throw new Error(`COMMAND LIST replied ${names.t}`);
    const subjects = names.v.flatMap((r) => (r.t === 'bulk' ? [r.v] : []));
    expect(subjects.length).toBeGreaterThan(200);
    const rand = mulberry32(0x90c);
    const alphabet = [...'xXiInNfFoO|-[]^\\*?'];
    const patterns = Array.from({ length: NOCASE_PATTERNS_COUNT }, () =>
      b(`${pick(rand, ['x', 'X', '*', ''])}${randomPattern(rand, alphabet)}`),
    );
    const replies = await Promise.all(
      patterns.map((p) => client.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', p)),
    );
    patterns.forEach((pattern, i) => {
      const expected = sortedHex(subjects.filter((s) => globMatch(pattern, s, true)));
      expect({ pattern: pattern.toString('latin1'), names: expected }).toEqual({
        pattern: pattern.toString('latin1'),
        names: replyHex(replies[i]!),
      });
    });
  });
});
