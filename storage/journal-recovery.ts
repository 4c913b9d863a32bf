// Opening the journal after a clean stop or a crash: the owner's state is rebuilt from the
// MANIFEST, its snapshot and its log parts (formats in journal-format.ts, the compaction steps
// that leave the states below in journal.ts). Recovery is a decision table (STYLE rule 4):
//
//   label             state found                                    action
//   FRESH             no MANIFEST, no snapshot or part holding data  remove empty leftovers;
//                                                                    create wal.0.0, then a
//                                                                    MANIFEST naming it
//   TEMP_FILE         *.tmp: a MANIFEST or snapshot write cut short  delete
//   ORPHAN_FILE       snap.<g> or wal.<g>.<p> the MANIFEST does not  delete, once the MANIFEST is
//                     list (a compaction interrupted before or       read
//                     after its MANIFEST was installed)
//   CLEAN             every frame, chunk and footer checks           load the snapshot, replay
//                                                                    the parts in order
//   TORN_TAIL         bad or partial frame (or zeros) in the LAST    truncate there, fsync, warn
//                     part with no valid frame after it: a crash     with the bytes dropped
//                     mid-write
//   ZERO_TAIL         the LAST part ends in the zeros it was grown   truncate there, fsync; info
//                     by under `always` (size-ahead.ts)              (nothing lost)
//   CORRUPT_FRAME     bad frame in an earlier part (fdatasync'd      corruption
//                     before the switch: a crash cannot tear it), or
//                     in the last part with a valid frame after it
//   CORRUPT_SNAPSHOT  bad chunk frame, footer, chunk count or size   corruption
//   MISSING_FILE      a file the MANIFEST lists does not exist       corruption
//   MANIFEST_BAD      the MANIFEST fails its checks                  corruption; the history is
//                                                                    rebuilt from the files
//   MANIFEST_MISSING  no MANIFEST, but a snapshot or part holds data as MANIFEST_BAD
//   REWRITTEN         the state recovered after a corruption was     written as a new snapshot
//                     let through                                    and MANIFEST; old files go
//
// corruption: with onCorruption 'refuse' (the default) the open fails with a CorruptionError
// naming the file and offset. With 'truncate' the history is cut at the first bad byte: nothing
// from there on is applied (records applied over a gap would build a state that never existed),
// and the state so far is REWRITTEN. 'quarantine' does the same after copying every file that
// loses data (the bad one and every later one) to `<name>.corrupt-<ms>`. A bad or missing
// MANIFEST is rebuilt from the directory: the highest snap.<g> and every part of gen >= g, in
// order (a compaction renames snap.<g> into place only once it holds every earlier part).
//
// Nothing is deleted before a durable MANIFEST stops needing it and every action is
// idempotent, so recovery killed part-way is simply run again.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './datadir';
import { CorruptionError, type Logger } from './errors';
import type { Io } from './io';
import { isAheadTail } from './size-ahead';
import { JOURNAL_SNAPSHOT_WRITE_BYTES } from './limits';
import {
  MAGIC_LOG,
  MANIFEST_FILE,
  comparePart,
  forEachRecord,
  listedFiles,
  parseJournalFileName,
  partFileName,
  readManifest,
  readSnapshot,
  scanFrames,
  snapshotFileName,
  validFrameAfter,
  writeManifest,
  writeSnapshot,
  type Manifest,
  type ManifestRead,
  type PartName,
} from './journal-format';
import type { OnCorruption } from './recovery';

/** The state the journal protects, owned by the layer above (the lists). */
export interface JournalOwner {
  /** Forgets all state: replay starts (or starts again) from nothing. */
  reset(): void;
  /** One chunk of a snapshot, in the order snapshot() produced them. */
  loadChunk(chunk: Buffer): void;
  /** One record appended after the snapshot, in order. */
  apply(record: Buffer): void;
  /**
   * The current state as chunks (each at most MAX_FRAME_BYTES less a few bytes). Called
   * synchronously at a tick boundary: it must capture what it needs at once (e.g. references
   * to immutable values), then the journal consumes the iterator over later ticks while
   * commands go on.
   */
  snapshot(): Iterable<Buffer>;
  /**
   * True while the owner holds changes it applied but has not appended yet (a transaction's
   * batch): a compaction waits for it to end before it calls snapshot(). Default: never.
   */
  holding?(): boolean;
}

