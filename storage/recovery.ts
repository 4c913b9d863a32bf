// Opening a stream directory after a clean stop or a crash. Recovery is a decision table:
// every state a file can be in has a label, an action, and a log line with that label.
//
//   label               state found                                   action
//   CLEAN               every frame checks                            replay it
//   TEMP_FILE           *.tmp left by an interrupted atomic write     delete
//   ORPHAN_INDEX        <segno>.idx without its .seg                  delete
//   MISSING_INDEX       sealed segment without .idx                   rebuild lazily on first read
//   STALE_INDEX         .idx covering a different size                rebuild lazily
//   CORRUPT_INDEX       .idx with a bad CRC or shape                  rebuild lazily
//   CHECKPOINT_BAD      bad magic, version or CRC                     older one, else full scan
//   CHECKPOINT_AHEAD    checkpoint's covered frame not in the log     older one, else full scan
//   DEAD_SEGMENT        segment wholly trimmed, delete interrupted    delete
//   MISSING_SEGMENT     a gap in segment numbers, or none at all      corruption
//   SEALED_SIZE         sealed segment of another size than recorded  corruption
//   TORN_TAIL           bad frame in the last segment, nothing valid  truncate to the last good
//                       after it                                      frame, log bytes and IDs
//   ZERO_TAIL           the last segment ends in the zeros it was     truncate there (info, not
//                       grown by under `always` (size-ahead.ts)       a warning: nothing lost)
//   CORRUPT_FRAME       bad frame anywhere else                       corruption
//   ID_REGRESSION       DATA IDs not strictly increasing              corruption
//   EMPTY_SEGMENT       last segment without its header frame         write the header again
// corruption: refuse to start naming file, offset and the IDs at stake, unless onCorruption is
// `truncate` (cut the file at the bad frame) or `quarantine` (copy the file to
// `<name>.corrupt.<ms>` first, then cut it); both report the lost ID range.
// Every action is idempotent, so recovery killed part-way is simply run again.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StreamId } from './id';
import { readAt } from './io';
import { isAheadTail } from './size-ahead';
import { CorruptionError } from './errors';
import {
  checkFrame,
  forEachRecord,
  FLAG_CONTINUES,
  FRAME_MAGIC,
  FRAME_VERSION,
  type FrameHeader,
} from './frame';
import {
  COUNTERS_BYTES,
  decodeDelIds,
  emptyCounters,
  encodeHeader,
  command,
  readCounters,
  recordBodyValid,
  KIND_COUNTERS,
  KIND_DATA,
  KIND_DEL,
  KIND_HEADER,
  KIND_TRIM,
  type Counters,
} from './records';
import { encodeFrame } from './frame';
import { Segment, type SegmentFiles } from './segment';
import { SparseIndex } from './sparse-index';
import { decodeCheckpoint, type CheckpointBody } from './checkpoint';
import { INDEX_INTERVAL_BYTES, READ_CHUNK_BYTES } from './limits';
import type { RecoveredLog, StreamExtension } from './stream-log';

export type OnCorruption = 'refuse' | 'truncate' | 'quarantine';

export interface RecoveryContext {
  readonly files: SegmentFiles;
  readonly onCorruption: OnCorruption;
}

export interface RecoveryReport {
  labels: string[];
  framesReplayed: number;
  bytesScanned: number;
  fromCheckpoint: boolean;
}

const SEG_RE = /^(\d{20})\.seg$/;
const IDX_RE = /^(\d{20})\.idx$/;
const CKPT_RE = /^checkpoint\.(\d+)$/;

interface DirListing {
  segnos: number[];
  checkpoints: number[];
}

