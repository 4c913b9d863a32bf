// The journal's on-disk formats: the frames of its log parts, its snapshots and its MANIFEST,
// and the code that encodes, writes, checks and reads them. The files and how they change
// together (switch, compaction) are described in journal.ts; recovery in journal-recovery.ts.
//
// Every journal file is made of frames sharing one envelope, little-endian:
//   off size field
//   0   4    len      u32  bytes of the whole frame, envelope included (<= MAX_FRAME_BYTES)
//   4   4    crc      u32  zlib.crc32 of bytes [0,4) then [8,len) (frame.ts frameCrc): covers
//                          the length, so a corrupt length is caught, not taken for a torn tail
//   8   1    magic    u8   what the frame is: 0x4A 'J' log frame, 0x4B 'K' snapshot chunks,
//                          0x46 'F' snapshot footer, 0x4D 'M' manifest
//   9   1    version  u8   1 (FORMAT_VERSION below), for every kind
//   10  ...  body     by kind
// `len == 0 && crc == 0` is a zero-filled tail (no frame was written there).
//
// Record frames ('J' in wal.<gen>.<part>, 'K' in snap.<gen>): 14 bytes of header, then records
//   10  4    count    u32  number of records
//   14  ...  records  count x (len u32 | len bytes): opaque bytes of the layer above (a command
//                      in the log, a chunk in a snapshot); they tile the frame exactly
// A log frame is what one flush wrote: every record appended in one tick (appendMany's records
// are never split across frames, so a torn frame loses a whole group or nothing).
//
// Log part wal.<gen>.<part>: log frames back to back from offset 0, nothing else. Only the last
// part of the MANIFEST is ever appended to; earlier parts were fdatasync'd before the switch.
//
// Snapshot snap.<gen>: 'K' frames from offset 0 (chunks in the order the owner produced them),
// then one footer frame of exactly 26 bytes ending the file:
//   10  4    gen          u32  the generation in the file name
//   14  4    chunks       u32  chunks in the 'K' frames
//   18  8    framesBytes  u64  bytes before the footer (= file size - 26)
// Written as snap.<gen>.tmp, fdatasync'd, renamed, then the directory fsync'd: a snap.<gen>
// is always complete unless the disk damaged it.
//
// MANIFEST: one 'M' frame, the whole file (<= JOURNAL_MANIFEST_MAX_BYTES):
//   10  4    snapshotGen  u32  the base snapshot snap.<gen>; 0 = none (generations start at 1)
//   14  4    partsCount   u32  >= 1
//   18  8*n  parts        (gen u32, part u32) each: the log parts replayed after the snapshot,
//                              in order; strictly increasing, every gen >= snapshotGen
// Written with datadir.ts writeFileAtomic (MANIFEST.tmp, fsync, rename, directory fsync).
//
// Recovery with a bad frame (journal-recovery.ts): in the last log part with no valid frame
// after it, a torn tail (truncated); anywhere else, and any bad snapshot or MANIFEST,
// corruption (refused unless onCorruption says otherwise).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from './datadir';
import { StorageError } from './errors';
import { frameCrc, type FrameProblem } from './frame';
import { readAt, type Io } from './io';
import {
  JOURNAL_MANIFEST_MAX_BYTES,
  JOURNAL_PROBE_MAX_BYTES,
  MAX_FRAME_BYTES,
  READ_CHUNK_BYTES,
} from './limits';

export const FORMAT_VERSION = 1;
export const MAGIC_LOG = 0x4a;
export const MAGIC_CHUNKS = 0x4b;
export const MAGIC_FOOTER = 0x46;
export const MAGIC_MANIFEST = 0x4d;
export const ENVELOPE_BYTES = 10;
export const RECORDS_HEADER_BYTES = 14;
export const RECORD_PREFIX_BYTES = 4;
export const FOOTER_BYTES = 26;
const MANIFEST_HEADER_BYTES = 18;

export const MANIFEST_FILE = 'MANIFEST';

export interface PartName {
  readonly gen: number;
  readonly part: number;
}

export interface Manifest {
  /** The base snapshot's generation; 0 when there is none. */
  readonly snapshotGen: number;
  readonly parts: readonly PartName[];
}

// ---- file names -------------------------------------------------------------------------

export const snapshotFileName = (gen: number): string => `snap.${gen}`;
export const partFileName = (p: PartName): string => `wal.${p.gen}.${p.part}`;

