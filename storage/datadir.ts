// The data directory: its layout, the FORMAT version file and the exclusive LOCK that keeps two
// brokers out of one directory. Also the fsync helpers every other storage file writes through.
//
// Layout (default ./data):
//   data/
//     FORMAT             format version file, see below; written atomically, never rewritten
//     FORMAT.tmp         only while FORMAT is being written; a leftover one is removed at open
//     LOCK               exclusive lock, see below
//     streams/<name>/    one directory per stream; <name> = streamDirName(key):
//                          `k-` + lowercase hex of the key when it is <= 100 bytes
//                          `h-` + sha256 hex of the key when it is longer
//                        only [a-z0-9-], at most 202 characters, never built from raw input;
//                        the real key is stored inside (meta), so `h-` names need no reverse
//     journal/           lists and keyspace metadata (see the journal files)
//     txn.0, txn.1       the intents of the last MULTI/EXECs written as one unit, in turn
//                        (txn-intent.ts); the unit a crash cut off is finished or undone at
//                        open, before streams/ and journal/ are read
//
// FORMAT: UTF-8 JSON plus a newline, exactly `{"format":"sluice","version":1}`. `version` is
// FORMAT_VERSION and covers the layout and every file format under the directory; a Sluice
// opens only directories of its own version (no silent upgrade). Written tmp -> fsync -> rename
// -> fsync directory, before streams/ and journal/ are created, so a directory holding data
// always has a FORMAT.
//
// LOCK: the decimal pid of the owning process plus a newline. Created with O_EXCL ('wx'), so
// exactly one opener creates it; removed by release(). It is not fsynced: after a power loss no
// pid in it is alive. Opening checks an existing LOCK:
//   - its pid is alive and is not this process: refuse (LOCKED). A pid reused by an unrelated
//     process also refuses; the message names the file so an operator can remove it.
//   - its pid is dead (or, on Linux, a zombie: exited, not yet reaped by its parent), or is
//     this process's own pid while this process does not hold the root (a restarted
//     container's pid 1): stale, left by kill -9; removed and taken.
//   - not a pid (a crash between create and write): taken once it has looked the same for
//     LOCK_SETTLE_MS (or is older than that), so a lock being written right now is not stolen.
//   A stale LOCK is removed only if it still has the inode and content that were judged stale,
//   read again right before the unlink; two openers racing for one stale lock can both win
//   only inside that window of two syscalls.
//   Within one process a set of held roots (by realpath) refuses a second open: the pid check
//   cannot tell two opens by the same process apart.
//
// Open decision table (labels used in events, messages and tests):
//   FRESH                 no FORMAT, streams/ and journal/ empty or missing: write FORMAT
//   FORMAT_OK             FORMAT names this version: open
//   FORMAT_TMP_LEFTOVER   FORMAT.tmp exists (crash while writing FORMAT): remove it, go on
//   FORMAT_VERSION        FORMAT names another version: refuse (FORMAT)
//   FORMAT_BAD            FORMAT unreadable, not JSON or not a Sluice FORMAT: refuse (FORMAT)
//   FORMAT_MISSING        no FORMAT but streams/ or journal/ hold files: refuse (FORMAT)
//   LOCK_FREE             no LOCK: create it
//   LOCK_HELD             LOCK names a live other process, or this process holds the root: refuse
//   LOCK_STALE            LOCK names a dead process, or this pid without the root held: take it
//   LOCK_GARBAGE          LOCK holds no pid: take it once settled
import assert from 'node:assert';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const FORMAT_VERSION = 1;
export const FORMAT_FILE = 'FORMAT';
export const LOCK_FILE = 'LOCK';
export const STREAMS_DIR = 'streams';
export const JOURNAL_DIR = 'journal';
/** Keys up to this many bytes are hex in their directory name (202 chars, under NAME_MAX 255). */
export const MAX_HEX_KEY_BYTES = 100;
/** A LOCK without a pid younger than this may be mid-creation by another opener. */
export const LOCK_SETTLE_MS = 1000;
const LOCK_POLL_MS = 50;
/** Bounds the retries when other openers keep replacing LOCK under us. */
const LOCK_ATTEMPTS_MAX = 100;

