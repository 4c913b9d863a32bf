// The two pulled SSE feeds: a stream tail (XREAD after an entry ID, resumable with
// Last-Event-ID) and a consumer-group feed (XREADGROUP: the consumer's pending entries first,
// then new ones, never more than maxUnacked unacknowledged). Both read only while the client
// keeps up: a write that fills the socket waits for 'drain' before the next read.
import type { FastifyReply } from 'fastify';
import type { Reply } from '../commands/reply';
import { wireValue } from './codec';
import type { HttpDeps } from './deps';
import { run } from './run';
import { sseEvent, sseSettings, type SseStream } from './sse-stream';

export interface Entry {
  readonly id: string;
  /** Null for an entry of a pending list that was deleted from the stream. */
  readonly fields: readonly Buffer[] | null;
}

/** Entries of an XRANGE-shaped reply: [[id, [f, v, ...] | nil], ...]. */
export function rangeEntries(r: Reply): Entry[] {
  if (r.t !== 'array') return [];
  const out: Entry[] = [];
  for (const e of r.v) {
    if (e.t !== 'array' || e.v[0]?.t !== 'bulk') continue;
    const f = e.v[1];
    const fields =
      f?.t === 'array' ? f.v.map((x) => (x.t === 'bulk' ? x.v : Buffer.alloc(0))) : null;
    out.push({ id: e.v[0].v.toString('latin1'), fields });
  }
  return out;
}

/** Entries of a one-stream XREAD / XREADGROUP reply (RESP2 shape: [[key, entries]] or nil). */
export function readEntries(r: Reply): Entry[] {
  if (r.t !== 'array') return [];
  const first = r.v[0];
  return first?.t === 'array' && first.v[1] ? rangeEntries(first.v[1]) : [];
}

export function entryEvent(e: Entry): string {
  const fields = e.fields ? e.fields.map((b) => wireValue(b, false)) : null;
  return sseEvent('entry', JSON.stringify({ id: e.id, fields }), e.id);
}

/** The first word of an error reply: its code. */
export function errorCode(message: string): string {
  const space = message.indexOf(' ');
  return space < 0 ? message : message.slice(0, space);
}

/** Writes a batch of entries as events; waits while the client is behind. */
async function deliver(stream: SseStream, entries: readonly Entry[]): Promise<void> {
  if (entries.length === 0) return;
  if (!stream.write(entries.map(entryEvent).join(''))) await stream.drained();
}

// ---- stream tail --------------------------------------------------------------------------

export interface TailFeed {
  readonly key: Buffer;
  readonly count: number;
}

/**
 * Before the stream opens (so errors are HTTP errors): resolves `$` to the last entry's ID
 * (the ID of anything added later is greater, and entries between it and the last generated
 * ID were deleted) and validates the cursor with one non-blocking read.
 */
export async function startTail(
  deps: HttpDeps,
  reply: FastifyReply,
  feed: TailFeed,
  after: string,
): Promise<{ error: Reply & { t: 'error' } } | { cursor: string; first: Entry[] }> {
  let cursor = after;
  if (cursor === '$') {
    const last = await run(deps, reply, ['XREVRANGE', feed.key, '+', '-', 'COUNT', '1']);
    if (last.t === 'error') return { error: last };
    cursor = rangeEntries(last)[0]?.id ?? '0-0';
  }
  const r = await run(deps, reply, [
    'XREAD',
    'COUNT',
    String(feed.count),
    'STREAMS',
    feed.key,
    cursor,
  ]);
  if (r.t === 'error') return { error: r };
  return { cursor, first: readEntries(r) };
}

export async function runTail(
  stream: SseStream,
  feed: TailFeed,
  cursor: string,
  first: Entry[],
): Promise<void> {
  let after = cursor;
  let entries = first;
  while (!stream.ended) {
    await deliver(stream, entries);
    after = entries.at(-1)?.id ?? after;
    if (stream.ended) return;
    const count = String(feed.count);
    // BLOCK 0 is capped by the dispatcher at maxBlockMs; then the loop reads again.
    const r = await stream.run(['XREAD', 'COUNT', count, 'BLOCK', '0', 'STREAMS', feed.key, after]);
    if (r.t === 'error') return stream.fail(errorCode(r.v), r.v);
    entries = readEntries(r);
  }
}

// ---- consumer-group feed ------------------------------------------------------------------

export interface GroupFeed {
  readonly key: Buffer;
  readonly group: Buffer;
  readonly consumer: Buffer;
  readonly count: number;
  readonly maxUnacked: number;
}

function readGroup(feed: GroupFeed, count: number, id: string, block: boolean) {
  const head = ['XREADGROUP', 'GROUP', feed.group, feed.consumer, 'COUNT', String(count)];
  return [...head, ...(block ? ['BLOCK', '0'] : []), 'STREAMS', feed.key, id];
}

/** The consumer's first pending entries; also how a missing group or key is found (404). */
export async function startGroupFeed(
  deps: HttpDeps,
  reply: FastifyReply,
  feed: GroupFeed,
): Promise<{ error: Reply & { t: 'error' } } | { first: Entry[] }> {
  const r = await run(deps, reply, readGroup(feed, feed.count, '0', false));
  if (r.t === 'error') return { error: r };
  return { first: readEntries(r) };
}

/** The consumer's pending count from XPENDING's summary; an error reply when it failed. */
async function pendingOf(stream: SseStream, feed: GroupFeed): Promise<number | Reply> {
  const r = await stream.run(['XPENDING', feed.key, feed.group]);
  if (r.t === 'error') return r;
  const consumers = r.t === 'array' ? r.v[3] : undefined;
  if (consumers?.t !== 'array') return 0;
  for (const c of consumers.v) {
    if (c.t !== 'array' || c.v[0]?.t !== 'bulk' || !c.v[0].v.equals(feed.consumer)) continue;
    const n = c.v[1];
    return n?.t === 'bulk' ? Number(n.v.toString('latin1')) : n?.t === 'int' ? Number(n.v) : 0;
  }
  return 0;
}

export async function runGroupFeed(
  stream: SseStream,
  feed: GroupFeed,
  first: Entry[],
): Promise<void> {
  // Pending entries first (history reads after the last one sent), never blocking.
  let entries = first;
  while (entries.length > 0 && !stream.ended) {
    await deliver(stream, entries);
    const after = entries.at(-1)?.id as string;
    if (stream.ended) return;
    const r = await stream.run(readGroup(feed, feed.count, after, false));
    if (r.t === 'error') return stream.fail(errorCode(r.v), r.v);
    entries = readEntries(r);
  }
  // Then new entries, only while the consumer's pending list is below the cap.
  while (!stream.ended) {
    const pending = await pendingOf(stream, feed);
    if (typeof pending !== 'number') {
      return pending.t === 'error' ? stream.fail(errorCode(pending.v), pending.v) : undefined;
    }
    if (pending >= feed.maxUnacked) {
      await stream.pause(sseSettings.ackPollMs);
      continue;
    }
    const count = Math.min(feed.count, feed.maxUnacked - pending);
    const r = await stream.run(readGroup(feed, count, '>', true));
    if (r.t === 'error') return stream.fail(errorCode(r.v), r.v);
    await deliver(stream, readEntries(r));
  }
}
