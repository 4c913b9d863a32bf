// Redis 7 stream semantics over a StreamLog: XADD ID generation, ranges, XDEL, exact and
// approximate trims, XSETID, and what XREAD serves. Write operations expect the caller to hold
// the key's lock (the dispatcher takes it for commands flagged 'write'), so the log's counters
// cannot change between the checks made here and the mutation that follows them.
//
// Approximate trims (`~`) remove whole Redis radix-tree nodes only, so their outcome depends on
// where Redis would have cut its nodes. `NodeModel` emulates that layout: a node takes entries
// until it holds stream-node-max-entries (100, deleted entries included) or until its listpack
// would reach stream-node-max-bytes (4096, with the exact listpack encoding sizes); XDEL frees a
// node when its last live entry goes; exact trims flag entries of the head node as deleted.
// The model resolves `~` into an exact count that storage then removes.
//
// Where the layout can differ from Redis's (a `~` trim still removes whole emulated nodes and
// never more than the exact trim would):
// - After a restart, or when the model fell out of step with the log (RENAME reopens a log),
//   the entries already stored form a "lazy" region, packed into nodes on demand from its live
//   entries as if they had been added again one by one (Redis keeps its layout across an RDB
//   restart; Sluice does not store it). Entries added afterwards start a new node. Packing
//   reads the entries it packs, so the first `~` trims after a restart read what they remove
//   (at most LIMIT entries, 10000 by default, per command).
// - Above MODEL_MAX_NODES nodes, the oldest ones fold back into the lazy region to bound
//   memory; the fold is exact unless those nodes held deleted entries.
import assert from 'node:assert';
import type { AppendDone, StreamLog } from '../../storage/stream-log';
import type { StreamEntry } from '../../storage/records';
import type { TrimSpec } from '../../storage/trim';
import { StorageError } from '../../storage/errors';
import { StreamId, U64_MAX } from '../../storage/id';
import { CommandError, Errors } from '../errors';
import {
  APPROX_TRIM_DEFAULT_LIMIT,
  ENTRY_MAX_BYTES,
  MODEL_MAX_NODES,
  NODE_MAX_BYTES,
  NODE_MAX_ENTRIES,
} from '../limits';
import type { Broker } from './broker';
import { keyId, type StreamValue } from './keyspace';

export {
  APPROX_TRIM_DEFAULT_LIMIT,
  ENTRY_MAX_BYTES,
  MODEL_MAX_NODES,
  NODE_MAX_BYTES,
  NODE_MAX_ENTRIES,
};

/** The node model's settings: tests lower maxNodes to exercise folding. */
export const nodeModelSettings = { maxNodes: MODEL_MAX_NODES };

// ---- listpack sizes (Redis listpack.c) ------------------------------------------------------

const LP_HEADER_BYTES = 6;
const LP_EOF_BYTES = 1;
const FLAG_NONE = 0;
const FLAG_SAMEFIELDS = 2;

/** lpIntBytes for a safe integer: the same sizes without BigInt (the per-entry common case). */
function lpNumBytes(v: number): number {
  let enc: number;
  if (v >= 0 && v <= 127) enc = 1;
  else if (v >= -4096 && v <= 4095) enc = 2;
  else if (v >= -32768 && v <= 32767) enc = 3;
  else if (v >= -8388608 && v <= 8388607) enc = 4;
  else if (v >= -2147483648 && v <= 2147483647) enc = 5;
  else enc = 9;
  return enc + 1;
}

/** An ID part's distance from the node's master ID, as Redis stores it (int64 wrap-around). */
function lpDeltaBytes(a: bigint, b: bigint): number {
  const d = a - b;
  if (d >= 0n && d <= 0x7fffffffn) return lpNumBytes(Number(d));
  return lpIntBytes(BigInt.asIntN(64, d));
}

function lpIntBytes(v: bigint): number {
  let enc: number;
  if (v >= 0n && v <= 127n) enc = 1;
  else if (v >= -4096n && v <= 4095n) enc = 2;
  else if (v >= -32768n && v <= 32767n) enc = 3;
  else if (v >= -8388608n && v <= 8388607n) enc = 4;
  else if (v >= -2147483648n && v <= 2147483647n) enc = 5;
  else enc = 9;
  return enc + 1; // an encoding this short has a 1-byte backlen
}

