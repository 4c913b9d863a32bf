// Pattern subscriptions against a real redis-server: one RESP connection PSUBSCRIBEs to a few
// hundred seeded random patterns (and the odd cases: empty classes, unterminated ones, escapes,
// reversed ranges, high bytes), another PUBLISHes a few hundred channels, and the pmessages
// Redis delivers must be exactly the ones PubSub delivers (and globMatch decides), with the
// same receivers counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../src/broker/glob';
import { PubSub, type Subscriber } from '../../src/broker/pubsub';
import type { Reply } from '../../src/commands/reply';
import { escapeBytes, mulberry32, pick, randInt, type Rand } from '../conformance/harness';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespClient } from '../helpers/resp-client';

const b = (s: string) => Buffer.from(s, 'latin1');
const SEED = 0x5eed_9106;
const PATTERNS_COUNT = 400;
const CHANNELS_COUNT = 400;
/** Where redis-server's C `char` is signed, as globMatch assumes (high bytes in ranges). */
const SIGNED_CHAR_HOST = process.arch === 'x64' || process.arch === 'ia32';
const ALPHABET = [...'abcAB1-^]\\[*?!', ...(SIGNED_CHAR_HOST ? ['\x00', '\x80', '\xff'] : [])];

/** Hand-picked patterns with Redis's quirks (see src/broker/glob.ts). */
const ODD_PATTERNS = [
  '',
  '*',
  '**',
  '?',
  '??',
  '*?*',
  '[',
  '[^',
  '[]',
  '[]]',
  '[]a]',
  '[^]]',
  '[^]a',
  '[a',
  '[a-',
  '[a-]',
  '[a-]x',
  '[z-a]',
  '[a-c-e]',
  '[\\]]',
  '[\\]a]',
  '[\\',
  '\\',
  'a\\',
  '\\*',
  '\\?',
  '\\[a]',
  '\\a',
  '[!a]',
  '[^a]',
  '[abc]',
  '[a-z]*',
  'h?llo',
  'h[^e]llo',
  'a*b*c',
  '*a*',
  '[*]',
  '[?]',
  '[-]',
  '[--a]',
  '[^-]',
  ...(SIGNED_CHAR_HOST ? ['[\x01-\xff]', '[\x80-\xff]', '\xff*', '[^\x00]'] : []),
];

const ODD_CHANNELS = [
  '',
  'a',
  'b',
  'A',
  '-',
  ']',
  '[',
  '\\',
  '*',
  '?',
  'hello',
  'hallo',
  'ab',
  'abc',
];

function randomName(rand: Rand, maxLength: number): string {
  let s = '';
  const length = randInt(rand, maxLength + 1);
  for (let i = 0; i < length; i++) s += pick(rand, ALPHABET);
  return s;
}

function randomClass(rand: Rand): string {
  let out = rand() < 0.3 ? '[^' : '[';
  const items = randInt(rand, 4);
  for (let i = 0; i < items; i++) {
    const r = rand();
    if (r < 0.4) out += pick(rand, ALPHABET);
    else if (r < 0.75) out += `${pick(rand, ALPHABET)}-${pick(rand, ALPHABET)}`;
    else out += `\\${pick(rand, ALPHABET)}`;
  }
  return rand() < 0.85 ? out + ']' : out;
}

function randomPattern(rand: Rand): string {
  let out = '';
  const tokens = 1 + randInt(rand, 5);
  for (let i = 0; i < tokens; i++) {
    const r = rand();
    if (r < 0.35) out += pick(rand, ALPHABET);
    else if (r < 0.55) out += '*';
    else if (r < 0.65) out += '?';
    else if (r < 0.85) out += randomClass(rand);
    else out += `\\${pick(rand, ALPHABET)}`;
  }
  return out;
}