async function cleanAndList(dir: string, ctx: RecoveryContext, report: RecoveryReport) {
  const names = await fs.readdir(dir);
  const segs = new Set<number>();
  for (const n of names) {
    const m = SEG_RE.exec(n);
    if (m) segs.add(Number(m[1]));
  }
  const listing: DirListing = { segnos: [...segs].sort((a, b) => a - b), checkpoints: [] };
  for (const n of names) {
    const file = path.join(dir, n);
    if (n.endsWith('.tmp')) {
      note(ctx, report, 'TEMP_FILE', { file });
      await fs.rm(file, { force: true });
    }
    const idx = IDX_RE.exec(n);
    if (idx && !segs.has(Number(idx[1]))) {
      note(ctx, report, 'ORPHAN_INDEX', { file });
      await fs.rm(file, { force: true });
    }
    const ck = CKPT_RE.exec(n);
    if (ck) listing.checkpoints.push(Number(ck[1]));
  }
  listing.checkpoints.sort((a, b) => b - a);
  for (let i = 1; i < listing.segnos.length; i++) {
    const prev = listing.segnos[i - 1] as number;
    if (listing.segnos[i] !== prev + 1) {
      throw new CorruptionError(
        path.join(dir, `segment ${prev + 1}`),
        0,
        `MISSING_SEGMENT: segments ${prev} and ${listing.segnos[i]} are not consecutive`,
      );
    }
  }
  if (listing.segnos.length === 0) {
    throw new CorruptionError(dir, 0, 'MISSING_SEGMENT: the stream directory has no segment');
  }
  return listing;
}

function note(
  ctx: RecoveryContext,
  report: RecoveryReport,
  label: string,
  f: Record<string, unknown>,
) {
  report.labels.push(label);
  ctx.files.logger.warn(`recovery: ${label}`, f);
}

/** Replays records into counters, segment summaries and the extension. */
class Replayer {
  counters: Counters;
  constructor(
    readonly segments: Segment[],
    readonly ext: StreamExtension | null,
    counters: Counters | null,
    private initialised: boolean,
  ) {
    this.counters = counters ?? emptyCounters();
  }

  /** Applies one checked frame; returns a problem text when the frame is inconsistent. */
  apply(seg: Segment, buf: Buffer, start: number, header: FrameHeader): string | null {
    let problem: string | null = null;
    forEachRecord(buf, start, header, (kind, bs, be) => {
      if (!recordBodyValid(buf, kind, bs, be)) problem = `record of kind ${kind} is malformed`;
      else problem = this.applyRecord(seg, kind, buf, bs, be);
      return problem === null;
    });
    return problem;
  }

  private applyRecord(seg: Segment, kind: number, buf: Buffer, bs: number, be: number) {
    const c = this.counters;
    switch (kind) {
      case KIND_HEADER: {
        const segno = Number(buf.readBigUInt64LE(bs));
        if (segno !== seg.segno) return `header names segment ${segno}`;
        if (!this.initialised) this.counters = readCounters(buf, bs + 8);
        this.initialised = true;
        return null;
      }
      case KIND_DATA: {
        const id = StreamId.read(buf, bs);
        if (id.compare(c.lastId) <= 0 && !(c.entriesAdded === 0n && c.lastId.isZero())) {
          return `ID_REGRESSION: entry ${id} is not above ${c.lastId}`;
        }
        if (c.length === 0) c.firstId = id;
        c.lastId = id;
        c.entriesAdded++;
        c.length++;
        seg.noteEntry(id);
        return null;
      }
      case KIND_DEL:
        for (const id of decodeDelIds(buf, bs)) {
          const owner = this.segments.find((s) => s.contains(id));
          owner?.markDeleted(id);
        }
        this.counters = readCounters(buf, bs);
        return null;
      case KIND_TRIM:
      case KIND_COUNTERS:
        this.counters = readCounters(buf, bs);
        return null;
      default:
        this.ext?.apply(kind, Buffer.from(buf.subarray(bs, be)));
        return null;
    }
  }
}