export type DataDirErrorCode = 'LOCKED' | 'FORMAT' | 'IO';

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  readonly code: DataDirErrorCode;

  constructor(code: DataDirErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** What opening found and repaired; the broker logs these. */
export type DataDirEventLabel = 'FRESH' | 'FORMAT_TMP_LEFTOVER' | 'LOCK_STALE' | 'LOCK_GARBAGE';

export interface DataDirEvent {
  readonly label: DataDirEventLabel;
  readonly message: string;
}

export interface DataDir {
  readonly root: string;
  readonly streamsDir: string;
  readonly journalDir: string;
  readonly events: readonly DataDirEvent[];
  /** Removes LOCK and lets this process open the root again; idempotent. */
  release(): Promise<void>;
}

/** Roots (by realpath) this process holds. */
const heldRoots = new Set<string>();

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function ioError(message: string, err: unknown): DataDirError {
  const detail = err instanceof Error ? err.message : String(err);
  return new DataDirError('IO', `${message}: ${detail}`, { cause: err });
}

/** fsyncs a directory so the entries created, renamed or removed in it are durable. */
export async function fsyncDir(dirPath: string): Promise<void> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(dirPath, 'r');
  } catch (err) {
    // Windows cannot open a directory as a file; it has no directory fsync to do.
    if (process.platform === 'win32' && ['EPERM', 'EISDIR'].includes(errnoCode(err) ?? '')) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems do not fsync directories at all (PostgreSQL's fsync_fname ignores these).
    const code = errnoCode(err);
    const unsupported = code === 'EINVAL' || (process.platform === 'win32' && code === 'EPERM');
    if (!unsupported) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `filePath` with `data` so a crash leaves the old or the new content, never a mix:
 * writes `<filePath>.tmp`, fsyncs it, renames it over `filePath`, fsyncs the directory. One
 * writer per path; a leftover `.tmp` after a crash is the caller's to remove at recovery.
 */
export async function writeFileAtomic(filePath: string, data: Buffer | string): Promise<void> {
  const tmpPath = `${filePath}.tmp`;
  const handle = await fsp.open(tmpPath, 'w', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(tmpPath, { force: true }).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await fsp.rename(tmpPath, filePath);
  await fsyncDir(path.dirname(filePath));
}

/** A safe, collision-free directory name for a binary stream key: only [a-z0-9-]. */
export function streamDirName(key: Buffer): string {
  const name =
    key.length <= MAX_HEX_KEY_BYTES
      ? `k-${key.toString('hex')}`
      : `h-${createHash('sha256').update(key).digest('hex')}`;
  assert(/^[a-z0-9-]+$/.test(name) && name.length <= 2 + 2 * MAX_HEX_KEY_BYTES);
  return name;
}

/** The key a `k-` directory name encodes; null for `h-` names (read meta) and foreign names. */
export function streamKeyFromDirName(name: string): Buffer | null {
  if (!/^k-(?:[0-9a-f]{2})*$/.test(name) || name.length > 2 + 2 * MAX_HEX_KEY_BYTES) return null;
  return Buffer.from(name.slice(2), 'hex');
}

export function formatFileText(): string {
  return `${JSON.stringify({ format: 'sluice', version: FORMAT_VERSION })}\n`;
}

/** Opens (creating if needed) the data directory at `root` and takes its lock. */
export async function openDataDir(root: string): Promise<DataDir> {
  const absRoot = path.resolve(root);
  await makeRoot(absRoot);
  let realRoot: string;
  try {
    realRoot = await fsp.realpath(absRoot);
  } catch (err) {
    throw ioError(`cannot resolve data directory ${absRoot}`, err);
  }
  if (heldRoots.has(realRoot)) {
    throw new DataDirError(
      'LOCKED',
      `data directory ${absRoot} is already open in this process; ` +
        'two brokers never open one directory',
    );
  }
  heldRoots.add(realRoot);
  const lockPath = path.join(absRoot, LOCK_FILE);
  const events: DataDirEvent[] = [];
  try {
    await acquireLock(absRoot, lockPath, events);
  } catch (err) {
    heldRoots.delete(realRoot);
    throw err;
  }
  const streamsDir = path.join(absRoot, STREAMS_DIR);
  const journalDir = path.join(absRoot, JOURNAL_DIR);
  try {
    await settleFormat(absRoot, events);
    await makeSubdirs(absRoot, [streamsDir, journalDir]);
  } catch (err) {
    await removeOwnLock(lockPath).catch(() => undefined);
    heldRoots.delete(realRoot);
    throw err;
  }
  let released = false;
  return {
    root: absRoot,
    streamsDir,
    journalDir,
    events,
    async release() {
      if (released) return;
      released = true;
      heldRoots.delete(realRoot);
      await removeOwnLock(lockPath);
    },
  };
}

async function makeRoot(absRoot: string): Promise<void> {
  try {
    const firstCreated = await fsp.mkdir(absRoot, { recursive: true });
    if (firstCreated === undefined) return;
    // Make every new directory entry durable, from the deepest up to the pre-existing parent.
    for (let dir = absRoot; ; dir = path.dirname(dir)) {
      await fsyncDir(path.dirname(dir));
      if (dir === firstCreated || dir === path.dirname(dir)) break;
    }
  } catch (err) {
    throw ioError(`cannot create data directory ${absRoot}`, err);
  }
}

async function makeSubdirs(absRoot: string, dirs: readonly string[]): Promise<void> {
  let created = false;
  for (const dir of dirs) {
    try {
      await fsp.mkdir(dir);
      created = true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError(`cannot create ${dir}`, err);
      const stat = await fsp.stat(dir);
      if (!stat.isDirectory()) {
        throw new DataDirError('IO', `${dir} exists and is not a directory`);
      }
    }
  }
  try {
    if (created) await fsyncDir(absRoot);
  } catch (err) {
    throw ioError(`cannot fsync data directory ${absRoot}`, err);
  }
}

interface LockSeen {
  readonly content: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

async function acquireLock(absRoot: string, lockPath: string, events: DataDirEvent[]) {
  let garbageSinceMs: number | undefined;
  for (let attempt = 0; attempt < LOCK_ATTEMPTS_MAX; attempt++) {
    if (await tryCreateLock(lockPath)) return;
    const seen = await readLock(lockPath);
    if (seen === null) continue; // removed since our create failed: try again
    const pid = parsePid(seen.content);
    if (pid === null) {
      garbageSinceMs ??= Date.now();
      const settled =
        Date.now() - seen.mtimeMs >= LOCK_SETTLE_MS ||
        Date.now() - garbageSinceMs >= LOCK_SETTLE_MS;
      if (!settled) {
        await sleep(LOCK_POLL_MS);
        continue;
      }
      if (removeIfUnchanged(lockPath, seen)) {
        const shown = JSON.stringify(seen.content.slice(0, 40));
        const message = `removed ${lockPath} holding no pid (${shown}), left by a crash`;
        events.push({ label: 'LOCK_GARBAGE', message });
      }
      garbageSinceMs = undefined;
      continue;
    }
    if (pid !== process.pid && isProcessAlive(pid)) {
      throw new DataDirError(
        'LOCKED',
        `data directory ${absRoot} is locked by another Sluice process (pid ${pid}); ` +
          `two brokers never open one directory (if pid ${pid} is not a Sluice broker, ` +
          `delete ${lockPath})`,
      );
    }
    if (removeIfUnchanged(lockPath, seen)) {
      const why =
        pid === process.pid
          ? 'an earlier process with this pid'
          : `pid ${pid}, which no longer runs`;
      events.push({ label: 'LOCK_STALE', message: `removed stale ${lockPath} of ${why}` });
    }
  }
  throw new DataDirError('LOCKED', `cannot take ${lockPath}: other processes keep replacing it`);
}

/** Creates LOCK with our pid; false when it already exists. */
async function tryCreateLock(lockPath: string): Promise<boolean> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(lockPath, 'wx', 0o644);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw ioError(`cannot create lock file ${lockPath}`, err);
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(lockPath, { force: true }).catch(() => undefined);
    throw ioError(`cannot write lock file ${lockPath}`, err);
  }
  await handle.close();
  return true;
}

async function readLock(lockPath: string): Promise<LockSeen | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(lockPath, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw ioError(`cannot read lock file ${lockPath}`, err);
  }
  try {
    const stat = await handle.stat();
    const content = await handle.readFile('utf8');
    return { content, ino: stat.ino, mtimeMs: stat.mtimeMs };
  } catch (err) {
    throw ioError(`cannot read lock file ${lockPath}`, err);
  } finally {
    await handle.close();
  }
}

/** Unlinks LOCK if it is still the file judged stale; synchronous to keep the race window small. */
function removeIfUnchanged(lockPath: string, seen: LockSeen): boolean {
  try {
    const ino = fs.statSync(lockPath).ino;
    const content = fs.readFileSync(lockPath, 'utf8');
    if (ino !== seen.ino || content !== seen.content) return false;
    fs.unlinkSync(lockPath);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw ioError(`cannot remove stale lock file ${lockPath}`, err);
  }
}

/** Removes LOCK if it still holds our pid. */
async function removeOwnLock(lockPath: string): Promise<void> {
  try {
    const content = await fsp.readFile(lockPath, 'utf8');
    if (parsePid(content) !== process.pid) return;
    await fsp.unlink(lockPath);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw ioError(`cannot remove lock file ${lockPath}`, err);
  }
}

function parsePid(content: string): number | null {
  const match = /^\s*(\d{1,10})\s*$/.exec(content);
  if (!match?.[1]) return null;
  const pid = Number(match[1]);
  // 0 and negative pids address process groups in kill(); never probe those.
  return pid >= 1 && pid <= 0xffffffff ? pid : null;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return errnoCode(err) !== 'ESRCH';
  }
  return !isZombie(pid);
}

