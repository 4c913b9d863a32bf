// Recovery after crashes and damage, scenario by scenario, following the decision table in
// storage/recovery.ts. A crash is simulated by copying the data directory while the store is
// still open (after the acknowledged appends are durable), so no shutdown checkpoint exists.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamId } from '../../storage/id';
import { Store, type StoreOptions } from '../../storage/store';
import type { StreamLog } from '../../storage/stream-log';
import type { StreamEntry } from '../../storage/records';
import { command, encodeData, readCounters } from '../../storage/records';
import { decodeCheckpoint } from '../../storage/checkpoint';
import { checkFrame, encodeFrame, FRAME_HEADER_BYTES } from '../../storage/frame';
import { CorruptionError, StorageError, type Logger } from '../../storage/errors';
import { SparseIndex } from '../../storage/sparse-index';
import type { RecoveryReport } from '../../storage/recovery';

const b = (s: string) => Buffer.from(s);
const id = (ms: number | bigint, seq: number | bigint = 0) => new StreamId(BigInt(ms), BigInt(seq));
const KEY = b('s');
const STREAM = `k-${KEY.toString('hex')}`;
const SEGMENT_BYTES = 4096;

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-recovery-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

// ---- helpers ----------------------------------------------------------------------------

interface Logged {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown> | undefined;
}

function captureLogger(): { logger: Logger; lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

interface Opened {
  store: Store;
  log: StreamLog;
  lines: Logged[];
  report: RecoveryReport;
}

async function open(root: string, options: StoreOptions = {}): Promise<Opened> {
  const { logger, lines } = captureLogger();
  const store = await Store.open(root, {
    fsync: 'always',
    segmentBytes: SEGMENT_BYTES,
    logger,
    ...options,
  });
  const log = store.get(KEY) ?? (await store.create(KEY));
  return { store, log, lines, report: store.reports.get(KEY.toString('latin1'))! };
}

async function openError(root: string, options: StoreOptions = {}): Promise<unknown> {
  return open(root, options).then(
    async (o) => {
      await o.store.close();
      throw new Error('the store opened');
    },
    (err: unknown) => err,
  );
}

const streamDir = (root: string) => path.join(root, 'streams', STREAM);
const segPath = (root: string, segno: number) =>
  path.join(streamDir(root), `${String(segno).padStart(20, '0')}.seg`);
const idxPath = (root: string, segno: number) =>
  path.join(streamDir(root), `${String(segno).padStart(20, '0')}.idx`);

function entryOf(n: number): StreamEntry {
  return { id: id(n), fields: [b('n'), b(String(n)), b('bin'), Buffer.from([n & 0xff, 0xff])] };
}

async function appendRange(log: StreamLog, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await log.append(() => [entryOf(n)]);
}

/** Appends single entries from `from` until the log has `segments` segments; returns next n. */
async function appendUntilSegments(log: StreamLog, segments: number, from = 1): Promise<number> {
  let n = from;
  while (log.segments.length < segments) await log.append(() => [entryOf(n++)]);
  return n;
}

interface State {
  entries: string[];
  lastId: string;
  firstId: string;
  maxDeletedId: string;
  entriesAdded: bigint;
  length: number;
}

async function stateOf(log: StreamLog): Promise<State> {
  const all = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
  const back = await log.read(StreamId.ZERO, StreamId.MAX, 0, true);
  expect(back.map((e) => e.id.toString())).toEqual(all.map((e) => e.id.toString()).reverse());
  return {
    entries: all.map((e) => `${e.id} ${e.fields.map((f) => f.toString('hex')).join(',')}`),
    lastId: log.lastId.toString(),
    firstId: log.firstId.toString(),
    maxDeletedId: log.maxDeletedId.toString(),
    entriesAdded: log.entriesAdded,
    length: log.length,
  };
}

const idsOf = (s: State) => s.entries.map((e) => e.slice(0, e.indexOf(' ')));

/** Waits until background work (index files, atomic writes) has settled. */
async function quiesce(log: StreamLog): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const names = await fs.readdir(log.dir);
    const sealedIndexed = log.segments
      .filter((s) => s.sealed)
      .every((s) => names.includes(path.basename(s.indexPath)));
    if (sealedIndexed && !names.some((n) => n.endsWith('.tmp'))) return;
    if (Date.now() > deadline) throw new Error(`log did not settle: ${names.join(' ')}`);
    await sleep(5);
  }
}

/** A crash: copies the data directory of an open store, as a kill -9 would leave it. */
async function crashCopy(log: StreamLog, from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await quiesce(log);
    try {
      await fs.cp(from, to, { recursive: true });
      break;
    } catch (err) {
      // A file the log removed while it was copied (an older checkpoint): copy again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw err;
      await fs.rm(to, { recursive: true, force: true });
    }
  }
  await fs.rm(path.join(to, 'LOCK'), { force: true });
}

/** Every file under `root`, by relative path (directories implied). */
async function snapshotDir(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(root, full), await fs.readFile(full));
  }
  return files;
}

/** Recreates `root` holding exactly the snapshot's files (cheaper than fs.cp per restart). */
async function restoreDir(snapshot: Map<string, Buffer>, root: string): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
  const dirs = new Set([...snapshot.keys()].map((rel) => path.dirname(path.join(root, rel))));
  dirs.add(path.join(root, 'journal'));
  for (const dir of dirs) await fs.mkdir(dir, { recursive: true });
  for (const [rel, data] of snapshot) await fs.writeFile(path.join(root, rel), data);
}

/** Polls `cond` every few milliseconds for at most 5 s. */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached in 5 s');
    await sleep(5);
  }
}

/** Segment file names and sizes of the stream, in order. */
async function segmentFiles(root: string): Promise<string[]> {
  const names = (await fs.readdir(streamDir(root))).filter((n) => n.endsWith('.seg')).sort();
  const out: string[] = [];
  for (const n of names) {
    const st = await fs.stat(path.join(streamDir(root), n)).catch(() => null);
    if (st) out.push(`${n} ${st.size}`); // null: deleted by retention meanwhile
  }
  return out;
}

async function removeCheckpoints(root: string): Promise<void> {
  for (const n of await fs.readdir(streamDir(root))) {
    if (n.startsWith('checkpoint.')) await fs.rm(path.join(streamDir(root), n));
  }
}

