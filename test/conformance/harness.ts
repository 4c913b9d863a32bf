// The conformance harness: sends the same command scripts to redis-server and to a Sluice
// executor and compares the replies after normalisation (generated stream IDs become tokens,
// times become `<t>`), either RESP2-shaped (how a RESP2 client sees both) or RESP3-exact. Also
// runs seeded random command sequences reply by reply.
import type { Reply } from '../../src/commands/reply';
import { RespClient } from '../helpers/resp-client';

export type Arg = string | Buffer;

/** Anything that runs one command and returns its reply: Sluice in-process, or redis-server. */
export interface Executor {
  call(args: Buffer[]): Promise<Reply>;
}
export type ClosableExecutor = Executor & { close(): Promise<void> };
export type ExecutorFactory = () => Promise<ClosableExecutor>;

/** Which shape replies are compared in: 2 = as a RESP2 client sees them, 3 = RESP3-exact. */
export type RespVersion = 2 | 3;

/** [step index, then child indexes into the canonical tree (maps count keys and values)]. */
export type ReplyPath = readonly number[];

export interface StepHint {
  /** Sort the reply's top-level elements (map entries in RESP3 mode) before comparing. */
  readonly unordered?: boolean;
  /** Don't compare this reply at all (both sides still run the command). */
  readonly ignore?: boolean;
  /** More field names whose integer values are times, besides TIME_FIELDS. */
  readonly timeFields?: readonly string[];
}

export interface HintedCommand {
  readonly args: readonly Arg[];
  readonly hint: StepHint;
}

export type ScriptCommand = readonly Arg[] | HintedCommand;

export interface CaseOptions {
  /** Sort the top-level elements of every reply in the case. */
  readonly unordered?: boolean;
  /** Nodes for which this returns true are replaced by `<ignored>` on both sides. */
  readonly ignore?: (path: ReplyPath, command: readonly string[]) => boolean;
  /** Fields dropped from XINFO replies; replaces DEFAULT_SKIP_FIELDS. */
  readonly skipFields?: readonly string[];
}

export interface ConformanceCase {
  readonly name: string;
  readonly steps: readonly HintedCommand[];
  readonly options: CaseOptions;
}

export interface RunOptions {
  /** Comparison shape; pair RESP2 (default) with a RESP2 redis client, 3 with a RESP3 one. */
  readonly resp?: RespVersion;
}

/** Field names whose integer values are clock readings or durations. */
export const TIME_FIELDS: readonly string[] = [
  'idle',
  'seen-time',
  'active-time',
  'inactive',
  'time',
];
/** Radix tree sizes depend on Redis's memory layout, which Sluice doesn't have. */
export const DEFAULT_SKIP_FIELDS: readonly string[] = ['radix-tree-keys', 'radix-tree-nodes'];
/** The default seed of random runs; CONFORMANCE_SEED overrides it. */
export const DEFAULT_CONFORMANCE_SEED = 20_240_517;
/** Commands of a random run shown in a divergence report. */
const REPORT_HISTORY_COMMANDS = 10;
/** Longest reply rendering in a report; a huge reply is cut. */
const REPORT_REPLY_CHARS = 2000;

/** A generated stream ID: the ms part comes from the clock, so it has 10+ digits. */
const GENERATED_ID = /^\d{10,}-\d+$/;
const GENERATED_ID_IN_TEXT = /(?<![\d-])\d{10,}-\d+(?![\d-])/g;

export function withHint(args: readonly Arg[], hint: StepHint): HintedCommand {
  return { args, hint };
}

export function defineCase(
  name: string,
  commands: readonly ScriptCommand[],
  opts: CaseOptions = {},
): ConformanceCase {
  const steps = commands.map((c) => (isHinted(c) ? c : { args: c, hint: {} }));
  for (const step of steps) {
    if (step.args.length === 0) throw new Error(`case "${name}": empty command`);
  }
  return { name, steps, options: opts };
}

function isHinted(command: ScriptCommand): command is HintedCommand {
  return !Array.isArray(command);
}

// ---------------------------------------------------------------------------------------------
// Canonical replies

/** A reply in comparison form. Bulk values are escaped text (printable ASCII kept, `\xNN`). */
export type Canon =
  | { readonly k: 'simple' | 'error' | 'bulk' | 'int' | 'double'; readonly v: string }
  | { readonly k: 'null' | 'nullarray' }
  | { readonly k: 'array' | 'set' | 'map' | 'push'; readonly v: readonly Canon[] };