/**
 * Linux: a process that has exited (killed with SIGKILL, say) but that its parent has not yet
 * waited for still answers kill(pid, 0); it holds no files any more, so its lock is stale. A
 * test suite that kills a broker and restarts it at once meets this.
 */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false; // no /proc (not Linux), or it has just gone: kill() decides next time
  }
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses; the state follows the
  // last ")".
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}

async function settleFormat(absRoot: string, events: DataDirEvent[]): Promise<void> {
  const formatPath = path.join(absRoot, FORMAT_FILE);
  const tmpPath = `${formatPath}.tmp`;
  try {
    await fsp.unlink(tmpPath);
    events.push({ label: 'FORMAT_TMP_LEFTOVER', message: `removed leftover ${tmpPath}` });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw ioError(`cannot remove ${tmpPath}`, err);
  }
  let text: string;
  try {
    text = await fsp.readFile(formatPath, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') {
      const detail = err instanceof Error ? err.message : String(err);
      throw new DataDirError('FORMAT', `cannot read format file ${formatPath}: ${detail}`, {
        cause: err,
      });
    }
    await refuseDataWithoutFormat(absRoot, formatPath);
    try {
      await writeFileAtomic(formatPath, formatFileText());
    } catch (writeErr) {
      throw ioError(`cannot write format file ${formatPath}`, writeErr);
    }
    events.push({ label: 'FRESH', message: `new data directory ${absRoot} (${formatPath})` });
    return;
  }
  checkFormatText(formatPath, text);
}

