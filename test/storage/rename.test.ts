// Store.rename: a stream moves to the directory of its new key with its entries, counters and
// extension records, and a crash at any step leaves it whole under exactly one of its keys.
// Crashes are simulated by doing the steps of storage/store.ts by hand on a closed store.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamDirName, writeFileAtomic } from '../../storage/datadir';
import { StreamId } from '../../storage/id';
import { encodeMeta } from '../../storage/meta';
import { Store, type StoreOptions } from '../../storage/store';
import type { StreamExtension, StreamLog } from '../../storage/stream-log';

const b = (s: string) => Buffer.from(s);
const id = (ms: number) => new StreamId(BigInt(ms), 0n);
const OLD = b('old');
const NEW = b('new');

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-rename-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** An extension that remembers every record replayed or appended to it. */
class Recorder implements StreamExtension {
  bodies: string[] = [];
  restore(snapshot: Buffer | null): void {
    this.bodies = snapshot ? (JSON.parse(snapshot.toString()) as string[]) : [];
  }
  apply(_kind: number, body: Buffer): void {
    this.bodies.push(body.toString());
  }
  snapshot(): Buffer | null {
    return Buffer.from(JSON.stringify(this.bodies));
  }
}

interface Opened {
  store: Store;
  ext: Map<string, Recorder>;
  warnings: string[];
}

async function open(options: StoreOptions = {}): Promise<Opened> {
  const ext = new Map<string, Recorder>();
  const warnings: string[] = [];
  const store = await Store.open(tmp, {
    fsync: 'always',
    segmentBytes: 4096,
    extension: (key) => {
      const r = new Recorder();
      ext.set(key.toString(), r);
      return r;
    },
    logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    ...options,
  });
  return { store, ext, warnings };
}

async function fill(log: StreamLog, from: number, count: number, size = 300): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await log.append(() => [{ id: id(i), fields: [b('f'), Buffer.alloc(size, i % 251)] }]);
  }
}