/** Scans frames from `from`; returns where the valid frames end and why scanning stopped. */
async function scanSegment(
  ctx: RecoveryContext,
  fd: number,
  from: number,
  size: number,
  onFrame: (buf: Buffer, start: number, header: FrameHeader, pos: number) => string | null,
): Promise<{ end: number; problem: string | null }> {
  let pos = from;
  while (pos < size) {
    let buf = await readAt(ctx.files.io, fd, pos, Math.min(READ_CHUNK_BYTES, size - pos));
    if (buf.length >= 8) {
      const len = buf.readUInt32LE(0);
      if (len > buf.length && pos + len <= size) buf = await readAt(ctx.files.io, fd, pos, len);
    }
    let start = 0;
    while (start < buf.length) {
      const check = checkFrame(buf, start, buf.length);
      if (!check.ok) {
        if (check.problem === 'SHORT' && start > 0) break;
        return { end: pos + start, problem: check.problem };
      }
      const bad = onFrame(buf, start, check.header, pos + start);
      if (bad) return { end: pos + start, problem: bad };
      start += check.header.len;
    }
    pos += start;
  }
  return { end: pos, problem: null };
}

/** True when a valid frame starts anywhere after `from` in the file (probe past a bad frame). */
async function validFrameAfter(ctx: RecoveryContext, fd: number, from: number, size: number) {
  if (size - from > 256 * 1024 * 1024) return true; // too large to probe: treat as corruption
  const buf = await readAt(ctx.files.io, fd, from, size - from);
  for (let p = 1; p + 48 <= buf.length; p++) {
    if (buf[p + 8] !== FRAME_MAGIC || buf[p + 9] !== FRAME_VERSION) continue;
    if (checkFrame(buf, p, buf.length).ok) return true;
  }
  return false;
}

function checkpointSegments(body: CheckpointBody, dir: string, files: SegmentFiles): Segment[] {
  return body.segments.map((s) => {
    const seg = new Segment(s.segno, dir, files);
    seg.firstId = s.firstId ? StreamId.read(Buffer.from(s.firstId), 0) : null;
    seg.lastId = s.lastId ? StreamId.read(Buffer.from(s.lastId), 0) : null;
    seg.entriesCount = s.entriesCount;
    seg.size = s.size;
    const del = Buffer.from(s.deleted);
    for (let o = 0; o + 16 <= del.length; o += 16) seg.markDeleted(StreamId.read(del, o));
    return seg;
  });
}

function decodeIndex(buf: Buffer): SparseIndex {
  const index = new SparseIndex();
  for (let o = 0; o + 24 <= buf.length; o += 24) {
    index.add(StreamId.read(buf, o), Number(buf.readBigUInt64LE(o + 16)));
  }
  return index;
}

/** Loads the newest checkpoint whose covered frame is in the log; null for a full scan. */
async function loadCheckpoint(
  dir: string,
  ctx: RecoveryContext,
  listing: DirListing,
  report: RecoveryReport,
): Promise<{ body: CheckpointBody; n: number } | null> {
  for (const n of listing.checkpoints) {
    const file = path.join(dir, `checkpoint.${n}`);
    const body = decodeCheckpoint(await fs.readFile(file).catch(() => Buffer.alloc(0)));
    if (!body || body.counters.length !== COUNTERS_BYTES) {
      note(ctx, report, 'CHECKPOINT_BAD', { file });
      continue;
    }
    if (await coveredFrameMatches(dir, ctx, listing, body)) return { body, n };
    note(ctx, report, 'CHECKPOINT_AHEAD', { file, segno: body.coveredSegno, end: body.coveredEnd });
  }
  return null;
}

async function coveredFrameMatches(
  dir: string,
  ctx: RecoveryContext,
  listing: DirListing,
  body: CheckpointBody,
): Promise<boolean> {
  if (!listing.segnos.includes(body.coveredSegno)) return false;
  const seg = new Segment(body.coveredSegno, dir, ctx.files);
  const fd = await ctx.files.io.open(seg.path, 'r');
  try {
    const size = await ctx.files.io.fileSize(fd);
    if (size < body.coveredEnd) return false;
    const head = await readAt(ctx.files.io, fd, body.lastFrameStart, 8);
    return (
      head.length === 8 &&
      head.readUInt32LE(0) === body.coveredEnd - body.lastFrameStart &&
      head.readUInt32LE(4) === body.lastFrameCrc
    );
  } finally {
    await ctx.files.io.close(fd);
  }
}

export interface RecoveredStream {
  readonly log: RecoveredLog;
  readonly report: RecoveryReport;
}

