// The intent files `<dataDir>/txn.0` and `txn.1`: what one unit of work (a MULTI/EXEC) is about
// to write to several logs, written in one system call before any of those writes. A kill -9
// between the unit's writes to its files then leaves an intent naming every byte still to come,
// and the next start finishes the unit (redo) before anything reads the files: the unit is
// there whole or, when the kill came before the intent was written, not at all. A unit that
// must write some of itself before it is complete (a read inside it of its own writes) first
// writes an undo intent: where each such file stood before the unit, to cut it back to should
// the unit not be complete. See write-hold.ts for when each is written.
//
// Intents go to the two files in turn, so a torn one never destroys the one before it (which
// may be the undo intent of the unit whose intent tore). Both are emptied, durably, at open.
// Layout of each, little-endian, version 2 (one record from offset 0, rewritten in place, so
// bytes after `len` are a longer earlier intent's and mean nothing; version 1, without action
// 4, is read too):
//   off size field
//   0   4    len      u32  bytes of the record
//   4   4    crc      u32  zlib.crc32 of bytes [0,4) then [8,len) (frame.ts frameCrc)
//   8   1    magic    u8   0x58 ('X')
//   9   1    version  u8   2
//   10  2    parts    u16  number of parts (0: a cleared intent, nothing to do)
//   12  4    seq      u32  1, 2, 3... since open: the valid file with the later one counts
//   16  ...  parts    each:
//     u8 action   | 1 redo: the file holds exactly `bytes` at `offset` once the unit is
//                   written (and held the same bytes' prefix up to its end before);
//                   2 undo: the file held nothing after `offset` before the unit (no bytes);
//                   3 drop: the path is a stream directory the unit drops (no bytes);
//                   4 rename: the path is a stream directory the unit renamed, holding
//                   `meta.unit`, the key it has once the unit is whole (no bytes)
//     u16 pathLen | path (UTF-8, relative to the data directory: a segment or a journal part)
//     u16 idLen   | identity (a stream's meta fingerprint, see metaFingerprint; empty for the
//                   journal): the file must still belong to the stream that wrote the intent
//     u64 offset  | u32 bytesLen | bytes
// Invariants: the parts name distinct files; a redo part's bytes are whole frames of its
// file's format, ending at the end of the file as the unit left it. An undo intent is always
// replaced (by the unit's redo intent, or a cleared one) before anything after the unit is
// written, so only the unit in flight at a crash is ever undone.
//
// Recovery (finishIntent, at open, before the streams and the journal are read): labels
//   TXN_NONE        no intent files, empty ones, or the latest one cleared: nothing to do
//   TXN_TORN        a record fails its checks: the kill came while it was written, before the
//                   writes it announces: ignored (the other file's, the intent before it,
//                   counts)
//   then per part:
//   PART_APPLIED    redo: the file holds the bytes at the offset; undo: it ends at the offset,
//                   or holds only zeros after it (grown ahead under `always`, size-ahead.ts:
//                   cut there). Nothing to do (the usual case: an intent stays until the next)
//   PART_REDONE     the file ends inside the part, or goes on with nothing but zeros, and what
//                   it holds before is a prefix of the bytes: the rest is written, the file cut
//                   at the part's end and fdatasync'd
//   PART_UNDONE     undo: the file goes on after the offset: cut back there and fdatasync'd
//   PART_DROPPED    drop: the directory is still there: renamed aside (`.del-`, which stream
//                   recovery then removes: PENDING_DELETE)
//   PART_RENAMED    rename: the directory still holds `meta.unit`: it becomes its `meta`
//                   (a renamed stream a start finds holding `meta.unit` after this, its unit
//                   incomplete, goes back to its old key: store.ts, UNIT_RENAME_UNDONE)
//   PART_GONE       the file, or the stream, is gone or is another incarnation (dropped and
//                   created again, renamed): the part was written, then superseded
//   PART_MISMATCH   anything else (bytes differ, the file ends before the offset): left as it
//                   is, with a warning; never overwritten
import assert from 'node:assert';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './datadir';
import { frameCrc } from './frame';
import { TXN_INTENT_STALE_MAX_BYTES } from './limits';
import { allZero } from './size-ahead';
import type { Logger } from './errors';