async function checkpointNumbers(root: string): Promise<number[]> {
  const names = await fs.readdir(streamDir(root));
  return names
    .filter((n) => /^checkpoint\.\d+$/.test(n))
    .map((n) => Number(n.slice('checkpoint.'.length)))
    .sort((x, y) => x - y);
}

interface FrameAt {
  start: number;
  end: number;
  dataIds: string[];
}

/** Parses a segment file into its frames; stops at the first frame that does not check. */
async function framesOf(file: string): Promise<FrameAt[]> {
  const buf = await fs.readFile(file);
  const frames: FrameAt[] = [];
  for (let pos = 0; pos < buf.length;) {
    const check = checkFrame(buf, pos, buf.length);
    if (!check.ok) break;
    const dataIds: string[] = [];
    if (check.header.flags & 1) {
      let p = pos + FRAME_HEADER_BYTES;
      for (let i = 0; i < check.header.count; i++) {
        if (buf[p + 4] === 2) dataIds.push(StreamId.read(buf, p + 5).toString());
        p += 5 + buf.readUInt32LE(p);
      }
    }
    frames.push({ start: pos, end: pos + check.header.len, dataIds });
    pos += check.header.len;
  }
  return frames;
}

async function flipBit(file: string, offset: number, bit: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, offset);
    one[0] = one[0]! ^ (1 << bit);
    await fh.write(one, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

function expectCorruption(err: unknown, file: string, offset: number, label: string): void {
  expect(err).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.code).toBe('CORRUPT');
  expect(c.file).toBe(file);
  expect(c.offset).toBe(offset);
  expect(c.message).toContain(file);
  expect(c.message).toContain(`offset ${offset}`);
  expect(c.message).toContain(label);
}

const warned = (lines: Logged[], label: string) =>
  lines.filter((l) => l.level !== 'info' && l.msg.includes(label));

// ---- torn tail ------------------------------------------------------------------------

interface TornFixture {
  base: Map<string, Buffer>;
  /** Expected state when the last segment ends at each frame boundary of its last frames. */
  states: Map<number, State>;
  lastSegno: number;
  frames: FrameAt[];
}

/**
 * Three segments; the last holds single appends, a checkpoint, an EXT record, then the three
 * frames the cuts go through: a DEL (of an entry in a sealed segment and the last entry), an
 * append of three entries in one command, and an append with MAXLEN.
 */
async function buildTornFixture(): Promise<TornFixture> {
  const live = path.join(tmp, 'live');
  const { store, log } = await open(live);
  let n = await appendUntilSegments(log, 3);
  await appendRange(log, n, n + 2);
  n += 3;
  await log.checkpoint();
  await log.appendExt(64, b('group state'));
  const states = new Map<number, State>();
  const record = async () => states.set(log.segments.at(-1)!.size, await stateOf(log));
  await record();
  await log.delete([id(5), id(n - 1)]);
  await record();
  await log.append(() => [entryOf(n), entryOf(n + 1), entryOf(n + 2)]);
  await record();
  await log.append(() => [entryOf(n + 3)], { maxLen: 20, approx: false, limit: 0 });
  await record();
  expect(log.segments.length).toBe(3);
  const base = path.join(tmp, 'base');
  await crashCopy(log, live, base);
  await store.close();
  const frames = await framesOf(segPath(base, 3));
  const snapshot = await snapshotDir(base);
  expect(frames.slice(-3).map((f) => f.start)).toEqual([...states.keys()].slice(0, 3));
  expect(frames.at(-1)!.end).toBe([...states.keys()].at(-1));
  return { base: snapshot, states, lastSegno: 3, frames };
}

/** Every offset from the start of the last 3 frames to the end of the file. */
function everyCut(fx: TornFixture): number[] {
  const cuts: number[] = [];
  for (let cut = fx.frames.at(-3)!.start; cut <= fx.frames.at(-1)!.end; cut++) cuts.push(cut);
  return cuts;
}

/** Every offset of the last frame; of the two before it, their headers and last bytes. */
function someCuts(fx: TornFixture): number[] {
  const last = fx.frames.at(-1)!;
  return everyCut(fx).filter((cut) => {
    if (cut >= last.start) return true;
    const f = fx.frames.find((x) => cut >= x.start && cut < x.end)!;
    return cut < f.start + FRAME_HEADER_BYTES + 8 || cut >= f.end - 8;
  });
}

async function sweepTornTail(fx: TornFixture, cuts: number[], withCheckpoints: boolean) {
  const work = path.join(tmp, 'work');
  const boundaries = [...fx.states.keys()];
  let restarts = 0;
  for (const cut of cuts) {
    await restoreDir(fx.base, work);
    if (!withCheckpoints) await removeCheckpoints(work);
    await fs.truncate(segPath(work, fx.lastSegno), cut);
    const boundary = boundaries.filter((x) => x <= cut).at(-1)!;
    const { store, log, report } = await open(work);
    const at = `cut at ${cut} (frame boundary ${boundary})`;
    expect(report.labels.includes('TORN_TAIL'), at).toBe(cut !== boundary);
    expect(report.fromCheckpoint, at).toBe(withCheckpoints);
    expect(await stateOf(log), at).toEqual(fx.states.get(boundary));
    expect((await fs.stat(segPath(work, fx.lastSegno))).size, at).toBe(boundary);
    await store.close();
    restarts++;
  }
  return restarts;
}

describe('torn tail', () => {
  it('torn tail: a cut at any byte of the last 3 frames keeps just the whole frames', async () => {
    const fx = await buildTornFixture();
    expect(await sweepTornTail(fx, everyCut(fx), true)).toBeGreaterThan(300);
  });

  it('torn tail: without checkpoints, a full scan keeps exactly the complete frames', async () => {
    const fx = await buildTornFixture();
    expect(await sweepTornTail(fx, someCuts(fx), false)).toBeGreaterThan(200);
  });
});

// ---- garbage after the last frame -------------------------------------------------------

/**
 * Cuts a crashed copy's segment to the end of its last whole frame, dropping the zeros it was
 * grown by under `always` (size-ahead.ts), so bytes appended land right after the data.
 */
async function cutToFrames(file: string): Promise<number> {
  const end = (await framesOf(file)).at(-1)?.end ?? 0;
  await fs.truncate(file, end);
  return end;
}

