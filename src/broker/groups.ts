// Consumer groups of one stream: its groups, their consumers and pending entries lists (PEL,
// see pel.ts), with Redis 7.0 semantics. State lives in memory and is made durable as extension
// records in the stream's own log (storage kinds 64..127), so group changes are ordered with
// the stream's entries and replayed with them; checkpoints hold the whole state (snapshot()),
// and recovery restores the newest one and replays the records after it.
//
// Record bodies, format version 1: one version byte (1), then a msgpack map with the fields
// below. IDs are 16 bytes (ms u64 LE, seq u64 LE, as storage/id.ts writes them); `i` is n IDs
// back to back; names are binary strings; entries-read is an int64 (-1: unknown); counts are
// u64 delivery counts; times are ms since the epoch. Every value is absolute (a time, a count,
// a last-delivered ID), never a delta, so a record applied twice, or over a snapshot that
// already holds it, leaves the same state. One record per command and stream.
//
//   kind name      fields                                            written by
//   64   G_CREATE  g group, l last ID, e entries-read                XGROUP CREATE
//   65   G_DESTROY g                                                 XGROUP DESTROY
//   66   G_SETID   g, l, e                                           XGROUP SETID
//   67   C_CREATE  g, c consumer, t seen time                        XGROUP CREATECONSUMER
//   68   C_DEL     g, c (its pending entries go with it)             XGROUP DELCONSUMER
//   69   DELIVER   g, c, t delivery = seen time, i IDs now owned by  XREADGROUP (new entries,
//                  c, [k counts; absent: all 1], [l, e: the group's  or history re-delivered)
//                  new position]
//   70   ACK       g, i IDs acknowledged                             XACK
//   71   CLAIM     g, c, t delivery time, s seen time, i IDs now     XCLAIM, XAUTOCLAIM
//                  owned by c, k their counts, d IDs dropped from
//                  the PEL (their entries are gone), [l last ID]
//
// Replay rules: a record naming a missing group is skipped (the group went later, and the
// snapshot already shows that); the consumer of a DELIVER, or of a CLAIM with IDs, is created
// when missing, as XREADGROUP and XCLAIM do. A body with another version byte or a bad shape
// throws, which stops recovery naming the kind: the frame's checksum was good, so it is a
// newer format or a bug, and skipping it would silently lose pending entries. Memory is
// changed before the record is queued (under the key lock, after any reads), so a checkpoint
// drafted in between may hold a change whose record follows it; absolute values make that
// replay harmless (tested by replaying every suffix over every later snapshot).
//
// Snapshot (the checkpoint's `ext`): version byte 1, then msgpack {v: [group...]}, each group
// {n name, l, e, c: [[name, seen time]...] (by name), p: PEL columns (Pel.exportColumns; the
// owner is an index into c)}. null when the stream has no groups.
//
// Not logged: a seen time refreshed by a command that changes nothing else (an XREADGROUP of a
// consumer's history that re-delivers nothing). It stays in memory and reaches disk with the
// next checkpoint, so such polling never writes. (Redis 7.0 does not even look a consumer up
// for an XREADGROUP `>` that serves nothing, or an XCLAIM/XAUTOCLAIM that claims nothing.)
import assert from 'node:assert';
import { Packr } from 'msgpackr';
import { StreamId } from '../../storage/id';
import type { StreamEntry } from '../../storage/records';
import type { StreamExtension, StreamLog } from '../../storage/stream-log';
import { Pel, wrapCount, type PelColumns, type PelCursor } from './pel';

export const KIND_G_CREATE = 64;
export const KIND_G_DESTROY = 65;
export const KIND_G_SETID = 66;
export const KIND_C_CREATE = 67;
export const KIND_C_DEL = 68;
export const KIND_DELIVER = 69;
export const KIND_ACK = 70;
export const KIND_CLAIM = 71;
const FORMAT_VERSION = 1;

/** A group's entries-read counter when it is not known (Redis SCG_INVALID_ENTRIES_READ). */
export const ENTRIES_READ_UNKNOWN = -1n;
/** Entries an XREADGROUP blocked without COUNT gets at most (XREAD_BLOCKED_DEFAULT_COUNT). */
export const BLOCKED_READ_DEFAULT_COUNT = 1000;
/** IDs read per storage call when fetching pending entries by ID. */
const READ_BATCH_IDS = 64;

export type Count = number | bigint;

export class Consumer {
  constructor(
    readonly name: Buffer,
    readonly slot: number,
    public seenMs: number,
  ) {}
}

export class Group {
  readonly pel = new Pel();
  private readonly byName = new Map<string, Consumer>();
  private readonly bySlot: (Consumer | undefined)[] = [];
  private readonly freeSlots: number[] = [];

  constructor(
    readonly name: Buffer,
    public lastId: StreamId,
    public entriesRead: bigint,
  ) {}

  get consumerCount(): number {
    return this.byName.size;
  }

  consumer(name: Buffer): Consumer | undefined {
    return this.byName.get(name.toString('latin1'));
  }