const MAGIC = 0x58;
const VERSION = 2;
const VERSIONS_READ = [1, 2];
const HEADER_BYTES = 16;
const ACTION_REDO = 1;
const ACTION_UNDO = 2;
const ACTION_DROP = 3;
const ACTION_RENAME = 4;
/** In a stream directory renamed inside a unit: its key once the unit is whole (see above). */
export const META_UNIT = 'meta.unit';
export const INTENT_FILES = ['txn.0', 'txn.1'] as const;

export interface IntentPart {
  /** Absolute path of the file the part goes to. */
  readonly file: string;
  /** The stream directory's meta fingerprint, or empty (the journal). */
  readonly identity: Buffer;
  readonly offset: number;
  readonly bytes: Buffer;
  /** Not bytes to come but a cut: the file goes back to `offset` (an undo intent). */
  readonly undo?: boolean;
  /** Not a file but a stream directory the unit drops (DEL): it goes. */
  readonly drop?: boolean;
  /** Not a file but a stream directory the unit renamed: its `meta.unit` becomes its meta. */
  readonly rename?: boolean;
}

/**
 * Renames a stream directory aside (`.del-<name>-<random>`: removed at start if left) and
 * fsyncs its parent; returns the new path. From then on the stream is gone, whatever becomes
 * of the removal that follows.
 */
export async function renameAside(dir: string): Promise<string> {
  const aside = renameAsideNow(dir);
  await fsyncDir(path.dirname(dir));
  return aside;
}

/**
 * renameAside's rename, done before returning (its parent is not fsync'd: the caller does it).
 * A unit's dropped streams go this way as it ends, so no later intent (which would no longer
 * name them) can be written before they are gone.
 */
export function renameAsideNow(dir: string, prefix = '.del-'): string {
  const aside = path.join(path.dirname(dir), asideName(prefix, dir));
  fs.renameSync(dir, aside);
  return aside;
}

/** `<prefix><the directory's name, cut to 40 bytes>-<random>`. */
const asideName = (prefix: string, dir: string): string =>
  `${prefix}${path.basename(dir).slice(0, 40)}-${randomBytes(6).toString('hex')}`;

const actionOf = (p: IntentPart): number =>
  p.rename ? ACTION_RENAME : p.drop ? ACTION_DROP : p.undo ? ACTION_UNDO : ACTION_REDO;

/**
 * A stream directory renamed inside a unit takes its new key for good: `meta.unit` is renamed
 * over `meta` and the directory fsync'd, now. False when it holds no `meta.unit` (done already).
 */
