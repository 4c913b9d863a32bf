// Randomised conformance for lists: seeded sequences of every list command (the blocking ones
// only where they cannot wait long), LMOVE between keys, errors, DEL, TYPE, EXISTS and a few
// stream writes for WRONGTYPE, sent to a real redis-server and to Sluice and compared reply by
// reply. CI uses the fixed default seed; set CONFORMANCE_SEED (and CONFORMANCE_COUNT) to
// explore others by hand.
//
// The generator keeps a model of the keys (lists and streams) so that a blocking command gets
// a short timeout when the model says it will find data, and only a few per run wait for
// their 0.01 s timeout to expire. The model only steers the generator: replies are never
// checked against it, and if it were wrong a call would only wait out its short timeout.
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

const KEYS = ['a', 'b', 'c', 'd'];
const ELEMENTS = ['x', 'y', 'z', 'x', 'y', '1', '01', '', 'a b', 'n\u0000l', '\u00e9'];
/** Blocking calls that wait for their timeout to expire, at most, per run. */
const EXPIRING_BLOCKS = 40;
/** Lists longer than this are trimmed now and then, so ranges and scans stay cheap. */
const LONG_LIST = 40;
/** Timeouts for a blocking call that will find data: each returns at once. */
const TIMEOUTS_WITH_DATA = ['0.01', '0.5', '1', '2.5'];
const EXPIRING_TIMEOUT = '0.01';

type Value = string[] | 'stream';

interface MpopArgs {
  readonly keys: readonly string[];
  readonly left: boolean;
  readonly count: number;
  readonly args: readonly string[];
}

/** What redis-server holds, as far as the generator needs to know. */
class KeyModel {
  private readonly keys = new Map<string, Value>();

  isStream(key: string): boolean {
    return this.keys.get(key) === 'stream';
  }

  /** The list at `key`: empty for a missing key, null for a stream. */
  list(key: string): string[] | null {
    const v = this.keys.get(key);
    return v === 'stream' ? null : (v ?? []);
  }

  set(key: string, list: string[]): void {
    if (list.length === 0) this.keys.delete(key);
    else this.keys.set(key, list);
  }

  del(key: string): void {
    this.keys.delete(key);
  }

  xadd(key: string): void {
    if (!this.keys.has(key)) this.keys.set(key, 'stream');
  }

  rename(from: string, to: string): void {
    const v = this.keys.get(from);
    if (v === undefined || from === to) return;
    this.keys.delete(from);
    this.keys.set(to, v);
  }

  /** The first key with data, or null; stops at a stream key (WRONGTYPE) with 'stream'. */
  firstWithData(keys: readonly string[]): string | null | 'stream' {
    for (const key of keys) {
      const v = this.keys.get(key);
      if (v === 'stream') return 'stream';
      if (v !== undefined) return key;
    }
    return null;
  }
}

/** Redis's list index normalisation (LRANGE, LTRIM): the kept [start, end], or null. */
function span(length: number, start: number, end: number): [number, number] | null {
  let s = start < 0 ? length + start : start;
  let e = end < 0 ? length + end : end;
  if (s < 0) s = 0;
  if (s > e || s >= length) return null;
  if (e >= length) e = length - 1;
  return [s, e];
}

function popSide(list: string[], left: boolean, count: number): string[] {
  return left ? list.splice(0, count) : list.splice(-count).reverse();
}

function withCase(rand: Rand, word: string): string {
  const r = rand();
  if (r < 0.7) return word;
  if (r < 0.85) return word.toLowerCase();
  return [...word].map((ch) => (rand() < 0.5 ? ch.toLowerCase() : ch)).join('');
}

/** Generates list commands and keeps the model up to date with what redis-server will do. */
export class ListCommandGen {
  private readonly model = new KeyModel();
  private expiringLeft = EXPIRING_BLOCKS;

  constructor(private readonly rand: Rand) {}

  private key(): string {
    return pick(this.rand, KEYS);
  }

  private element(): string {
    return pick(this.rand, ELEMENTS);
  }

  /** Mostly an element the list at `key` holds (so LPOS, LREM and LINSERT find it). */
  private member(key: string): string {
    const list = this.model.list(key);
    if (list === null || list.length === 0 || this.rand() < 0.3) return this.element();
    return pick(this.rand, list);
  }