/** A crashed copy of a two-segment log whose last segment has `tail` appended. */
async function crashedWithTail(tail: Buffer) {
  const live = path.join(tmp, 'live');
  const { store, log } = await open(live);
  await appendUntilSegments(log, 2);
  await appendRange(log, 1000, 1003);
  const before = await stateOf(log);
  const root = path.join(tmp, 'crashed');
  await crashCopy(log, live, root);
  await store.close();
  const file = segPath(root, 2);
  const size = await cutToFrames(file);
  await fs.appendFile(file, tail);
  return { root, before, file, size };
}

function pseudoRandom(bytes: number, seed: number): Buffer {
  const buf = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

describe('garbage after the last frame', () => {
  const looksLikeAFrame = () => {
    const fake = Buffer.alloc(120, 0x41);
    fake.writeUInt32LE(120, 0);
    fake.writeUInt32LE(0xdeadbeef, 4);
    fake[8] = 0x53;
    fake[9] = 1;
    return fake;
  };
  const tails: Array<[string, () => Buffer]> = [
    ['random bytes', () => pseudoRandom(300, 7)],
    ['a preallocated zero tail', () => Buffer.alloc(4096)],
    ['fewer zero bytes than a length and CRC', () => Buffer.alloc(5)],
    ['a frame header with a wrong CRC', looksLikeAFrame],
  ];
  for (const [name, tail] of tails) {
    it(`${name} after the last frame: recovered as a torn tail, every entry kept`, async () => {
      const { root, before, file, size } = await crashedWithTail(tail());
      const { store, log, report, lines } = await open(root);
      expect(report.labels).toContain('TORN_TAIL');
      const torn = warned(lines, 'TORN_TAIL')[0]!;
      expect(torn.fields).toMatchObject({ file, offset: size });
      expect(await stateOf(log)).toEqual(before);
      expect((await fs.stat(file)).size).toBe(size);
      await log.append(() => [entryOf(2000)]);
      await store.close();
      const again = await open(root);
      expect(again.report.labels).toEqual([]);
      expect(idsOf(await stateOf(again.log)).at(-1)).toBe('2000-0');
      await again.store.close();
    });
  }
});

// ---- bit flips --------------------------------------------------------------------------

interface FlipFixture {
  base: Map<string, Buffer>;
  before: State;
  /** State before the last append (its frame is the last one of the last segment). */
  beforeLast: State;
  segments: FrameAt[][];
}

/** Three segments, crashed; returns the snapshot with every segment's frames. */
async function buildFlipFixture(segmentsCount = 3): Promise<FlipFixture> {
  const live = path.join(tmp, 'live');
  const { store, log } = await open(live);
  const n = await appendUntilSegments(log, segmentsCount);
  await appendRange(log, n, n + 4);
  const beforeLast = await stateOf(log);
  await log.append(() => [entryOf(n + 5)]);
  const before = await stateOf(log);
  const crashed = path.join(tmp, 'crashed');
  await crashCopy(log, live, crashed);
  await store.close();
  const segments: FrameAt[][] = [];
  for (let s = 1; s <= segmentsCount; s++) segments.push(await framesOf(segPath(crashed, s)));
  return { base: await snapshotDir(crashed), before, beforeLast, segments };
}

/** Where in a frame a bit is flipped: the length, the CRC, the header fields, the records. */
const FLIPS: Array<[string, number, number]> = [
  ['length bit 1', 0, 1],
  ['length bit 10', 1, 2],
  ['length bit 31', 3, 7],
  ['crc', 5, 4],
  ['record count', 12, 0],
  ['first ID', 17, 3],
  ['record body', FRAME_HEADER_BYTES + 9, 6],
];

describe('bit flips', () => {
  it('in the last frame: a torn tail, cut at that frame', async () => {
    const fx = await buildFlipFixture();
    const last = fx.segments[2]!.at(-1)!;
    for (const [what, at, bit] of FLIPS) {
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      await flipBit(segPath(root, 3), last.start + at, bit);
      const { store, log, report } = await open(root);
      expect(report.labels, what).toContain('TORN_TAIL');
      expect(await stateOf(log), what).toEqual(fx.beforeLast);
      expect((await fs.stat(segPath(root, 3))).size, what).toBe(last.start);
      await store.close();
    }
  });

  it('in a middle frame of the last segment: refuses, naming the file and offset', async () => {
    const fx = await buildFlipFixture();
    const middle = fx.segments[2]!.at(-3)!;
    for (const [what, at, bit] of FLIPS) {
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      await flipBit(segPath(root, 3), middle.start + at, bit);
      const before = await fs.readFile(segPath(root, 3));
      const err = await openError(root);
      expectCorruption(err, segPath(root, 3), middle.start, 'CORRUPT_FRAME');
      expect(await fs.readFile(segPath(root, 3)), `${what}: file untouched`).toEqual(before);
    }
  });

  it('in a sealed segment, no checkpoint: refuses at start, even in its last frame', async () => {
    const fx = await buildFlipFixture();
    const frames = fx.segments[0]!;
    const targets = [frames[Math.floor(frames.length / 2)]!, frames.at(-1)!];
    for (const frame of targets) {
      for (const [what, at, bit] of FLIPS) {
        const root = path.join(tmp, 'work');
        await restoreDir(fx.base, root);
        await removeCheckpoints(root);
        await flipBit(segPath(root, 1), frame.start + at, bit);
        const err = await openError(root);
        expect(err, what).toBeInstanceOf(CorruptionError);
        expectCorruption(err, segPath(root, 1), frame.start, 'CORRUPT_FRAME');
      }
    }
  });

  it('in a sealed segment under a checkpoint: starts; a read through it refuses', async () => {
    const fx = await buildFlipFixture();
    const frames = fx.segments[0]!;
    const frame = frames[Math.floor(frames.length / 2)]!;
    const laterFirst = fx.segments[1]![1]!.dataIds[0]!;
    for (const [what, at, bit] of FLIPS) {
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      await flipBit(segPath(root, 1), frame.start + at, bit);
      const { store, log, report } = await open(root);
      expect(report.fromCheckpoint, what).toBe(true);
      for (const reverse of [false, true]) {
        const err = await log.read(StreamId.ZERO, StreamId.MAX, 0, reverse).catch((e) => e);
        expectCorruption(err, segPath(root, 1), frame.start, 'bad frame');
      }
      const from = StreamId.parse(laterFirst)!;
      const later = await log.read(from, StreamId.MAX, 0, false);
      const want = idsOf(fx.before).filter((x) => StreamId.parse(x)!.compare(from) >= 0);
      expect(
        later.map((e) => e.id.toString()),
        what,
      ).toEqual(want);
      await store.close();
    }
  });
});

// ---- --on-corruption truncate and quarantine --------------------------------------------

describe('--on-corruption truncate and quarantine', () => {
  for (const mode of ['truncate', 'quarantine'] as const) {
    it(`${mode}: a bad frame in a sealed segment is cut, later segments are kept`, async () => {
      const fx = await buildFlipFixture(4);
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      await removeCheckpoints(root);
      const frames = fx.segments[1]!;
      const bad = frames[Math.floor(frames.length / 2)]!;
      await flipBit(segPath(root, 2), bad.start + FRAME_HEADER_BYTES + 9, 6);
      const damaged = await fs.readFile(segPath(root, 2));
      const lost = new Set(frames.filter((f) => f.start >= bad.start).flatMap((f) => f.dataIds));
      const want = idsOf(fx.before).filter((x) => !lost.has(x));
      const { store, log, report, lines } = await open(root, { onCorruption: mode });
      expect(report.labels).toContain('CORRUPT_FRAME');
      expect((await fs.stat(segPath(root, 2))).size).toBe(bad.start);
      const names = await fs.readdir(streamDir(root));
      const copies = names.filter((n) => /^0{19}2\.seg\.corrupt\.\d+$/.test(n));
      const logged = warned(lines, 'CORRUPT_FRAME')[0]!;
      expect(logged.fields).toMatchObject({ file: segPath(root, 2), offset: bad.start });
      if (mode === 'quarantine') {
        expect(copies.length).toBe(1);
        expect(await fs.readFile(path.join(streamDir(root), copies[0]!))).toEqual(damaged);
        expect(logged.fields?.copy).toBe(path.join(streamDir(root), copies[0]!));
      } else {
        expect(copies).toEqual([]);
      }
      const state = await stateOf(log);
      expect(idsOf(state)).toEqual(want);
      expect(state.length).toBe(want.length);
      expect(state.lastId).toBe(fx.before.lastId);
      await log.append(() => [entryOf(5000)]);
      await store.close();
      const again = await open(root, { onCorruption: mode });
      expect(again.report.labels).toEqual([]);
      expect(idsOf(await stateOf(again.log))).toEqual([...want, '5000-0']);
      expect((await fs.stat(segPath(root, 2))).size).toBe(bad.start);
      await again.store.close();
    });

    it(`${mode}: a bad middle frame of the last segment goes with the frames after`, async () => {
      const fx = await buildFlipFixture();
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      const frames = fx.segments[2]!;
      const bad = frames.at(-3)!;
      await flipBit(segPath(root, 3), bad.start + 5, 0);
      const lost = new Set(frames.filter((f) => f.start >= bad.start).flatMap((f) => f.dataIds));
      const want = idsOf(fx.before).filter((x) => !lost.has(x));
      const { store, log, report } = await open(root, { onCorruption: mode });
      expect(report.labels).toContain('CORRUPT_FRAME');
      expect(idsOf(await stateOf(log))).toEqual(want);
      expect(log.lastId.toString()).toBe(want.at(-1));
      await log.append(() => [entryOf(5000)]);
      await store.close();
      const again = await open(root);
      expect(idsOf(await stateOf(again.log))).toEqual([...want, '5000-0']);
      await again.store.close();
    });
  }
});

// ---- sparse indexes ---------------------------------------------------------------------

describe('sparse indexes', () => {
  // Segments several index intervals long, so an index has more than one entry.
  const options = { fsync: 'no', segmentBytes: 16 * 1024 } as const;

  /** Four segments, closed cleanly so every sealed segment has its .idx. */
  async function closedLog() {
    const root = path.join(tmp, 'live');
    const { store, log } = await open(root, options);
    const n = await appendUntilSegments(log, 4);
    await appendRange(log, n, n + 3);
    await log.delete([id(n - 20)]);
    const before = await stateOf(log);
    const sizes = log.segments.map((s) => s.size);
    const seg2 = log.segments[1]!;
    const seg2Mid = id((seg2.firstId!.ms + seg2.lastId!.ms) / 2n).toString();
    await store.close();
    return { root, before, sizes, seg2Mid };
  }

  const damage: Array<[string, (file: string, size: number) => Promise<void>]> = [
    ['MISSING_INDEX', (file) => fs.rm(file)],
    ['CORRUPT_INDEX', (file) => flipBit(file, 12, 2)],
    ['CORRUPT_INDEX', async (file) => fs.truncate(file, (await fs.stat(file)).size - 9)],
    [
      'STALE_INDEX',
      async (file) => {
        const { index, footer } = SparseIndex.decode(await fs.readFile(file))!;
        await fs.writeFile(
          file,
          index.encode({ ...footer, coveredBytes: footer.coveredBytes - 1 }),
        );
      },
    ],
  ];
  for (const [label, hurt] of damage) {
    it(`${label}: start succeeds and reads through the segment rebuild its index`, async () => {
      const { root, before, sizes, seg2Mid } = await closedLog();
      const file = idxPath(root, 2);
      await hurt(file, sizes[1]!);
      const { store, log, lines } = await open(root, options);
      // Ranged reads starting inside segment 2 go through its index first.
      const all = idsOf(before);
      const at = all.indexOf(seg2Mid);
      const mid = StreamId.parse(seg2Mid)!;
      const back = await log.read(StreamId.ZERO, mid, 4, true);
      expect(back.map((e) => e.id.toString())).toEqual(all.slice(at - 3, at + 1).reverse());
      const fwd = await log.read(mid, StreamId.MAX, 5, false);
      expect(fwd.map((e) => e.id.toString())).toEqual(all.slice(at, at + 5));
      expect(await stateOf(log)).toEqual(before);
      const logged = warned(lines, label).filter((l) => l.fields?.file === file);
      expect(logged.length).toBe(1);
      const rebuilt = SparseIndex.decode(await fs.readFile(file));
      expect(rebuilt?.footer.coveredBytes).toBe(sizes[1]);
      expect(rebuilt!.index.length).toBeGreaterThan(2);
      await store.close();
    });
  }

  it('ORPHAN_INDEX: an index without its segment is deleted at start', async () => {
    const { root, before } = await closedLog();
    const orphan = idxPath(root, 77);
    await fs.copyFile(idxPath(root, 1), orphan);
    const { store, log, report } = await open(root, options);
    expect(report.labels).toContain('ORPHAN_INDEX');
    await expect(fs.stat(orphan)).rejects.toThrow();
    expect(await stateOf(log)).toEqual(before);
    await store.close();
  });
});

// ---- checkpoints ------------------------------------------------------------------------

describe('checkpoints', () => {
  /** Three segments and a checkpoint inside the last one, then more appends; crashed. */
  async function crashedWithCheckpoints() {
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    const n = await appendUntilSegments(log, 3);
    await appendRange(log, n, n + 3);
    await log.checkpoint();
    await appendRange(log, n + 4, n + 6);
    await log.delete([id(3)]);
    const before = await stateOf(log);
    const root = path.join(tmp, 'crashed');
    await crashCopy(log, live, root);
    await store.close();
    const numbers = await checkpointNumbers(root);
    expect(numbers.length).toBe(2);
    return { root, before, numbers };
  }
  const ckptPath = (root: string, n: number) => path.join(streamDir(root), `checkpoint.${n}`);

  it('missing checkpoint: a full scan rebuilds the same state', async () => {
    const { root, before } = await crashedWithCheckpoints();
    await removeCheckpoints(root);
    const { store, log, report } = await open(root);
    expect(report.fromCheckpoint).toBe(false);
    expect(report.labels.filter((l) => l.startsWith('CHECKPOINT'))).toEqual([]);
    expect(await stateOf(log)).toEqual(before);
    await store.close();
  });

  const spoil: Array<[string, (file: string) => Promise<void>]> = [
    ['a flipped bit', (file) => flipBit(file, 40, 5)],
    ['a cut', async (file) => fs.truncate(file, (await fs.stat(file)).size - 3)],
    ['an empty file', (file) => fs.truncate(file, 0)],
  ];
  for (const [how, hurt] of spoil) {
    it(`CHECKPOINT_BAD (${how}): falls back to the previous checkpoint`, async () => {
      const { root, before, numbers } = await crashedWithCheckpoints();
      const newest = ckptPath(root, numbers[1]!);
      await hurt(newest);
      const { store, log, report, lines } = await open(root);
      expect(report.labels).toContain('CHECKPOINT_BAD');
      expect(report.fromCheckpoint).toBe(true);
      expect(warned(lines, 'CHECKPOINT_BAD')[0]!.fields?.file).toBe(newest);
      expect(await stateOf(log)).toEqual(before);
      await store.close();
      const again = await open(root);
      expect(again.report.labels).toEqual([]);
      expect(await stateOf(again.log)).toEqual(before);
      await again.store.close();
    });
  }

  it('CHECKPOINT_BAD on every checkpoint: a full scan rebuilds the same state', async () => {
    const { root, before, numbers } = await crashedWithCheckpoints();
    for (const n of numbers) await flipBit(ckptPath(root, n), 20, 1);
    const { store, log, report } = await open(root);
    expect(report.labels.filter((l) => l === 'CHECKPOINT_BAD').length).toBe(2);
    expect(report.fromCheckpoint).toBe(false);
    expect(await stateOf(log)).toEqual(before);
    await store.close();
  });

  it('CHECKPOINT_AHEAD: a checkpoint covering frames the log lost is skipped', async () => {
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    const n = await appendUntilSegments(log, 2);
    await appendRange(log, n, n + 2);
    const kept = await stateOf(log);
    const keptSize = log.segments.at(-1)!.size;
    await appendRange(log, n + 3, n + 4);
    await log.checkpoint();
    const root = path.join(tmp, 'crashed');
    await crashCopy(log, live, root);
    await store.close();
    await fs.truncate(segPath(root, 2), keptSize); // the disk lost what it acknowledged
    const newest = Math.max(...(await checkpointNumbers(root)));
    const { store: s2, log: l2, report, lines } = await open(root);
    expect(report.labels).toContain('CHECKPOINT_AHEAD');
    expect(report.labels).not.toContain('TORN_TAIL');
    expect(warned(lines, 'CHECKPOINT_AHEAD')[0]!.fields?.file).toBe(ckptPath(root, newest));
    expect(await stateOf(l2)).toEqual(kept);
    await l2.append(() => [entryOf(n + 3)]);
    await s2.close();
    const again = await open(root);
    expect(again.report.labels).toEqual([]);
    expect(idsOf(await stateOf(again.log))).toEqual([...idsOf(kept), `${n + 3}-0`]);
    await again.store.close();
  });

  it('a checkpoint queued ahead of more appends covers only what it counted', async () => {
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    await appendRange(log, 1, 5);
    await new Promise((resolve) => setImmediate(resolve)); // the writer is idle
    // The checkpoint and the appends behind it are written by the same flush.
    const pending = [log.checkpoint(), ...[6, 7, 8].map((n) => log.append(() => [entryOf(n)]))];
    await Promise.all(pending);
    const before = await stateOf(log);
    const root = path.join(tmp, 'crashed');
    await crashCopy(log, live, root);
    await store.close();
    // The scenario did happen: one frame holds 6..8, and the newest checkpoint counted 5.
    expect((await framesOf(segPath(root, 1))).at(-1)!.dataIds).toEqual(['6-0', '7-0', '8-0']);
    const newest = Math.max(...(await checkpointNumbers(root)));
    const body = decodeCheckpoint(
      await fs.readFile(path.join(streamDir(root), `checkpoint.${newest}`)),
    );
    expect(readCounters(Buffer.from(body!.counters), 0).length).toBe(5);
    const { store: s2, log: l2 } = await open(root);
    expect(await stateOf(l2)).toEqual(before);
    const refused = await l2.append(() => [entryOf(8)]).catch((e: unknown) => e);
    expect((refused as StorageError).code).toBe('INVALID');
    await s2.close();
  });
});

// ---- leftover temporary files -----------------------------------------------------------

describe('leftover temporary files', () => {
  it('*.tmp files in a stream directory and .tmp-*/.del-* directories are removed', async () => {
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    await appendUntilSegments(log, 2);
    const before = await stateOf(log);
    const root = path.join(tmp, 'crashed');
    await crashCopy(log, live, root);
    await store.close();
    const dir = streamDir(root);
    const tmpFiles = ['checkpoint.9.tmp', '00000000000000000001.idx.tmp', 'meta.tmp'];
    for (const name of tmpFiles) await fs.writeFile(path.join(dir, name), 'half written');
    const streams = path.join(root, 'streams');
    const tmpDir = path.join(streams, '.tmp-k-6e6577-0123456789ab');
    const delDir = path.join(streams, '.del-k-6f6c64-ba9876543210');
    for (const d of [tmpDir, delDir]) {
      await fs.mkdir(d);
      await fs.writeFile(path.join(d, 'meta'), 'x');
      await fs.writeFile(path.join(d, '00000000000000000001.seg'), 'x');
    }
    const { store: s2, log: l2, report, lines } = await open(root);
    expect(report.labels.filter((l) => l === 'TEMP_FILE').length).toBe(tmpFiles.length);
    expect(warned(lines, 'TEMP_DIR').length).toBe(1);
    expect(warned(lines, 'PENDING_DELETE').length).toBe(1);
    const left = await fs.readdir(dir);
    expect(left.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await fs.readdir(streams)).sort()).toEqual([STREAM]);
    expect([...s2.keys()].length).toBe(1);
    expect(await stateOf(l2)).toEqual(before);
    await s2.close();
  });
});

