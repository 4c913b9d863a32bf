// Logs grown ahead of their data under fsync `always` (storage/size-ahead.ts): the file being
// appended to is longer than its data while open, in whole steps, and cut back when it is
// sealed or closed; a copy taken while it is open (what a kill -9 leaves) recovers as
// ZERO_TAIL with every entry and no warning; `everysec` grows nothing; a zero tail that does
// not end on a step is still a torn tail.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../storage/store';
import { StreamId } from '../../storage/id';
import { nodeIo } from '../../storage/io';
import { Journal, type JournalOptions } from '../../storage/journal';
import { SIZE_AHEAD_BYTES } from '../../storage/limits';
import { isAheadTail } from '../../storage/size-ahead';
import type { Logger } from '../../storage/errors';
import type { StreamLog } from '../../storage/stream-log';
import { ListOwner } from './fixtures/journal-child';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-ahead-'));
  dirs.push(d);
  return d;
}

const KEY = Buffer.from('s');
const value = (i: number) => Buffer.from(`value-${i}-`.padEnd(100, 'x'));

/** A logger keeping every warning's message. */
function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    info() {},
    warn: (msg) => void warnings.push(msg),
    error: (msg) => void warnings.push(msg),
  };
  return { logger, warnings };
}

async function openStore(root: string, options: StoreOptions = {}) {
  const { logger, warnings } = warningsLogger();
  const store = await Store.open(root, { fsync: 'always', logger, ...options });
  const log = store.get(KEY) ?? (await store.create(KEY));
  return { store, log, warnings, labels: store.reports.get(KEY.toString('latin1'))!.labels };
}

/** Appends entries from..to-1 with IDs <i>-0, `perCall` entries per append. */
async function appendRange(log: StreamLog, from: number, to: number, perCall = 10) {
  for (let i = from; i < to; i += perCall) {
    const ids = Array.from({ length: Math.min(perCall, to - i) }, (_, k) => i + k);
    await log.append(() =>
      ids.map((n) => ({ id: new StreamId(BigInt(n), 0n), fields: [Buffer.from('f'), value(n)] })),
    );
  }
}

async function idsOf(log: StreamLog): Promise<string[]> {
  const all = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
  return all.map((e) => e.id.toString());
}

const sizeOf = async (file: string) => (await fs.stat(file)).size;

/** A copy of `root` as a kill -9 leaves it: the files as they are, no LOCK. */
async function crashCopy(root: string): Promise<string> {
  const copy = await tempRoot();
  await fs.cp(root, copy, { recursive: true, filter: (src) => path.basename(src) !== 'LOCK' });
  return copy;
}

describe('stream segments under always', () => {
  it('the open segment grows in whole steps; sealed and closed ones end at data', async () => {
    const root = await tempRoot();
    const { store, log } = await openStore(root, { segmentBytes: 64 * 1024 });
    await appendRange(log, 1, 2001);
    const segs = log.segments;
    expect(segs.length).toBeGreaterThan(2);
    const last = segs.at(-1)!;
    const size = await sizeOf(last.path);
    expect(size % SIZE_AHEAD_BYTES).toBe(0);
    expect(size).toBeGreaterThan(last.size);
    for (const seg of segs.slice(0, -1)) expect(await sizeOf(seg.path)).toBe(seg.size);
    const dataEnd = last.size;
    await store.close();
    expect(await sizeOf(last.path)).toBe(dataEnd);
    const again = await openStore(root, { segmentBytes: 64 * 1024 });
    expect(again.labels).toEqual([]);
    expect((await idsOf(again.log)).length).toBe(2000);
    await again.store.close();
  });

  it('a copy made while open recovers as ZERO_TAIL: every entry kept, nothing warned', async () => {
    const root = await tempRoot();
    const live = await openStore(root);
    await appendRange(live.log, 1, 501);
    const file = live.log.segments.at(-1)!.path;
    const dataEnd = live.log.segments.at(-1)!.size;
    const copy = await crashCopy(root);
    await live.store.close();
    const copied = path.join(copy, path.relative(root, file));
    expect(await sizeOf(copied)).toBe(SIZE_AHEAD_BYTES);
    const crashed = await openStore(copy);
    expect(crashed.labels).toEqual(['ZERO_TAIL']);
    expect(crashed.warnings).toEqual([]);
    expect(await sizeOf(copied)).toBe(dataEnd);
    expect(await idsOf(crashed.log)).toEqual(Array.from({ length: 500 }, (_, i) => `${i + 1}-0`));
    await appendRange(crashed.log, 501, 511);
    await crashed.store.close();
    const again = await openStore(copy);
    expect(again.labels).toEqual([]);
    expect((await idsOf(again.log)).at(-1)).toBe('510-0');
    await again.store.close();
  });

  it('under everysec the file is not grown', async () => {
    const root = await tempRoot();
    const { store, log } = await openStore(root, { fsync: 'everysec' });
    await appendRange(log, 1, 101);
    const last = log.segments.at(-1)!;
    expect(await sizeOf(last.path)).toBe(last.size);
    await store.close();
  });

  it('zeros after the data that do not end on a step are a torn tail, still cut', async () => {
    const root = await tempRoot();
    const live = await openStore(root);
    await appendRange(live.log, 1, 21);
    const rel = path.relative(root, live.log.segments.at(-1)!.path);
    const dataEnd = live.log.segments.at(-1)!.size;
    const copy = await crashCopy(root);
    await live.store.close();
    await fs.truncate(path.join(copy, rel), SIZE_AHEAD_BYTES - 1);
    const crashed = await openStore(copy);
    expect(crashed.labels).toEqual(['TORN_TAIL']);
    expect(await sizeOf(path.join(copy, rel))).toBe(dataEnd);
    expect((await idsOf(crashed.log)).length).toBe(20);
    await crashed.store.close();
  });
});