const IGNORED: Canon = { k: 'simple', v: '<ignored>' };
const TIME_TOKEN: Canon = { k: 'int', v: '<t>' };

/**
 * RESP2 shape (resp 2): maps become flat arrays, sets and pushes arrays, doubles bulk strings
 * formatted as Redis 7.0 does (`%.17g`, `inf`), and `null`/`nullarray` stay apart (`$-1` and
 * `*-1`). RESP3 shape (resp 3): types kept, both nulls are `_`.
 */
export function toCanon(reply: Reply, resp: RespVersion): Canon {
  const children = (items: readonly Reply[]) => items.map((r) => toCanon(r, resp));
  switch (reply.t) {
    case 'simple':
    case 'error':
      return { k: reply.t, v: reply.v };
    case 'int':
      return { k: 'int', v: String(reply.v) };
    case 'bulk':
      return { k: 'bulk', v: escapeBytes(reply.v) };
    case 'null':
      return { k: 'null' };
    case 'nullarray':
      return { k: resp === 2 ? 'nullarray' : 'null' };
    case 'double':
      return { k: resp === 2 ? 'bulk' : 'double', v: formatDouble(reply.v) };
    case 'array':
      return { k: 'array', v: children(reply.v) };
    case 'set':
    case 'push':
      return { k: resp === 2 ? 'array' : reply.t, v: children(reply.v) };
    case 'map':
      return { k: resp === 2 ? 'array' : 'map', v: children(reply.v.flat()) };
  }
}

/** One line, redis-cli-like: `+OK`, `-ERR x`, `:1`, `"bulk"`, `,1.5`, `(nil)`, `[a, b]`. */
export function renderCanon(c: Canon): string {
  switch (c.k) {
    case 'simple':
      return `+${c.v}`;
    case 'error':
      return `-${c.v}`;
    case 'int':
      return `:${c.v}`;
    case 'double':
      return `,${c.v}`;
    case 'bulk':
      return `"${c.v}"`;
    case 'null':
      return '(nil)';
    case 'nullarray':
      return '(nil-array)';
    case 'array':
      return `[${c.v.map(renderCanon).join(', ')}]`;
    case 'set':
      return `~[${c.v.map(renderCanon).join(', ')}]`;
    case 'push':
      return `>[${c.v.map(renderCanon).join(', ')}]`;
    case 'map': {
      const pairs: string[] = [];
      for (let i = 0; i < c.v.length; i += 2) {
        pairs.push(`${renderCanon(c.v[i]!)}: ${renderCanon(c.v[i + 1]!)}`);
      }
      return `%{${pairs.join(', ')}}`;
    }
  }
}