// ---- a creation cut off ---------------------------------------------------------------------

describe('UNBORN_STREAM', () => {
  it('a stream whose log holds only its header (its first command lost) is removed', async () => {
    const root = path.join(tmp, 'unborn');
    const { store } = await open(root);
    const other = await store.create(b('kept'));
    await other.append(() => [entryOf(1)]);
    await store.close();
    const { logger, lines } = captureLogger();
    const s2 = await Store.open(root, { fsync: 'always', segmentBytes: SEGMENT_BYTES, logger });
    expect(s2.get(KEY)).toBeUndefined();
    expect(s2.reports.has(KEY.toString('latin1'))).toBe(false);
    expect(warned(lines, 'UNBORN_STREAM').length).toBe(1);
    expect(s2.get(b('kept'))?.length).toBe(1);
    const left = (await fs.readdir(path.join(root, 'streams'))).filter((n) => !n.startsWith('.'));
    expect(left).toEqual([`k-${b('kept').toString('hex')}`]);
    await s2.close();
  });

  it('a stream with any frame after its header stays, even one with no entries', async () => {
    const root = path.join(tmp, 'born');
    const { store, log } = await open(root);
    await log.append(() => [entryOf(1)]);
    expect(await log.delete([id(1)])).toBe(1);
    expect(log.length).toBe(0);
    await store.close();
    const { store: s2, log: l2, lines } = await open(root);
    expect(warned(lines, 'UNBORN_STREAM')).toEqual([]);
    expect(l2.length).toBe(0);
    expect(l2.lastId.toString()).toBe('1-0');
    await s2.close();
  });
});

