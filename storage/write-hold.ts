// Holding back the writers of several logs so that what one unit of work (a MULTI/EXEC) wrote
// to each of them reaches the files as one unit. While held, a stream log or the journal that
// would schedule its write defers it, and notes itself as one the unit queued records on.
// commit() ends the unit:
//   1. prepare(): every such log finishes what it had in flight, and writes the segment rolls,
//      checkpoints or part switches queued before the unit's first record (its writer is let go
//      for them), so that what is left is plain records at the end of one open file each;
//   2. takeHeld(): each log packs what it holds into the bytes of one write at a known offset;
//   3. when the unit spans more than one file (or more than one frame of one), the intent
//      (txn-intent.ts) naming every part is written in one system call, and under `always`
//      fdatasync'd;
//   4. each part is written synchronously, one after another; the writers then fdatasync and
//      answer as usual.
// A kill -9 before the intent is complete leaves none of the unit (no part is written before
// it); after it, the next start writes whatever part is missing (finishIntent): all of it.
// Under `always` the same holds across a power loss, the intent being durable before any part
// is written and each part starting at its file's last fdatasync'd byte.
//
// A wait on a held log inside the unit (a read of a stream the unit wrote, which must see those
// writes; an exact trim scanning its segment) has that log write what it holds at once, so
// nothing ever waits on the hold. Before the first of the unit's records goes to such a log's
// file, an undo intent records where the file ended, and a crash before the unit is complete
// has the next start cut it back there: none of the unit. commit()'s intent replaces it.
//
// To keep each log's part in one file, a stream log does not roll to a new segment while held
// (it rolls at its next append after), and the store's periodic checkpoints wait.
//
// A stream the unit drops goes at its end, named in its intent (its directory renamed aside
// before the call that ends the unit returns, so no later intent can be written first). One it
// drops and then creates again is moved out of the way at once, to `.txd-<name>-<random>`
// (store.ts), which the intent names: a start that finds it there (the unit never wrote its
// intent) puts it back and removes what the unit had created at its key.
//
// A stream the unit renames moves to its new directory at once, keeping the `meta` it had and
// holding its new key in `meta.unit`; the intent names it, and as the unit ends `meta.unit`
// becomes its meta. A start that finds a `meta.unit` (the unit never wrote its intent) moves
// the stream back to its old key (store.ts, UNIT_RENAME_UNDONE).
//
// Not covered, and written as before (each log on its own, in order): a unit one of whose logs
// cannot hand over what it holds (a closed or failed log, a part over TXN_INTENT_MAX_BYTES).
import assert from 'node:assert';
import fs from 'node:fs';
import { TXN_INTENT_MAX_BYTES } from './limits';
import type { IntentFile, IntentPart } from './txn-intent';

/** A log a hold can hold: a stream log or the journal. */
export interface HeldLog {
  /**
   * Resolves once nothing is in flight and what is queued before `fromSeq` (the unit's first
   * record here) is only plain records; lets the writer go for earlier rolls and the like.
   */
  quiet(fromSeq: number): Promise<void>;
  /** What is queued, as one write at the end of the file being written; null if it cannot be. */
  takeHeld(): HeldPart | null;
}

export interface HeldPart extends IntentPart {
  /** The write spans more than one frame (a torn one could keep only some). */
  readonly frames: number;
  /** Writes the bytes now, synchronously; the log's writer then syncs and answers. */
  write(): void;
}

/**
 * A part's offset and bytes: `fresh`, to go at `end` (the file's end), preceded by what the file
 * holds from `from` (its last fdatasync'd byte under `always`, else `end`), read back from the
 * page cache, so the part covers whatever a power loss may take back. Falls back to `end`
 * when the file cannot be read (the part then covers a kill -9 only).
 */
export function partFrom(fd: number, end: number, from: number, fresh: Buffer) {
  if (from >= end) return { offset: end, bytes: fresh };
  const before = Buffer.allocUnsafe(end - from);
  try {
    for (let got = 0; got < before.length;) {
      const n = fs.readSync(fd, before, got, before.length - got, from + got);
      if (n === 0) return { offset: end, bytes: fresh };
      got += n;
    }
  } catch {
    return { offset: end, bytes: fresh };
  }
  return { offset: from, bytes: Buffer.concat([before, fresh]) };
}