  consumerAt(slot: number): Consumer {
    const c = this.bySlot[slot];
    assert(c, 'a pending entry belongs to a consumer');
    return c;
  }

  addConsumer(name: Buffer, seenMs: number): Consumer {
    assert(!this.consumer(name), 'consumer names are unique');
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    const c = new Consumer(Buffer.from(name), slot, seenMs);
    this.byName.set(name.toString('latin1'), c);
    this.bySlot[slot] = c;
    return c;
  }

  /** Removes a consumer and its pending entries; returns how many it had. */
  removeConsumer(c: Consumer): number {
    const pending = this.pel.deleteOwner(c.slot);
    this.byName.delete(c.name.toString('latin1'));
    this.bySlot[c.slot] = undefined;
    this.freeSlots.push(c.slot);
    return pending;
  }

  /** Consumers in name order (Redis keeps them in a radix tree). */
  consumers(): Consumer[] {
    return [...this.byName.values()].sort((a, b) => Buffer.compare(a.name, b.name));
  }
}

// ---- records -------------------------------------------------------------------------------

type GroupChange =
  | { kind: typeof KIND_G_CREATE | typeof KIND_G_SETID; g: Buffer; l: StreamId; e: bigint }
  | { kind: typeof KIND_G_DESTROY; g: Buffer }
  | { kind: typeof KIND_C_CREATE; g: Buffer; c: Buffer; t: number }
  | { kind: typeof KIND_C_DEL; g: Buffer; c: Buffer }
  | ({ kind: typeof KIND_DELIVER; g: Buffer; c: Buffer; t: number; i: StreamId[] } & Moved & {
        k: Count[] | null;
      })
  | { kind: typeof KIND_ACK; g: Buffer; i: StreamId[] }
  | ({ kind: typeof KIND_CLAIM; g: Buffer; c: Buffer; t: number; s: number } & Claimed);

/** A group's new position; l null: unchanged. */
interface Moved {
  l: StreamId | null;
  e: bigint;
}

interface Claimed {
  i: StreamId[];
  k: Count[];
  d: StreamId[];
  l: StreamId | null;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

function idsBuffer(ids: readonly StreamId[]): Buffer {
  const buf = Buffer.allocUnsafe(ids.length * 16);
  ids.forEach((id, n) => id.write(buf, n * 16));
  return buf;
}

function encodeBody(fields: Record<string, unknown>): Buffer {
  // packr reuses its output buffer between calls: copy it out.
  const packed = packr.pack(fields);
  const out = Buffer.allocUnsafe(1 + packed.length);
  out[0] = FORMAT_VERSION;
  packed.copy(out, 1);
  return out;
}

function encodeChange(ch: GroupChange): Buffer {
  const ids = (i: StreamId[]) => idsBuffer(i);
  switch (ch.kind) {
    case KIND_G_CREATE:
    case KIND_G_SETID:
      return encodeBody({ g: ch.g, l: ch.l.toBuffer(), e: ch.e });
    case KIND_G_DESTROY:
      return encodeBody({ g: ch.g });
    case KIND_C_CREATE:
      return encodeBody({ g: ch.g, c: ch.c, t: ch.t });
    case KIND_C_DEL:
      return encodeBody({ g: ch.g, c: ch.c });
    case KIND_DELIVER: {
      const body: Record<string, unknown> = { g: ch.g, c: ch.c, t: ch.t, i: ids(ch.i) };
      if (ch.k) body['k'] = ch.k;
      if (ch.l) Object.assign(body, { l: ch.l.toBuffer(), e: ch.e });
      return encodeBody(body);
    }
    case KIND_ACK:
      return encodeBody({ g: ch.g, i: ids(ch.i) });
    case KIND_CLAIM: {
      const body: Record<string, unknown> = { g: ch.g, c: ch.c, t: ch.t, s: ch.s };
      Object.assign(body, { i: ids(ch.i), k: ch.k, d: ids(ch.d) });
      if (ch.l) body['l'] = ch.l.toBuffer();
      return encodeBody(body);
    }
  }
}

/** Field readers for decoding: each throws on a missing or mistyped field. */
class Fields {
  constructor(
    private readonly o: Record<string, unknown>,
    /** What is decoded, for errors: `record of kind 69`, `snapshot group`. */
    private readonly what: string,
  ) {}

