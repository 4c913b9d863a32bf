// Resolving a trim (MAXLEN or MINID, exact or approximate, with LIMIT) into its outcome: how
// many live entries go and which entry becomes the first. Whole segments are skipped by their
// live counts; only the segment where the cut falls is read, block by block from the head.
//
// Approximate (`~`) trims cut only at sparse-index block boundaries (about 4 KiB of frames,
// the size of a Redis stream node), never remove more than the exact trim would, and honour
// LIMIT (0 = no limit). Exact trims ignore LIMIT, as Redis refuses LIMIT without `~`.
import { StreamId } from './id';
import { FLAG_HAS_DATA, forEachRecord } from './frame';
import { KIND_DATA, type StreamEntry } from './records';
import type { Segment } from './segment';

export interface TrimSpec {
  /** Keep at most this many entries (MAXLEN). */
  readonly maxLen?: number;
  /** Remove entries with an ID below this (MINID). */
  readonly minId?: StreamId;
  readonly approx: boolean;
  /** Most entries to remove when approx; 0 = no limit. */
  readonly limit: number;
}

export interface TrimPlan {
  readonly removed: number;
  /** The first live entry afterwards (0-0 when none is left). */
  readonly firstId: StreamId;
}

/** What a plan needs of the log (StreamLog implements it). */
export interface TrimSource {
  readonly segments: readonly Segment[];
  readonly length: number;
  readonly firstId: StreamId;
  firstSegmentAtOrAfter(id: StreamId): number;
  liveCount(i: number): number;
  read(start: StreamId, end: StreamId, count: number, reverse: boolean): Promise<StreamEntry[]>;
  /** Resolves once every queued record is written to its file (readable by scans). */
  whenWritten(): Promise<void>;
}

interface Goal {
  readonly want: number; // entries to remove at most (MAXLEN), Infinity for MINID
  readonly bound: StreamId | null; // remove IDs below it (MINID)
  readonly cap: number; // LIMIT
  readonly approx: boolean;
}

function qualifies(goal: Goal, id: StreamId, removed: number): boolean {
  if (removed >= goal.cap || removed >= goal.want) return false;
  return goal.bound === null || id.compare(goal.bound) < 0;
}

export async function planTrim(
  log: TrimSource,
  spec: TrimSpec,
  extra: readonly StreamEntry[],
): Promise<TrimPlan> {
  const total = log.length + extra.length;
  const goal: Goal = {
    want: spec.maxLen !== undefined ? Math.max(0, total - spec.maxLen) : Infinity,
    bound: spec.minId ?? null,
    cap: spec.approx && spec.limit > 0 ? spec.limit : Infinity,
    approx: spec.approx,
  };
  if (goal.want === 0) return { removed: 0, firstId: log.firstId };
  let removed = 0;
  let i = log.length === 0 ? log.segments.length : log.firstSegmentAtOrAfter(log.firstId);
  for (; i < log.segments.length; i++) {
    const live = log.liveCount(i);
    if (live === 0) continue;
    const seg = log.segments[i] as Segment;
    const whole =
      goal.bound !== null
        ? seg.lastId !== null && seg.lastId.compare(goal.bound) < 0
        : removed + live <= goal.want;
    if (!whole || removed + live > goal.cap) break;
    removed += live;
  }
  let firstId: StreamId | null = null;
  if (i < log.segments.length) {
    const cut = await cutInSegment(log, log.segments[i] as Segment, goal, removed);
    removed = cut.removed;
    firstId = cut.firstId;
    if (firstId === null && cut.after)
      firstId = (await log.read(cut.after, StreamId.MAX, 1, false))[0]?.id ?? null;
  }
  if (firstId === null) {
    // Every old entry goes: the new entries of this command may be cut too (exact only).
    let k = 0;
    while (
      !goal.approx &&
      k < extra.length &&
      qualifies(goal, (extra[k] as StreamEntry).id, removed + k)
    )
      k++;
    removed += k;
    firstId = extra[k]?.id ?? StreamId.ZERO;
  }
  return { removed, firstId };
}

/**
 * Walks the live IDs of `seg` from the stream's first entry, block by block, removing while
 * the goal allows. Returns the first ID kept, or null with `after` (where to look next) when
 * the whole segment went.
 */
async function cutInSegment(
  log: TrimSource,
  seg: Segment,
  goal: Goal,
  removedBefore: number,
): Promise<{ removed: number; firstId: StreamId | null; after: StreamId | null }> {
  let removed = removedBefore;
  if (!seg.sealed) await log.whenWritten();
  const from = seg.firstId && seg.firstId.compare(log.firstId) > 0 ? seg.firstId : log.firstId;
  const index = await seg.getIndex();
  for (let b = Math.max(0, index.floor(from)); b < index.length; b++) {
    const ids = await liveIdsInBlock(
      seg,
      index.position(b),
      b + 1 < index.length ? index.position(b + 1) : seg.size,
      from,
    );
    if (ids.length === 0) continue;
    if (goal.approx) {
      const all =
        ids.every((id, j) => qualifies(goal, id, removed + j)) && removed + ids.length <= goal.cap;
      if (!all) return { removed, firstId: ids[0] as StreamId, after: null };
      removed += ids.length;
      continue;
    }
    for (const id of ids) {
      if (!qualifies(goal, id, removed)) return { removed, firstId: id, after: null };
      removed++;
    }
  }
  return { removed, firstId: null, after: seg.lastId?.next() ?? null };
}

async function liveIdsInBlock(
  seg: Segment,
  from: number,
  to: number,
  min: StreamId,
): Promise<StreamId[]> {
  const ids: StreamId[] = [];
  await seg.scan(from, to, (buf, start, header) => {
    if ((header.flags & FLAG_HAS_DATA) === 0 || header.lastId.compare(min) < 0) return true;
    forEachRecord(buf, start, header, (kind, bs) => {
      if (kind !== KIND_DATA) return true;
      const id = StreamId.read(buf, bs);
      if (id.compare(min) >= 0 && !seg.isDeleted(id)) ids.push(id);
      return true;
    });
    return true;
  });
  return ids;
}