const EMPTY = Buffer.alloc(0);

export class WriteHold {
  private depth = 0;
  private readonly deferred = new Map<object, () => void>();
  /** Logs released early (someone waits on them), until they have written what was queued. */
  private readonly bypassed = new Set<object>();
  /** The logs the unit queued records on, with the seq of its first record on each. */
  private readonly touched = new Map<HeldLog, number>();
  /** Where each log written early stood before the unit's first record (see the top). */
  private readonly undo = new Map<object, IntentPart>();
  /** Some of the unit was written early with no way to undo it: it cannot be one unit. */
  private broken = false;
  /** Stream directories the unit dropped, to go at its end, and how. */
  private readonly drops: Array<{ part: IntentPart; run: () => Promise<void> }> = [];
  /** Stream directories the unit renamed (by where they are now), and how each takes its key. */
  private readonly renames = new Map<string, { part: IntentPart; finish: () => void }>();
  private intent: IntentFile | null = null;

  /** Units begun so far (the outermost hold() of each). */
  private units = 0;

  get held(): boolean {
    return this.depth > 0;
  }

  /** The running unit's number (the last one's, when none runs). */
  get unit(): number {
    return this.units;
  }

  /** The store's intent file; without one, units are written without an intent. */
  attach(intent: IntentFile): void {
    this.intent = intent;
  }

  hold(): void {
    if (this.depth++ === 0) this.units++;
  }

  /** A record `seq` was queued on `log`: while held, the unit's. */
  note(log: HeldLog, seq: number): void {
    if (this.depth > 0 && !this.touched.has(log)) this.touched.set(log, seq);
  }

  /**
   * The writer of `log`, let go early, is about to write record `seq`: true when that is the
   * unit's first record on it, which it must not write before noteUndo().
   */
  startsUndo(log: HeldLog, seq: number): boolean {
    return this.depth > 0 && this.touched.get(log) === seq && !this.undo.has(log);
  }

  /**
   * `log`'s file `file` ends at `offset` before the unit's first record on it: the intent is
   * rewritten, now, to cut it back there should a crash come before the unit is complete.
   */
  noteUndo(log: HeldLog, identity: Buffer | null, file: string, offset: number): void {
    if (identity === null || this.intent === null) {
      this.broken = true;
      return;
    }
    this.undo.set(log, { file, identity, offset, bytes: EMPTY, undo: true });
    try {
      this.intent.write([...this.undo.values()]);
    } catch {
      this.broken = true; // the log's own write then reports the disk
    }
  }

  /**
   * The unit dropped `log`'s stream: its directory `dir` goes at the unit's end (`run`), named
   * in the intent; what the unit wrote to it no longer matters.
   */
  noteDrop(log: HeldLog, dir: string, identity: Buffer, run: () => Promise<void>): void {
    this.touched.delete(log);
    this.drops.push({ part: { file: dir, identity, offset: 0, bytes: EMPTY, drop: true }, run });
  }

  /**
   * The directory of a stream the unit dropped moved from `from` to `to` (out of the way of a
   * stream created again at its key): the intent names the new place, and `run` removes it.
   */
  moveDrop(from: string, to: string, run: () => Promise<void>): void {
    const i = this.drops.findIndex((d) => d.part.file === from);
    assert(i >= 0, 'moveDrop() of a directory the unit dropped');
    const part = (this.drops[i] as { part: IntentPart }).part;
    this.drops[i] = { part: { ...part, file: to }, run };
  }

  /**
   * The unit renamed a stream, whose directory moved from `from` to `dir` and holds `meta.unit`
   * (its new key) beside the `meta` it had before the unit (`identity`): the intent names it, and
   * `finish` makes the key its own as the unit ends.
   */
  noteRename(from: string, dir: string, identity: Buffer, finish: () => void): void {
    const earlier = this.renames.get(from);
    this.renames.delete(from);
    const part = { file: dir, identity: earlier?.part.identity ?? identity, offset: 0 };
    this.renames.set(dir, { part: { ...part, bytes: EMPTY, rename: true }, finish });
  }