// ---- segments ---------------------------------------------------------------------------

describe('segments', () => {
  for (const withCheckpoints of [true, false]) {
    it(`MISSING_SEGMENT: a gap refuses to start (checkpoints: ${withCheckpoints})`, async () => {
      const fx = await buildFlipFixture(4);
      const root = path.join(tmp, 'work');
      await restoreDir(fx.base, root);
      if (!withCheckpoints) await removeCheckpoints(root);
      await fs.rm(segPath(root, 2));
      await fs.rm(idxPath(root, 2), { force: true });
      const err = await openError(root);
      expect(err).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).message).toContain('MISSING_SEGMENT');
    });
  }

  it('SEALED_SIZE: a sealed segment shorter than its checkpoint refuses to start', async () => {
    const fx = await buildFlipFixture(3);
    const root = path.join(tmp, 'work');
    await restoreDir(fx.base, root);
    const size = fx.segments[0]!.at(-1)!.end;
    await fs.truncate(segPath(root, 1), size - 1);
    const err = await openError(root);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(segPath(root, 1));
    expect((err as CorruptionError).message).toContain('SEALED_SIZE');
  });

  it('EMPTY_SEGMENT: a last segment of 0 bytes after a roll restarts, takes appends', async () => {
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    let n = 1;
    let before = await stateOf(log);
    while (log.segments.length < 3) {
      before = await stateOf(log);
      await log.append(() => [entryOf(n++)]);
    }
    const root = path.join(tmp, 'crashed');
    await crashCopy(log, live, root);
    await store.close();
    await fs.truncate(segPath(root, 3), 0); // the roll's new file, before its header was written
    const { store: s2, log: l2, report } = await open(root);
    expect(report.labels).toContain('EMPTY_SEGMENT');
    expect(await stateOf(l2)).toEqual(before);
    expect((await fs.stat(segPath(root, 3))).size).toBeGreaterThan(0);
    const refused = await l2.append(() => [entryOf(n - 2)]).catch((e: unknown) => e);
    expect((refused as StorageError).code).toBe('INVALID');
    await appendUntilSegments(l2, 5, n);
    const after = await stateOf(l2);
    await s2.close();
    const again = await open(root);
    expect(again.report.labels).toEqual([]);
    const state = await stateOf(again.log);
    expect(state).toEqual(after);
    const nums = idsOf(state).map((x) => Number(x.split('-')[0]));
    expect(nums).toEqual([...nums].sort((x, y) => x - y));
    expect(nums).toEqual([...new Set(nums)]);
    await again.store.close();
  });

  it('a crash after a roll, before its checkpoint: backward reads see all', async () => {
    // The newest checkpoint on disk was taken while segment 1 held no entry (an empty index);
    // the one the roll drafted was never written. Recovery must not keep that stale index.
    const live = path.join(tmp, 'live');
    const { store, log } = await open(live);
    await log.checkpoint();
    const root = path.join(tmp, 'crashed');
    let n = 1;
    let before = await stateOf(log);
    while (log.segments.length < 2) {
      before = await stateOf(log);
      await log.append(() => [entryOf(n++)]);
    }
    await crashCopy(log, live, root);
    await store.close();
    const numbers = await checkpointNumbers(root);
    await fs.rm(path.join(streamDir(root), `checkpoint.${numbers.at(-1)}`));
    await fs.truncate(segPath(root, 2), 0);
    const { store: s2, log: l2, report } = await open(root);
    expect(report.labels).toContain('EMPTY_SEGMENT');
    expect(await stateOf(l2)).toEqual(before);
    const last = await l2.read(StreamId.ZERO, StreamId.MAX, 1, true);
    expect(last.map((e) => e.id.toString())).toEqual([before.lastId]);
    await s2.close();
  });

  it('ID_REGRESSION: a valid frame whose IDs go backwards refuses to start', async () => {
    const fx = await buildFlipFixture(2);
    const root = path.join(tmp, 'work');
    await restoreDir(fx.base, root);
    const file = segPath(root, 2);
    const at = await cutToFrames(file);
    const e = entryOf(3);
    await fs.appendFile(file, encodeFrame([command([encodeData(e)], [e])]));
    const err = await openError(root);
    expectCorruption(err, file, at, 'ID_REGRESSION');
    const { store, log, report } = await open(root, { onCorruption: 'truncate' });
    expect(report.labels).toContain('ID_REGRESSION');
    expect(await stateOf(log)).toEqual(fx.before);
    await store.close();
  });
});