export type JournalFileName =
  | { readonly kind: 'snap'; readonly gen: number }
  | { readonly kind: 'wal'; readonly gen: number; readonly part: number };

const SNAP_RE = /^snap\.(\d{1,10})$/;
const WAL_RE = /^wal\.(\d{1,10})\.(\d{1,10})$/;

/** A snapshot or log part name, or null for any other file (MANIFEST, copies, tmp). */
export function parseJournalFileName(name: string): JournalFileName | null {
  const snap = SNAP_RE.exec(name);
  if (snap) return { kind: 'snap', gen: Number(snap[1]) };
  const wal = WAL_RE.exec(name);
  if (wal) return { kind: 'wal', gen: Number(wal[1]), part: Number(wal[2]) };
  return null;
}

/** The snapshot and part names a manifest lists. */
export function listedFiles(m: Manifest): Set<string> {
  const names = new Set(m.parts.map(partFileName));
  if (m.snapshotGen > 0) names.add(snapshotFileName(m.snapshotGen));
  return names;
}

export function comparePart(a: PartName, b: PartName): number {
  return a.gen - b.gen || a.part - b.part;
}

// ---- frames -----------------------------------------------------------------------------

export type FrameCheck =
  | { readonly ok: true; readonly len: number }
  | { readonly ok: false; readonly problem: FrameProblem };

const isRecordFrame = (magic: number) => magic === MAGIC_LOG || magic === MAGIC_CHUNKS;

/** Checks the frame of kind `magic` at `start`; `end` is the end of the bytes available. */
export function checkFrame(buf: Buffer, start: number, end: number, magic: number): FrameCheck {
  if (end - start < 8) return { ok: false, problem: 'SHORT' };
  const len = buf.readUInt32LE(start);
  const crc = buf.readUInt32LE(start + 4);
  if (len === 0 && crc === 0) return { ok: false, problem: 'ZERO' };
  const min = isRecordFrame(magic) ? RECORDS_HEADER_BYTES : ENVELOPE_BYTES;
  if (len < min || len > MAX_FRAME_BYTES) return { ok: false, problem: 'BAD_LENGTH' };
  if (end - start < len) return { ok: false, problem: 'SHORT' };
  if (buf[start + 8] !== magic) return { ok: false, problem: 'BAD_MAGIC' };
  if (buf[start + 9] !== FORMAT_VERSION) return { ok: false, problem: 'BAD_VERSION' };
  if (frameCrc(buf, start, len) !== crc) return { ok: false, problem: 'BAD_CRC' };
  if (isRecordFrame(magic) && !recordsTile(buf, start, len)) {
    return { ok: false, problem: 'BAD_RECORDS' };
  }
  return { ok: true, len };
}

function recordsTile(buf: Buffer, start: number, len: number): boolean {
  const end = start + len;
  const count = buf.readUInt32LE(start + ENVELOPE_BYTES);
  let pos = start + RECORDS_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (end - pos < RECORD_PREFIX_BYTES) return false;
    pos += RECORD_PREFIX_BYTES + buf.readUInt32LE(pos);
    if (pos > end) return false;
  }
  return pos === end;
}

/** Calls `visit(bodyStart, bodyEnd)` for each record of a checked record frame. */
export function forEachRecord(
  buf: Buffer,
  start: number,
  visit: (bodyStart: number, bodyEnd: number) => void,
): void {
  const count = buf.readUInt32LE(start + ENVELOPE_BYTES);
  let pos = start + RECORDS_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const bodyLen = buf.readUInt32LE(pos);
    pos += RECORD_PREFIX_BYTES;
    visit(pos, pos + bodyLen);
    pos += bodyLen;
  }
}

/** Bytes a group of records takes inside a record frame. */
export function recordsBytes(records: readonly Buffer[]): number {
  let bytes = 0;
  for (const r of records) bytes += RECORD_PREFIX_BYTES + r.length;
  return bytes;
}

const BUILDER_INITIAL_BYTES = 16 * 1024;
/** Buffers above this are not kept for reuse: one burst should not pin memory. */
const BUILDER_KEEP_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Encodes record frames as records arrive: each group is copied once, into the frame it will
 * be written in. A frame is closed when the next group would take it past `targetBytes`.
 */