  /** Ends one hold; the last one schedules every deferred write (see commit for a unit's). */
  release(): void {
    if (this.depth === 0) return;
    this.depth--;
    if (this.depth > 0) return;
    // A unit given up (not committed) must not be undone at the next start.
    if (this.undo.size > 0) this.writeIntent([]);
    this.undo.clear();
    this.broken = false;
    // Renamed streams take their keys, and dropped ones go, now (after the unit's writes when
    // it committed), before anything after the unit can write an intent not naming them.
    for (const { finish } of this.renames.values()) {
      try {
        finish();
      } catch {
        // a broken disk: the stream's next write reports it
      }
    }
    this.renames.clear();
    for (const { run } of this.drops.splice(0)) void run().catch(() => {});
    this.bypassed.clear();
    this.touched.clear();
    const writes = [...this.deferred.values()];
    this.deferred.clear();
    for (const write of writes) write();
  }

  /**
   * Step 1 (see the top), before the unit's last records are queued: `also` are logs it will
   * queue on after this (the journal, which gets a transaction's list records at its end).
   */
  async prepare(also: readonly HeldLog[]): Promise<void> {
    assert(this.depth === 1, 'prepare() ends the outermost hold');
    const logs = new Set([...this.touched.keys(), ...also]);
    for (const log of logs) await log.quiet(this.touched.get(log) ?? Number.MAX_SAFE_INTEGER);
  }

  /**
   * Steps 2-4, then release(): right after prepare() and the unit's last records, all in one
   * turn, so no log changes between the intent and the writes. A failed intent write leaves
   * the unit to be written without one (the logs' own writes then report the broken disk).
   */
  commit(): void {
    assert(this.depth === 1, 'commit() ends the outermost hold');
    try {
      const parts: HeldPart[] = [];
      let whole = true;
      for (const log of this.touched.keys()) {
        const part = log.takeHeld();
        if (part === null) whole = false;
        else if (part.bytes.length > 0) parts.push(part);
      }
      const bytes = parts.reduce((n, p) => n + p.bytes.length, 0);
      const spans =
        parts.length > 1 ||
        (parts[0]?.frames ?? 0) > 1 ||
        this.undo.size > 0 ||
        this.drops.length > 0 ||
        this.renames.size > 0;
      whole &&= !this.broken && bytes <= TXN_INTENT_MAX_BYTES;
      // The redo intent replaces any undo one; a unit that cannot be whole clears it first.
      // Renames last: the parts of a renamed stream are checked against the meta it had.
      const marks = [
        ...this.drops.map((d) => d.part),
        ...[...this.renames.values()].map((r) => r.part),
      ];
      if (spans) this.writeIntent(whole ? [...parts, ...marks] : []);
      this.undo.clear();
      for (const part of parts) part.write();
    } finally {
      this.release();
    }
  }

  private writeIntent(parts: readonly IntentPart[]): void {
    try {
      this.intent?.write(parts);
    } catch {
      // see commit()
    }
  }

  /** Whether `owner`'s writes wait now. */
  holds(owner: object): boolean {
    return this.depth > 0 && !this.bypassed.has(owner);
  }

  /** Schedules `owner`'s writer: `later()` now, or while `owner` is held, at the release. */
  schedule(owner: object, later: () => void): void {
    if (!this.holds(owner)) return later();
    if (!this.deferred.has(owner)) this.deferred.set(owner, later);
  }

  /** `owner` wrote everything queued when it was released early: it is held again. */
  rehold(owner: object): void {
    this.bypassed.delete(owner);
  }

  /** Someone waits on `owner`'s writes: what is queued goes now (then rehold()). */
  releaseOne(owner: object): void {
    if (this.depth === 0) return;
    this.bypassed.add(owner);
    const schedule = this.deferred.get(owner);
    if (!schedule) return;
    this.deferred.delete(owner);
    schedule();
  }
}