// ---- semantics after restart -------------------------------------------------------------

type Restart = 'clean' | 'crash' | 'crash, full scan';
const RESTARTS: Restart[] = ['clean', 'crash', 'crash, full scan'];

/** Restarts the store at `live` the given way; returns the reopened store. */
async function restart(how: Restart, live: Opened, root: string): Promise<Opened> {
  if (how === 'clean') {
    await live.store.close();
    return open(root);
  }
  const crashed = `${root}-crash-${Math.random().toString(36).slice(2)}`;
  await crashCopy(live.log, root, crashed);
  await live.store.close();
  if (how === 'crash, full scan') await removeCheckpoints(crashed);
  return open(crashed);
}

async function expectRefused(log: StreamLog, n: number): Promise<void> {
  const err = await log
    .append(() => [entryOf(n)])
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(err, `append of ${n}-0 after ${log.lastId}`).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe('INVALID');
}

const countersOf = (s: State) => ({
  lastId: s.lastId,
  entriesAdded: s.entriesAdded,
  maxDeletedId: s.maxDeletedId,
  firstId: s.firstId,
  length: s.length,
});

describe('semantics after restart', () => {
  for (const how of RESTARTS) {
    it(`after a trim to MAXLEN 0, old IDs stay refused (${how} restart)`, async () => {
      const root = path.join(tmp, 'live');
      const first = await open(root);
      await appendRange(first.log, 1, 60);
      expect(first.log.segments.length).toBeGreaterThan(1);
      expect(await first.log.trim({ maxLen: 0, approx: false, limit: 0 })).toBe(60);
      const before = await stateOf(first.log);
      expect(countersOf(before)).toEqual({
        lastId: '60-0',
        entriesAdded: 60n,
        maxDeletedId: '0-0',
        firstId: '0-0',
        length: 0,
      });
      let o = await restart(how, first, root);
      for (let round = 0; round < 2; round++) {
        expect(await stateOf(o.log)).toEqual(before);
        await expectRefused(o.log, 60);
        await expectRefused(o.log, 1);
        o = await restart('clean', o, o.store.dataDir.root);
      }
      await o.log.append(() => [entryOf(61)]);
      expect(o.log.entriesAdded).toBe(61n);
      await o.store.close();
    });

    it(`after deleting the last entry, its ID stays refused (${how} restart)`, async () => {
      const root = path.join(tmp, 'live');
      const first = await open(root);
      await appendRange(first.log, 1, 10);
      expect(await first.log.delete([id(10)])).toBe(1);
      const before = await stateOf(first.log);
      expect(countersOf(before)).toMatchObject({ lastId: '10-0', maxDeletedId: '10-0', length: 9 });
      let o = await restart(how, first, root);
      for (let round = 0; round < 2; round++) {
        expect(await stateOf(o.log)).toEqual(before);
        await expectRefused(o.log, 10);
        o = await restart('clean', o, o.store.dataDir.root);
      }
      await o.log.append(() => [entryOf(11)]);
      expect(o.log.length).toBe(10);
      await o.store.close();
    });

    it(`after trims deleted old segments, counters survive (${how} restart)`, async () => {
      const root = path.join(tmp, 'live');
      const first = await open(root);
      const trim = { maxLen: 7, approx: false, limit: 0 };
      for (let n = 1; n <= 400; n++) await first.log.append(() => [entryOf(n)], trim);
      await first.log.delete([id(399)]);
      await first.log.checkpoint();
      const before = await stateOf(first.log);
      expect(countersOf(before)).toEqual({
        lastId: '400-0',
        entriesAdded: 400n,
        maxDeletedId: '399-0',
        firstId: '394-0',
        length: 6,
      });
      await waitFor(async () => (await segmentFiles(root)).length <= 2);
      expect(first.log.segments[0]!.segno).toBeGreaterThan(5);
      let o = await restart(how, first, root);
      for (let round = 0; round < 2; round++) {
        expect(await stateOf(o.log)).toEqual(before);
        await expectRefused(o.log, 400);
        await expectRefused(o.log, 393);
        o = await restart('clean', o, o.store.dataDir.root);
      }
      await o.store.close();
    });
  }

  it('restarting twice without writes gives an identical state', async () => {
    const fx = await buildTornFixture();
    const root = path.join(tmp, 'work');
    await restoreDir(fx.base, root);
    await fs.truncate(segPath(root, 3), fx.frames.at(-1)!.end - 1);
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const { store, log } = await open(root);
      const segments = log.segments.map((s) => ({
        segno: s.segno,
        firstId: String(s.firstId),
        lastId: String(s.lastId),
        entriesCount: s.entriesCount,
        size: s.size,
        sealed: s.sealed,
      }));
      seen.push({ state: await stateOf(log), segments, files: await segmentFiles(root) });
      await store.close();
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
  });

  it('extension records after the checkpoint are replayed once, in order', async () => {
    const applied = new Map<string, string[]>();
    const extension = (key: Buffer) => {
      const list: string[] = [];
      applied.set(key.toString(), list);
      return {
        restore: (snap: Buffer | null) => {
          list.splice(0, list.length, ...(snap ? (JSON.parse(snap.toString()) as string[]) : []));
        },
        apply: (kind: number, body: Buffer) => void list.push(`${kind}:${body.toString()}`),
        snapshot: () => Buffer.from(JSON.stringify(list)),
      };
    };
    const root = path.join(tmp, 'live');
    const live = await open(root, { extension });
    // The layer above changes its state, then logs the change.
    const change = (kind: number, body: Buffer) => {
      applied.get('s')!.push(`${kind}:${body.toString()}`);
      return live.log.appendExt(kind, body);
    };
    await change(64, b('a'));
    await live.log.checkpoint();
    await change(127, b('b'));
    await live.log.append(() => [entryOf(1)]);
    await change(100, Buffer.alloc(0));
    const crashed = path.join(tmp, 'crashed');
    await crashCopy(live.log, root, crashed);
    await live.store.close();
    const again = await open(crashed, { extension });
    expect(applied.get('s')).toEqual(['64:a', '127:b', '100:']);
    await again.store.close();
    const third = await open(crashed, { extension });
    expect(applied.get('s')).toEqual(['64:a', '127:b', '100:']);
    await third.store.close();
  });
});