  private index(): string {
    const r = this.rand();
    if (r < 0.03) return pick(this.rand, ['9223372036854775807', '-9223372036854775808']);
    return String(randInt(this.rand, 17) - 8);
  }

  private side(): string {
    return withCase(this.rand, this.rand() < 0.5 ? 'LEFT' : 'RIGHT');
  }

  private push(key: string): string[] {
    const name = pick(this.rand, ['LPUSH', 'RPUSH', 'LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX']);
    const values = Array.from({ length: 1 + randInt(this.rand, 3) }, () => this.element());
    const list = this.model.list(key);
    if (list !== null && (list.length > 0 || !name.endsWith('X'))) {
      if (name.startsWith('L')) list.unshift(...[...values].reverse());
      else list.push(...values);
      this.model.set(key, list);
    }
    return [name, key, ...values];
  }

  private pop(key: string): string[] {
    const name = this.rand() < 0.5 ? 'LPOP' : 'RPOP';
    const r = this.rand();
    const count = r < 0.5 ? null : r < 0.95 ? randInt(this.rand, 5) : -1;
    const list = this.model.list(key);
    if (list !== null && (count === null || count > 0)) {
      popSide(list, name === 'LPOP', count ?? 1);
      this.model.set(key, list);
    }
    return count === null ? [name, key] : [name, key, String(count)];
  }

  private read(key: string): string[] {
    switch (randInt(this.rand, 5)) {
      case 0:
        return ['LLEN', key];
      case 1:
        return ['LINDEX', key, this.index()];
      case 2:
        return ['LRANGE', key, '0', '-1'];
      default:
        return ['LRANGE', key, this.index(), this.index()];
    }
  }

  private lset(key: string): string[] {
    const list = this.model.list(key);
    const length = list?.length ?? 0;
    const index = randInt(this.rand, 2 * length + 3) - length - 1;
    const v = this.element();
    const at = index < 0 ? length + index : index;
    if (list !== null && at >= 0 && at < length) list[at] = v;
    return ['LSET', key, String(index), v];
  }

  private linsert(key: string): string[] {
    const before = this.rand() < 0.5;
    const pivot = this.member(key);
    const v = this.element();
    const list = this.model.list(key);
    const at = list?.indexOf(pivot) ?? -1;
    if (list !== null && at >= 0) list.splice(before ? at : at + 1, 0, v);
    return ['LINSERT', key, withCase(this.rand, before ? 'BEFORE' : 'AFTER'), pivot, v];
  }

  private lrem(key: string): string[] {
    const count = randInt(this.rand, 7) - 3;
    const v = this.member(key);
    const list = this.model.list(key);
    if (list !== null) {
      const kept = count < 0 ? [...list].reverse() : [...list];
      let left = count === 0 ? Infinity : Math.abs(count);
      const out = kept.filter((e) => !(e === v && left-- > 0));
      this.model.set(key, count < 0 ? out.reverse() : out);
    }
    return ['LREM', key, String(count), v];
  }

  private ltrim(key: string): string[] {
    const list = this.model.list(key);
    const long = (list?.length ?? 0) > LONG_LIST;
    const start = long ? String(-randInt(this.rand, 10) - 1) : this.index();
    const stop = long ? '-1' : this.index();
    if (list !== null) {
      const kept = span(list.length, Number(start), Number(stop));
      this.model.set(key, kept === null ? [] : list.slice(kept[0], kept[1] + 1));
    }
    return ['LTRIM', key, start, stop];
  }

  private lpos(key: string): string[] {
    const options: string[][] = [];
    if (this.rand() < 0.5) {
      const rank =
        this.rand() < 0.03 ? 0 : (randInt(this.rand, 3) + 1) * (this.rand() < 0.5 ? -1 : 1);
      options.push([withCase(this.rand, 'RANK'), String(rank)]);
    }
    if (this.rand() < 0.5)
      options.push([withCase(this.rand, 'COUNT'), String(randInt(this.rand, 4))]);
    if (this.rand() < 0.3)
      options.push([withCase(this.rand, 'MAXLEN'), String(randInt(this.rand, 6))]);
    if (this.rand() < 0.5) options.reverse();
    return ['LPOS', key, this.member(key), ...options.flat()];
  }