export function finishUnitRename(dir: string): boolean {
  try {
    fs.renameSync(path.join(dir, META_UNIT), path.join(dir, 'meta'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  fsyncDirNow(dir);
  return true;
}

/** fsyncDir, done before returning. */
export function fsyncDirNow(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** metaFingerprint, done before returning. */
export function metaFingerprintNow(streamDir: string): Buffer | null {
  const file = path.join(streamDir, 'meta');
  try {
    return fingerprintOf(fs.statSync(file, { bigint: true }), fs.readFileSync(file));
  } catch {
    return null;
  }
}

export interface Intent {
  readonly seq: number;
  readonly parts: readonly IntentPart[];
}

export function encodeIntent(root: string, seq: number, parts: readonly IntentPart[]): Buffer {
  assert(parts.length <= 0xffff, 'an intent has at most 65535 parts');
  const paths = parts.map((p) => Buffer.from(path.relative(root, p.file), 'utf8'));
  let len = HEADER_BYTES;
  parts.forEach(
    (p, i) => (len += 1 + 2 + (paths[i] as Buffer).length + 2 + p.identity.length + 12),
  );
  for (const p of parts) len += p.bytes.length;
  const buf = Buffer.allocUnsafe(len);
  buf.writeUInt32LE(len, 0);
  buf[8] = MAGIC;
  buf[9] = VERSION;
  buf.writeUInt16LE(parts.length, 10);
  buf.writeUInt32LE(seq >>> 0, 12);
  let off = HEADER_BYTES;
  parts.forEach((p, i) => {
    const name = paths[i] as Buffer;
    off = buf.writeUInt8(actionOf(p), off);
    off = buf.writeUInt16LE(name.length, off);
    off += name.copy(buf, off);
    off = buf.writeUInt16LE(p.identity.length, off);
    off += p.identity.copy(buf, off);
    off = buf.writeBigUInt64LE(BigInt(p.offset), off);
    off = buf.writeUInt32LE(p.bytes.length, off);
    off += p.bytes.copy(buf, off);
  });
  assert(off === len, 'the intent tiles its record');
  buf.writeUInt32LE(frameCrc(buf, 0, len), 4);
  return buf;
}

/** The valid intent record at the start of `buf`; null when it is torn or absent. */
export function decodeIntent(root: string, buf: Buffer): Intent | null {
  if (buf.length < HEADER_BYTES) return null;
  const len = buf.readUInt32LE(0);
  if (len < HEADER_BYTES || len > buf.length) return null;
  if (buf[8] !== MAGIC || !VERSIONS_READ.includes(buf[9] as number)) return null;
  if (frameCrc(buf, 0, len) !== buf.readUInt32LE(4)) return null;
  const parts: IntentPart[] = [];
  let off = HEADER_BYTES;
  const take = (n: number): Buffer => {
    if (off + n > len) throw new RangeError('intent part overruns its record');
    const b = buf.subarray(off, off + n);
    off += n;
    return b;
  };
  try {
    for (let i = buf.readUInt16LE(10); i > 0; i--) {
      const action = take(1)[0];
      if (action === undefined || action < ACTION_REDO || action > ACTION_RENAME) return null;
      if (action === ACTION_RENAME && buf[9] === 1) return null;
      const name = take(take(2).readUInt16LE(0)).toString('utf8');
      const identity = Buffer.from(take(take(2).readUInt16LE(0)));
      const offset = Number(take(8).readBigUInt64LE(0));
      const bytes = take(take(4).readUInt32LE(0));
      const part = { file: path.join(root, name), identity, offset, bytes };
      const flag = { [ACTION_UNDO]: 'undo', [ACTION_DROP]: 'drop', [ACTION_RENAME]: 'rename' }[
        action
      ];
      parts.push(flag ? { ...part, [flag]: true } : part);
    }
  } catch {
    return null;
  }
  return off === len ? { seq: buf.readUInt32LE(12), parts } : null;
}

/**
 * Identifies one incarnation of a stream directory: its meta file's inode, modification time
 * and checksum (meta is written once, with a random salt, when the stream is created, and
 * replaced when it is renamed), so a stream dropped and created again under the same key is
 * told apart.
 */
export async function metaFingerprint(streamDir: string): Promise<Buffer | null> {
  const file = path.join(streamDir, 'meta');
  const st = await fsp.stat(file, { bigint: true }).catch(() => null);
  const meta = await fsp.readFile(file).catch(() => null);
  if (st === null || meta === null) return null;
  return fingerprintOf(st, meta);
}

function fingerprintOf(st: fs.BigIntStats, meta: Buffer): Buffer | null {
  if (meta.length < 16) return null;
  const b = Buffer.alloc(20);
  b.writeBigUInt64LE(st.ino, 0);
  b.writeBigUInt64LE(st.mtimeNs, 8);
  meta.copy(b, 16, 12, 16);
  return b;
}

/** Writes intents for a write hold: one synchronous write each, at offset 0 of txn.0/txn.1. */
export class IntentFile {
  private readonly fds: number[] = [];
  /** The length of each file (the longest intent written to it since it was emptied). */
  private readonly sizes = [0, 0];
  private seq = 0;

  constructor(
    readonly root: string,
    /** fdatasync each intent before its parts are written (fsync `always`). */
    readonly sync: boolean,
  ) {}

  /**
   * Empties both files, durably (after finishIntent: what they held is done, and must not be
   * done again after a later crash), and keeps them open.
   */
  reset(): void {
    this.close();
    for (const name of INTENT_FILES) {
      const fd = fs.openSync(path.join(this.root, name), 'w');
      this.fds.push(fd);
      fs.fsyncSync(fd);
    }
    this.sizes.fill(0);
    fsyncDirNow(this.root);
  }

  /**
   * Writes the intent now, to the file the previous one is not in; under `sync` fdatasyncs it
   * too, on this thread (as Redis's `always` does its AOF): nothing else may run between it
   * and the unit's writes. No parts: clears what the previous intent said.
   */
  write(parts: readonly IntentPart[]): void {
    if (this.fds.length === 0) this.reset();
    const seq = ++this.seq;
    const buf = encodeIntent(this.root, seq, parts);
    const fd = this.fds[seq % 2] as number;
    for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off, off);
    // After a large unit, the stale bytes behind the next intents go (the record before them
    // is whole already, so a cut here can only shorten what means nothing).
    let size = Math.max(this.sizes[seq % 2] as number, buf.length);
    if (size > buf.length + TXN_INTENT_STALE_MAX_BYTES) {
      fs.ftruncateSync(fd, buf.length);
      size = buf.length;
    }
    this.sizes[seq % 2] = size;
    if (this.sync) fs.fdatasyncSync(fd);
  }

  close(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }
}

export type PartOutcome =
  | 'PART_APPLIED'
  | 'PART_REDONE'
  | 'PART_UNDONE'
  | 'PART_DROPPED'
  | 'PART_RENAMED'
  | 'PART_GONE'
  | 'PART_MISMATCH';

/**
 * Finishes the unit the last intent describes (see the decision table at the top); run at
 * open, before any log is read. Returns the label of each part (none: TXN_NONE or TXN_TORN).
 */
export async function finishIntent(root: string, logger: Logger): Promise<PartOutcome[]> {
  let latest: Intent | null = null;
  for (const name of INTENT_FILES) {
    const buf = await fsp.readFile(path.join(root, name)).catch(() => null);
    if (buf === null || buf.length === 0) continue;
    const intent = decodeIntent(root, buf);
    if (intent === null) logger.warn('recovery: TXN_TORN', { file: name });
    // Serial-number order: `seq` wraps at 2^32.
    else if (latest === null || ((intent.seq - latest.seq) | 0) > 0) latest = intent;
  }
  const outcomes: PartOutcome[] = [];
  for (const part of latest?.parts ?? []) {
    const outcome = await finishPart(part);
    outcomes.push(outcome);
    if (outcome !== 'PART_APPLIED' && outcome !== 'PART_GONE') {
      const log = outcome === 'PART_MISMATCH' ? logger.warn : logger.info;
      log.call(logger, `recovery: ${outcome}`, {
        file: path.relative(root, part.file),
        offset: part.offset,
        bytes: part.bytes.length,
      });
    }
  }
  return outcomes;
}

/** Does the file hold nothing but zero bytes from `from` to `size`? */
async function zerosTo(handle: fsp.FileHandle, from: number, size: number): Promise<boolean> {
  const chunk = Buffer.alloc(Math.min(64 * 1024, Math.max(size - from, 0)));
  for (let pos = from; pos < size;) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (bytesRead === 0) return true;
    if (!allZero(chunk.subarray(0, bytesRead))) return false;
    pos += bytesRead;
  }
  return true;
}

async function finishPart(part: IntentPart): Promise<PartOutcome> {
  if (part.rename) {
    const now = await metaFingerprint(part.file);
    if (now === null || !now.equals(part.identity)) return 'PART_GONE';
    return finishUnitRename(part.file) ? 'PART_RENAMED' : 'PART_GONE';
  }
  if (part.drop) {
    const now = await metaFingerprint(part.file);
    if (now === null || !now.equals(part.identity)) return 'PART_GONE';
    await renameAside(part.file);
    return 'PART_DROPPED';
  }
  if (part.identity.length > 0) {
    const now = await metaFingerprint(path.dirname(part.file));
    if (now === null || !now.equals(part.identity)) return 'PART_GONE';
  }
  const handle = await fsp.open(part.file, 'r+').catch(() => null);
  if (handle === null) return 'PART_GONE';
  try {
    const size = (await handle.stat()).size;
    const end = part.offset + part.bytes.length;
    if (size < part.offset) return 'PART_MISMATCH';
    if (part.undo) {
      if (size === part.offset) return 'PART_APPLIED';
      // Only zeros after the offset: the file was grown ahead (size-ahead.ts), the unit never
      // wrote there. Cut either way.
      const untouched = await zerosTo(handle, part.offset, size);
      await handle.truncate(part.offset);
      await handle.datasync();
      return untouched ? 'PART_APPLIED' : 'PART_UNDONE';
    }
    const held = Buffer.alloc(Math.min(size, end) - part.offset);
    if (held.length > 0) await handle.read(held, 0, held.length, part.offset);
    let same = 0;
    while (same < held.length && held[same] === part.bytes[same]) same++;
    if (same === part.bytes.length) return 'PART_APPLIED';
    // The file ends inside the part, or goes on from there with nothing but zeros (grown
    // ahead of its data): the rest of the part was never written.
    if (same < held.length && !(await zerosTo(handle, part.offset + same, size))) {
      return 'PART_MISMATCH';
    }
    const rest = part.bytes.subarray(same);
    await handle.write(rest, 0, rest.length, part.offset + same);
    await handle.truncate(end);
    await handle.datasync();
    return 'PART_REDONE';
  } finally {
    await handle.close();
  }
}