// ---- retention ----------------------------------------------------------------------------

/** Waits for the log's background work (index writes, retention) to finish. */
async function backgroundIdle(log: StreamLog): Promise<void> {
  // Test-only introspection: retention runs in the background after a checkpoint.
  const background = (log as unknown as { background: Set<Promise<unknown>> }).background;
  await waitFor(async () => {
    await Promise.allSettled([...background]);
    return background.size === 0;
  });
}

describe('retention', () => {
  it('segments wholly below the first entry go once checkpoints cover the trim', async () => {
    const root = path.join(tmp, 'live');
    const live = await open(root);
    const n = await appendUntilSegments(live.log, 6);
    await appendRange(live.log, n, n + 2);
    expect(await live.log.trim({ maxLen: 3, approx: false, limit: 0 })).toBe(n + 2 - 3);
    // Both checkpoints kept on disk must hold the segments dead before they go: the newest
    // may be lost, and recovery then falls back to the other.
    await live.log.checkpoint();
    await backgroundIdle(live.log);
    expect((await segmentFiles(root)).length).toBe(6);
    await live.log.checkpoint();
    await backgroundIdle(live.log);
    const files = await segmentFiles(root);
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^0{19}6\.seg /);
    const names = await fs.readdir(streamDir(root));
    expect(names.filter((x) => x.endsWith('.idx'))).toEqual([]);
    const before = await stateOf(live.log);
    expect(idsOf(before).length).toBe(3);
    await live.store.close();
    for (const how of RESTARTS) {
      const o = await restart(how, await open(root), root);
      expect(await stateOf(o.log), how).toEqual(before);
      expect(
        o.log.segments.map((s) => s.segno),
        how,
      ).toEqual([6]);
      await o.store.close();
    }
  });

  it('a crash right after a trim that rolled the segment restarts with every entry', async () => {
    const root = path.join(tmp, 'live');
    const live = await open(root);
    let n = await appendUntilSegments(live.log, 5);
    // Fill the active segment so that the next mutation rolls: the trim below.
    while (live.log.segments.at(-1)!.size < SEGMENT_BYTES)
      await live.log.append(() => [entryOf(n++)]);
    const segmentsBefore = live.log.segments.length;
    await live.log.trim({ maxLen: 1, approx: false, limit: 0 });
    expect(live.log.segments.length).toBe(segmentsBefore + 1);
    await backgroundIdle(live.log);
    const before = await stateOf(live.log);
    const crashed = path.join(tmp, 'crashed');
    await crashCopy(live.log, root, crashed);
    await live.store.close();
    const again = await open(crashed);
    expect(await stateOf(again.log)).toEqual(before);
    await again.store.close();
  });

  for (const before of [false, true]) {
    const when = before ? 'one taken before the trim' : 'one from the last roll';
    it(`after retention, losing the newest checkpoint falls back to ${when}`, async () => {
      await retentionThenLostCheckpoint(before);
    });
  }
});