export class FrameBuilder {
  private buf: Buffer | null = null;
  private used = 0;
  /** Start of the frame being filled; -1 when none is open. */
  private open = -1;
  private openCount = 0;
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly magic: number,
    private readonly targetBytes: number,
  ) {}

  get bytes(): number {
    return this.used;
  }

  /** Adds a group of records (`bytes` = recordsBytes(records)) that stays in one frame. */
  add(records: readonly Buffer[], bytes: number): void {
    if (this.open >= 0 && this.used - this.open + bytes > this.targetBytes) this.seal();
    const opening = this.open < 0;
    const buf = this.reserve(bytes + (opening ? RECORDS_HEADER_BYTES : 0));
    if (opening) {
      this.open = this.used;
      this.openCount = 0;
      this.used += RECORDS_HEADER_BYTES;
    }
    let pos = this.used;
    for (const r of records) {
      buf.writeUInt32LE(r.length, pos);
      pos += RECORD_PREFIX_BYTES + r.copy(buf, pos + RECORD_PREFIX_BYTES);
    }
    this.used = pos;
    this.openCount += records.length;
  }

  /** Closes the open frame and hands over every frame so far; the builder starts empty. */
  take(): { readonly buf: Buffer; readonly length: number } {
    this.seal();
    const out = { buf: this.buf ?? Buffer.alloc(0), length: this.used };
    this.buf = null;
    this.used = 0;
    return out;
  }

  /** Gives back a buffer from take() once its write is done. */
  recycle(buf: Buffer): void {
    if (buf.length <= BUILDER_KEEP_MAX_BYTES && this.spare.length < 2) this.spare.push(buf);
  }

  private reserve(extra: number): Buffer {
    const need = this.used + extra;
    let buf = this.buf ?? this.spare.pop() ?? Buffer.allocUnsafe(BUILDER_INITIAL_BYTES);
    if (buf.length < need) {
      let size = buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      buf.copy(grown, 0, 0, this.used);
      buf = grown;
    }
    this.buf = buf;
    return buf;
  }

  private seal(): void {
    const buf = this.buf;
    if (this.open < 0 || !buf) return;
    const start = this.open;
    const len = this.used - start;
    buf.writeUInt32LE(len, start);
    buf[start + 8] = this.magic;
    buf[start + 9] = FORMAT_VERSION;
    buf.writeUInt32LE(this.openCount, start + ENVELOPE_BYTES);
    buf.writeUInt32LE(frameCrc(buf, start, len), start + 4);
    this.open = -1;
  }
}

/** Scans frames of kind `magic` from `from`; returns where valid frames end and why it stopped. */
export async function scanFrames(
  io: Io,
  fd: number,
  from: number,
  size: number,
  magic: number,
  onFrame: (buf: Buffer, start: number) => void,
): Promise<{ end: number; problem: FrameProblem | null }> {
  let pos = from;
  while (pos < size) {
    let buf = await readAt(io, fd, pos, Math.min(READ_CHUNK_BYTES, size - pos));
    if (buf.length >= 8) {
      const len = buf.readUInt32LE(0);
      if (len > buf.length && len <= MAX_FRAME_BYTES && pos + len <= size) {
        buf = await readAt(io, fd, pos, len);
      }
    }
    let start = 0;
    while (start < buf.length) {
      const check = checkFrame(buf, start, buf.length, magic);
      if (!check.ok) {
        if (check.problem === 'SHORT' && start > 0) break; // read on from this frame
        return { end: pos + start, problem: check.problem };
      }
      onFrame(buf, start);
      start += check.len;
    }
    pos += start;
  }
  return { end: pos, problem: null };
}

/** True when a valid frame of kind `magic` starts anywhere after `from` (probe past a bad one). */
export async function validFrameAfter(
  io: Io,
  fd: number,
  from: number,
  size: number,
  magic: number,
): Promise<boolean> {
  if (size - from > JOURNAL_PROBE_MAX_BYTES) return true; // too long to probe: corruption
  const buf = await readAt(io, fd, from, size - from);
  for (let p = 1; p + RECORDS_HEADER_BYTES <= buf.length; p++) {
    if (buf[p + 8] !== magic || buf[p + 9] !== FORMAT_VERSION) continue;
    if (checkFrame(buf, p, buf.length, magic).ok) return true;
  }
  return false;
}

// ---- MANIFEST ---------------------------------------------------------------------------