  private fail(name: string): never {
    throw new Error(`consumer-group ${this.what}: bad field '${name}'`);
  }
  bytes(name: string): Buffer {
    const v = this.o[name];
    return Buffer.isBuffer(v) ? v : this.fail(name);
  }
  id(name: string): StreamId {
    const b = this.bytes(name);
    return b.length === 16 ? StreamId.read(b, 0) : this.fail(name);
  }
  optId(name: string): StreamId | null {
    return this.o[name] === undefined ? null : this.id(name);
  }
  ids(name: string): StreamId[] {
    const b = this.bytes(name);
    if (b.length % 16 !== 0) this.fail(name);
    return Array.from({ length: b.length / 16 }, (_, n) => StreamId.read(b, n * 16));
  }
  int(name: string): bigint {
    const v = this.o[name];
    if (typeof v === 'bigint') return v;
    return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : this.fail(name);
  }
  time(name: string): number {
    const v = this.o[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(name);
  }
  counts(name: string, n: number): Count[] {
    const v = this.o[name];
    const ok = (x: unknown) => typeof x === 'bigint' || (typeof x === 'number' && x >= 0);
    if (!Array.isArray(v) || v.length !== n || !v.every(ok)) this.fail(name);
    return (v as Count[]).map((x) => wrapCount(x));
  }
}

function decodeChange(kind: number, body: Buffer): GroupChange {
  if (body.length < 1 || body[0] !== FORMAT_VERSION) {
    throw new Error(`consumer-group record of kind ${kind}: unknown format version ${body[0]}`);
  }
  const o: unknown = packr.unpack(body.subarray(1));
  if (typeof o !== 'object' || o === null) throw new Error(`bad consumer-group record ${kind}`);
  const f = new Fields(o as Record<string, unknown>, `record of kind ${kind}`);
  const g = f.bytes('g');
  switch (kind) {
    case KIND_G_CREATE:
    case KIND_G_SETID:
      return { kind, g, l: f.id('l'), e: f.int('e') };
    case KIND_G_DESTROY:
      return { kind, g };
    case KIND_C_CREATE:
      return { kind, g, c: f.bytes('c'), t: f.time('t') };
    case KIND_C_DEL:
      return { kind, g, c: f.bytes('c') };
    case KIND_DELIVER: {
      const i = f.ids('i');
      const l = f.optId('l');
      const k = (o as Record<string, unknown>)['k'] === undefined ? null : f.counts('k', i.length);
      return { kind, g, c: f.bytes('c'), t: f.time('t'), i, k, l, e: l ? f.int('e') : 0n };
    }
    case KIND_ACK:
      return { kind, g, i: f.ids('i') };
    case KIND_CLAIM: {
      const i = f.ids('i');
      const claimed = { i, k: f.counts('k', i.length), d: f.ids('d'), l: f.optId('l') };
      return { kind, g, c: f.bytes('c'), t: f.time('t'), s: f.time('s'), ...claimed };
    }
    default:
      throw new Error(`unknown consumer-group record kind ${kind}`);
  }
}

// ---- Redis's entries-read and lag arithmetic (t_stream.c, 7.0) ---------------------------

/** The counters of a stream that lag and entries-read depend on (a StreamLog has them). */
export interface StreamCounters {
  readonly lastId: StreamId;
  readonly entriesAdded: bigint;
  readonly maxDeletedId: StreamId;
  readonly firstId: StreamId;
  readonly length: number;
}

/** streamRangeHasTombstones(s, start, NULL): a deleted entry at or after `start`. */
export function hasTombstonesFrom(s: StreamCounters, start: StreamId): boolean {
  if (s.length === 0 || s.maxDeletedId.isZero()) return false;
  if (s.firstId.compare(s.maxDeletedId) > 0) return false;
  return start.compare(s.maxDeletedId) <= 0;
}

/** streamEstimateDistanceFromFirstEverEntry: entries-read at `id`, or ENTRIES_READ_UNKNOWN. */
export function estimateEntriesRead(s: StreamCounters, id: StreamId): bigint {
  if (s.entriesAdded === 0n) return 0n;
  if (s.length === 0 && id.compare(s.lastId) <= 0) return s.entriesAdded;
  const cmpLast = id.compare(s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return ENTRIES_READ_UNKNOWN;
  const cmpFirst = id.compare(s.firstId);
  if (s.maxDeletedId.isZero() || s.maxDeletedId.compare(s.firstId) < 0) {
    if (cmpFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return ENTRIES_READ_UNKNOWN;
}

/** streamReplyWithCGLag: entries not yet delivered to the group, or null when unknown. */
export function groupLag(s: StreamCounters, g: Group): bigint | null {
  if (s.entriesAdded === 0n) return 0n;
  if (g.entriesRead !== ENTRIES_READ_UNKNOWN && !hasTombstonesFrom(s, g.lastId)) {
    return s.entriesAdded - g.entriesRead;
  }
  const read = estimateEntriesRead(s, g.lastId);
  return read === ENTRIES_READ_UNKNOWN ? null : s.entriesAdded - read;
}

/** The group position after delivering `ids` (ascending), as streamReplyWithRange moves it. */
function advance(s: StreamCounters, g: Group, ids: readonly StreamId[]): Moved {
  let l = g.lastId;
  let e = g.entriesRead;
  for (const id of ids) {
    if (id.compare(l) <= 0) continue;
    if (e !== ENTRIES_READ_UNKNOWN && !hasTombstonesFrom(s, id)) e++;
    else if (s.entriesAdded > 0n) e = estimateEntriesRead(s, id);
    l = id;
  }
  return { l: ids.length > 0 ? l : null, e };
}

// ---- reading entries by ID ---------------------------------------------------------------

/**
 * Whether the entry `id` is live, from the log's summaries alone. Exact for IDs that were
 * entries once (every pending ID was), which is all it is used for.
 */
function entryLive(log: StreamLog, id: StreamId): boolean {
  if (log.length === 0 || id.compare(log.firstId) < 0 || id.compare(log.lastId) > 0) {
    return false;
  }
  const seg = log.segmentFor(id);
  return seg !== null && !seg.isDeleted(id);
}

/**
 * The live entries among `ids` (ascending, distinct), keyed by ID text. Reads runs of IDs in one
 * call while most of what comes back is wanted (a consumer's pending entries are usually
 * dense), then falls back to one read per ID.
 */
async function readEntries(log: StreamLog, ids: readonly StreamId[]) {
  const found = new Map<string, StreamEntry>();
  let dense = true;
  for (let at = 0; at < ids.length;) {
    const first = ids[at] as StreamId;
    if (!dense) {
      const [hit] = await log.read(first, first, 1, false);
      if (hit) found.set(first.toString(), hit);
      at++;
      continue;
    }
    const last = ids[Math.min(at + READ_BATCH_IDS, ids.length) - 1] as StreamId;
    const got = await log.read(first, last, READ_BATCH_IDS, false);
    let hits = 0;
    const wanted = new Set(ids.slice(at, at + READ_BATCH_IDS).map((id) => id.toString()));
    for (const e of got) {
      const k = e.id.toString();
      if (wanted.has(k)) {
        found.set(k, e);
        hits++;
      }
    }
    const full = got.length === READ_BATCH_IDS;
    const coveredTo = full ? (got[got.length - 1] as StreamEntry).id : last;
    while (at < ids.length && (ids[at] as StreamId).compare(coveredTo) <= 0) at++;
    if (full && hits < READ_BATCH_IDS / 4) dense = false;
  }
  return found;
}

function sortedDistinct(ids: readonly StreamId[]): StreamId[] {
  const sorted = [...ids].sort((a, b) => a.compare(b));
  return sorted.filter((id, n) => n === 0 || !id.equals(sorted[n - 1] as StreamId));
}

// ---- results -------------------------------------------------------------------------------

/** An entry in a reply; fields null: a pending ID whose entry was deleted. */
export interface ReadEntry {
  readonly id: StreamId;
  readonly fields: readonly Buffer[] | null;
}

/** What a command changed: seq is the log command to wait for (0: nothing written). */
export interface Written {
  readonly seq: number;
}

export interface PendingRow {
  readonly id: StreamId;
  readonly consumer: Buffer;
  readonly idleMs: number;
  readonly deliveries: Count;
}

export interface ClaimOptions {
  readonly minIdleMs: number;
  /** The new delivery time given the command's time (IDLE/TIME, bounded as Redis does). */
  readonly deliveryMs: (nowMs: number) => number;
  /** RETRYCOUNT, null when not given (or negative). */
  readonly retryCount: bigint | null;
  readonly force: boolean;
  readonly justId: boolean;
  /** LASTID, null when not given. */
  readonly lastId: StreamId | null;
}

export interface AutoClaimResult extends Written {
  readonly next: StreamId;
  readonly claimed: ReadEntry[];
  readonly deleted: StreamId[];
}

/** A pending entry's delivery time and count while a claim is worked out. */
interface Nack {
  deliveryMs: number;
  deliveries: Count;
}

// ---- the groups of one stream -------------------------------------------------------------

export class StreamGroups implements StreamExtension {
  private readonly groups = new Map<string, Group>();

  /** Number of groups (XINFO STREAM `groups`). */
  get size(): number {
    return this.groups.size;
  }

  get(name: Buffer): Group | undefined {
    return this.groups.get(name.toString('latin1'));
  }

  /** Groups in name order (Redis keeps them in a radix tree). */
  list(): Group[] {
    return [...this.groups.values()].sort((a, b) => Buffer.compare(a.name, b.name));
  }

  // ---- StreamExtension: recovery and checkpoints ----

  restore(snapshot: Buffer | null): void {
    this.groups.clear();
    if (snapshot === null) return;
    if (snapshot[0] !== FORMAT_VERSION) {
      throw new Error(`consumer-group snapshot: unknown format version ${snapshot[0]}`);
    }
    const o = packr.unpack(snapshot.subarray(1)) as { v?: unknown };
    if (!Array.isArray(o.v)) throw new Error('consumer-group snapshot: no group list');
    for (const raw of o.v as Record<string, unknown>[]) this.restoreGroup(raw);
  }

  private restoreGroup(raw: Record<string, unknown>): void {
    const f = new Fields(raw, 'snapshot group');
    const g = new Group(Buffer.from(f.bytes('n')), f.id('l'), f.int('e'));
    const consumers = raw['c'];
    if (!Array.isArray(consumers)) throw new Error('consumer-group snapshot: bad consumers');
    for (const c of consumers as unknown[]) {
      if (!Array.isArray(c) || !Buffer.isBuffer(c[0]) || typeof c[1] !== 'number') {
        throw new Error('consumer-group snapshot: bad consumer');
      }
      g.addConsumer(c[0], c[1]);
    }
    const p = raw['p'] as PelColumns | undefined;
    if (!p || !Buffer.isBuffer(p.owners) || !Array.isArray(p.big)) {
      throw new Error('consumer-group snapshot: bad PEL');
    }
    for (let n = 0; n < p.owners.length; n += 4) {
      if (p.owners.readUInt32LE(n) >= consumers.length) {
        throw new Error('consumer-group snapshot: a pending entry without its consumer');
      }
    }
    g.pel.importColumns(p);
    this.groups.set(g.name.toString('latin1'), g);
  }

  apply(kind: number, body: Buffer): void {
    this.applyChange(decodeChange(kind, body));
  }

  snapshot(): Buffer | null {
    if (this.groups.size === 0) return null;
    const v = this.list().map((g) => {
      const consumers = g.consumers();
      const index = new Map(consumers.map((c, n) => [c.slot, n]));
      const p = g.pel.exportColumns();
      const owners = Buffer.allocUnsafe(p.owners.length);
      for (let n = 0; n < owners.length; n += 4) {
        owners.writeUInt32LE(index.get(p.owners.readUInt32LE(n)) as number, n);
      }
      const c = consumers.map((x) => [x.name, x.seenMs]);
      return { n: g.name, l: g.lastId.toBuffer(), e: g.entriesRead, c, p: { ...p, owners } };
    });
    return encodeBody({ v });
  }

  // ---- changes: applied live and on replay by the same code ----

  private applyChange(ch: GroupChange): void {
    const key = ch.g.toString('latin1');
    if (ch.kind === KIND_G_CREATE) {
      this.groups.set(key, new Group(Buffer.from(ch.g), ch.l, ch.e));
      return;
    }
    const g = this.groups.get(key);
    if (!g) return;
    switch (ch.kind) {
      case KIND_G_DESTROY:
        this.groups.delete(key);
        return;
      case KIND_G_SETID:
        g.lastId = ch.l;
        g.entriesRead = ch.e;
        return;
      case KIND_C_CREATE:
        if (!g.consumer(ch.c)) g.addConsumer(ch.c, ch.t);
        return;
      case KIND_C_DEL: {
        const c = g.consumer(ch.c);
        if (c) g.removeConsumer(c);
        return;
      }
      case KIND_ACK:
        for (const id of ch.i) g.pel.delete(id);
        return;
      case KIND_DELIVER:
        return applyDeliver(g, ch);
      case KIND_CLAIM:
        return applyClaim(g, ch);
    }
  }

  /** Applies a change, then queues its record; resolves with the seq to wait for. */
  private commit(log: StreamLog, ch: GroupChange): Promise<number> {
    // A broken disk refuses the change before memory moves ahead of the log.
    if (log.writeFailure) throw log.writeFailure;
    const body = encodeChange(ch);
    this.applyChange(ch);
    return log.appendExtApplied(ch.kind, body);
  }

  // ---- XGROUP ----

  /** XGROUP CREATE; null when the name is taken (BUSYGROUP). */
  async create(log: StreamLog, name: Buffer, lastId: StreamId, entriesRead: bigint) {
    if (this.get(name)) return null;
    const seq = await this.commit(log, { kind: KIND_G_CREATE, g: name, l: lastId, e: entriesRead });
    return { seq };
  }

  async setId(log: StreamLog, g: Group, lastId: StreamId, entriesRead: bigint): Promise<Written> {
    const seq = await this.commit(log, {
      kind: KIND_G_SETID,
      g: g.name,
      l: lastId,
      e: entriesRead,
    });
    return { seq };
  }

  async destroy(log: StreamLog, g: Group): Promise<Written> {
    return { seq: await this.commit(log, { kind: KIND_G_DESTROY, g: g.name }) };
  }

  /** XGROUP CREATECONSUMER; seq 0 when the consumer existed. */
  async createConsumer(log: StreamLog, g: Group, name: Buffer, nowMs: number) {
    if (g.consumer(name)) return { created: false, seq: 0 };
    const seq = await this.commit(log, { kind: KIND_C_CREATE, g: g.name, c: name, t: nowMs });
    return { created: true, seq };
  }

  /** XGROUP DELCONSUMER: the consumer's pending count (0 when it did not exist). */
  async deleteConsumer(log: StreamLog, g: Group, name: Buffer) {
    const c = g.consumer(name);
    if (!c) return { pending: 0, seq: 0 };
    const pending = g.pel.ownedCount(c.slot);
    const seq = await this.commit(log, { kind: KIND_C_DEL, g: g.name, c: name });
    return { pending, seq };
  }

  // ---- XREADGROUP ----

  /**
   * XREADGROUP `>`: entries after the group's last-delivered ID, at most `count` (0: all),
   * now pending for the consumer unless `noAck`. `upTo`: read no further (a blocked read
   * serves what existed when it was woken); `served`: a blocked read is served, entries or not.
   */
  async readNew(
    log: StreamLog,
    g: Group,
    consumer: Buffer,
    count: number,
    noAck: boolean,
    upTo: StreamId = StreamId.MAX,
    served = false,
  ) {
    const start = g.lastId.next();
    const got = start && start.compare(upTo) <= 0 ? await log.read(start, upTo, count, false) : [];
    // Nothing to serve: Redis 7.0 neither creates nor refreshes the consumer, unless it serves
    // a blocked client (`served`) whose new entries were deleted before it ran.
    if (got.length === 0 && !served) return { entries: [] as ReadEntry[], seq: 0 };
    const nowMs = Date.now();
    const ids = got.map((e) => e.id);
    const moved = advance(log, g, ids);
    const i = noAck ? [] : ids;
    const seq = await this.commit(log, {
      ...{ kind: KIND_DELIVER, g: g.name, c: consumer, t: nowMs },
      ...{ i, k: null, l: moved.l, e: moved.e },
    });
    return { entries: got as ReadEntry[], seq };
  }

  /**
   * XREADGROUP with an ID: the consumer's pending entries after `after`, at most `count` (0:
   * all), each delivered again (time now, count + 1) unless its entry is gone (fields null).
   */
  async readHistory(log: StreamLog, g: Group, consumer: Buffer, after: StreamId, count: number) {
    const ids: StreamId[] = [];
    const counts: Count[] = [];
    const c = g.consumer(consumer);
    // Redis's streamIncrID wraps the top ID to 0-0 here, so that history starts over.
    if (c) {
      g.pel.scanOwner(c.slot, after.next() ?? StreamId.ZERO, (e) => {
        ids.push(e.id());
        counts.push(e.deliveries);
        return count === 0 || ids.length < count;
      });
    }
    const found = await readEntries(log, ids);
    const nowMs = Date.now();
    const entries: ReadEntry[] = ids.map((id) => found.get(id.toString()) ?? { id, fields: null });
    const again = ids.filter((id) => found.has(id.toString()));
    const k = counts.filter((_, n) => found.has((ids[n] as StreamId).toString())).map(inc);
    if (c && again.length === 0) {
      c.seenMs = nowMs;
      return { entries, seq: 0 };
    }
    const seq = await this.commit(log, {
      ...{ kind: KIND_DELIVER, g: g.name, c: consumer, t: nowMs },
      ...{ i: again, k, l: null, e: 0n },
    });
    return { entries, seq };
  }

  // ---- XACK ----

  async ack(log: StreamLog, g: Group, ids: readonly StreamId[]) {
    const seen = new Set<string>();
    const acked = ids.filter((id) => {
      const k = id.toString();
      if (seen.has(k) || !g.pel.has(id)) return false;
      seen.add(k);
      return true;
    });
    if (acked.length === 0) return { count: 0, seq: 0 };
    const seq = await this.commit(log, { kind: KIND_ACK, g: g.name, i: acked });
    return { count: acked.length, seq };
  }

  // ---- XPENDING ----

  /** XPENDING's summary form: count, smallest and largest ID, pending per consumer. */
  pendingSummary(g: Group) {
    const consumers = g
      .consumers()
      .map((c) => ({ name: c.name, count: g.pel.ownedCount(c.slot) }))
      .filter((c) => c.count > 0);
    return { count: g.pel.size, first: g.pel.first(), last: g.pel.last(), consumers };
  }

  /**
   * XPENDING's extended form: entries in [start, end] idle at least `minIdleMs` (when
   * non-zero), at most `count`, of one consumer when `consumer` is given.
   */
  pendingRange(
    g: Group,
    range: { start: StreamId; end: StreamId; count: number; minIdleMs: number },
    consumer: Buffer | null,
  ): PendingRow[] {
    const rows: PendingRow[] = [];
    const nowMs = Date.now();
    const visit = (e: PelCursor): boolean => {
      if (rows.length >= range.count) return false;
      const id = e.id();
      if (id.compare(range.end) > 0) return false;
      const idle = nowMs - e.deliveryMs;
      if (range.minIdleMs !== 0 && idle < range.minIdleMs) return true;
      const name = g.consumerAt(e.owner).name;
      rows.push({ id, consumer: name, idleMs: Math.max(0, idle), deliveries: e.deliveries });
      return true;
    };
    if (range.count <= 0) return rows;
    if (consumer === null) g.pel.scan(range.start, visit);
    else {
      const c = g.consumer(consumer);
      if (c) g.pel.scanOwner(c.slot, range.start, visit);
    }
    return rows;
  }

  // ---- XCLAIM and XAUTOCLAIM ----

  /**
   * XCLAIM: gives `consumer` the pending `ids` idle at least `minIdleMs`, in argument order
   * (repeats included); pending IDs whose entry is gone leave the PEL. Returns the claimed IDs
   * with their entries (fields null under JUSTID).
   */
  async claim(
    log: StreamLog,
    g: Group,
    consumer: Buffer,
    ids: readonly StreamId[],
    opts: ClaimOptions,
  ) {
    const live = new Map<string, boolean>();
    let found = new Map<string, StreamEntry>();
    const candidates = sortedDistinct(ids).filter((id) => opts.force || g.pel.has(id));
    if (!opts.justId) found = await readEntries(log, candidates);
    for (const id of candidates) {
      const k = id.toString();
      if (!opts.justId) live.set(k, found.has(k));
      else if (g.pel.has(id)) live.set(k, entryLive(log, id));
      else live.set(k, (await log.read(id, id, 1, false)).length === 1);
    }
    const nowMs = Date.now();
    const deliveryMs = opts.deliveryMs(nowMs);
    const plan = planClaim(g, ids, live, opts, nowMs, deliveryMs);
    const lastId = opts.lastId && opts.lastId.compare(g.lastId) > 0 ? opts.lastId : null;
    const finals = [...plan.final.values()];
    const ch: GroupChange = {
      kind: KIND_CLAIM,
      g: g.name,
      c: consumer,
      t: deliveryMs,
      s: nowMs,
      ...{ i: finals.map((f) => f.id), k: finals.map((f) => f.deliveries), d: plan.dropped },
      l: lastId,
    };
    const seq = await this.commitClaim(log, ch);
    const claimed = plan.claimed.map((id) => found.get(id.toString()) ?? { id, fields: null });
    return { claimed: claimed as ReadEntry[], seq };
  }

  /**
   * XAUTOCLAIM: scans the PEL from `start`, visiting at most `count` * 10 entries, and claims
   * those idle at least `minIdleMs` until `count` entries are claimed or dropped (gone from
   * the stream). `next` is the cursor for the next call (0-0: the scan reached the end).
   */
  async autoClaim(
    log: StreamLog,
    g: Group,
    consumer: Buffer,
    scan: { minIdleMs: number; start: StreamId; count: number; justId: boolean },
  ): Promise<AutoClaimResult> {
    const nowMs = Date.now();
    const plan = planAutoClaim(log, g, scan, nowMs);
    const ids = plan.claimed.map((x) => x.id);
    const found = scan.justId ? null : await readEntries(log, ids);
    const ch: GroupChange = {
      kind: KIND_CLAIM,
      g: g.name,
      c: consumer,
      t: nowMs,
      s: nowMs,
      ...{ i: ids, k: plan.claimed.map((x) => x.deliveries), d: plan.dropped, l: null },
    };
    const seq = await this.commitClaim(log, ch);
    const next = plan.lastVisited ? (g.pel.after(plan.lastVisited) ?? StreamId.ZERO) : null;
    const claimed = ids.map((id) => {
      if (!found) return { id, fields: null };
      const e = found.get(id.toString());
      assert(e, 'a pending entry the log summaries call live can be read');
      return e;
    });
    return { next: next ?? StreamId.ZERO, claimed, deleted: plan.dropped, seq };
  }

  /**
   * Commits a CLAIM unless it changes nothing. Redis 7.0 creates (or refreshes) the consumer
   * only when it claims an entry, so a CLAIM without IDs leaves consumers alone.
   */
  private async commitClaim(
    log: StreamLog,
    ch: GroupChange & { kind: typeof KIND_CLAIM },
  ): Promise<number> {
    if (ch.i.length === 0 && ch.d.length === 0 && ch.l === null) return 0;
    return this.commit(log, ch);
  }

  // ---- XINFO ----

  /** XINFO GROUPS, in group name order. */
  groupsInfo(s: StreamCounters) {
    return this.list().map((g) => ({
      name: g.name,
      consumers: g.consumerCount,
      pending: g.pel.size,
      lastId: g.lastId,
      entriesRead: g.entriesRead === ENTRIES_READ_UNKNOWN ? null : g.entriesRead,
      lag: groupLag(s, g),
    }));
  }

  /** XINFO CONSUMERS, in name order. */
  consumersInfo(g: Group) {
    const nowMs = Date.now();
    return g.consumers().map((c) => ({
      name: c.name,
      pending: g.pel.ownedCount(c.slot),
      idleMs: Math.max(0, nowMs - c.seenMs),
    }));
  }

  /** XINFO STREAM FULL's groups: PELs and each consumer's PEL cut at `count` (0: all). */
  fullInfo(s: StreamCounters, count: number) {
    const upTo = (n: number) => count === 0 || n < count;
    return this.list().map((g) => {
      const pel: Array<{ id: StreamId; consumer: Buffer; deliveryMs: number; deliveries: Count }> =
        [];
      g.pel.scan(StreamId.ZERO, (e) => {
        if (!upTo(pel.length)) return false;
        const consumer = g.consumerAt(e.owner).name;
        pel.push({ id: e.id(), consumer, deliveryMs: e.deliveryMs, deliveries: e.deliveries });
        return true;
      });
      const consumers = g.consumers().map((c) => {
        const own: Array<{ id: StreamId; deliveryMs: number; deliveries: Count }> = [];
        g.pel.scanOwner(c.slot, StreamId.ZERO, (e) => {
          if (!upTo(own.length)) return false;
          own.push({ id: e.id(), deliveryMs: e.deliveryMs, deliveries: e.deliveries });
          return true;
        });
        return { name: c.name, seenMs: c.seenMs, pending: g.pel.ownedCount(c.slot), pel: own };
      });
      const entriesRead = g.entriesRead === ENTRIES_READ_UNKNOWN ? null : g.entriesRead;
      const lag = groupLag(s, g);
      return {
        name: g.name,
        lastId: g.lastId,
        entriesRead,
        lag,
        pending: g.pel.size,
        pel,
        consumers,
      };
    });
  }
}

const inc = (n: Count): Count => wrapCount(typeof n === 'bigint' ? n + 1n : n + 1);

function applyDeliver(g: Group, ch: GroupChange & { kind: typeof KIND_DELIVER }): void {
  const c = g.consumer(ch.c) ?? g.addConsumer(ch.c, ch.t);
  c.seenMs = ch.t;
  if (ch.l) {
    g.lastId = ch.l;
    g.entriesRead = ch.e;
  }
  ch.i.forEach((id, n) => g.pel.set(id, c.slot, ch.t, ch.k ? (ch.k[n] as Count) : 1));
}

function applyClaim(g: Group, ch: GroupChange & { kind: typeof KIND_CLAIM }): void {
  if (ch.l) g.lastId = ch.l;
  for (const id of ch.d) g.pel.delete(id);
  if (ch.i.length === 0) return;
  const c = g.consumer(ch.c) ?? g.addConsumer(ch.c, ch.s);
  c.seenMs = ch.s;
  ch.i.forEach((id, n) => g.pel.set(id, c.slot, ch.t, ch.k[n] as Count));
}

/** XCLAIM's loop (t_stream.c xclaimCommand) over the IDs in order, without changing the PEL. */
function planClaim(
  g: Group,
  ids: readonly StreamId[],
  live: ReadonlyMap<string, boolean>,
  opts: ClaimOptions,
  nowMs: number,
  deliveryMs: number,
) {
  /** Entries this command changed so far (null: dropped), so repeated IDs see their update. */
  const state = new Map<string, Nack | null>();
  const final = new Map<string, { id: StreamId; deliveries: Count }>();
  const dropped: StreamId[] = [];
  const claimed: StreamId[] = [];
  for (const id of ids) {
    const k = id.toString();
    let nack = state.has(k) ? (state.get(k) as Nack | null) : pelNack(g, id);
    if (live.get(k) !== true) {
      if (nack) {
        dropped.push(id);
        state.set(k, null);
      }
      continue;
    }
    // FORCE makes a new entry for an ID not pending; its idle time does not count.
    const created = opts.force && !nack;
    if (created) nack = { deliveryMs: nowMs, deliveries: 1 };
    if (!nack) continue;
    if (!created && opts.minIdleMs !== 0 && nowMs - nack.deliveryMs < opts.minIdleMs) continue;
    let deliveries = nack.deliveries;
    if (opts.retryCount !== null) deliveries = wrapCount(opts.retryCount);
    else if (!opts.justId) deliveries = inc(deliveries);
    state.set(k, { deliveryMs, deliveries });
    final.set(k, { id, deliveries });
    claimed.push(id);
  }
  return { claimed, final, dropped };
}

function pelNack(g: Group, id: StreamId): Nack | null {
  const e = g.pel.get(id);
  return e ? { deliveryMs: e.deliveryMs, deliveries: e.deliveries } : null;
}

/** XAUTOCLAIM's scan (t_stream.c xautoclaimCommand), without changing the PEL. */
function planAutoClaim(
  log: StreamLog,
  g: Group,
  scan: { minIdleMs: number; start: StreamId; count: number; justId: boolean },
  nowMs: number,
) {
  let attempts = scan.count * 10;
  let left = scan.count;
  let lastVisited: StreamId | null = null;
  const claimed: Array<{ id: StreamId; deliveries: Count }> = [];
  const dropped: StreamId[] = [];
  g.pel.scan(scan.start, (e) => {
    if (attempts <= 0 || left <= 0) return false;
    attempts--;
    const id = e.id();
    lastVisited = id;
    if (!entryLive(log, id)) {
      dropped.push(id);
      left--;
      return true;
    }
    if (scan.minIdleMs !== 0 && nowMs - e.deliveryMs < scan.minIdleMs) return true;
    claimed.push({ id, deliveries: scan.justId ? e.deliveries : inc(e.deliveries) });
    left--;
    return true;
  });
  return { claimed, dropped, lastVisited: lastVisited as StreamId | null };
}
