// Randomised conformance: seeded sequences of stream and consumer-group commands sent to a real
// redis-server and to Sluice, compared reply by reply. CI uses the fixed default seed; set
// CONFORMANCE_SEED (and CONFORMANCE_COUNT) to explore others by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { openSluice, type InProcessSluice } from '../helpers/sluice';
import {
  conformanceSeed,
  pick,
  randInt,
  redisExecutor,
  runRandom,
  type ClosableExecutor,
  type Rand,
} from './harness';

const KEYS = ['s1', 's2', 's3'];
const GROUPS = ['g1', 'g2'];
const CONSUMERS = ['c1', 'c2', 'c3'];

/** Generates commands; remembers IDs it wrote so ranges, deletes and acks hit real entries. */
export class StreamCommandGen {
  private readonly top = new Map<string, number>();
  private readonly ids = new Map<string, string[]>();

  constructor(private readonly rand: Rand) {}

  private idOf(key: string): string {
    const list = this.ids.get(key) ?? [];
    if (list.length === 0 || this.rand() < 0.1)
      return `${randInt(this.rand, 400)}-${randInt(this.rand, 3)}`;
    return pick(this.rand, list);
  }

  private bound(key: string, low: boolean): string {
    const r = this.rand();
    if (r < 0.2) return low ? '-' : '+';
    if (r < 0.3) return `(${this.idOf(key)}`;
    if (r < 0.4) return String(randInt(this.rand, 400));
    return this.idOf(key);
  }

  private xadd(key: string): string[] {
    const prev = this.top.get(key) ?? 0;
    const ms =
      this.rand() < 0.1 ? Math.max(0, prev - randInt(this.rand, 3)) : prev + randInt(this.rand, 3);
    const seqForm = this.rand() < 0.2 ? `${ms}-*` : `${ms}-${randInt(this.rand, 3)}`;
    this.top.set(key, Math.max(prev, ms));
    const list = this.ids.get(key) ?? [];
    if (!seqForm.endsWith('*')) list.push(seqForm);
    this.ids.set(key, list.slice(-50));
    const trim: string[] = [];
    const t = this.rand();
    if (t < 0.05) trim.push('MAXLEN', String(randInt(this.rand, 20)));
    else if (t < 0.08) trim.push('MAXLEN', '=', String(randInt(this.rand, 20)));
    else if (t < 0.1) trim.push('MINID', this.idOf(key));
    const mk = this.rand() < 0.05 ? ['NOMKSTREAM'] : [];
    return ['XADD', key, ...mk, ...trim, seqForm, 'f', `v${randInt(this.rand, 1000)}`];
  }

  private group(key: string): string[] {
    const g = pick(this.rand, GROUPS);
    switch (randInt(this.rand, 6)) {
      case 0:
        return [
          'XGROUP',
          'CREATE',
          key,
          g,
          pick(this.rand, ['0', '$', this.idOf(key)]),
          'MKSTREAM',
        ];
      case 1:
        return ['XGROUP', 'SETID', key, g, pick(this.rand, ['0', '$', this.idOf(key)])];
      case 2:
        return ['XGROUP', 'DESTROY', key, g];
      case 3:
        return ['XGROUP', 'CREATECONSUMER', key, g, pick(this.rand, CONSUMERS)];
      case 4:
        return ['XGROUP', 'DELCONSUMER', key, g, pick(this.rand, CONSUMERS)];
      default:
        return ['XGROUP', 'CREATE', key, g, '0'];
    }
  }

  private readGroup(key: string): string[] {
    const noack = this.rand() < 0.15 ? ['NOACK'] : [];
    const from = this.rand() < 0.75 ? '>' : '0';
    const g = pick(this.rand, GROUPS);
    const c = pick(this.rand, CONSUMERS);
    return [
      'XREADGROUP',
      'GROUP',
      g,
      c,
      'COUNT',
      String(1 + randInt(this.rand, 5)),
      ...noack,
      'STREAMS',
      key,
      from,
    ];
  }

  private pel(key: string): string[] {
    const g = pick(this.rand, GROUPS);
    const c = pick(this.rand, CONSUMERS);
    const ids = [this.idOf(key), this.idOf(key)];
    switch (randInt(this.rand, 6)) {
      case 0:
        return ['XACK', key, g, ...ids];
      case 1:
        return ['XPENDING', key, g];
      case 2:
        return [
          'XPENDING',
          key,
          g,
          '-',
          '+',
          String(1 + randInt(this.rand, 10)),
          ...(this.rand() < 0.5 ? [c] : []),
        ];
      case 3:
        return ['XCLAIM', key, g, c, '0', ...ids, ...(this.rand() < 0.4 ? ['JUSTID'] : [])];
      case 4:
        return [
          'XAUTOCLAIM',
          key,
          g,
          c,
          '0',
          this.bound(key, true).replace('(', ''),
          'COUNT',
          String(1 + randInt(this.rand, 5)),
        ];
      default:
        return ['XINFO', pick(this.rand, ['GROUPS', 'STREAM']), key];
    }
  }

  next(): string[] {
    const key = pick(this.rand, KEYS);
    const r = this.rand();
    if (r < 0.3) return this.xadd(key);
    if (r < 0.38)
      return [
        'XRANGE',
        key,
        this.bound(key, true),
        this.bound(key, false),
        'COUNT',
        String(randInt(this.rand, 6)),
      ];
    if (r < 0.43) return ['XREVRANGE', key, this.bound(key, false), this.bound(key, true)];
    if (r < 0.47) return ['XDEL', key, this.idOf(key), this.idOf(key)];
    if (r < 0.5)
      return [
        'XTRIM',
        key,
        pick(this.rand, ['MAXLEN', 'MINID']),
        ...(this.rand() < 0.5 ? [String(randInt(this.rand, 30))] : [this.idOf(key)]),
      ];
    if (r < 0.53) return ['XLEN', key];
    if (r < 0.56)
      return ['XREAD', 'COUNT', String(1 + randInt(this.rand, 4)), 'STREAMS', key, this.idOf(key)];
    if (r < 0.64) return this.group(key);
    if (r < 0.78) return this.readGroup(key);
    if (r < 0.95) return this.pel(key);
    if (r < 0.97) return ['XINFO', 'CONSUMERS', key, pick(this.rand, GROUPS)];
    if (r < 0.98) return ['TYPE', key];
    return ['DEL', key];
  }
}

let redis: RedisServer;
let sluice: InProcessSluice;
let redisExec: ClosableExecutor;

beforeAll(async () => {
  redis = await startRedis();
  sluice = await openSluice();
  redisExec = await redisExecutor(redis.port, 2);
});

afterAll(async () => {
  await redisExec?.close();
  await sluice?.close();
  await redis?.stop();
});

describe('randomised conformance with redis-server', () => {
  it('10,000 seeded stream and group commands give the same replies', async () => {
    const seed = conformanceSeed();
    const count = Number(process.env.CONFORMANCE_COUNT ?? 10_000);
    let gen: StreamCommandGen | null = null;
    const diff = await runRandom(
      seed,
      count,
      (rand) => (gen ??= new StreamCommandGen(rand)).next(),
      redisExec,
      { call: (args) => sluice.call(...args) },
    );
    expect(diff).toBeNull();
  }, 120_000);
});