export function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x22) out += '\\"';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * C's `%.17g`, as Redis 7.0's addReplyDouble writes doubles: 17 significant digits rounded
 * half-even from the exact binary value (glibc), trailing zeros dropped, exponent form below
 * 1e-4 or from 1e17. JS's toPrecision rounds exact ties up, hence the BigInt digits.
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const sign = d < 0 ? '-' : '';
  const { digits, exponent } = roundedDigits(Math.abs(d), 17);
  if (exponent < -4 || exponent >= 17) {
    const mantissa = stripFraction(`${digits[0]}.${digits.slice(1)}`);
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}${stripFraction(`0.${'0'.repeat(-exponent - 1)}${digits}`)}`;
  const whole = digits.slice(0, exponent + 1);
  return `${sign}${stripFraction(`${whole}.${digits.slice(exponent + 1)}`)}`;
}

function stripFraction(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** `precision` significant digits of positive finite `x`, and the decimal exponent of the first. */
function roundedDigits(x: number, precision: number): { digits: string; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp2 = (biased === 0 ? 1 : biased) - 1075;
  // x = mantissa * 2^exp2 = exact * 10^exp10, with `exact` an integer.
  const exact = exp2 >= 0 ? mantissa << BigInt(exp2) : mantissa * 5n ** BigInt(-exp2);
  const exp10 = exp2 >= 0 ? 0 : exp2;
  const all = exact.toString();
  let exponent = all.length - 1 + exp10;
  if (all.length <= precision) return { digits: all.padEnd(precision, '0'), exponent };
  let head = BigInt(all.slice(0, precision));
  const rest = all.slice(precision);
  const tie = /^50*$/.test(rest);
  if (rest[0]! > '5' || (rest[0] === '5' && !tie) || (tie && head % 2n === 1n)) head += 1n;
  let digits = head.toString();
  if (digits.length > precision) {
    digits = digits.slice(0, precision);
    exponent += 1;
  }
  return { digits, exponent };
}

// ---------------------------------------------------------------------------------------------
// Normalisation

interface StepContext {
  readonly command: readonly string[];
  readonly timeFields: ReadonlySet<string>;
  readonly skipFields: ReadonlySet<string>;
  readonly xinfo: boolean;
  readonly xinfoFull: boolean;
}

/** Stream commands whose key is args[1], and the container commands whose key is args[2]. */
const KEY_AT_1 = new Set([
  ...['XADD', 'XRANGE', 'XREVRANGE', 'XLEN', 'XDEL', 'XTRIM', 'XACK'],
  ...['XPENDING', 'XCLAIM', 'XAUTOCLAIM', 'XSETID'],
]);
const KEY_AT_2 = new Set(['XINFO', 'XGROUP']);
/** Commands that can delete or replace any key, or run others: every ID scope starts over. */
const RESETS_ALL = new Set([
  ...['FLUSHALL', 'FLUSHDB', 'SWAPDB', 'SELECT', 'MOVE', 'EXEC'],
  ...['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO'],
]);

/**
 * Normalises the replies of one side of a run. Generated stream IDs become `<id:N>`, numbered
 * by first appearance on this side, so the same ID maps to the same token across steps.
 *
 * An ID is told apart by its stream as well: two streams written in the same millisecond get
 * the same ID string on one side and different ones on the other, so IDs are scoped by the
 * stream the command names (per stream for XREAD/XREADGROUP replies; one shared scope for other
 * commands). A stream deleted and created again can reuse an old ID string, so a scope starts
 * over after any non-stream command naming its key (DEL, SET, RENAME...), after XSETID, and
 * all scopes after FLUSHALL, EXEC, EVAL and the like. Expiry is not tracked.
 */
export class ReplyNormaliser {
  private readonly ids = new Map<string, string>();
  private readonly epochs = new Map<string, number>();
  private globalEpoch = 0;

  constructor(
    private readonly resp: RespVersion,
    private readonly options: CaseOptions = {},
  ) {}

  normalise(reply: Reply, step: number, args: readonly Arg[], hint: StepHint = {}): Canon {
    const command = args.map(argText);
    const name = command[0]?.toUpperCase() ?? '';
    try {
      if (hint.ignore === true) return IGNORED;
      const ctx: StepContext = {
        command,
        timeFields: new Set([...TIME_FIELDS, ...(hint.timeFields ?? [])]),
        skipFields: new Set(this.options.skipFields ?? DEFAULT_SKIP_FIELDS),
        xinfo: name === 'XINFO',
        xinfoFull: name === 'XINFO' && command[1]?.toUpperCase() === 'STREAM' && args.length > 3,
      };
      const unordered = hint.unordered ?? this.options.unordered ?? false;
      let canon = toCanon(reply, this.resp);
      // Sorted before and after: tokens are numbered in a stable order, then times settle ties.
      if (unordered) canon = sortTopLevel(canon);
      if ((name === 'XREAD' || name === 'XREADGROUP') && isAggregate(canon)) {
        canon = this.walkStreams(canon, [step], ctx);
      } else {
        canon = this.walk(canon, [step], ctx, this.scopeOf(name, args));
      }
      if (name === 'XPENDING' && args.length > 3) canon = xpendingTimes(canon);
      if (name === 'TIME') canon = clockTimes(canon);
      return unordered ? sortTopLevel(canon) : canon;
    } finally {
      this.afterCommand(name, args);
    }
  }

  private walk(node: Canon, path: number[], ctx: StepContext, scope: string): Canon {
    if (this.options.ignore?.(path, ctx.command) === true) return IGNORED;
    switch (node.k) {
      case 'bulk':
      case 'simple':
        return GENERATED_ID.test(node.v) ? { k: node.k, v: this.idToken(node.v, scope) } : node;
      case 'error': {
        const v = node.v.replace(GENERATED_ID_IN_TEXT, (m) => this.idToken(m, scope));
        return { k: 'error', v };
      }
      case 'array':
      case 'set':
      case 'map':
      case 'push': {
        const items = node.v.map((child, i) => this.walk(child, [...path, i], ctx, scope));
        return { k: node.k, v: fieldPairs(items, ctx) };
      }
      default:
        return node;
    }
  }

  /** XREAD/XREADGROUP: [[key, entries]...] in RESP2, {key: entries} in RESP3. */
  private walkStreams(node: AggregateCanon, path: number[], ctx: StepContext): Canon {
    if (this.options.ignore?.(path, ctx.command) === true) return IGNORED;
    const items = node.v.map((item, i) => {
      const at = [...path, i];
      if (node.k === 'map') {
        const key = i % 2 === 1 ? fieldName(node.v[i - 1]) : null;
        return this.walk(item, at, ctx, key === null ? '' : this.scope(key));
      }
      const pair = item.k === 'array' && item.v.length === 2 ? item.v : null;
      const key = pair === null ? null : fieldName(pair[0]);
      if (pair === null || key === null || this.options.ignore?.(at, ctx.command) === true) {
        return this.walk(item, at, ctx, '');
      }
      const keyCanon = this.walk(pair[0]!, [...at, 0], ctx, '');
      const entries = this.walk(pair[1]!, [...at, 1], ctx, this.scope(key));
      return { k: 'array', v: [keyCanon, entries] } as const;
    });
    return { k: node.k, v: items };
  }

  private scopeOf(name: string, args: readonly Arg[]): string {
    const key = KEY_AT_1.has(name) ? args[1] : KEY_AT_2.has(name) ? args[2] : undefined;
    return key === undefined ? '' : this.scope(argKey(key));
  }

  /** `key` is escaped as bulk values are in Canon. */
  private scope(key: string): string {
    return `${key}\0${this.epochs.get(key) ?? 0}`;
  }

  private afterCommand(name: string, args: readonly Arg[]): void {
    if (RESETS_ALL.has(name)) {
      this.globalEpoch += 1;
      return;
    }
    if (name.startsWith('X') && name !== 'XSETID') return;
    for (const arg of args.slice(1)) {
      const key = argKey(arg);
      this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    }
  }

  private idToken(id: string, scope: string): string {
    const scoped = `${this.globalEpoch}\0${scope}\0${id}`;
    let token = this.ids.get(scoped);
    if (token === undefined) {
      token = `<id:${this.ids.size + 1}>`;
      this.ids.set(scoped, token);
    }
    return token;
  }
}

function argKey(arg: Arg): string {
  return escapeBytes(typeof arg === 'string' ? Buffer.from(arg) : arg);
}

function fieldName(c: Canon | undefined): string | null {
  return c !== undefined && (c.k === 'bulk' || c.k === 'simple') ? c.v : null;
}

/** In field/value lists (maps, RESP2 flat arrays): time values, XINFO skips and PEL times. */
function fieldPairs(items: Canon[], ctx: StepContext): Canon[] {
  if (items.length % 2 !== 0) return items;
  const out: Canon[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const name = fieldName(items[i]);
    let value = items[i + 1]!;
    if (name !== null && ctx.xinfo && ctx.skipFields.has(name)) continue;
    if (name !== null && ctx.timeFields.has(name) && value.k === 'int') value = TIME_TOKEN;
    if (name === 'pending' && ctx.xinfoFull) value = pelDeliveryTimes(value);
    out.push(items[i]!, value);
  }
  return out;
}

/**
 * XINFO STREAM FULL's `pending` lists: a group's entries are [id, consumer, delivery-time,
 * delivery-count], a consumer's [id, delivery-time, delivery-count].
 */
function pelDeliveryTimes(pel: Canon): Canon {
  if (pel.k !== 'array') return pel;
  return {
    k: 'array',
    v: pel.v.map((e) => replaceAt(e, e.k === 'array' && e.v.length === 4 ? 2 : 1)),
  };
}

/** XPENDING's extended form: entries are [id, consumer, idle ms, delivery count]. */
function xpendingTimes(reply: Canon): Canon {
  if (reply.k !== 'array') return reply;
  return { k: 'array', v: reply.v.map((entry) => replaceAt(entry, 2)) };
}

/** TIME: [unix seconds, microseconds] as bulk strings; only the shape is compared. */
function clockTimes(reply: Canon): Canon {
  if (reply.k !== 'array') return reply;
  return { k: 'array', v: reply.v.map((c) => (c.k === 'bulk' ? { k: 'bulk', v: '<t>' } : c)) };
}

function replaceAt(entry: Canon, index: number): Canon {
  if (entry.k !== 'array' || entry.v[index]?.k !== 'int') return entry;
  return { k: 'array', v: entry.v.map((c, i) => (i === index ? TIME_TOKEN : c)) };
}

function sortTopLevel(c: Canon): Canon {
  if (!isAggregate(c)) return c;
  if (c.k !== 'map') return { k: c.k, v: [...c.v].sort(byRendering) };
  const pairs: Canon[][] = [];
  for (let i = 0; i < c.v.length; i += 2) pairs.push([c.v[i]!, c.v[i + 1]!]);
  pairs.sort((a, b) => byRendering({ k: 'array', v: a }, { k: 'array', v: b }));
  return { k: 'map', v: pairs.flat() };
}

type AggregateCanon = Extract<Canon, { readonly v: readonly Canon[] }>;
type ScalarCanon = Extract<Canon, { readonly v: string }>;

function isAggregate(c: Canon): c is AggregateCanon {
  return c.k === 'array' || c.k === 'set' || c.k === 'map' || c.k === 'push';
}

function isScalar(c: Canon): c is ScalarCanon {
  return 'v' in c && typeof c.v === 'string';
}

function byRendering(a: Canon, b: Canon): number {
  const ra = renderCanon(a);
  const rb = renderCanon(b);
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Comparison and runs

export interface CanonDiff {
  readonly path: ReplyPath;
  readonly redis: string;
  readonly sluice: string;
}

/** The first place where the trees differ (depth first), or null when equal. */
export function diffCanon(a: Canon, b: Canon, path: ReplyPath = []): CanonDiff | null {
  const here = () => ({ path, redis: renderCanon(a), sluice: renderCanon(b) });
  if (a.k !== b.k) return here();
  if (isScalar(a) && isScalar(b)) return a.v === b.v ? null : here();
  if (!isAggregate(a) || !isAggregate(b)) return null; // both null, or both nullarray
  const n = Math.max(a.v.length, b.v.length);
  for (let i = 0; i < n; i++) {
    const x = a.v[i];
    const y = b.v[i];
    const at = [...path, i];
    if (x === undefined) return { path: at, redis: '(nothing)', sluice: renderCanon(y!) };
    if (y === undefined) return { path: at, redis: renderCanon(x), sluice: '(nothing)' };
    const d = diffCanon(x, y, at);
    if (d !== null) return d;
  }
  return null;
}

/** Fresh buffers for each side: an executor may keep or reuse its arguments. */
export function toArgs(args: readonly Arg[]): Buffer[] {
  return args.map((a) => (typeof a === 'string' ? Buffer.from(a) : Buffer.from(a)));
}

function argText(a: Arg): string {
  return typeof a === 'string' ? a : a.toString('latin1');
}

/** A command as a reader would type it: plain words bare, anything else quoted and escaped. */
export function renderCommand(args: readonly Arg[]): string {
  return args
    .map((a) => {
      const text = escapeBytes(typeof a === 'string' ? Buffer.from(a) : a);
      return /^[\w.:+*<>=$@#%&/-]+$/.test(text) ? text : `"${text}"`;
    })
    .join(' ');
}

function cut(text: string): string {
  return text.length <= REPORT_REPLY_CHARS ? text : `${text.slice(0, REPORT_REPLY_CHARS)}...`;
}

async function flushBoth(redis: Executor, sluice: Executor): Promise<void> {
  for (const [side, executor] of [
    ['redis', redis],
    ['sluice', sluice],
  ] as const) {
    const reply = await executor.call(toArgs(['FLUSHALL']));
    if (reply.t !== 'simple' || reply.v !== 'OK') {
      throw new Error(`FLUSHALL on ${side} replied ${renderCanon(toCanon(reply, 2))}`);
    }
  }
}

/** Runs one case on both sides, step by step; returns a report of the first difference. */
export async function runCase(
  c: ConformanceCase,
  redis: Executor,
  sluice: Executor,
  options: RunOptions = {},
): Promise<string | null> {
  const resp = options.resp ?? 2;
  await flushBoth(redis, sluice);
  const redisSide = new ReplyNormaliser(resp, c.options);
  const sluiceSide = new ReplyNormaliser(resp, c.options);
  for (const [i, { args, hint }] of c.steps.entries()) {
    const a = redisSide.normalise(await redis.call(toArgs(args)), i, args, hint);
    const b = sluiceSide.normalise(await sluice.call(toArgs(args)), i, args, hint);
    const diff = diffCanon(a, b, [i]);
    if (diff === null) continue;
    return [
      `case "${c.name}" (RESP${resp}) differs at step ${i}: ${renderCommand(args)}`,
      `  at ${JSON.stringify(diff.path)}: redis ${cut(diff.redis)} | sluice ${cut(diff.sluice)}`,
      `  redis:  ${cut(renderCanon(a))}`,
      `  sluice: ${cut(renderCanon(b))}`,
    ].join('\n');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Random runs

export type Rand = () => number;

/** A small fast seeded PRNG (Tommy Ettinger's mulberry32): floats in [0, 1). */
export function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randInt(rand: Rand, n: number): number {
  return Math.floor(rand() * n);
}

export function pick<T>(rand: Rand, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[randInt(rand, items.length)]!;
}

/** CONFORMANCE_SEED when set (an unsigned 32-bit integer), else DEFAULT_CONFORMANCE_SEED. */
export function conformanceSeed(): number {
  const text = process.env['CONFORMANCE_SEED'];
  if (text === undefined || text === '') return DEFAULT_CONFORMANCE_SEED;
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`CONFORMANCE_SEED must be an integer in [0, 2^32): '${text}'`);
  }
  return seed;
}

export interface RandomRunOptions extends RunOptions, CaseOptions {}

/**
 * Flushes both sides, then sends `count` commands made by `gen` (fed by a PRNG seeded with
 * `seed`) to both, comparing reply by reply. Returns null, or a report of the first difference
 * with the seed, step, command, both replies and the commands before it.
 */
export async function runRandom(
  seed: number,
  count: number,
  gen: (rand: Rand) => readonly Arg[],
  redis: Executor,
  sluice: Executor,
  options: RandomRunOptions = {},
): Promise<string | null> {
  const resp = options.resp ?? 2;
  const rand = mulberry32(seed);
  await flushBoth(redis, sluice);
  const redisSide = new ReplyNormaliser(resp, options);
  const sluiceSide = new ReplyNormaliser(resp, options);
  const history: string[] = [];
  for (let step = 0; step < count; step++) {
    const args = gen(rand);
    const a = redisSide.normalise(await redis.call(toArgs(args)), step, args);
    const b = sluiceSide.normalise(await sluice.call(toArgs(args)), step, args);
    const diff = diffCanon(a, b, [step]);
    if (diff === null) {
      history.push(`  ${step}: ${renderCommand(args)}`);
      continue;
    }
    return [
      `random run diverged: seed ${seed} (rerun with CONFORMANCE_SEED=${seed}), ` +
        `step ${step} of ${count}, RESP${resp}`,
      `command: ${renderCommand(args)}`,
      `redis:  ${cut(renderCanon(a))}`,
      `sluice: ${cut(renderCanon(b))}`,
      `first difference at ${JSON.stringify(diff.path)}: redis ${cut(diff.redis)} | ` +
        `sluice ${cut(diff.sluice)}`,
      `last ${Math.min(REPORT_HISTORY_COMMANDS, history.length)} commands before it:`,
      ...history.slice(-REPORT_HISTORY_COMMANDS),
    ].join('\n');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// redis-server as an executor

/** Wraps a RespClient as an executor (closing the executor closes the client). */
export function respExecutor(client: RespClient): ClosableExecutor {
  return {
    call: (args) => client.call(...args),
    close: () => client.close(),
  };
}

/** A new connection to redis-server on `port` speaking RESP `resp`, as an executor. */
export async function redisExecutor(
  port: number,
  resp: RespVersion = 2,
): Promise<ClosableExecutor> {
  return respExecutor(await RespClient.connect(port, { resp }));
}