/**
 * Recovers one stream directory. The returned log's last segment is open for appends.
 * `ext` receives the checkpoint's extension state, then every extension record after it.
 */
export async function recoverStream(
  dir: string,
  ctx: RecoveryContext,
  ext: StreamExtension | null,
): Promise<RecoveredStream> {
  const report: RecoveryReport = {
    labels: [],
    framesReplayed: 0,
    bytesScanned: 0,
    fromCheckpoint: false,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await recoverOnce(dir, ctx, ext, report);
    } catch (err) {
      if (!(err instanceof RerunRecovery) || attempt >= 3) throw err;
    }
  }
}

async function recoverOnce(
  dir: string,
  ctx: RecoveryContext,
  ext: StreamExtension | null,
  report: RecoveryReport,
): Promise<RecoveredStream> {
  report.framesReplayed = 0;
  report.bytesScanned = 0;
  report.fromCheckpoint = false;
  const listing = await cleanAndList(dir, ctx, report);
  let ck = await loadCheckpoint(dir, ctx, listing, report);
  let fromCk: Segment[] | null = null;
  if (ck) fromCk = await reconcileCheckpoint(dir, ctx, listing, ck.body, report);
  if (!fromCk) ck = null;
  let segments: Segment[];
  let replayer: Replayer;
  let startSegno: number;
  let startPos: number;
  if (ck) {
    report.fromCheckpoint = true;
    ext?.restore(ck.body.ext ? Buffer.from(ck.body.ext) : null);
    segments = fromCk as Segment[];
    replayer = new Replayer(segments, ext, readCounters(Buffer.from(ck.body.counters), 0), true);
    startSegno = ck.body.coveredSegno;
    startPos = ck.body.coveredEnd;
  } else {
    ext?.restore(null);
    segments = [];
    replayer = new Replayer(segments, ext, null, false);
    startSegno = listing.segnos[0] as number;
    startPos = 0;
  }
  await replayFrom(dir, ctx, listing, replayer, startSegno, startPos, report);
  const last = replayer.segments[replayer.segments.length - 1] as Segment;
  await openActive(last, ctx, replayer.counters, report);
  return {
    log: {
      segments: replayer.segments,
      counters: replayer.counters,
      checkpointSeq: ck?.n ?? listing.checkpoints[0] ?? 0,
      coveredSegno: ck?.body.coveredSegno ?? 0,
    },
    report,
  };
}

/** Checks the checkpoint's segments against the directory, deleting interrupted deletes. */
async function reconcileCheckpoint(
  dir: string,
  ctx: RecoveryContext,
  listing: DirListing,
  body: CheckpointBody,
  report: RecoveryReport,
): Promise<Segment[] | null> {
  const counters = readCounters(Buffer.from(body.counters), 0);
  const all = checkpointSegments(body, dir, ctx.files);
  const onDisk = new Set(listing.segnos);
  const kept: Segment[] = [];
  for (const seg of all) {
    const dead =
      seg.segno < body.coveredSegno &&
      (counters.length === 0 || (seg.lastId !== null && seg.lastId.compare(counters.firstId) < 0));
    if (dead) {
      if (onDisk.has(seg.segno)) {
        note(ctx, report, 'DEAD_SEGMENT', { file: seg.path });
        await fs.rm(seg.path, { force: true });
        await fs.rm(seg.indexPath, { force: true });
      }
      continue;
    }
    if (!onDisk.has(seg.segno)) {
      throw new CorruptionError(
        seg.path,
        0,
        `MISSING_SEGMENT: holds entries ${seg.firstId}..${seg.lastId}`,
      );
    }
    if (seg.segno < body.coveredSegno && !(await checkSealedSize(seg, ctx, report))) return null;
    seg.sealed = seg.segno < body.coveredSegno;
    kept.push(seg);
  }
  for (const segno of listing.segnos) {
    if (segno < (all[0]?.segno ?? 0)) {
      const seg = new Segment(segno, dir, ctx.files);
      note(ctx, report, 'DEAD_SEGMENT', { file: seg.path });
      await fs.rm(seg.path, { force: true });
      await fs.rm(seg.indexPath, { force: true });
    }
  }
  const covered = kept[kept.length - 1];
  if (covered && body.activeIndex) covered.setIndex(decodeIndex(Buffer.from(body.activeIndex)));
  if (covered?.segno === body.coveredSegno) {
    // When no frame follows, the next checkpoint names this same last frame.
    covered.lastFrameStart = body.lastFrameStart;
    covered.lastFrameCrc = body.lastFrameCrc;
  }
  listing.segnos = listing.segnos.filter((s) => s >= (kept[0]?.segno ?? 0));
  return kept;
}