async function ids(log: StreamLog): Promise<number[]> {
  const entries = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
  return entries.map((e) => Number(e.id.ms));
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

async function streamDirs(): Promise<string[]> {
  return (await fs.readdir(path.join(tmp, 'streams'))).sort();
}

/** A closed store with stream OLD holding entries 1..30 and one extension record. */
async function closedWithOld(): Promise<void> {
  const { store, ext } = await open();
  const log = await store.create(OLD);
  await fill(log, 1, 30);
  await log.appendExt(64, b('group-a'));
  ext.get('old')?.apply(64, b('group-a'));
  await store.close();
}

describe('Store.rename', () => {
  it('moves the entries, counters and extension state to the new key', async () => {
    await closedWithOld();
    const { store, ext } = await open();
    const renamed = await store.rename(OLD, NEW);
    expect(renamed.key).toEqual(NEW);
    expect(store.get(OLD)).toBeUndefined();
    expect(store.get(NEW)).toBe(renamed);
    expect(await ids(renamed)).toEqual(range(1, 30));
    expect(renamed.lastId.toString()).toBe('30-0');
    expect(renamed.entriesAdded).toBe(30n);
    expect(ext.get('new')?.bodies).toEqual(['group-a']);
    expect(await streamDirs()).toEqual([streamDirName(NEW)]);
    await fill(renamed, 31, 5);
    await store.close();

    const again = await open();
    const log = again.store.get(NEW) as StreamLog;
    expect(await ids(log)).toEqual(range(1, 35));
    expect(again.ext.get('new')?.bodies).toEqual(['group-a']);
    expect(again.store.get(OLD)).toBeUndefined();
    await again.store.close();
  });

  it('refuses a new key that exists and an old key that does not', async () => {
    const { store } = await open();
    await store.create(OLD);
    await store.create(NEW);
    await expect(store.rename(OLD, NEW)).rejects.toThrow(/exists/);
    await expect(store.rename(b('nope'), b('x'))).rejects.toThrow(/no stream/);
    await store.close();
  });

  it('renames binary and long keys (hashed directory names)', async () => {
    const { store } = await open();
    const from = Buffer.from([0, 255, 10, 0]);
    const to = Buffer.alloc(10_000, 0xfe);
    await fill(await store.create(from), 1, 3);
    const log = await store.rename(from, to);
    expect(await ids(log)).toEqual([1, 2, 3]);
    expect(await streamDirs()).toEqual([streamDirName(to)]);
    await store.close();
    const again = await open();
    expect(await ids(again.store.get(to) as StreamLog)).toEqual([1, 2, 3]);
    await again.store.close();
  });

  it('a rename onto a dropped key never reads the dropped files (cached fds)', async () => {
    const { store } = await open();
    const victim = await store.create(NEW);
    await fill(victim, 1000, 40, 500);
    expect(victim.segments.length).toBeGreaterThan(2);
    expect((await ids(victim)).length).toBe(40); // caches read descriptors of sealed segments
    const source = await store.create(OLD);
    await fill(source, 1, 40, 500);
    await store.drop(NEW);
    const moved = await store.rename(OLD, NEW);
    expect(await ids(moved)).toEqual(range(1, 40));
    await store.close();
  });
});

/** Opening again finds the stream under NEW with nothing left to settle. */
async function expectSettledUnderNew(): Promise<void> {
  const again = await open();
  expect(await ids(again.store.get(NEW) as StreamLog)).toEqual(range(1, 30));
  expect(again.warnings).toEqual([]);
  await again.store.close();
}

describe('Store recovery of an interrupted rename', () => {
  const oldDir = () => path.join(tmp, 'streams', streamDirName(OLD));
  const newDir = () => path.join(tmp, 'streams', streamDirName(NEW));

  it('crash before meta.next is complete: the torn temp file goes, the old key stays', async () => {
    await closedWithOld();
    await fs.writeFile(path.join(oldDir(), 'meta.next.tmp'), encodeMeta(NEW).subarray(0, 9));
    const { store, ext } = await open();
    expect(await ids(store.get(OLD) as StreamLog)).toEqual(range(1, 30));
    expect(ext.get('old')?.bodies).toEqual(['group-a']);
    expect(store.get(NEW)).toBeUndefined();
    expect(await fs.readdir(oldDir())).not.toContain('meta.next.tmp');
    await store.close();
  });

  it('crash after meta.next, the new key still taken: the rename is undone', async () => {
    await closedWithOld();
    const before = await open();
    await fill(await before.store.create(NEW), 100, 5);
    await before.store.close();
    await writeFileAtomic(path.join(oldDir(), 'meta.next'), encodeMeta(NEW));
    const { store, warnings } = await open();
    expect(await ids(store.get(OLD) as StreamLog)).toEqual(range(1, 30));
    expect(await ids(store.get(NEW) as StreamLog)).toEqual(range(100, 5));
    expect(await fs.readdir(oldDir())).not.toContain('meta.next');
    expect(warnings.join('\n')).toMatch(/RENAME_PENDING/);
    await store.close();
  });

  it('crash after meta.next, the new key free (dropped or never taken): it completes', async () => {
    // RENAME onto a stream drops that stream after meta.next is durable: were the rename
    // undone here, a crash right after the drop would keep neither the old value at the new
    // key nor the renamed one.
    await closedWithOld();
    await writeFileAtomic(path.join(oldDir(), 'meta.next'), encodeMeta(NEW));
    const { store, ext, warnings } = await open();
    expect(store.get(OLD)).toBeUndefined();
    expect(await ids(store.get(NEW) as StreamLog)).toEqual(range(1, 30));
    expect(ext.get('new')?.bodies).toEqual(['group-a']);
    expect(await streamDirs()).toEqual([streamDirName(NEW)]);
    expect(warnings.join('\n')).toMatch(/RENAME_PENDING/);
    await store.close();
    await expectSettledUnderNew();
  });

  it('crash after the directory rename, before meta is replaced: it completes', async () => {
    await closedWithOld();
    await writeFileAtomic(path.join(oldDir(), 'meta.next'), encodeMeta(NEW));
    await fs.rename(oldDir(), newDir());
    const { store, ext, warnings } = await open();
    expect(store.get(OLD)).toBeUndefined();
    expect(await ids(store.get(NEW) as StreamLog)).toEqual(range(1, 30));
    expect(ext.get('new')?.bodies).toEqual(['group-a']);
    expect(await fs.readdir(newDir())).not.toContain('meta.next');
    expect(warnings.join('\n')).toMatch(/RENAME_PENDING/);
    await store.close();
    await expectSettledUnderNew();
  });

  it('a damaged meta.next is removed and the stream keeps its key', async () => {
    await closedWithOld();
    await fs.writeFile(path.join(oldDir(), 'meta.next'), b('garbage'));
    const { store } = await open();
    expect(await ids(store.get(OLD) as StreamLog)).toEqual(range(1, 30));
    expect(await fs.readdir(oldDir())).not.toContain('meta.next');
    await store.close();
  });

  it('crash after meta is replaced: nothing left to do', async () => {
    await closedWithOld();
    await fs.rename(oldDir(), newDir());
    await writeFileAtomic(path.join(newDir(), 'meta'), encodeMeta(NEW));
    const { store, warnings } = await open();
    expect(await ids(store.get(NEW) as StreamLog)).toEqual(range(1, 30));
    expect(warnings).toEqual([]);
    await store.close();
  });
});