export interface RecoveryContext {
  readonly io: Io;
  readonly logger: Logger;
  readonly onCorruption: OnCorruption;
}

export interface JournalRecoveryReport {
  /** The decision-table labels met, in order. */
  readonly labels: string[];
  chunksLoaded: number;
  recordsReplayed: number;
}

export interface RecoveredJournal {
  readonly manifest: Manifest;
  /** Bytes of each listed part, in order; the last part is appended to at its end. */
  readonly partBytes: readonly number[];
  /** Records in the listed parts. */
  readonly logRecords: number;
  readonly snapshotBytes: number;
  /** The highest generation named on disk: the next compaction takes a higher one. */
  readonly maxGen: number;
  readonly report: JournalRecoveryReport;
}

function note(
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
  label: string,
  fields: Record<string, unknown>,
): void {
  report.labels.push(label);
  ctx.logger.warn(`journal recovery: ${label}`, { label, ...fields });
}

/** Recovers the journal in `dir` into `owner`; see the decision table at the top. */
export async function recoverJournal(
  dir: string,
  owner: JournalOwner,
  ctx: RecoveryContext,
): Promise<RecoveredJournal> {
  const report: JournalRecoveryReport = { labels: [], chunksLoaded: 0, recordsReplayed: 0 };
  await makeDir(dir);
  const names = await removeTempFiles(dir, ctx, report);
  const found = await readManifest(dir);
  let manifest: Manifest;
  let rebuilt = false;
  if (found.state === 'ok') {
    manifest = found.manifest;
    await removeUnlisted(dir, manifest, (file) => note(ctx, report, 'ORPHAN_FILE', { file }));
  } else if (found.state === 'missing' && !(await holdsData(dir, names))) {
    manifest = await fresh(dir, names, ctx, report);
  } else {
    manifest = await rebuildManifest(dir, names, found, ctx, report);
    rebuilt = true;
  }
  owner.reset();
  const replayed = await replay(dir, manifest, owner, ctx, report);
  const gens = names.map((n) => parseJournalFileName(n)?.gen ?? 0);
  const maxGen = Math.max(manifest.snapshotGen, ...manifest.parts.map((p) => p.gen), ...gens);
  if (!rebuilt && !replayed.cut) return { manifest, ...replayed, maxGen, report };
  return rewrite(dir, owner, ctx, report, maxGen + 1);
}

async function makeDir(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(path.dirname(dir));
}

/** TEMP_FILE: removes every *.tmp; returns the other names in the directory. */
async function removeTempFiles(
  dir: string,
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
): Promise<string[]> {
  const kept: string[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.tmp')) {
      kept.push(name);
      continue;
    }
    const file = path.join(dir, name);
    note(ctx, report, 'TEMP_FILE', { file });
    await fs.rm(file, { force: true });
  }
  return kept;
}

/** Deletes the snapshots and parts `m` does not list (ORPHAN_FILE, or old files after a swap). */
export async function removeUnlisted(
  dir: string,
  m: Manifest,
  onRemoved: (file: string) => void,
): Promise<void> {
  const listed = listedFiles(m);
  let removed = false;
  for (const name of await fs.readdir(dir)) {
    if (!parseJournalFileName(name) || listed.has(name)) continue;
    const file = path.join(dir, name);
    onRemoved(file);
    await fs.rm(file, { force: true });
    removed = true;
  }
  if (removed) await fsyncDir(dir);
}

async function holdsData(dir: string, names: readonly string[]): Promise<boolean> {
  for (const name of names) {
    if (!parseJournalFileName(name)) continue;
    if ((await fs.stat(path.join(dir, name))).size > 0) return true;
  }
  return false;
}

/** FRESH: the empty state. wal.0.0 exists before the MANIFEST that names it. */
async function fresh(
  dir: string,
  names: readonly string[],
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
): Promise<Manifest> {
  for (const name of names) {
    if (parseJournalFileName(name)) await fs.rm(path.join(dir, name), { force: true });
  }
  const part: PartName = { gen: 0, part: 0 };
  await createEmpty(ctx.io, path.join(dir, partFileName(part)));
  const manifest: Manifest = { snapshotGen: 0, parts: [part] };
  await writeManifest(dir, manifest);
  report.labels.push('FRESH');
  ctx.logger.info('journal recovery: FRESH', { label: 'FRESH', dir });
  return manifest;
}

