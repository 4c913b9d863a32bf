// Stream directories a unit (MULTI/EXEC) changes (storage/store.ts): one it drops and then
// creates again moves aside at once (`.txd-`), one it renames moves at once keeping its old meta
// (`meta.unit` holds the new key), and the unit's intent names both. A kill -9 is simulated by
// copying the data directory (without its lock) at the moment of interest and opening the copy:
// before the unit's intent every stream comes back as it was, and the copy holds nothing of what
// the unit created; once the unit has ended, only what it left is there.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamDirName } from '../../storage/datadir';
import { CorruptionError } from '../../storage/errors';
import { StreamId } from '../../storage/id';
import { Store, type StoreOptions } from '../../storage/store';
import { decodeIntent, INTENT_FILES, metaFingerprint } from '../../storage/txn-intent';
import type { StreamLog } from '../../storage/stream-log';
import { WriteHold } from '../../storage/write-hold';

const b = (s: string) => Buffer.from(s);
const id = (ms: number) => new StreamId(BigInt(ms), 0n);
const KEY = b('orders');

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-held-drop-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

interface Opened {
  readonly store: Store;
  readonly hold: WriteHold;
  readonly warnings: string[];
}

async function open(root: string, options: StoreOptions = {}): Promise<Opened> {
  const warnings: string[] = [];
  const hold = new WriteHold();
  const store = await Store.open(root, {
    fsync: 'always',
    writeHold: hold,
    logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    ...options,
  });
  return { store, hold, warnings };
}

async function ids(log: StreamLog | undefined): Promise<number[]> {
  if (!log) return [];
  const entries = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
  return entries.map((e) => Number(e.id.ms));
}

/** What a kill -9 now would leave: the data directory's files, copied (not its lock). */
async function crashCopy(): Promise<string> {
  const copy = path.join(tmp, 'copy');
  await fs.cp(path.join(tmp, 'data'), copy, {
    recursive: true,
    filter: (src) => path.basename(src) !== 'LOCK',
  });
  return copy;
}

const dirs = async (root: string) => (await fs.readdir(path.join(root, 'streams'))).sort();

/** A store at tmp/data whose stream KEY holds entries 1..5, inside a unit that dropped it. */
async function droppedInUnit(): Promise<Opened & { again: StreamLog }> {
  const opened = await open(path.join(tmp, 'data'));
  const log = await opened.store.create(KEY);
  for (let ms = 1; ms <= 5; ms++)
    await log.append(() => [{ id: id(ms), fields: [b('n'), b('1')] }]);
  opened.hold.hold();
  await opened.store.drop(KEY);
  const again = await opened.store.create(KEY);
  again.appendNow(() => [{ id: id(100), fields: [b('n'), b('2')] }]);
  return { ...opened, again };
}

describe('a stream dropped and created again inside a unit', () => {
  it('a start before the unit is complete puts the old stream back, whole', async () => {
    const { store, hold } = await droppedInUnit();
    const copy = await crashCopy();
    const left = await dirs(copy);
    expect(left.filter((n) => n.startsWith('.txd-'))).toHaveLength(1);
    expect(left).toContain(streamDirName(KEY));
    hold.release();
    await store.close();

    const restarted = await open(copy);
    expect(await ids(restarted.store.get(KEY))).toEqual([1, 2, 3, 4, 5]);
    expect(restarted.warnings.some((w) => w.includes('HELD_DROP_RESTORED'))).toBe(true);
    expect(await dirs(copy)).toEqual([streamDirName(KEY)]);
    await restarted.store.close();
  });

  it('once the unit has ended, the old directory is gone and the new stream counts', async () => {
    const { store, hold } = await droppedInUnit();
    await hold.prepare([]);
    hold.commit();
    // The old directory is renamed aside before commit() returns (no start may find it).
    expect((await dirs(path.join(tmp, 'data'))).some((n) => n.startsWith('.txd-'))).toBe(false);
    const copy = await crashCopy();
    await store.close();

    const restarted = await open(copy);
    expect(await ids(restarted.store.get(KEY))).toEqual([100]);
    expect(restarted.warnings.some((w) => w.includes('HELD_DROP_RESTORED'))).toBe(false);
    await restarted.store.close();
    const closed = await open(path.join(tmp, 'data'));
    expect(await ids(closed.store.get(KEY))).toEqual([100]);
    expect(await dirs(path.join(tmp, 'data'))).toEqual([streamDirName(KEY)]);
    await closed.store.close();
  });

  it('one without a readable meta refuses the start, or is moved aside when told to', async () => {
    const { store, hold } = await droppedInUnit();
    const copy = await crashCopy();
    hold.release();
    await store.close();
    const aside = (await dirs(copy)).find((n) => n.startsWith('.txd-')) as string;
    await fs.writeFile(path.join(copy, 'streams', aside, 'meta'), 'garbage');
    await expect(open(copy)).rejects.toBeInstanceOf(CorruptionError);

    const moved = await open(copy, { onCorruption: 'truncate' });
    const left = await dirs(copy);
    expect(left.filter((n) => n.startsWith('.corrupt-'))).toHaveLength(1);
    expect(left.some((n) => n.startsWith('.txd-'))).toBe(false);
    await moved.store.close();
  });
});

