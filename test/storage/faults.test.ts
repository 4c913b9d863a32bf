// Injected disk faults: a failed fdatasync and a torn write (ENOSPC after a prefix). A failed
// write is sticky (STYLE.md rule 9): the log refuses further mutations, keeps serving reads of
// what was durable, and a restart on a healthy disk has every acknowledged entry and none of
// the rejected ones.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamId } from '../../storage/id';
import { Store } from '../../storage/store';
import { StorageError, type Logger } from '../../storage/errors';
import type { FsyncPolicy, StreamLog } from '../../storage/stream-log';
import type { StreamEntry } from '../../storage/records';
import { FaultyIo } from './faulty-io';

const b = (s: string) => Buffer.from(s);
const KEY = b('faulty');

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-faults-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function entryOf(n: number): StreamEntry {
  return { id: new StreamId(BigInt(n), 0n), fields: [b('n'), b(String(n))] };
}

const idsOf = (entries: readonly StreamEntry[]) => entries.map((e) => e.id.toString());
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${from + i}-0`);

async function readAll(log: StreamLog): Promise<string[]> {
  return idsOf(await log.read(StreamId.ZERO, StreamId.MAX, 0, false));
}

function errorLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (msg) => void errors.push(msg) };
  return { logger, errors };
}

async function settle<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; err: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
}

function expectWriteFailed(err: unknown): StorageError {
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe('WRITE_FAILED');
  return err as StorageError;
}

interface Fault {
  readonly name: string;
  readonly arm: (io: FaultyIo) => void;
}

const FAULTS: Fault[] = [
  { name: 'a failed fdatasync (EIO)', arm: (io) => io.failNextFdatasync('EIO') },
  {
    name: 'ENOSPC after a partial write',
    arm: (io) => io.failNextWrite({ prefixBytes: 23, code: 'ENOSPC' }),
  },
];

interface Failed {
  root: string;
  store: Store;
  log: StreamLog;
  io: FaultyIo;
  errors: string[];
  rejected: unknown[];
}

/** Appends 1..40 (acknowledged), arms the fault, then appends 41..43 concurrently. */
async function failWhileAppending(fault: Fault, fsync: FsyncPolicy): Promise<Failed> {
  const root = path.join(tmp, 'data');
  const io = new FaultyIo();
  const { logger, errors } = errorLogger();
  const store = await Store.open(root, { fsync, segmentBytes: 1 << 20, io, logger });
  const log = await store.create(KEY);
  for (let n = 1; n <= 40; n++) await log.append(() => [entryOf(n)]);
  fault.arm(io);
  const results = await Promise.all(
    [41, 42, 43].map((n) => settle(log.append(() => [entryOf(n)]))),
  );
  expect(io.fired.length).toBe(1);
  const rejected = results.map((r) => (r.ok ? null : r.err));
  return { root, store, log, io, errors, rejected };
}

async function restartHealthy(f: Failed): Promise<{ store: Store; log: StreamLog }> {
  await f.store.close();
  const store = await Store.open(f.root, { fsync: 'always', segmentBytes: 1 << 20 });
  return { store, log: store.get(KEY)! };
}

describe('faults under fsync always', () => {
  for (const fault of FAULTS) {
    it(`${fault.name}: every append waiting on it is rejected with WRITE_FAILED`, async () => {
      const f = await failWhileAppending(fault, 'always');
      for (const err of f.rejected) expect(expectWriteFailed(err)).toBe(f.log.writeFailure);
      expect(f.log.writeFailure?.message).toContain(fault.name.includes('EIO') ? 'EIO' : 'ENOSPC');
      expect(f.errors.length).toBe(1);
      await f.store.close();
    });

    it(`${fault.name}: later mutations are refused with the same error (sticky)`, async () => {
      const f = await failWhileAppending(fault, 'always');
      const failure = f.log.writeFailure!;
      const attempts = [
        settle(f.log.append(() => [entryOf(100)])),
        settle(f.log.trim({ maxLen: 1, approx: false, limit: 0 })),
        settle(f.log.delete([new StreamId(1n, 0n)])),
        settle(f.log.setCounters(new StreamId(500n, 0n), 500n, StreamId.ZERO)),
        settle(f.log.appendExt(64, b('x'))),
        settle(f.log.checkpoint()),
      ];
      for (const r of await Promise.all(attempts)) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.err).toBe(failure);
      }
      expect(f.io.fired.length).toBe(1); // nothing was retried past the broken disk
      await f.store.close();
    });

    it(`${fault.name}: entries acknowledged before it can still be read`, async () => {
      const f = await failWhileAppending(fault, 'always');
      const head = await f.log.read(StreamId.ZERO, new StreamId(40n, 0n), 0, false);
      expect(idsOf(head)).toEqual(range(1, 40));
      const back = await f.log.read(new StreamId(10n, 0n), new StreamId(12n, 0n), 0, true);
      expect(idsOf(back)).toEqual(['12-0', '11-0', '10-0']);
      expect(await readAll(f.log)).toEqual(range(1, 40));
      const last = await f.log.read(StreamId.ZERO, StreamId.MAX, 2, true);
      expect(idsOf(last)).toEqual(['40-0', '39-0']);
      await f.store.close();
    });

    it(`${fault.name}: a restart has every acknowledged entry, no rejected one`, async () => {
      const f = await failWhileAppending(fault, 'always');
      const { store, log } = await restartHealthy(f);
      expect(await readAll(log)).toEqual(range(1, 40));
      expect(log.lastId.toString()).toBe('40-0');
      expect(log.entriesAdded).toBe(40n);
      await log.append(() => [entryOf(41)]);
      await store.close();
      const again = await Store.open(f.root, { fsync: 'always', segmentBytes: 1 << 20 });
      expect(await readAll(again.get(KEY)!)).toEqual(range(1, 41));
      await again.close();
    });
  }
});

describe('faults under fsync everysec and no', () => {
  it('ENOSPC after a partial write: written entries stay, the torn one goes', async () => {
    for (const fsync of ['everysec', 'no'] as const) {
      const f = await failWhileAppending(FAULTS[1]!, fsync);
      for (const err of f.rejected) expectWriteFailed(err);
      expect(idsOf(await f.log.read(StreamId.ZERO, new StreamId(40n, 0n), 0, false))).toEqual(
        range(1, 40),
      );
      const { store, log } = await restartHealthy(f);
      expect(await readAll(log), fsync).toEqual(range(1, 40));
      await store.close();
      await fs.rm(f.root, { recursive: true, force: true });
    }
  });

  it('a failed periodic fdatasync under everysec keeps the acknowledged entries', async () => {
    const root = path.join(tmp, 'data');
    const io = new FaultyIo();
    const store = await Store.open(root, { fsync: 'everysec', segmentBytes: 1 << 20, io });
    const log = await store.create(KEY);
    for (let n = 1; n <= 20; n++) await log.append(() => [entryOf(n)]);
    io.failNextFdatasync('EIO');
    log.requestSync();
    const deadline = Date.now() + 5000;
    while (!log.writeFailure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expectWriteFailed(log.writeFailure);
    expectWriteFailed(((await settle(log.append(() => [entryOf(21)]))) as { err: unknown }).err);
    await store.close();
    const again = await Store.open(root, { fsync: 'always', segmentBytes: 1 << 20 });
    expect(await readAll(again.get(KEY)!)).toEqual(range(1, 20));
    await again.close();
  });
});

describe('faults in the batch that rolls to a new segment', () => {
  const ROLL_FAULTS: Fault[] = [
    { name: 'fdatasync of the segment being sealed fails', arm: (io) => io.failNextFdatasync() },
    {
      name: 'ENOSPC writing the new segment header',
      arm: (io) => io.failNextWrite({ prefixBytes: 10, code: 'ENOSPC' }, /0{19}2\.seg$/),
    },
  ];
  for (const fault of ROLL_FAULTS) {
    it(`${fault.name}: rejected, sticky, acknowledged entries readable and kept`, async () => {
      const root = path.join(tmp, 'data');
      const io = new FaultyIo();
      const store = await Store.open(root, { fsync: 'always', segmentBytes: 4096, io });
      const log = await store.create(KEY);
      let n = 1;
      // Fill the segment so that the next append rolls.
      while (log.segments.at(-1)!.size < 4096) await log.append(() => [entryOf(n++)]);
      const acked = range(1, n - 1);
      fault.arm(io);
      const results = await Promise.all(
        [n, n + 1, n + 2].map((k) => settle(log.append(() => [entryOf(k)]))),
      );
      expect(io.fired.length).toBe(1);
      for (const r of results) expectWriteFailed(r.ok ? null : r.err);
      expectWriteFailed(
        ((await settle(log.append(() => [entryOf(n + 9)]))) as { err: unknown }).err,
      );
      expect(await readAll(log)).toEqual(acked);
      expect(idsOf(await log.read(StreamId.ZERO, StreamId.MAX, 1, true))).toEqual([acked.at(-1)]);
      await store.close();
      const again = await Store.open(root, { fsync: 'always', segmentBytes: 4096 });
      const log2 = again.get(KEY)!;
      expect(await readAll(log2)).toEqual(acked);
      await log2.append(() => [entryOf(n)]);
      expect(await readAll(log2)).toEqual([...acked, `${n}-0`]);
      await again.close();
    });
  }
});