/** MANIFEST_BAD / MANIFEST_MISSING: refuses, or rebuilds the history from the file names. */
async function rebuildManifest(
  dir: string,
  names: readonly string[],
  found: Exclude<ManifestRead, { state: 'ok' }>,
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  const label = found.state === 'bad' ? 'MANIFEST_BAD' : 'MANIFEST_MISSING';
  const offset = found.state === 'bad' ? found.offset : 0;
  const detail =
    found.state === 'bad' ? found.detail : 'no MANIFEST, but snapshot or log files hold data';
  if (ctx.onCorruption === 'refuse') {
    throw new CorruptionError(
      file,
      offset,
      `${label}: ${detail}. Start with --on-corruption truncate|quarantine to rebuild it ` +
        'from the files present',
    );
  }
  const copies = ctx.onCorruption === 'quarantine' ? await quarantine([file]) : [];
  let snapshotGen = 0;
  const parts: PartName[] = [];
  for (const name of names) {
    const parsed = parseJournalFileName(name);
    if (parsed?.kind === 'snap') snapshotGen = Math.max(snapshotGen, parsed.gen);
    if (parsed?.kind === 'wal') parts.push({ gen: parsed.gen, part: parsed.part });
  }
  const manifest: Manifest = {
    snapshotGen,
    parts: parts.filter((p) => p.gen >= snapshotGen).sort(comparePart),
  };
  note(ctx, report, label, {
    file,
    offset,
    detail,
    action: 'rebuilt',
    snapshotGen,
    parts: manifest.parts.map(partFileName),
    copies,
  });
  return manifest;
}