  /** LMOVE's effect on the model (lmoveGenericCommand): none on a missing source or a stream. */
  private moveModel(src: string, dst: string, fromLeft: boolean, toLeft: boolean): void {
    const source = this.model.list(src);
    if (source === null || source.length === 0 || this.model.isStream(dst)) return;
    const [v] = popSide(source, fromLeft, 1);
    this.model.set(src, source);
    const target = this.model.list(dst) as string[];
    if (toLeft) target.unshift(v as string);
    else target.push(v as string);
    this.model.set(dst, target);
  }

  private move(src: string): string[] {
    const dst = this.key();
    if (this.rand() < 0.3) {
      this.moveModel(src, dst, false, true);
      return ['RPOPLPUSH', src, dst];
    }
    const from = this.side();
    const to = this.side();
    this.moveModel(src, dst, from.toUpperCase() === 'LEFT', to.toUpperCase() === 'LEFT');
    return ['LMOVE', src, dst, from, to];
  }

  /** The effect of LMPOP, BLPOP and friends on the model: a pop from the first key with data. */
  private mpopModel(keys: readonly string[], left: boolean, count: number): void {
    const found = this.model.firstWithData(keys);
    if (found === null || found === 'stream') return;
    const list = this.model.list(found) as string[];
    popSide(list, left, count);
    this.model.set(found, list);
  }

  private lmpop(first: string): string[] {
    const cmd = this.lmpopArgs(first);
    this.mpopModel(cmd.keys, cmd.left, cmd.count);
    return ['LMPOP', ...cmd.args];
  }

  /** A timeout for a blocking call, or null when it would wait and the budget is spent. */
  private timeout(willFindData: boolean): string | null {
    if (willFindData) return pick(this.rand, TIMEOUTS_WITH_DATA);
    if (this.expiringLeft <= 0) return null;
    this.expiringLeft -= 1;
    return EXPIRING_TIMEOUT;
  }

  private blpop(first: string): string[] | null {
    const keys = [first, ...Array.from({ length: randInt(this.rand, 3) }, () => this.key())];
    const found = this.model.firstWithData(keys);
    const timeout = this.timeout(found !== null);
    if (timeout === null) return null;
    const left = this.rand() < 0.5;
    this.mpopModel(keys, left, 1);
    return [left ? 'BLPOP' : 'BRPOP', ...keys, timeout];
  }

  private blmove(src: string): string[] | null {
    const source = this.model.list(src);
    const timeout = this.timeout(source === null || source.length > 0);
    if (timeout === null) return null;
    const dst = this.key();
    if (this.rand() < 0.3) {
      this.moveModel(src, dst, false, true);
      return ['BRPOPLPUSH', src, dst, timeout];
    }
    const from = this.side();
    const to = this.side();
    this.moveModel(src, dst, from.toUpperCase() === 'LEFT', to.toUpperCase() === 'LEFT');
    return ['BLMOVE', src, dst, from, to, timeout];
  }

  private blmpop(first: string): string[] | null {
    const cmd = this.lmpopArgs(first);
    const found = this.model.firstWithData(cmd.keys);
    const timeout = this.timeout(found !== null);
    if (timeout === null) return null;
    this.mpopModel(cmd.keys, cmd.left, cmd.count);
    return ['BLMPOP', timeout, ...cmd.args];
  }

  /** LMPOP's arguments from numkeys on: 1 to 3 keys (maybe repeated), a side, maybe COUNT. */
  private lmpopArgs(first: string): MpopArgs {
    const keys = [first, ...Array.from({ length: randInt(this.rand, 3) }, () => this.key())];
    const dir = this.side();
    const count = this.rand() < 0.5 ? null : 1 + randInt(this.rand, 4);
    const tail = count === null ? [] : [withCase(this.rand, 'COUNT'), String(count)];
    return {
      keys,
      left: dir.toUpperCase() === 'LEFT',
      count: count ?? 1,
      args: [String(keys.length), ...keys, dir, ...tail],
    };
  }