describe('journal parts under always', () => {
  async function openJournal(dir: string, options: JournalOptions = {}) {
    const owner = new ListOwner();
    const { logger, warnings } = warningsLogger();
    const journal = await Journal.open(dir, owner, { fsync: 'always', logger, ...options });
    return { journal, owner, warnings };
  }

  async function add(o: Awaited<ReturnType<typeof openJournal>>, items: string[]) {
    for (const item of items) {
      o.owner.items.push(item);
      o.journal.append(Buffer.from(item));
    }
    await o.journal.whenDurable(o.journal.lastSeq);
  }

  const items = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `item-${from + i}`);
  const parts = async (dir: string) =>
    (await fs.readdir(dir)).filter((n) => n.startsWith('wal.')).sort();

  it('the active part grows while open, cut at close; a copy recovers as ZERO_TAIL', async () => {
    const dir = await tempRoot();
    const live = await openJournal(dir);
    for (let i = 0; i < 20; i++) await add(live, items(i * 10, i * 10 + 10));
    const [part] = await parts(dir);
    expect(await sizeOf(path.join(dir, part!))).toBe(SIZE_AHEAD_BYTES);
    const copy = await crashCopy(dir);
    await live.journal.close();
    const closedSize = await sizeOf(path.join(dir, part!));
    expect(closedSize).toBeLessThan(SIZE_AHEAD_BYTES);
    const crashed = await openJournal(copy);
    expect(crashed.journal.recovery.labels).toEqual(['ZERO_TAIL']);
    expect(crashed.warnings).toEqual([]);
    expect(crashed.owner.items).toEqual(items(0, 200));
    expect(await sizeOf(path.join(copy, part!))).toBe(closedSize);
    await crashed.journal.close();
    const clean = await openJournal(dir);
    expect(clean.journal.recovery.labels).toEqual([]);
    expect(clean.owner.items).toEqual(items(0, 200));
    await clean.journal.close();
  });

  it('a compaction cuts the old part to its data before the next part is created', async () => {
    const dir = await tempRoot();
    const sizes: number[] = [];
    let oldPart = '';
    const live = await openJournal(dir, {
      onCompactStep: (step) => {
        if (step === 'PART_CREATED') sizes.push(fsSync.statSync(path.join(dir, oldPart)).size);
      },
    });
    await add(live, items(0, 100));
    oldPart = (await parts(dir))[0]!;
    await live.journal.compact();
    await add(live, items(100, 110));
    expect(sizes.length).toBe(1);
    expect(sizes[0]! % SIZE_AHEAD_BYTES).not.toBe(0);
    await live.journal.close();
    const again = await openJournal(dir);
    expect(again.journal.recovery.labels).toEqual([]);
    expect(again.owner.items).toEqual(items(0, 110));
    await again.journal.close();
  });
});

describe('isAheadTail', () => {
  it('is true only for zeros to a size that is a whole number of steps', async () => {
    const dir = await tempRoot();
    const file = path.join(dir, 'f');
    await fs.writeFile(file, Buffer.from('data'));
    await fs.truncate(file, SIZE_AHEAD_BYTES);
    const fd = await nodeIo.open(file, 'r+');
    try {
      expect(await isAheadTail(nodeIo, fd, 4, SIZE_AHEAD_BYTES)).toBe(true);
      expect(await isAheadTail(nodeIo, fd, 3, SIZE_AHEAD_BYTES)).toBe(false);
      expect(await isAheadTail(nodeIo, fd, 4, SIZE_AHEAD_BYTES - 1)).toBe(false);
      expect(await isAheadTail(nodeIo, fd, SIZE_AHEAD_BYTES, SIZE_AHEAD_BYTES)).toBe(false);
      fsSync.writeSync(fd, Buffer.from([1]), 0, 1, SIZE_AHEAD_BYTES - 10);
      expect(await isAheadTail(nodeIo, fd, 4, SIZE_AHEAD_BYTES)).toBe(false);
    } finally {
      await nodeIo.close(fd);
    }
  });
});