function checkFormatText(formatPath: string, text: string): void {
  const expected = formatFileText().trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DataDirError('FORMAT', `format file ${formatPath} is not JSON; expected ${expected}`);
  }
  const fields = parsed as { format?: unknown; version?: unknown } | null;
  if (typeof fields !== 'object' || fields === null || fields.format !== 'sluice') {
    throw new DataDirError(
      'FORMAT',
      `format file ${formatPath} is not a Sluice format file; expected ${expected}`,
    );
  }
  if (fields.version !== FORMAT_VERSION) {
    const newer = typeof fields.version === 'number' && fields.version > FORMAT_VERSION;
    throw new DataDirError(
      'FORMAT',
      `format file ${formatPath} declares version ${JSON.stringify(fields.version)}; ` +
        `this Sluice reads version ${FORMAT_VERSION} only` +
        (newer ? ' (the directory was written by a newer Sluice)' : ''),
    );
  }
}

/** FORMAT is written before streams/ and journal/; data without it is not ours to guess at. */
async function refuseDataWithoutFormat(absRoot: string, formatPath: string): Promise<void> {
  for (const sub of [STREAMS_DIR, JOURNAL_DIR]) {
    let entries: string[];
    try {
      entries = await fsp.readdir(path.join(absRoot, sub));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw ioError(`cannot list ${path.join(absRoot, sub)}`, err);
    }
    if (entries.length > 0) {
      throw new DataDirError(
        'FORMAT',
        `data directory ${absRoot} has files in ${sub}/ but no format file ${formatPath}; ` +
          'refusing to guess its format',
      );
    }
  }
}