/** A sealed segment's size must match the checkpoint; false means "fall back to a full scan". */
async function checkSealedSize(seg: Segment, ctx: RecoveryContext, report: RecoveryReport) {
  const st = await fs.stat(seg.path);
  if (st.size === seg.size) return true;
  if (ctx.onCorruption !== 'refuse') {
    note(ctx, report, 'SEALED_SIZE', { file: seg.path, size: st.size, recorded: seg.size });
    return false;
  }
  throw new CorruptionError(
    seg.path,
    Math.min(st.size, seg.size),
    `SEALED_SIZE: sealed segment is ${st.size} bytes, ${seg.size} recorded; entries ` +
      `${seg.firstId}..${seg.lastId} at stake`,
  );
}

async function replayFrom(
  dir: string,
  ctx: RecoveryContext,
  listing: DirListing,
  replayer: Replayer,
  startSegno: number,
  startPos: number,
  report: RecoveryReport,
): Promise<void> {
  const lastSegno = listing.segnos[listing.segnos.length - 1] as number;
  for (const segno of listing.segnos) {
    if (segno < startSegno) continue;
    let seg = replayer.segments.find((s) => s.segno === segno);
    if (!seg) {
      seg = new Segment(segno, dir, ctx.files);
      replayer.segments.push(seg);
    }
    const from = segno === startSegno ? startPos : 0;
    await replaySegment(seg, ctx, replayer, from, segno === lastSegno, report);
    seg.sealed = segno !== lastSegno;
  }
}

async function replaySegment(
  seg: Segment,
  ctx: RecoveryContext,
  replayer: Replayer,
  from: number,
  isLast: boolean,
  report: RecoveryReport,
): Promise<void> {
  const io = ctx.files.io;
  const fd = await io.open(seg.path, 'r');
  try {
    const size = await io.fileSize(fd);
    // The segment a checkpoint covered carries that checkpoint's index, which is extended by
    // the frames replayed after it even when the segment is sealed now (a roll followed): kept
    // as it was, it would lack those frames and reads through it would miss them.
    const index = seg.activeIndex() ?? (isLast ? new SparseIndex() : null);
    let lastIndexed = index && index.length > 0 ? index.position(index.length - 1) : -1;
    let runStart = -1;
    const result = await scanSegment(ctx, fd, from, size, (buf, start, header, pos) => {
      const bad = replayer.apply(seg, buf, start, header);
      if (bad) return bad;
      report.framesReplayed++;
      if ((header.flags & FLAG_CONTINUES) === 0) runStart = -1;
      else if (runStart < 0) runStart = pos;
      if (
        index &&
        (header.flags & 1) !== 0 &&
        (lastIndexed < 0 || pos - lastIndexed >= INDEX_INTERVAL_BYTES)
      ) {
        index.add(header.firstId, pos);
        lastIndexed = pos;
      }
      seg.lastFrameStart = pos;
      seg.lastFrameCrc = header.crc;
      return null;
    });
    report.bytesScanned += result.end - from;
    seg.size = result.end;
    if (index) seg.setIndex(index);
    if (result.problem !== null) {
      await handleBadFrame(
        seg,
        ctx,
        fd,
        result.end,
        size,
        result.problem,
        isLast,
        replayer,
        report,
      );
      index?.truncateAt(seg.size);
    }
    if (runStart >= 0) await unfinishedRun(seg, ctx, runStart, isLast, report);
  } finally {
    await io.close(fd);
  }
}

/** Thrown to start recovery of a stream again after a cut that undid replayed frames. */
class RerunRecovery extends Error {}