export function encodeManifest(m: Manifest): Buffer {
  const len = MANIFEST_HEADER_BYTES + 8 * m.parts.length;
  const buf = Buffer.alloc(len);
  buf.writeUInt32LE(len, 0);
  buf[8] = MAGIC_MANIFEST;
  buf[9] = FORMAT_VERSION;
  buf.writeUInt32LE(m.snapshotGen, 10);
  buf.writeUInt32LE(m.parts.length, 14);
  m.parts.forEach((p, i) => {
    buf.writeUInt32LE(p.gen, MANIFEST_HEADER_BYTES + 8 * i);
    buf.writeUInt32LE(p.part, MANIFEST_HEADER_BYTES + 8 * i + 4);
  });
  buf.writeUInt32LE(frameCrc(buf, 0, len), 4);
  return buf;
}

/** The manifest in `buf`, or what is wrong with it (and at which offset). */
export function decodeManifest(
  buf: Buffer,
): { ok: true; manifest: Manifest } | { ok: false; offset: number; detail: string } {
  const check = checkFrame(buf, 0, buf.length, MAGIC_MANIFEST);
  if (!check.ok) return { ok: false, offset: 0, detail: `frame ${check.problem}` };
  if (check.len !== buf.length) {
    return { ok: false, offset: check.len, detail: `${buf.length - check.len} bytes after it` };
  }
  const count = buf.readUInt32LE(14);
  if (check.len !== MANIFEST_HEADER_BYTES + 8 * count || count === 0) {
    return { ok: false, offset: 14, detail: `parts count ${count} does not fit the frame` };
  }
  const snapshotGen = buf.readUInt32LE(10);
  const parts: PartName[] = [];
  for (let i = 0; i < count; i++) {
    const at = MANIFEST_HEADER_BYTES + 8 * i;
    const p = { gen: buf.readUInt32LE(at), part: buf.readUInt32LE(at + 4) };
    const prev = parts[parts.length - 1];
    if (p.gen < snapshotGen || (prev && comparePart(prev, p) >= 0)) {
      return { ok: false, offset: at, detail: `part ${partFileName(p)} out of order` };
    }
    parts.push(p);
  }
  return { ok: true, manifest: { snapshotGen, parts } };
}

export type ManifestRead =
  | { readonly state: 'missing' }
  | { readonly state: 'bad'; readonly offset: number; readonly detail: string }
  | { readonly state: 'ok'; readonly manifest: Manifest };

export async function readManifest(dir: string): Promise<ManifestRead> {
  const file = path.join(dir, MANIFEST_FILE);
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw err;
  }
  if (size > JOURNAL_MANIFEST_MAX_BYTES) {
    return { state: 'bad', offset: 0, detail: `${size} bytes, longer than any manifest` };
  }
  const decoded = decodeManifest(await fs.readFile(file));
  return decoded.ok ? { state: 'ok', manifest: decoded.manifest } : { state: 'bad', ...decoded };
}

/** Installs `m` as the MANIFEST: a crash leaves the old one or the new one. */
export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), encodeManifest(m));
}

// ---- snapshots --------------------------------------------------------------------------

export function encodeFooter(gen: number, chunks: number, framesBytes: number): Buffer {
  const buf = Buffer.alloc(FOOTER_BYTES);
  buf.writeUInt32LE(FOOTER_BYTES, 0);
  buf[8] = MAGIC_FOOTER;
  buf[9] = FORMAT_VERSION;
  buf.writeUInt32LE(gen, 10);
  buf.writeUInt32LE(chunks, 14);
  buf.writeBigUInt64LE(BigInt(framesBytes), 18);
  buf.writeUInt32LE(frameCrc(buf, 0, FOOTER_BYTES), 4);
  return buf;
}

interface Footer {
  readonly gen: number;
  readonly chunks: number;
  readonly framesBytes: number;
}

function decodeFooter(buf: Buffer): Footer | string {
  const check = checkFrame(buf, 0, buf.length, MAGIC_FOOTER);
  if (!check.ok) return `footer ${check.problem}`;
  if (check.len !== FOOTER_BYTES) return `footer of ${check.len} bytes`;
  return {
    gen: buf.readUInt32LE(10),
    chunks: buf.readUInt32LE(14),
    framesBytes: Number(buf.readBigUInt64LE(18)),
  };
}

/** Steps of writing a snapshot, reported to the compaction's step hook. */
export type SnapshotStep = 'SNAPSHOT_WRITING' | 'SNAPSHOT_SYNCED' | 'SNAPSHOT_RENAMED';