/**
 * Trims whole segments away, checkpoints (so retention deletes them), then corrupts that
 * newest checkpoint: recovery must fall back without needing the deleted segments.
 */
async function retentionThenLostCheckpoint(checkpointBeforeTrim: boolean): Promise<void> {
  {
    const root = path.join(tmp, 'live');
    const live = await open(root);
    const n = await appendUntilSegments(live.log, 6);
    await appendRange(live.log, n, n + 2);
    if (checkpointBeforeTrim) await live.log.checkpoint();
    await live.log.trim({ maxLen: 3, approx: false, limit: 0 });
    await live.log.checkpoint();
    await backgroundIdle(live.log);
    const before = await stateOf(live.log);
    const crashed = path.join(tmp, 'crashed');
    await crashCopy(live.log, root, crashed);
    await live.store.close();
    const numbers = await checkpointNumbers(crashed);
    await flipBit(path.join(streamDir(crashed), `checkpoint.${numbers.at(-1)}`), 30, 0);
    const again = await open(crashed);
    expect(again.report.labels).toContain('CHECKPOINT_BAD');
    expect(await stateOf(again.log)).toEqual(before);
    await again.store.close();
  }
}

// ---- recovery can be re-run ---------------------------------------------------------------

describe('recovery can be re-run', () => {
  it('a recovery that truncated a torn tail, run again, gives the same state', async () => {
    const fx = await buildTornFixture();
    const root = path.join(tmp, 'work');
    await restoreDir(fx.base, root);
    const last = fx.frames.at(-1)!;
    await fs.truncate(segPath(root, 3), last.start + 30);
    const first = await open(root);
    expect(first.report.labels).toContain('TORN_TAIL');
    const state = await stateOf(first.log);
    expect(state).toEqual(fx.states.get(last.start));
    // Killed right after recovery: the copy has the cut file and recovery's checkpoint.
    const killed = path.join(tmp, 'killed');
    await crashCopy(first.log, root, killed);
    await first.store.close();
    for (const dir of [killed, root]) {
      const again = await open(dir);
      expect(again.report.labels).not.toContain('TORN_TAIL');
      expect(await stateOf(again.log)).toEqual(state);
      await again.store.close();
    }
    // Killed after the cut but before recovery's checkpoint: the same state again.
    await restoreDir(fx.base, root);
    await fs.truncate(segPath(root, 3), last.start);
    const early = await open(root);
    expect(early.report.labels).toEqual([]);
    expect(await stateOf(early.log)).toEqual(state);
    await early.store.close();
  });
});