function lpBacklenBytes(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

const LP_INT_TEXT = /^-?[1-9][0-9]*$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The integer a short decimal text is, as string2ll reads it ("0", or an optional '-' and no
 * leading zero), or null when it is not one. Up to 15 characters, so it is a safe integer.
 */
function shortIntText(s: Buffer): number | null {
  const n = s.length;
  let i = 0;
  const neg = s[0] === 0x2d;
  if (neg) {
    if (n === 1) return null;
    i = 1;
  }
  if (s[i] === 0x30) return n === 1 ? 0 : null;
  let v = 0;
  for (; i < n; i++) {
    const c = s[i] as number;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  return neg ? -v : v;
}

/** A string element: listpack stores it as an integer when string2ll accepts it. */
function lpStringBytes(s: Buffer): number {
  const c = s[0] as number;
  // Only text starting with a digit or '-' can be an integer (most values are not: skip them).
  if (s.length > 0 && s.length <= 20 && ((c >= 0x30 && c <= 0x39) || c === 0x2d)) {
    if (s.length <= 15) {
      const v = shortIntText(s);
      if (v !== null) return lpNumBytes(v);
    } else {
      const text = s.toString('latin1');
      if (LP_INT_TEXT.test(text)) {
        const v = BigInt(text);
        if (v >= INT64_MIN && v <= INT64_MAX) return lpIntBytes(v);
      }
    }
  }
  const enc = s.length < 64 ? 1 + s.length : s.length < 4096 ? 2 + s.length : 5 + s.length;
  return enc + lpBacklenBytes(enc);
}

// ---- emulated nodes -------------------------------------------------------------------------

/** One Redis stream node: a listpack stored under a radix-tree key. */
interface StreamNode {
  /** The master entry's ID: the node's first entry, even once deleted (its radix-tree key). */
  readonly first: StreamId;
  /** The last entry added, deleted or not: what Redis's MINID node check reads. */
  last: StreamId;
  live: number;
  /** Entries flagged deleted: they keep their slot and bytes. */
  deleted: number;
  /** lpBytes of the listpack. */
  bytes: number;
  /** The master entry's field names (entries with the same names share them), end to end... */
  readonly masterNames: Buffer;
  /** ...each ending here. */
  readonly masterEnds: readonly number[];
}

/** What XADD's entry does to the node list: extends the tail node or starts a new one. */
interface TailPlan {
  readonly node: StreamNode;
  readonly extend: boolean;
}

/** The field names of `fields`, copied end to end (a node keeps them, not the entry's buffers). */
function masterNamesOf(fields: readonly Buffer[]): { names: Buffer; ends: number[] } {
  let total = 0;
  for (let i = 0; i < fields.length; i += 2) total += (fields[i] as Buffer).length;
  // Outside Node's shared pool: a node lives long, and must not keep a pool slab alive.
  const names = Buffer.allocUnsafeSlow(total);
  const ends: number[] = [];
  let off = 0;
  for (let i = 0; i < fields.length; i += 2) {
    off += (fields[i] as Buffer).copy(names, off);
    ends.push(off);
  }
  return { names, ends };
}

/** Whether an entry's field names are the node's master names (Redis's SAMEFIELDS flag). */
function sameNames(node: StreamNode, fields: readonly Buffer[]): boolean {
  const ends = node.masterEnds;
  if (ends.length * 2 !== fields.length) return false;
  const names = node.masterNames;
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const f = fields[2 * i] as Buffer;
    const end = ends[i] as number;
    if (f.length !== end - start) return false;
    for (let j = 0; j < f.length; j++) if (f[j] !== names[start + j]) return false;
    start = end;
  }
  return true;
}

function fieldsBytes(fields: readonly Buffer[]): number {
  let n = 0;
  for (const f of fields) n += f.length;
  return n;
}

/** Bytes an entry adds to `node` (t_stream.c streamAppendItem's encoding). */
function entryBytes(node: StreamNode, id: StreamId, fields: readonly Buffer[]): number {
  const count = fields.length / 2;
  const same = sameNames(node, fields);
  let bytes =
    lpNumBytes(same ? FLAG_SAMEFIELDS : FLAG_NONE) +
    lpDeltaBytes(id.ms, node.first.ms) +
    lpDeltaBytes(id.seq, node.first.seq);
  if (!same) bytes += lpNumBytes(count);
  for (let i = 0; i < fields.length; i += 2) {
    if (!same) bytes += lpStringBytes(fields[i] as Buffer);
    bytes += lpStringBytes(fields[i + 1] as Buffer);
  }
  const pieces = count + 3 + (same ? 0 : count + 1);
  return bytes + lpNumBytes(pieces);
}

function newNode(id: StreamId, fields: readonly Buffer[]): StreamNode {
  const names = fields.length / 2;
  let master = LP_HEADER_BYTES + LP_EOF_BYTES;
  master += lpNumBytes(1) + lpNumBytes(0) + lpNumBytes(names); // count, deleted, n
  for (let i = 0; i < fields.length; i += 2) master += lpStringBytes(fields[i] as Buffer);
  master += lpNumBytes(0); // the master entry's terminator
  const { names: masterNames, ends } = masterNamesOf(fields);
  const node: StreamNode = {
    first: id,
    last: id,
    live: 1,
    deleted: 0,
    bytes: master,
    masterNames,
    masterEnds: ends,
  };
  node.bytes += entryBytes(node, id, fields);
  return node;
}

/** Whether Redis appends this entry to `node` rather than starting a new node. */
function nodeTakes(node: StreamNode, fields: readonly Buffer[]): boolean {
  if (node.bytes + fieldsBytes(fields) >= NODE_MAX_BYTES) return false;
  return node.live + node.deleted < NODE_MAX_ENTRIES;
}

function withEntry(node: StreamNode, id: StreamId, fields: readonly Buffer[]): StreamNode {
  return {
    first: node.first,
    last: id,
    live: node.live + 1,
    deleted: node.deleted,
    bytes: node.bytes + entryBytes(node, id, fields),
    masterNames: node.masterNames,
    masterEnds: node.masterEnds,
  };
}

/** Index of the node holding `id`: the last whose first ID is <= id, -1 when none. */
function nodeIndexOf(list: readonly StreamNode[], id: StreamId): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as StreamNode).first.compare(id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** A trim as XADD and XTRIM take it, after argument parsing. */
export type TrimArgs = (
  | { readonly strategy: 'maxlen'; readonly maxLen: number }
  | { readonly strategy: 'minid'; readonly minId: StreamId }
) & {
  readonly approx: boolean;
  /** Most entries an approximate trim removes; 0 = no limit. Always 0 when exact. */
  readonly limit: number;
};

/**
 * Redis's node layout of one stream: `pre` (nodes packed from the lazy region, before it),
 * the lazy region (live entries in [cursor, end], not yet packed), then `nodes` (built as
 * entries were added). With no lazy region, `pre` is empty.
 */
export class NodeModel {
  private pre: StreamNode[] = [];
  private lazy: { cursor: StreamId; readonly end: StreamId } | null = null;
  private nodes: StreamNode[] = [];
  /** Live entries in pre and nodes; the lazy region holds the rest of the stream's length. */
  private explicitLive = 0;
  private seenAdded = -1n;
  private seenLength = -1;

  constructor(private readonly log: StreamLog) {
    this.reset();
  }

  /** Nodes known now (pre and nodes), for tests: Redis's XINFO radix-tree-keys. */
  get knownNodes(): number {
    return this.pre.length + this.nodes.length;
  }

  get hasLazyRegion(): boolean {
    return this.lazy !== null;
  }

  /** Starts over from the log: every stored entry in the lazy region. */
  private reset(): void {
    const log = this.log;
    this.pre = [];
    this.nodes = [];
    this.explicitLive = 0;
    this.lazy = log.length > 0 ? { cursor: log.firstId, end: log.lastId } : null;
    this.note();
  }

  /** Records the log's counters after a change made through the model; bounds memory. */
  note(): void {
    while (this.nodes.length > nodeModelSettings.maxNodes) this.foldOldest();
    this.seenAdded = this.log.entriesAdded;
    this.seenLength = this.log.length;
  }

  /** Resets when the log changed without the model (another writer, XSETID's entries-added). */
  sync(): void {
    if (this.log.entriesAdded !== this.seenAdded || this.log.length !== this.seenLength) {
      this.reset();
    }
  }

  planAppend(id: StreamId, fields: readonly Buffer[]): TailPlan {
    const tail = this.nodes[this.nodes.length - 1];
    if (tail && nodeTakes(tail, fields)) return { node: withEntry(tail, id, fields), extend: true };
    return { node: newNode(id, fields), extend: false };
  }

  commitAppend(plan: TailPlan): void {
    if (plan.extend) this.nodes[this.nodes.length - 1] = plan.node;
    else this.nodes.push(plan.node);
    this.explicitLive++;
  }

  /** Moves the oldest built node into the lazy region (which it directly follows). */
  private foldOldest(): void {
    const node = this.nodes.shift() as StreamNode;
    this.explicitLive -= node.live;
    if (this.lazy) this.lazy = { cursor: this.lazy.cursor, end: node.last };
    else this.lazy = { cursor: node.first, end: node.last };
  }

  /**
   * Redis's streamTrim for `~`: from the head, whole nodes while the strategy allows and
   * LIMIT is not passed. `length` is the stream's length (with XADD's entry); `tail` is XADD's
   * pending change. Resolves with the entries and nodes to remove; changes nothing but caches.
   */
  async planApprox(
    t: TrimArgs,
    length: number,
    tail: TailPlan | null,
  ): Promise<{ entries: number; nodes: number }> {
    let len = length;
    let removed = 0;
    let i = 0;
    for (; ; i++) {
      if (t.strategy === 'maxlen' && len <= t.maxLen) break;
      const node = await this.nodeAt(i, tail);
      if (!node) break;
      if (t.limit > 0 && removed + node.live > t.limit) break;
      const whole =
        t.strategy === 'maxlen' ? len - node.live >= t.maxLen : node.last.compare(t.minId) < 0;
      if (!whole) break;
      len -= node.live;
      removed += node.live;
    }
    return { entries: removed, nodes: i };
  }

  /** The i-th node from the head, packing the lazy region as far as needed. */
  private async nodeAt(i: number, tail: TailPlan | null): Promise<StreamNode | undefined> {
    while (this.lazy !== null && i >= this.pre.length) await this.packLazy();
    if (this.lazy !== null) return this.pre[i];
    if (tail) {
      const last = this.nodes.length - 1;
      if (tail.extend && i === last) return tail.node;
      if (!tail.extend && i === last + 1) return tail.node;
    }
    return this.nodes[i];
  }

  /** Packs the next node of the lazy region from its live entries, as XADD would have. */
  private async packLazy(): Promise<void> {
    const lazy = this.lazy as { cursor: StreamId; end: StreamId };
    const entries = await this.log.read(lazy.cursor, lazy.end, NODE_MAX_ENTRIES, false);
    let node: StreamNode | null = null;
    let k = 0;
    for (; k < entries.length; k++) {
      const e = entries[k] as StreamEntry;
      if (node === null) node = newNode(e.id, e.fields);
      else if (nodeTakes(node, e.fields)) node = withEntry(node, e.id, e.fields);
      else break;
    }
    if (node) {
      this.pre.push(node);
      this.explicitLive += node.live;
    }
    const next = k > 0 ? (entries[k - 1] as StreamEntry).id.next() : null;
    const exhausted = k === entries.length && entries.length < NODE_MAX_ENTRIES;
    if (node === null || next === null || exhausted) {
      this.lazy = null;
      this.nodes = this.pre.concat(this.nodes);
      this.pre = [];
    } else lazy.cursor = next;
  }

  /** Removes the first `count` nodes (after planApprox packed them). */
  dropHead(count: number): void {
    if (count === 0) return;
    const list = this.lazy !== null ? this.pre : this.nodes;
    assert(count <= list.length, 'an approximate trim removes only nodes it looked at');
    for (const node of list.splice(0, count)) this.explicitLive -= node.live;
  }

  /**
   * Applies an exact trim that removed `removed` entries from a stream of `lengthBefore`:
   * whole nodes from the head, then entries of the next node flagged deleted.
   */
  applyExact(t: TrimArgs, removed: number, lengthBefore: number): void {
    let left = removed;
    const lazyLive = lengthBefore - this.explicitLive;
    left = this.trimList(this.pre, t, left);
    if (this.lazy !== null && this.pre.length === 0) {
      const whole = t.strategy === 'maxlen' ? lazyLive <= left : this.lazy.end.compare(t.minId) < 0;
      if (!whole) return; // the cut falls inside the lazy region, which keeps no layout
      left -= lazyLive;
      this.lazy = null;
    }
    if (this.lazy === null) this.trimList(this.nodes, t, left);
  }

  /** Trims nodes at the head of `list` (Redis streamTrim, exact); returns entries still due. */
  private trimList(list: StreamNode[], t: TrimArgs, removed: number): number {
    let left = removed;
    let drop = 0;
    for (const node of list) {
      const whole =
        t.strategy === 'maxlen' ? left > 0 && node.live <= left : node.last.compare(t.minId) < 0;
      if (whole) {
        left -= node.live;
        drop++;
        continue;
      }
      if (t.strategy === 'minid' || left > 0) {
        assert(left <= node.live, 'an exact trim ends inside the node it stops at');
        node.live -= left;
        node.deleted += left;
        this.explicitLive -= left;
        left = 0;
      }
      break;
    }
    for (const node of list.splice(0, drop)) this.explicitLive -= node.live;
    return left;
  }

  /** XDEL of `ids` (each existed): a node goes once its last live entry does. */
  applyDelete(ids: readonly StreamId[]): void {
    for (const id of ids) {
      const lazy = this.lazy;
      if (lazy && id.compare(lazy.cursor) >= 0 && id.compare(lazy.end) <= 0) continue;
      const list = lazy && id.compare(lazy.cursor) < 0 ? this.pre : this.nodes;
      const i = nodeIndexOf(list, id);
      const node = list[i];
      if (!node) continue;
      node.live--;
      node.deleted++;
      this.explicitLive--;
      if (node.live === 0) list.splice(i, 1);
    }
  }
}

const models = new WeakMap<StreamLog, NodeModel>();

/** The node model of a stream's log, in step with it. */
export function nodeModel(log: StreamLog): NodeModel {
  let model = models.get(log);
  if (!model) {
    model = new NodeModel(log);
    models.set(log, model);
  } else model.sync();
  return model;
}

// ---- IDs ------------------------------------------------------------------------------------

/** XADD's ID argument: `*`, `<ms>-*` or an explicit ID. */
export type IdSpec =
  | { readonly kind: 'auto' }
  | { readonly kind: 'seq-auto'; readonly ms: bigint }
  | { readonly kind: 'explicit'; readonly id: StreamId };

/**
 * The ID XADD gives a new entry after `last` (streamAppendItem): `*` takes the clock unless the
 * last ID is at or ahead of it, then the next sequence. Throws Redis's error otherwise.
 */
export function nextStreamId(last: StreamId, spec: IdSpec, nowMs: bigint): StreamId {
  let id: StreamId;
  if (spec.kind === 'auto') {
    if (nowMs > last.ms) return new StreamId(nowMs, 0n);
    const next = last.next();
    if (next === null) throw Errors.streamExhausted();
    return next;
  } else if (spec.kind === 'seq-auto') {
    if (spec.ms === last.ms) {
      // Redis 7.0 answers this overflow with its "too large" error, not the ID one.
      if (last.seq === U64_MAX) throw Errors.xaddTooLarge();
      return new StreamId(last.ms, last.seq + 1n);
    }
    id = new StreamId(spec.ms, 0n);
  } else id = spec.id;
  if (id.compare(last) <= 0) throw Errors.xaddIdTooSmall();
  return id;
}

/** The ID of the last live entry (Redis streamLastValidID), null when the stream is empty. */
export async function lastLiveId(log: StreamLog): Promise<StreamId | null> {
  if (log.length === 0) return null;
  const last = await log.read(StreamId.ZERO, StreamId.MAX, 1, true);
  return last[0]?.id ?? null;
}

/** The highest entry ID the log still holds in its files (deleted and trimmed ones too). */
function highestStoredId(log: StreamLog): StreamId {
  for (let i = log.segments.length - 1; i >= 0; i--) {
    const last = log.segments[i]?.lastId;
    if (last) return last;
  }
  return StreamId.ZERO;
}

// ---- operations -----------------------------------------------------------------------------

/** Where a change's durability wait goes (the command context: the reply waits for it). */
export interface DurableSink {
  afterDurable(log: StreamLog, seq: number): void;
}

export interface XaddRequest {
  readonly id: IdSpec;
  /** field, value, field, value... */
  readonly fields: readonly Buffer[];
  readonly noMkStream: boolean;
  readonly trim: TrimArgs | null;
  /** The clock for `*` (tests pin it). */
  readonly nowMs?: bigint;
}

function exactSpec(t: TrimArgs): TrimSpec {
  return t.strategy === 'maxlen'
    ? { maxLen: t.maxLen, approx: false, limit: 0 }
    : { minId: t.minId, approx: false, limit: 0 };
}

/** XADD's trim as storage takes it, and what an approximate one removes from the model. */
async function planXaddTrim(
  model: NodeModel,
  trim: TrimArgs | null,
  lengthAfter: number,
  tail: TailPlan,
): Promise<{ spec?: TrimSpec; approx: { entries: number; nodes: number } | null }> {
  if (!trim) return { approx: null };
  if (!trim.approx) return { spec: exactSpec(trim), approx: null };
  const approx = await model.planApprox(trim, lengthAfter, tail);
  if (approx.entries === 0) return { approx };
  return { spec: { maxLen: lengthAfter - approx.entries, approx: false, limit: 0 }, approx };
}

/**
 * XADD: appends one entry and trims in the same log command; null when NOMKSTREAM stops it.
 * Answers synchronously when it can (the stream exists, no trim, its log idle), as most do.
 */
export function xadd(
  broker: Broker,
  sink: DurableSink,
  db: number,
  key: Buffer,
  req: XaddRequest,
): StreamId | null | Promise<StreamId | null> {
  if (req.id.kind === 'explicit' && req.id.id.isZero()) throw Errors.xaddIdZero();
  const existing = broker.keyspace.stream(db, key);
  if (!existing && req.noMkStream) return null;
  if (!existing || req.trim) return xaddLater(broker, sink, db, key, req, existing);
  const plan = planXadd(existing.log, req);
  const done = appendCatching(() => existing.log.appendNow(plan.make));
  if (done === null) return xaddLater(broker, sink, db, key, req, existing);
  finishXadd(broker, sink, db, key, plan, done, { approx: null });
  return plan.id;
}

/** Entries at least this large never go through xaddMany (so storage's LIMIT cannot hit it). */
const BATCH_ENTRY_MAX_BYTES = 1 << 20;

/**
 * XADD for a run of requests on one existing stream, none trimming: the IDs, checks and node
 * layout of that many XADDs in a row, appended as one storage command. Each request gets its
 * ID or its error, as its own XADD would (null: the caller's own failure, skipped). Null, having
 * changed nothing, when the stream's log is busy or an entry is too large for a batch: run those
 * XADDs one by one.
 */
export function xaddMany(
  broker: Broker,
  sink: DurableSink,
  db: number,
  key: Buffer,
  value: StreamValue,
  reqs: ReadonlyArray<XaddRequest | null>,
): Array<StreamId | CommandError | null> | null {
  const log = value.log;
  if (!log.canAppendNow) return null;
  for (const req of reqs) {
    if (req === null) continue;
    if (req.trim || fieldsBytes(req.fields) >= BATCH_ENTRY_MAX_BYTES) return null;
  }
  const model = nodeModel(log);
  const nowMs = BigInt(Date.now());
  const entries: StreamEntry[] = [];
  const out: Array<StreamId | CommandError | null> = [];
  let last = log.lastId;
  for (const req of reqs) {
    if (req === null) {
      out.push(null);
      continue;
    }
    try {
      if (req.id.kind === 'explicit' && req.id.id.isZero()) throw Errors.xaddIdZero();
      if (last.equals(StreamId.MAX)) throw Errors.streamExhausted();
      const id = nextStreamId(last, req.id, req.nowMs ?? nowMs);
      model.commitAppend(model.planAppend(id, req.fields));
      entries.push({ id, fields: req.fields });
      out.push(id);
      last = id;
    } catch (err) {
      // Only the ID checks throw, before this entry changed anything.
      if (!(err instanceof CommandError)) throw err;
      out.push(err);
    }
  }
  if (entries.length === 0) return out;
  const done = log.appendNow(() => entries);
  assert(done !== null, 'xaddMany checked that the log appends now');
  model.note();
  sink.afterDurable(log, done.seq);
  broker.blocking.signal(keyId(db, key));
  return out;
}

async function xaddLater(
  broker: Broker,
  sink: DurableSink,
  db: number,
  key: Buffer,
  req: XaddRequest,
  existing: StreamValue | undefined,
): Promise<StreamId> {
  const log = (existing ?? (await broker.keyspace.streamOrCreate(db, key))).log;
  const plan = planXadd(log, req);
  const trim = await planXaddTrim(plan.model, req.trim, plan.lengthAfter, plan.tail);
  const done = await log.appendApplied(plan.make, trim.spec).catch((err: unknown) => {
    throw asXaddError(err);
  });
  finishXadd(broker, sink, db, key, plan, done, trim);
  return plan.id;
}

interface XaddPlan {
  readonly log: StreamLog;
  readonly req: XaddRequest;
  readonly id: StreamId;
  readonly model: NodeModel;
  readonly tail: TailPlan;
  readonly lengthAfter: number;
  readonly make: (last: StreamId) => StreamEntry[];
}

/** The checks and the ID of an XADD, before anything changes. */
function planXadd(log: StreamLog, req: XaddRequest): XaddPlan {
  if (log.lastId.equals(StreamId.MAX)) throw Errors.streamExhausted();
  const now = req.nowMs ?? BigInt(Date.now());
  const id = nextStreamId(log.lastId, req.id, now);
  if (fieldsBytes(req.fields) > ENTRY_MAX_BYTES) throw Errors.xaddTooLarge();
  const model = nodeModel(log);
  const tail = model.planAppend(id, req.fields);
  const make = (last: StreamId) => {
    // The key lock keeps every other writer out, so the ID chosen above still holds.
    assert(nextStreamId(last, req.id, now).equals(id), 'XADD runs under its key lock');
    return [{ id, fields: req.fields }];
  };
  return { log, req, id, model, tail, lengthAfter: log.length + 1, make };
}

/** Storage's LIMIT (record too large) is XADD's own error. */
function asXaddError(err: unknown): unknown {
  return err instanceof StorageError && err.code === 'LIMIT' ? Errors.xaddTooLarge() : err;
}

function appendCatching<T>(append: () => T): T {
  try {
    return append();
  } catch (err) {
    throw asXaddError(err);
  }
}

function finishXadd(
  broker: Broker,
  sink: DurableSink,
  db: number,
  key: Buffer,
  plan: XaddPlan,
  done: AppendDone,
  trim: { approx: { entries: number; nodes: number } | null },
): void {
  const { model, req } = plan;
  model.commitAppend(plan.tail);
  if (trim.approx) {
    assert(done.trimmed === trim.approx.entries, 'storage removes what the node model resolved');
    model.dropHead(trim.approx.nodes);
  } else if (req.trim) model.applyExact(req.trim, done.trimmed, plan.lengthAfter);
  model.note();
  sink.afterDurable(plan.log, done.seq);
  broker.blocking.signal(keyId(db, key));
}

/** XTRIM: resolves with the number of entries removed. */
export async function xtrim(sink: DurableSink, value: StreamValue, t: TrimArgs): Promise<number> {
  const log = value.log;
  const model = nodeModel(log);
  const lengthBefore = log.length;
  if (t.approx) {
    const plan = await model.planApprox(t, lengthBefore, null);
    if (plan.entries > 0) {
      const spec = { maxLen: lengthBefore - plan.entries, approx: false, limit: 0 };
      const { removed, seq } = await log.trimApplied(spec);
      assert(removed === plan.entries, 'storage removes what the node model resolved');
      sink.afterDurable(log, seq);
    }
    model.dropHead(plan.nodes);
    model.note();
    return plan.entries;
  }
  const { removed, seq } = await log.trimApplied(exactSpec(t));
  model.applyExact(t, removed, lengthBefore);
  model.note();
  sink.afterDurable(log, seq);
  return removed;
}

/** XDEL: resolves with how many of `ids` existed (and are now deleted). */
export async function xdel(
  sink: DurableSink,
  value: StreamValue,
  ids: readonly StreamId[],
): Promise<number> {
  const log = value.log;
  const model = nodeModel(log);
  const seen = new Set<string>();
  const existing: StreamId[] = [];
  for (const id of ids) {
    const k = id.toString();
    if (seen.has(k)) continue;
    seen.add(k);
    if ((await log.read(id, id, 1, false)).length === 1) existing.push(id);
  }
  if (existing.length === 0) return 0;
  const { count, seq } = await log.deleteApplied(existing);
  assert(count === existing.length, 'XDEL deletes the IDs it found, under its key lock');
  model.applyDelete(existing);
  model.note();
  sink.afterDurable(log, seq);
  return count;
}

export interface XsetidRequest {
  readonly lastId: StreamId;
  /** null: unchanged. */
  readonly entriesAdded: bigint | null;
  /** null: unchanged (Redis also leaves it for 0-0). */
  readonly maxDeletedId: StreamId | null;
}

/** XSETID, after argument checks: the stream-dependent checks, then the counters. */
export async function xsetid(
  sink: DurableSink,
  value: StreamValue,
  req: XsetidRequest,
): Promise<void> {
  const log = value.log;
  const model = nodeModel(log); // in step before the counters change, noted after
  const top = await lastLiveId(log);
  if (top !== null) {
    if (req.lastId.compare(top) < 0) throw Errors.xsetidBelowTopItem();
    if (req.entriesAdded !== null && BigInt(log.length) > req.entriesAdded) {
      throw Errors.xsetidEntriesAddedBelowLength();
    }
  }
  // Redis 7.0 lets the last ID fall below deleted or trimmed entries; the log keeps IDs
  // increasing in its files, so Sluice refuses that (Redis 7.2 refuses the deleted case too).
  if (req.lastId.compare(highestStoredId(log)) < 0) {
    if (req.lastId.compare(log.maxDeletedId) < 0) throw Errors.xsetidBelowMaxDeleted();
    throw Errors.xsetidBelowStoredEntry();
  }
  const seq = await log.setCountersApplied(
    req.lastId,
    req.entriesAdded ?? log.entriesAdded,
    req.maxDeletedId ?? log.maxDeletedId,
  );
  model.note();
  sink.afterDurable(log, seq);
}

/** XRANGE / XREVRANGE over [start, end]; `count` 0 = all. */
export function streamRange(
  value: StreamValue,
  start: StreamId,
  end: StreamId,
  count: number,
  reverse: boolean,
): Promise<StreamEntry[]> {
  if (reverse) return value.log.read(start, end, count, true);
  return value.log.read(start, end, count, false);
}

/** What XREAD reads after, per stream: an ID, or `+` (resolved at each attempt, as 7.4 does). */
export type ReadAfter = StreamId | 'last-entry';

/**
 * Each key's stream's last ID now (StreamId.MAX for a key that holds no stream): what a
 * blocked read may serve when it is woken (Blocked.onWake), later entries being Redis's next.
 */
export function lastIdsNow(broker: Broker, db: number, keys: readonly Buffer[]): StreamId[] {
  return keys.map((k) => {
    const v = broker.keyspace.get(db, k);
    return v?.type === 'stream' ? v.log.lastId : StreamId.MAX;
  });
}

/** What a blocked read was woken by: each stream's last ID then, and the key signalled. */
export interface Woken {
  /** lastIdsNow at the wake; null: the streams as they are now. */
  readonly upTo: readonly StreamId[] | null;
  /** The index of the key signalled (Redis serves from it first); -1 when not known. */
  readonly first: number;
}

/** The streams as a woken read sees them now (no snapshot, no key known). */
export const WOKEN_NOW: Woken = { upTo: null, first: -1 };

/** Notes a wake-up by the key `id` (a keyId) of `keys`, in database `db`. */
export function wokenBy(broker: Broker, db: number, keys: readonly Buffer[], id: string): Woken {
  return {
    upTo: lastIdsNow(broker, db, keys),
    first: keys.findIndex((k) => keyId(db, k) === id),
  };
}

/** The order a woken read looks at its `n` keys in: the one signalled, then the rest in order. */
export function wakeOrder(n: number, first: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (first > 0) order.unshift(...order.splice(first, 1));
  return order;
}

/**
 * A blocked XREAD served as Redis 7.0 serves it (serveClientBlockedOnStreamKey): the first
 * stream, from the signalled key on, whose last ID at the wake passed the client's ID answers
 * alone, with the entries after that ID that existed then (at most `count`; none when they were
 * deleted or trimmed meanwhile). Null when no stream moved past its ID.
 */
export async function serveBlockedXread(
  broker: Broker,
  db: number,
  keys: readonly Buffer[],
  after: readonly ReadAfter[],
  count: number,
  woken: Woken,
): Promise<[Buffer, StreamEntry[]] | null> {
  for (const i of wakeOrder(keys.length, woken.first)) {
    const key = keys[i] as Buffer;
    const found = broker.keyspace.get(db, key);
    if (found?.type !== 'stream') continue;
    const upTo = woken.upTo?.[i] ?? found.log.lastId;
    const gt = after[i] as ReadAfter;
    if (gt === 'last-entry') {
      // 7.4's `+` serves the last entry, which must exist.
      const [served] = await xreadAttempt(broker, db, [key], [gt], count, true, [upTo]);
      if (served) return served;
      continue;
    }
    const start = gt.next();
    if (start === null || upTo.compare(gt) <= 0) continue;
    return [key, await found.log.read(start, upTo, count, false)];
  }
  return null;
}

/**
 * One XREAD attempt: for each stream, the entries after its ID (at most `count`, 0 = all);
 * streams with none are left out. A key of another type fails with WRONGTYPE on the first
 * attempt; once blocked it is passed over (Redis serves a blocked XREAD from streams only).
 */
export async function xreadAttempt(
  broker: Broker,
  db: number,
  keys: readonly Buffer[],
  after: readonly ReadAfter[],
  count: number,
  blocked = false,
  upTo: readonly StreamId[] | null = null,
): Promise<Array<[Buffer, StreamEntry[]]>> {
  const out: Array<[Buffer, StreamEntry[]]> = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as Buffer;
    const found = blocked ? broker.keyspace.get(db, key) : broker.keyspace.stream(db, key);
    const value = found?.type === 'stream' ? found : undefined;
    if (!value || value.log.length === 0) continue;
    let gt = after[i] as ReadAfter;
    if (gt === 'last-entry') gt = (await lastLiveId(value.log))?.prev() ?? StreamId.ZERO;
    const start = gt.next();
    if (start === null) continue;
    const end = upTo?.[i] ?? StreamId.MAX;
    if (start.compare(end) > 0) continue;
    const entries = await value.log.read(start, end, count, false);
    if (entries.length > 0) out.push([key, entries]);
  }
  return out;
}