/**
 * Writes `chunks` as snap.<gen> (through snap.<gen>.tmp, fsync, rename, directory fsync) and
 * returns its size. The iterator is consumed between writes, so commands run meanwhile.
 */
export async function writeSnapshot(
  io: Io,
  dir: string,
  gen: number,
  chunks: Iterable<Buffer>,
  chunkTargetBytes: number,
  onStep: (step: SnapshotStep) => void,
): Promise<number> {
  const file = path.join(dir, snapshotFileName(gen));
  const tmp = `${file}.tmp`;
  const fd = await io.open(tmp, 'w');
  const frames = new FrameBuilder(MAGIC_CHUNKS, chunkTargetBytes);
  let pos = 0;
  let count = 0;
  const flush = async (last: boolean) => {
    const { buf, length } = frames.take();
    const out = last
      ? Buffer.concat([buf.subarray(0, length), encodeFooter(gen, count, pos + length)])
      : buf.subarray(0, length);
    await io.write(fd, out, pos);
    pos += out.length;
    frames.recycle(buf);
    if (pos === out.length) onStep('SNAPSHOT_WRITING');
  };
  try {
    for (const chunk of chunks) {
      if (RECORDS_HEADER_BYTES + RECORD_PREFIX_BYTES + chunk.length > MAX_FRAME_BYTES) {
        throw new StorageError('LIMIT', `snapshot chunk of ${chunk.length} bytes is too large`);
      }
      frames.add([chunk], RECORD_PREFIX_BYTES + chunk.length);
      count++;
      if (frames.bytes >= chunkTargetBytes) await flush(false);
    }
    await flush(true);
    await io.fdatasync(fd);
  } catch (err) {
    await io.close(fd).catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await io.close(fd);
  onStep('SNAPSHOT_SYNCED');
  await fs.rename(tmp, file);
  await fsyncDir(dir);
  onStep('SNAPSHOT_RENAMED');
  return pos;
}

export interface SnapshotRead {
  readonly bytes: number;
  readonly chunks: number;
  /** The first bad byte and what is wrong there; null when the snapshot is whole. */
  readonly problem: { readonly offset: number; readonly detail: string } | null;
}

/**
 * Hands each chunk of snap.<gen> to `onChunk`, in order, checking every frame and the footer.
 * With `footerFirst`, a bad footer is reported before any chunk is loaded.
 */
export async function readSnapshot(
  io: Io,
  file: string,
  gen: number,
  footerFirst: boolean,
  onChunk: (chunk: Buffer) => void,
): Promise<SnapshotRead> {
  const fd = await io.open(file, 'r');
  try {
    const size = await io.fileSize(fd);
    const footerAt = Math.max(0, size - FOOTER_BYTES);
    const decoded =
      size >= FOOTER_BYTES ? decodeFooter(await readAt(io, fd, footerAt, FOOTER_BYTES)) : 'none';
    let footerProblem: string | null = null;
    if (typeof decoded === 'string') footerProblem = `no valid footer (${decoded})`;
    else if (decoded.gen !== gen) footerProblem = `footer names generation ${decoded.gen}`;
    else if (decoded.framesBytes !== footerAt) {
      footerProblem = `footer counts ${decoded.framesBytes} bytes of frames, ${footerAt} found`;
    }
    let chunks = 0;
    const fail = (offset: number, detail: string) => ({
      bytes: size,
      chunks,
      problem: { offset, detail },
    });
    if (footerProblem && footerFirst) return fail(footerAt, footerProblem);
    const end = footerProblem ? size : footerAt;
    const scan = await scanFrames(io, fd, 0, end, MAGIC_CHUNKS, (buf, start) =>
      forEachRecord(buf, start, (s, e) => {
        chunks++;
        onChunk(Buffer.from(buf.subarray(s, e)));
      }),
    );
    if (scan.problem) return fail(scan.end, `chunk frame ${scan.problem}`);
    if (footerProblem) return fail(footerAt, footerProblem);
    if (typeof decoded !== 'string' && decoded.chunks !== chunks) {
      return fail(footerAt, `footer counts ${decoded.chunks} chunks, frames hold ${chunks}`);
    }
    return { bytes: size, chunks, problem: null };
  } finally {
    await io.close(fd);
  }
}