/** A channel shaped like a pattern (wildcards filled in), so that many channels match. */
function channelLike(rand: Rand, pattern: string): string {
  let out = '';
  for (const c of pattern) {
    if (c === '*') out += randomName(rand, 2);
    else if (c === '?' || c === '[' || c === ']' || c === '^') out += pick(rand, ALPHABET);
    else if (c !== '\\') out += c;
  }
  return out;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

const show = (s: string) => `"${escapeBytes(b(s))}"`;

interface Pmessage {
  readonly pattern: string;
  readonly index: number;
}

describe('PSUBSCRIBE patterns agree with redis-server', () => {
  let server: RedisServer;
  let sub: RespClient;
  let pub: RespClient;
  const received: Pmessage[] = [];

  beforeAll(async () => {
    server = await startRedis();
    sub = await RespClient.connect(server.port, {
      onPush: (r: Reply) => {
        if (r.t !== 'array' || r.v.length !== 4) return;
        const [kind, pattern, , payload] = r.v;
        if (kind?.t !== 'bulk' || kind.v.toString() !== 'pmessage') return;
        if (pattern?.t !== 'bulk' || payload?.t !== 'bulk') return;
        received.push({ pattern: pattern.v.toString('latin1'), index: Number(payload.v) });
      },
    });
    pub = await RespClient.connect(server.port);
  });

  afterAll(async () => {
    await sub?.close();
    await pub?.close();
    await server?.stop();
  });

  it('delivers pmessages for exactly the patterns PubSub and globMatch match', async () => {
    const rand = mulberry32(SEED);
    const patterns = unique([
      ...ODD_PATTERNS,
      ...Array.from({ length: PATTERNS_COUNT }, () => randomPattern(rand)),
    ]);
    const channels = unique([
      ...ODD_CHANNELS,
      ...Array.from({ length: CHANNELS_COUNT / 2 }, () => randomName(rand, 6)),
      ...Array.from({ length: CHANNELS_COUNT / 2 }, () => channelLike(rand, pick(rand, patterns))),
    ]);
    // RESP2: each PSUBSCRIBE answers one confirmation; after them, pmessages arrive as pushes.
    await Promise.all(patterns.map((p) => sub.call('PSUBSCRIBE', b(p))));
    const ps = new PubSub();
    const ours: Pmessage[] = [];
    let current = -1;
    const probe: Subscriber = {
      id: 1,
      deliver: (m) => {
        if (m.kind === 'pmessage')
          ours.push({ pattern: m.pattern.toString('latin1'), index: current });
      },
    };
    for (const p of patterns) ps.subscribe(probe, 'pattern', b(p));

    const counts = await Promise.all(
      channels.map((ch, i) => pub.call('PUBLISH', b(ch), String(i))),
    );
    const redisReceivers = counts.map((r) => (r.t === 'int' ? Number(r.v) : -1));
    const total = redisReceivers.reduce((a, n) => a + n, 0);
    const deadline = Date.now() + 10_000;
    while (received.length < total && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(received.length).toBe(total);

    const mismatches: string[] = [];
    channels.forEach((ch, i) => {
      current = i;
      const receivers = ps.publish(b(ch), b(String(i)));
      const fromRedis = received
        .filter((m) => m.index === i)
        .map((m) => m.pattern)
        .sort();
      const fromPubSub = ours
        .filter((m) => m.index === i)
        .map((m) => m.pattern)
        .sort();
      const fromGlob = patterns.filter((p) => globMatch(b(p), b(ch))).sort();
      const same = (x: string[], y: string[]) => x.join('\0') === y.join('\0');
      if (
        !same(fromRedis, fromPubSub) ||
        !same(fromRedis, fromGlob) ||
        receivers !== redisReceivers[i]
      ) {
        mismatches.push(
          `channel ${show(ch)}: redis ${fromRedis.map(show).join(',')} / ` +
            `PubSub ${fromPubSub.map(show).join(',')} (${receivers}) / ` +
            `glob ${fromGlob.map(show).join(',')}`,
        );
      }
    });
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The comparison means something only if both answers are common among the pairs.
    expect(total).toBeGreaterThan(channels.length);
    expect(total).toBeLessThan((patterns.length * channels.length) / 2);
  });
});