/**
 * The segment ends inside a command split over frames (the last ones never written): in the
 * last segment a torn tail, elsewhere corruption. The frames of the run were already replayed,
 * so after cutting them off recovery starts again.
 */
async function unfinishedRun(
  seg: Segment,
  ctx: RecoveryContext,
  runStart: number,
  isLast: boolean,
  report: RecoveryReport,
): Promise<never> {
  const label = isLast ? 'TORN_TAIL' : 'CORRUPT_FRAME';
  const detail = `command split over frames from offset ${runStart} is unfinished`;
  if (!isLast && ctx.onCorruption === 'refuse') {
    throw new CorruptionError(seg.path, runStart, `${label}: ${detail}`);
  }
  note(ctx, report, label, { file: seg.path, offset: runStart, detail, action: 'truncated' });
  await truncateFile(ctx, seg.path, runStart);
  throw new RerunRecovery(detail);
}

async function handleBadFrame(
  seg: Segment,
  ctx: RecoveryContext,
  fd: number,
  at: number,
  size: number,
  problem: string,
  isLast: boolean,
  replayer: Replayer,
  report: RecoveryReport,
): Promise<void> {
  if (isLast && problem === 'ZERO' && (await isAheadTail(ctx.files.io, fd, at, size))) {
    report.labels.push('ZERO_TAIL');
    ctx.files.logger.info('recovery: ZERO_TAIL', { file: seg.path, offset: at, size });
    await truncateFile(ctx, seg.path, at);
    return;
  }
  const lastGood = replayer.counters.lastId;
  const regression = problem.startsWith('ID_REGRESSION');
  const torn = isLast && !regression && !(await validFrameAfter(ctx, fd, at, size));
  const lost = `IDs after ${lastGood}`;
  if (torn) {
    note(ctx, report, 'TORN_TAIL', {
      file: seg.path,
      offset: at,
      bytesDropped: size - at,
      lost,
      problem,
    });
    await truncateFile(ctx, seg.path, at);
    return;
  }
  const label = regression ? 'ID_REGRESSION' : 'CORRUPT_FRAME';
  const detail = `${label}: ${problem}; ${size - at} bytes from here hold ${lost}`;
  if (ctx.onCorruption === 'refuse') {
    throw new CorruptionError(
      seg.path,
      at,
      `${detail}. Start with --on-corruption truncate|quarantine to drop them`,
    );
  }
  if (ctx.onCorruption === 'quarantine') {
    const aside = `${seg.path}.corrupt.${Date.now()}`;
    await fs.copyFile(seg.path, aside);
    note(ctx, report, label, {
      file: seg.path,
      offset: at,
      action: 'quarantined',
      copy: aside,
      lost,
    });
  } else {
    note(ctx, report, label, { file: seg.path, offset: at, action: 'truncated', lost });
  }
  await truncateFile(ctx, seg.path, at);
}

async function truncateFile(ctx: RecoveryContext, file: string, length: number): Promise<void> {
  const fd = await ctx.files.io.open(file, 'r+');
  try {
    await ctx.files.io.ftruncate(fd, length);
    await ctx.files.io.fdatasync(fd);
  } finally {
    await ctx.files.io.close(fd);
  }
}

/** Opens the last segment for appends, writing its header again if a crash left none. */
async function openActive(
  seg: Segment,
  ctx: RecoveryContext,
  counters: Counters,
  report: RecoveryReport,
) {
  seg.sealed = false;
  seg.writeFd = await ctx.files.io.open(seg.path, 'r+');
  await fs.rm(seg.indexPath, { force: true });
  if (seg.size > 0) return;
  note(ctx, report, 'EMPTY_SEGMENT', { file: seg.path });
  const frame = encodeFrame([command([encodeHeader(seg.segno, counters)])]);
  await ctx.files.io.write(seg.writeFd, frame, 0);
  await ctx.files.io.fdatasync(seg.writeFd);
  seg.size = frame.length;
  seg.lastFrameStart = 0;
  seg.lastFrameCrc = frame.readUInt32LE(4);
}