async function quarantine(files: readonly string[]): Promise<string[]> {
  const copies: string[] = [];
  for (const file of files) {
    const aside = `${file}.corrupt-${Date.now()}`;
    try {
      await fs.copyFile(file, aside);
      copies.push(aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return copies;
}

interface Replayed {
  readonly partBytes: number[];
  logRecords: number;
  snapshotBytes: number;
  /** A corruption was let through: the history was cut and must be rewritten. */
  cut: boolean;
}

async function replay(
  dir: string,
  m: Manifest,
  owner: JournalOwner,
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
): Promise<Replayed> {
  const files = m.parts.map((p) => path.join(dir, partFileName(p)));
  if (m.snapshotGen > 0) files.unshift(path.join(dir, snapshotFileName(m.snapshotGen)));
  const out: Replayed = { partBytes: [], logRecords: 0, snapshotBytes: 0, cut: false };
  const cutAt = async (i: number, label: string, offset: number, detail: string) => {
    await corruption(ctx, report, label, files.slice(i), offset, detail);
    out.cut = true;
    return out;
  };
  let i = 0;
  if (m.snapshotGen > 0) {
    const file = files[0] as string;
    if (!(await exists(file))) return cutAt(0, 'MISSING_FILE', 0, 'the MANIFEST lists it');
    const footerFirst = ctx.onCorruption === 'refuse';
    const read = await readSnapshot(ctx.io, file, m.snapshotGen, footerFirst, (chunk) => {
      owner.loadChunk(chunk);
      report.chunksLoaded++;
    });
    if (read.problem) {
      return cutAt(0, 'CORRUPT_SNAPSHOT', read.problem.offset, read.problem.detail);
    }
    out.snapshotBytes = read.bytes;
    i = 1;
  }
  for (let k = 0; k < m.parts.length; k++, i++) {
    const part = await replayPart(files[i] as string, k === m.parts.length - 1, owner, ctx, report);
    if (part.state === 'missing') return cutAt(i, 'MISSING_FILE', 0, 'the MANIFEST lists it');
    out.partBytes.push(part.bytes);
    out.logRecords += part.records;
    if (part.state === 'corrupt') return cutAt(i, 'CORRUPT_FRAME', part.bytes, part.detail);
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Refuses, or lets the cut happen (quarantine: copying the files that lose data first). */
async function corruption(
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
  label: string,
  files: readonly string[],
  offset: number,
  detail: string,
): Promise<void> {
  const file = files[0] as string;
  const atStake = `${files.length} file(s) of history from here on: ${files.join(', ')}`;
  if (ctx.onCorruption === 'refuse') {
    throw new CorruptionError(
      file,
      offset,
      `${label}: ${detail}; at stake: ${atStake}. ` +
        'Start with --on-corruption truncate|quarantine to drop them',
    );
  }
  const copies = ctx.onCorruption === 'quarantine' ? await quarantine(files) : [];
  note(ctx, report, label, {
    file,
    offset,
    detail,
    action: ctx.onCorruption === 'quarantine' ? 'quarantined' : 'truncated',
    dropped: atStake,
    copies,
  });
}

type PartReplay =
  | { readonly state: 'missing' }
  | { readonly state: 'clean' | 'torn'; readonly bytes: number; readonly records: number }
  | { readonly state: 'corrupt'; bytes: number; records: number; detail: string };

/** Replays one part; a bad frame is TORN_TAIL (truncated here) or left to the caller. */
async function replayPart(
  file: string,
  isLast: boolean,
  owner: JournalOwner,
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
): Promise<PartReplay> {
  let fd: number;
  try {
    fd = await ctx.io.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw err;
  }
  let records = 0;
  let size: number;
  let scan: Awaited<ReturnType<typeof scanFrames>>;
  let torn = false;
  let zeroTail = false;
  try {
    size = await ctx.io.fileSize(fd);
    scan = await scanFrames(ctx.io, fd, 0, size, MAGIC_LOG, (buf, start) =>
      forEachRecord(buf, start, (s, e) => {
        records++;
        owner.apply(Buffer.from(buf.subarray(s, e)));
      }),
    );
    zeroTail = isLast && scan.problem === 'ZERO' && (await isAheadTail(ctx.io, fd, scan.end, size));
    if (scan.problem && !zeroTail)
      torn = isLast && !(await validFrameAfter(ctx.io, fd, scan.end, size, MAGIC_LOG));
  } finally {
    await ctx.io.close(fd);
  }
  report.recordsReplayed += records;
  if (scan.problem === null) return { state: 'clean', bytes: size, records };
  if (zeroTail) {
    report.labels.push('ZERO_TAIL');
    ctx.logger.info('journal recovery: ZERO_TAIL', { file, offset: scan.end, size });
    await truncateFile(ctx.io, file, scan.end);
    return { state: 'torn', bytes: scan.end, records };
  }
  const detail = `frame ${scan.problem}, ${size - scan.end} bytes from here to the end`;
  if (!torn) return { state: 'corrupt', bytes: scan.end, records, detail };
  note(ctx, report, 'TORN_TAIL', {
    file,
    offset: scan.end,
    bytesDropped: size - scan.end,
    problem: scan.problem,
  });
  await truncateFile(ctx.io, file, scan.end);
  return { state: 'torn', bytes: scan.end, records };
}

async function truncateFile(io: Io, file: string, length: number): Promise<void> {
  const fd = await io.open(file, 'r+');
  try {
    await io.ftruncate(fd, length);
    await io.fdatasync(fd);
  } finally {
    await io.close(fd);
  }
}

export async function createEmpty(io: Io, file: string): Promise<void> {
  await io.close(await io.open(file, 'w'));
}

/** REWRITTEN: the recovered state becomes snap.<gen> + an empty wal.<gen>.0; old files go. */
async function rewrite(
  dir: string,
  owner: JournalOwner,
  ctx: RecoveryContext,
  report: JournalRecoveryReport,
  gen: number,
): Promise<RecoveredJournal> {
  const chunks = owner.snapshot();
  const snapshotBytes = await writeSnapshot(
    ctx.io,
    dir,
    gen,
    chunks,
    JOURNAL_SNAPSHOT_WRITE_BYTES,
    () => undefined,
  );
  const part: PartName = { gen, part: 0 };
  await createEmpty(ctx.io, path.join(dir, partFileName(part)));
  const manifest: Manifest = { snapshotGen: gen, parts: [part] };
  await writeManifest(dir, manifest);
  await removeUnlisted(dir, manifest, () => undefined);
  note(ctx, report, 'REWRITTEN', {
    snapshot: snapshotFileName(gen),
    part: partFileName(part),
    snapshotBytes,
  });
  return { manifest, partBytes: [0], logRecords: 0, snapshotBytes, maxGen: gen, report };
}