  /** Commands that fail on argument checks before touching any key. */
  private bad(key: string): string[] {
    const k2 = this.key();
    return pick(this.rand, [
      ['LPOP', key, pick(this.rand, ['-1', 'x', ''])],
      ['LRANGE', key, pick(this.rand, ['x', '1.5', '', '9223372036854775808']), '-1'],
      ['LINDEX', key, 'x'],
      ['LSET', key, 'x', 'v'],
      ['LREM', key, 'x', 'v'],
      ['LTRIM', key, '0', 'x'],
      ['LINSERT', key, 'MIDDLE', 'x', 'y'],
      ['LPOS', key, 'x', 'RANK', pick(this.rand, ['0', 'x'])],
      ['LPOS', key, 'x', pick(this.rand, ['COUNT', 'MAXLEN']), pick(this.rand, ['-1', 'x'])],
      ['LPOS', key, 'x', 'FIRST'],
      ['LMOVE', key, k2, 'UP', 'LEFT'],
      ['LMPOP', pick(this.rand, ['0', '-1', 'x', '5']), key, 'LEFT'],
      ['LMPOP', '1', key, 'LEFT', 'COUNT', pick(this.rand, ['0', '-2', 'x'])],
      ['BLPOP', key, pick(this.rand, ['-1', 'x', '', 'nan'])],
      ['BRPOPLPUSH', key, k2, '-0.5'],
      ['BLMOVE', key, k2, 'LEFT', 'DOWN', '0'],
      ['BLMPOP', pick(this.rand, ['x', '-1', '0']), pick(this.rand, ['0', '2']), key, 'LEFT'],
      ['LPUSH', key],
      ['LLEN'],
      ['RPOP', key, '1', '2'],
    ]);
  }

  private keyspace(key: string): string[] {
    switch (randInt(this.rand, 9)) {
      case 0:
        this.model.del(key);
        return ['DEL', key];
      case 1:
      case 7:
        return ['TYPE', key];
      case 2:
      case 8:
        return ['EXISTS', key, this.key()];
      case 3:
        return ['DBSIZE'];
      case 4: {
        const to = this.key();
        this.model.rename(key, to);
        return ['RENAME', key, to];
      }
      case 5:
        this.model.xadd(key);
        return ['XADD', key, '*', 'f', 'v'];
      default:
        return ['XLEN', key];
    }
  }

  next(): string[] {
    for (;;) {
      const cmd = this.pickCommand(this.key(), this.rand());
      if (cmd !== null) return cmd;
    }
  }

  private pickCommand(key: string, r: number): string[] | null {
    if (r < 0.25) return this.push(key);
    if (r < 0.34) return this.pop(key);
    if (r < 0.43) return this.read(key);
    if (r < 0.46) return this.lset(key);
    if (r < 0.49) return this.linsert(key);
    if (r < 0.53) return this.lrem(key);
    if (r < 0.56) return this.ltrim(key);
    if (r < 0.62) return this.lpos(key);
    if (r < 0.69) return this.move(key);
    if (r < 0.72) return this.lmpop(key);
    if (r < 0.77) return this.blpop(key);
    if (r < 0.81) return this.blmove(key);
    if (r < 0.84) return this.blmpop(key);
    if (r < 0.9) return this.bad(key);
    if (r < 0.995) return this.keyspace(key);
    for (const k of KEYS) this.model.del(k);
    return ['DEL', ...KEYS];
  }
}

let redis: RedisServer;
let sluice: InProcessSluice;
let redisExec: ClosableExecutor;

beforeAll(async () => {
  // hz 100: Redis checks blocked clients' timeouts every 10 ms rather than every 100 ms.
  redis = await startRedis({ args: ['--hz', '100'] });
  sluice = await openSluice();
  redisExec = await redisExecutor(redis.port, 2);
});

afterAll(async () => {
  await redisExec?.close();
  await sluice?.close();
  await redis?.stop();
});

describe('randomised list conformance with redis-server', () => {
  it('10,000 seeded list commands give the same replies', async () => {
    const seed = conformanceSeed();
    const count = Number(process.env.CONFORMANCE_COUNT ?? 10_000);
    let gen: ListCommandGen | null = null;
    const diff = await runRandom(
      seed,
      count,
      (rand) => (gen ??= new ListCommandGen(rand)).next(),
      redisExec,
      { call: (args) => sluice.call(...args) },
    );
    expect(diff).toBeNull();
  }, 120_000);
});