async function withEntries(store: Store, key: Buffer, from: number, n: number): Promise<StreamLog> {
  const log = await store.create(key);
  for (let ms = from; ms < from + n; ms++) {
    await log.append(() => [{ id: id(ms), fields: [b('n'), b('1')] }]);
  }
  return log;
}

const A = b('a');
const B = b('b');
const C = b('c');

describe('a stream renamed inside a unit', () => {
  it('a start before the unit is complete moves it back, through a chain of renames', async () => {
    const { store, hold } = await open(path.join(tmp, 'data'));
    await withEntries(store, A, 1, 3);
    await withEntries(store, C, 50, 2);
    hold.hold();
    await store.rename(A, B);
    // Onto C, which holds a stream: C's goes aside, to come back with A.
    const moved = await store.rename(B, C, () => store.drop(C));
    moved.appendNow(() => [{ id: id(60), fields: [b('n'), b('2')] }]);
    // A again, created inside the unit: it goes when A comes back.
    (await store.create(A)).appendNow(() => [{ id: id(70), fields: [b('n'), b('3')] }]);
    const copy = await crashCopy();
    hold.release();
    await store.close();

    const restarted = await open(copy);
    expect(await ids(restarted.store.get(A))).toEqual([1, 2, 3]);
    expect(restarted.store.get(B)).toBeUndefined();
    expect(await ids(restarted.store.get(C))).toEqual([50, 51]);
    expect(restarted.warnings.some((w) => w.includes('UNIT_RENAME_UNDONE'))).toBe(true);
    expect(await dirs(copy)).toEqual([A, C].map(streamDirName).sort());
    await restarted.store.close();
  });

  it('once the unit has ended it has its new key, and later intents name it so', async () => {
    const { store, hold } = await open(path.join(tmp, 'data'));
    await withEntries(store, A, 1, 3);
    hold.hold();
    const renamed = await store.rename(A, B);
    renamed.appendNow(() => [{ id: id(10), fields: [b('n'), b('2')] }]);
    await hold.prepare([]);
    hold.commit();
    const copy = await crashCopy();

    // A second unit on B: its intent must carry the meta B has now, or a start would skip it.
    hold.hold();
    const t = await withEntries(store, C, 1, 1);
    t.appendNow(() => [{ id: id(2), fields: [b('n'), b('1')] }]);
    (store.get(B) as StreamLog).appendNow(() => [{ id: id(11), fields: [b('n'), b('3')] }]);
    await hold.prepare([]);
    hold.commit();
    const intents = await Promise.all(
      INTENT_FILES.map((f) => fs.readFile(path.join(tmp, 'data', f))),
    );
    const latest = intents
      .map((buf) => decodeIntent(path.join(tmp, 'data'), buf))
      .sort((x, y) => (y?.seq ?? 0) - (x?.seq ?? 0))[0];
    const bDir = path.join(tmp, 'data', 'streams', streamDirName(B));
    const bPart = latest?.parts.find((p) => path.dirname(p.file) === bDir);
    expect(bPart?.identity).toEqual(await metaFingerprint(bDir));
    await store.close();

    const restarted = await open(copy);
    expect(restarted.store.get(A)).toBeUndefined();
    expect(await ids(restarted.store.get(B))).toEqual([1, 2, 3, 10]);
    expect(restarted.warnings.some((w) => w.includes('UNIT_RENAME_UNDONE'))).toBe(false);
    await restarted.store.close();
    const closed = await open(path.join(tmp, 'data'));
    expect(await ids(closed.store.get(B))).toEqual([1, 2, 3, 10, 11]);
    await closed.store.close();
  });
});
