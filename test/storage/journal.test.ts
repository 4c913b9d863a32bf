// The write-ahead journal (storage/journal.ts): round trips through reopen, torn tails cut at
// every byte, bit flips refused with file and offset (or let through by onCorruption), the
// fsync policies and group commit counted through an Io wrapper, sticky write failures, and
// compaction (its trigger, what survives it, what it leaves behind). Labels are those of the
// decision table in storage/journal-recovery.ts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CorruptionError, StorageError, type Logger } from '../../storage/errors';
import { nodeIo, type Io } from '../../storage/io';
import {
  Journal,
  type CompactStep,
  type JournalOptions,
  type JournalOwner,
} from '../../storage/journal';
import { MAX_RECORD_BYTES } from '../../storage/limits';
import { FaultyIo } from './faulty-io';
import { ListOwner } from './fixtures/journal-child';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-journal-'));
});
afterEach(async () => {
  vi.useRealTimers();
  await fs.rm(tmp, { recursive: true, force: true });
});

interface Opened {
  readonly journal: Journal;
  readonly owner: ListOwner;
  /** Every warning logged, as `label` (or message) strings. */
  readonly warnings: string[];
}

function recordingLogger(warnings: string[]): Logger {
  return {
    info() {},
    warn: (msg, fields) => void warnings.push(String(fields?.label ?? msg)),
    error() {},
  };
}

async function open(options: JournalOptions = {}): Promise<Opened> {
  const owner = new ListOwner();
  const warnings: string[] = [];
  const journal = await Journal.open(tmp, owner, {
    fsync: 'always',
    logger: recordingLogger(warnings),
    ...options,
  });
  return { journal, owner, warnings };
}

/** Reopens and returns the replayed items (closing the journal again). */
async function replayed(options: JournalOptions = {}): Promise<string[]> {
  const o = await open(options);
  await o.journal.close();
  return o.owner.items;
}

/** Appends `items` in one tick (one frame) as the owner would, and waits until durable. */
async function add(o: Opened, ...items: string[]): Promise<void> {
  for (const item of items) {
    o.owner.items.push(item);
    o.journal.append(Buffer.from(item));
  }
  await o.journal.whenDurable(o.journal.lastSeq);
}

const file = (name: string) => path.join(tmp, name);
const names = async () => (await fs.readdir(tmp)).sort();
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Start offsets of the frames of a log part, plus its end. */
function frameBounds(buf: Buffer): number[] {
  const bounds = [0];
  for (let pos = 0; pos < buf.length && buf.readUInt32LE(pos) > 0; pos += buf.readUInt32LE(pos)) {
    bounds.push(pos + buf.readUInt32LE(pos));
  }
  return bounds;
}

async function flipByte(name: string, offset: number, mask = 0x01): Promise<void> {
  const buf = await fs.readFile(file(name));
  buf[offset] = (buf[offset] as number) ^ mask;
  await fs.writeFile(file(name), buf);
}

async function expectCorruption(label: string, name: string, offset: number): Promise<void> {
  const err = await open().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.file).toBe(file(name));
  expect(c.offset).toBe(offset);
  expect(c.message).toContain(label);
}

/** Five frames in wal.0.0: [a0], [a1 a2], [a3], [a4 a5 a6], [a7]. */
async function fiveFrames(): Promise<{ items: string[][]; bytes: Buffer }> {
  const items = [['a0'], ['a1', 'a2'], ['a3'], ['a4', 'a5', 'a6'], ['a7']];
  const o = await open();
  for (const frame of items) await add(o, ...frame);
  await o.journal.close();
  return { items, bytes: await fs.readFile(file('wal.0.0')) };
}

/** Two parts: a snapshot write fails (sticky) after the switch, then a restart appends more. */
async function twoParts(): Promise<void> {
  const io = new FaultyIo();
  const o = await open({ io });
  await add(o, 'p0', 'p1');
  await add(o, 'p2');
  io.failNextWrite({ prefixBytes: 0, code: 'ENOSPC' }, /snap\.\d+\.tmp$/);
  await expect(o.journal.compact()).rejects.toThrow(/ENOSPC/);
  await o.journal.close();
  const again = await open();
  await add(again, 'q0');
  await again.journal.close();
  expect(await names()).toEqual(['MANIFEST', 'wal.0.0', 'wal.1.0']);
}

describe('round trips', () => {
  it('a fresh directory gets a MANIFEST and one empty part', async () => {
    const o = await open();
    expect(await names()).toEqual(['MANIFEST', 'wal.0.0']);
    expect(o.journal.recovery.labels).toEqual(['FRESH']);
    expect(o.journal.stats()).toEqual({
      logBytes: 0,
      snapshotBytes: 0,
      compactions: 0,
      records: 0,
    });
    await o.journal.close();
  });

  it('records appended then reopened are replayed in order', async () => {
    const o = await open();
    for (let i = 0; i < 50; i++) await add(o, `r${i}`, `s${i}`);
    await o.journal.close();
    const back = await open();
    expect(back.owner.items).toEqual(o.owner.items);
    expect(back.journal.recovery.labels).toEqual([]);
    expect(back.journal.stats().records).toBe(100);
    await add(back, 'after');
    await back.journal.close();
    expect(await replayed()).toEqual([...o.owner.items, 'after']);
  });

  it('empty and binary records come back byte for byte', async () => {
    const records = [Buffer.alloc(0), Buffer.from([0, 255, 0, 0]), Buffer.alloc(70_000, 7)];
    const seen: Buffer[] = [];
    const owner: JournalOwner = {
      reset: () => void (seen.length = 0),
      loadChunk: () => undefined,
      apply: (r) => void seen.push(r),
      snapshot: () => [],
    };
    const journal = await Journal.open(tmp, owner, { fsync: 'always' });
    await journal.whenDurable(journal.appendMany(records));
    await journal.close();
    await (await Journal.open(tmp, owner)).close();
    const hex = (list: Buffer[]) => list.map((r) => r.toString('hex'));
    expect(hex(seen)).toEqual(hex(records));
  });

  it('a flush of one record costs 18 bytes of framing', async () => {
    const o = await open();
    await add(o, 'x'.repeat(30));
    expect(o.journal.stats().logBytes).toBe(30 + 18);
    await add(o, 'y'.repeat(10), 'z'.repeat(10));
    expect(o.journal.stats().logBytes).toBe(48 + 14 + 2 * (4 + 10));
    await o.journal.close();
  });

  it('appendMany records share one frame: a torn frame loses all of them', async () => {
    const o = await open();
    await add(o, 'before');
    const group = ['g0', 'g1', 'g2'];
    o.owner.items.push(...group);
    await o.journal.whenDurable(o.journal.appendMany(group.map((g) => Buffer.from(g))));
    await o.journal.close();
    expect(await replayed()).toEqual(['before', ...group]);
    const size = (await fs.stat(file('wal.0.0'))).size;
    await fs.truncate(file('wal.0.0'), size - 1);
    expect(await replayed()).toEqual(['before']);
  });

  it('a snapshot plus the parts written after it replay to the same state', async () => {
    const o = await open();
    for (let i = 0; i < 200; i++) await add(o, `a${i}`);
    await o.journal.compact();
    for (let i = 0; i < 30; i++) await add(o, `b${i}`);
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'snap.1', 'wal.1.0']);
    const back = await open();
    expect(back.owner.items).toEqual(o.owner.items);
    expect(back.journal.recovery.chunksLoaded).toBe(Math.ceil(200 / 64));
    expect(back.journal.recovery.recordsReplayed).toBe(30);
    await back.journal.close();
  });

  it('refuses a record above MAX_RECORD_BYTES and appends after close', async () => {
    const o = await open();
    const big = Buffer.alloc(MAX_RECORD_BYTES + 1);
    expect(() => o.journal.append(big)).toThrow(StorageError);
    await o.journal.close();
    expect(() => o.journal.append(Buffer.from('late'))).toThrow(/closed/);
  });
});

describe('torn tail', () => {
  it('a cut at each byte of the last three frames keeps exactly the whole frames', async () => {
    const { items, bytes } = await fiveFrames();
    const bounds = frameBounds(bytes);
    expect(bounds.length).toBe(items.length + 1);
    for (let cut = bounds[2] as number; cut <= bytes.length; cut++) {
      await fs.writeFile(file('wal.0.0'), bytes.subarray(0, cut));
      const whole = bounds.filter((b) => b <= cut).length - 1;
      const o = await open();
      expect(o.owner.items).toEqual(items.slice(0, whole).flat());
      const torn = !bounds.includes(cut);
      expect(o.warnings).toEqual(torn ? ['TORN_TAIL'] : []);
      await o.journal.close();
      expect((await fs.stat(file('wal.0.0'))).size).toBe(bounds[whole]);
    }
  });

  it('zeros or garbage after the last frame are a torn tail', async () => {
    const { items, bytes } = await fiveFrames();
    for (const tail of [Buffer.alloc(4096), Buffer.from('garbage after the last frame')]) {
      await fs.writeFile(file('wal.0.0'), Buffer.concat([bytes, tail]));
      const o = await open();
      expect(o.owner.items).toEqual(items.flat());
      expect(o.warnings).toEqual(['TORN_TAIL']);
      await o.journal.close();
    }
  });

  it('a bit flip in the last frame of the last part is a torn tail: only it is lost', async () => {
    const { items, bytes } = await fiveFrames();
    const bounds = frameBounds(bytes);
    await flipByte('wal.0.0', (bounds[4] as number) + 12);
    const o = await open();
    expect(o.owner.items).toEqual(items.slice(0, 4).flat());
    expect(o.warnings).toEqual(['TORN_TAIL']);
    await o.journal.close();
  });
});

describe('corruption', () => {
  const flips = [
    { field: 'len (low bit)', at: 0, mask: 0x01 },
    { field: 'len (high bit)', at: 3, mask: 0x80 },
    { field: 'crc', at: 5, mask: 0x10 },
    { field: 'record body', at: 18, mask: 0x04 },
  ];
  for (const flip of flips) {
    it(`a bit flip in ${flip.field} mid-part with a valid frame after it is refused`, async () => {
      const { bytes } = await fiveFrames();
      const at = frameBounds(bytes)[2] as number;
      await flipByte('wal.0.0', at + flip.at, flip.mask);
      await expectCorruption('CORRUPT_FRAME', 'wal.0.0', at);
    });
  }

  it('a bad frame in an earlier part is refused, even at its very end', async () => {
    await twoParts();
    const size = (await fs.stat(file('wal.0.0'))).size;
    const bounds = frameBounds(await fs.readFile(file('wal.0.0')));
    await flipByte('wal.0.0', size - 1);
    await expectCorruption('CORRUPT_FRAME', 'wal.0.0', bounds[bounds.length - 2] as number);
  });

  it('a part the MANIFEST lists but the directory lacks is refused', async () => {
    await twoParts();
    await fs.rm(file('wal.0.0'));
    await expectCorruption('MISSING_FILE', 'wal.0.0', 0);
  });

  it('a bit flip in a snapshot chunk, its footer, or a cut snapshot is refused', async () => {
    const o = await open();
    for (let i = 0; i < 100; i++) await add(o, `s${i}`);
    await o.journal.compact();
    await o.journal.close();
    const snap = await fs.readFile(file('snap.1'));
    const cases = [
      { bytes: flipped(snap, 40), offset: 0 },
      { bytes: flipped(snap, snap.length - 5), offset: snap.length - 26 },
      { bytes: snap.subarray(0, snap.length - 3), offset: snap.length - 3 - 26 },
    ];
    for (const c of cases) {
      await fs.writeFile(file('snap.1'), c.bytes);
      await expectCorruption('CORRUPT_SNAPSHOT', 'snap.1', c.offset);
    }
    await fs.writeFile(file('snap.1'), snap);
    expect(await replayed()).toEqual(o.owner.items);
  });

  it('a bit flip in the MANIFEST, or data without a MANIFEST, is refused', async () => {
    const { items } = await fiveFrames();
    await flipByte('MANIFEST', 12);
    await expectCorruption('MANIFEST_BAD', 'MANIFEST', 0);
    await fs.rm(file('MANIFEST'));
    await expectCorruption('MANIFEST_MISSING', 'MANIFEST', 0);
    const o = await open({ onCorruption: 'truncate' });
    expect(o.owner.items).toEqual(items.flat());
    expect(o.journal.recovery.labels).toEqual(['MANIFEST_MISSING', 'REWRITTEN']);
    await o.journal.close();
    expect(await replayed()).toEqual(items.flat());
  });

  it('onCorruption truncate: the history is cut at the bad frame and rewritten clean', async () => {
    const { items, bytes } = await fiveFrames();
    await flipByte('wal.0.0', (frameBounds(bytes)[2] as number) + 5);
    const o = await open({ onCorruption: 'truncate' });
    expect(o.owner.items).toEqual(items.slice(0, 2).flat());
    expect(o.journal.recovery.labels).toEqual(['CORRUPT_FRAME', 'REWRITTEN']);
    await add(o, 'next');
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'snap.1', 'wal.1.0']);
    expect(await replayed()).toEqual([...items.slice(0, 2).flat(), 'next']);
  });

  it('onCorruption quarantine: the files losing data are copied aside first', async () => {
    await twoParts();
    const original = await fs.readFile(file('wal.0.0'));
    await flipByte('wal.0.0', 20);
    const o = await open({ onCorruption: 'quarantine' });
    expect(o.owner.items).toEqual([]);
    expect(o.journal.recovery.labels).toEqual(['CORRUPT_FRAME', 'REWRITTEN']);
    await o.journal.close();
    const all = await names();
    const copies = all.filter((n) => /\.corrupt-\d+$/.test(n));
    expect(copies.map((n) => n.replace(/-\d+$/, ''))).toEqual([
      'wal.0.0.corrupt',
      'wal.1.0.corrupt',
    ]);
    const copy = await fs.readFile(file(copies[0] as string));
    expect(copy.equals(original)).toBe(false);
    expect(copy.length).toBe(original.length);
    expect(all.filter((n) => !copies.includes(n))).toEqual(['MANIFEST', 'snap.2', 'wal.2.0']);
  });

  it('onCorruption truncate rebuilds a bad MANIFEST from the files present', async () => {
    await twoParts();
    await flipByte('MANIFEST', 20);
    const o = await open({ onCorruption: 'truncate' });
    expect(o.owner.items).toEqual(['p0', 'p1', 'p2', 'q0']);
    expect(o.journal.recovery.labels).toEqual(['MANIFEST_BAD', 'REWRITTEN']);
    await o.journal.close();
    expect(await replayed()).toEqual(['p0', 'p1', 'p2', 'q0']);
  });

  it('recovery interrupted part-way runs again to the same state', async () => {
    const { items, bytes } = await fiveFrames();
    await flipByte('wal.0.0', (frameBounds(bytes)[1] as number) + 5);
    const io = new FaultyIo();
    io.failNextWrite({ prefixBytes: 10, code: 'EIO' }, /snap\.\d+\.tmp$/);
    await expect(open({ onCorruption: 'truncate', io })).rejects.toThrow(/EIO/);
    await expect(open()).rejects.toThrow(CorruptionError);
    const o = await open({ onCorruption: 'truncate' });
    expect(o.owner.items).toEqual(items[0]);
    await o.journal.close();
    expect(await replayed()).toEqual(items[0]);
  });
});

function flipped(buf: Buffer, offset: number): Buffer {
  const copy = Buffer.from(buf);
  copy[offset] = (copy[offset] as number) ^ 0x02;
  return copy;
}

/** Counts calls, and can hold the next write or fdatasync of a matching file until released. */
class ProbeIo implements Io {
  private readonly paths = new Map<number, string>();
  private held: { op: 'write' | 'fdatasync'; match: RegExp; gate: Promise<void> } | null = null;
  writes = 0;
  syncs = 0;

  /** The next `op` on a file matching `match` waits; `reached` resolves when it started. */
  hold(op: 'write' | 'fdatasync', match: RegExp): { reached: Promise<void>; release(): void } {
    let release = () => {};
    let reached = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (reached = resolve));
    this.held = { op, match, gate: gate.then(() => undefined) };
    this.onHold = reached;
    return { reached: started, release };
  }
  private onHold = () => {};

  private async gate(op: 'write' | 'fdatasync', fd: number): Promise<void> {
    const held = this.held;
    if (!held || held.op !== op || !held.match.test(this.paths.get(fd) ?? '')) return;
    this.held = null;
    this.onHold();
    await held.gate;
  }

  async open(p: string, flags: string): Promise<number> {
    const fd = await nodeIo.open(p, flags);
    this.paths.set(fd, p);
    return fd;
  }
  close(fd: number): Promise<void> {
    this.paths.delete(fd);
    return nodeIo.close(fd);
  }
  async write(fd: number, buf: Buffer, position: number): Promise<void> {
    this.writes++;
    await this.gate('write', fd);
    await nodeIo.write(fd, buf, position);
  }
  read(fd: number, buf: Buffer, offset: number, length: number, position: number) {
    return nodeIo.read(fd, buf, offset, length, position);
  }
  async fdatasync(fd: number): Promise<void> {
    this.syncs++;
    await this.gate('fdatasync', fd);
    await nodeIo.fdatasync(fd);
  }
  ftruncate(fd: number, length: number): Promise<void> {
    return nodeIo.ftruncate(fd, length);
  }
  fileSize(fd: number): Promise<number> {
    return nodeIo.fileSize(fd);
  }
}

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await tick();
  return settled;
}

describe('fsync policies', () => {
  it('always: whenDurable waits for the fdatasync', async () => {
    const io = new ProbeIo();
    const o = await open({ io });
    const held = io.hold('fdatasync', /wal\./);
    const durable = o.journal.whenDurable(o.journal.append(Buffer.from('r')));
    await held.reached;
    expect(io.writes).toBe(1);
    expect(await isSettled(durable)).toBe(false);
    held.release();
    await durable;
    await o.journal.close();
  });

  it('always: appends of one tick share one write and one fdatasync', async () => {
    const io = new ProbeIo();
    const o = await open({ io });
    const waits = [];
    for (let i = 0; i < 100; i++)
      waits.push(o.journal.whenDurable(o.journal.append(Buffer.from(`r${i}`))));
    await Promise.all(waits);
    expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 1, syncs: 1 });
    await o.journal.close();
  });

  it('always: appends made during an fdatasync form the next batch', async () => {
    const io = new ProbeIo();
    const o = await open({ io });
    const held = io.hold('fdatasync', /wal\./);
    const first = o.journal.whenDurable(o.journal.append(Buffer.from('first')));
    await held.reached;
    const later = [];
    for (let i = 0; i < 20; i++)
      later.push(o.journal.whenDurable(o.journal.append(Buffer.from(`l${i}`))));
    expect(await isSettled(Promise.all(later))).toBe(false);
    held.release();
    await Promise.all([first, ...later]);
    expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 2, syncs: 2 });
    await o.journal.close();
  });

  it('everysec: whenDurable resolves once written; fdatasync follows within 1 s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const io = new ProbeIo();
    const o = await open({ io, fsync: 'everysec' });
    await o.journal.whenDurable(o.journal.append(Buffer.from('r')));
    expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 1, syncs: 0 });
    vi.advanceTimersByTime(1000);
    for (let i = 0; i < 20 && io.syncs === 0; i++) await tick();
    expect(io.syncs).toBe(1);
    vi.advanceTimersByTime(1000); // nothing written since: no fdatasync
    await tick();
    expect(io.syncs).toBe(1);
    await o.journal.close();
  });

  it('no: whenDurable resolves once written; close flushes and fdatasyncs', async () => {
    const io = new ProbeIo();
    const o = await open({ io, fsync: 'no' });
    await o.journal.whenDurable(o.journal.append(Buffer.from('r')));
    expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 1, syncs: 0 });
    const pending = [1, 2, 3].map((i) =>
      o.journal.whenDurable(o.journal.append(Buffer.from(`${i}`))),
    );
    await o.journal.close();
    await Promise.all(pending);
    expect(io.syncs).toBe(1);
  });

  for (const fsync of ['no', 'everysec'] as const) {
    it(`${fsync}: whenSynced has the writer fdatasync now, and waits for it`, async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }); // no everysec tick
      const io = new ProbeIo();
      const o = await open({ io, fsync });
      await o.journal.whenDurable(o.journal.append(Buffer.from('r0')));
      expect(io.syncs).toBe(0);
      const held = io.hold('fdatasync', /wal\./);
      const synced = o.journal.whenSynced(o.journal.append(Buffer.from('r1')));
      await held.reached;
      expect(await isSettled(synced)).toBe(false);
      held.release();
      await synced;
      expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 2, syncs: 1 });
      await o.journal.whenSynced(o.journal.lastSeq); // already synced: no other fdatasync
      expect(io.syncs).toBe(1);
      await o.journal.close();
    });
  }

  it('no: whenSynced of a record appended during a write syncs after its write', async () => {
    const io = new ProbeIo();
    const o = await open({ io, fsync: 'no' });
    const held = io.hold('write', /wal\./);
    const first = o.journal.whenDurable(o.journal.append(Buffer.from('first')));
    await held.reached;
    const synced = o.journal.whenSynced(o.journal.append(Buffer.from('second')));
    held.release();
    await Promise.all([first, synced]);
    // One fdatasync, after the second write: not after the first, which it would not cover.
    expect({ writes: io.writes, syncs: io.syncs }).toEqual({ writes: 2, syncs: 1 });
    await o.journal.close();
  });

  const faults = [
    { name: 'a failed fdatasync', arm: (io: FaultyIo) => io.failNextFdatasync('EIO', /wal\./) },
    {
      name: 'ENOSPC after a partial write',
      arm: (io: FaultyIo) => io.failNextWrite({ prefixBytes: 7, code: 'ENOSPC' }, /wal\./),
    },
  ];
  for (const fault of faults) {
    it(`${fault.name} is sticky; acknowledged records stay readable after reopen`, async () => {
      const io = new FaultyIo();
      const o = await open({ io });
      await add(o, 'r0', 'r1');
      const goodBytes = o.journal.stats().logBytes;
      fault.arm(io);
      const lost = o.journal.whenDurable(o.journal.append(Buffer.from('lost')));
      await expect(lost).rejects.toMatchObject({ code: 'WRITE_FAILED' });
      const failure = o.journal.writeFailure as StorageError;
      expect(failure.message).toMatch(/journal.*wal\.0\.0.*refuses writes/);
      expect(() => o.journal.append(Buffer.from('x'))).toThrow(failure);
      await expect(o.journal.compact()).rejects.toBe(failure);
      await o.journal.close();
      expect((await fs.stat(file('wal.0.0'))).size).toBe(goodBytes);
      const back = await open();
      expect(back.owner.items).toEqual(['r0', 'r1']);
      expect(back.warnings).toEqual([]);
      await back.journal.close();
    });
  }
});

describe('compaction', () => {
  it('starts by itself once the log outgrows max(compactMinBytes, last snapshot)', async () => {
    let o: Opened | null = null;
    const begun: Array<{ logBytes: number; snapshotBytes: number }> = [];
    const onCompactStep = (step: CompactStep) => {
      if (step === 'BEGIN' && o) begun.push(o.journal.stats());
    };
    o = await open({ compactMinBytes: 1024, onCompactStep });
    for (let i = 0; i < 2000; i++) await add(o, `item-${i}`);
    await o.journal.close();
    expect(begun.length).toBeGreaterThan(3);
    for (const s of begun) expect(s.logBytes).toBeGreaterThan(Math.max(1024, s.snapshotBytes));
    expect(begun.some((s) => s.snapshotBytes > 4096)).toBe(true);
    expect(begun.length).toBeLessThan(30); // the threshold grows with the snapshot
    expect(await replayed()).toEqual(o.owner.items);
  });

  it('does not start while the log stays within compactMinBytes', async () => {
    const o = await open({ compactMinBytes: 64 * 1024 });
    for (let i = 0; i < 500; i++) await add(o, `item-${i}`);
    await tick();
    expect(o.journal.stats().compactions).toBe(0);
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'wal.0.0']);
  });

  it('reports every step in order, one compaction at a time', async () => {
    const steps: CompactStep[] = [];
    const o = await open({ onCompactStep: (s) => steps.push(s) });
    await add(o, 'a', 'b');
    await Promise.all([o.journal.compact(), o.journal.compact()]);
    const one: CompactStep[] = [
      'BEGIN',
      'PART_CREATED',
      'SWITCHED',
      'SNAPSHOT_WRITING',
      'SNAPSHOT_SYNCED',
      'SNAPSHOT_RENAMED',
      'MANIFEST_WRITTEN',
      'DONE',
    ];
    expect(steps).toEqual([...one, ...one]);
    expect(o.journal.stats().compactions).toBe(2);
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'snap.2', 'wal.2.0']);
  });

  it('appends during a compaction are durable at once and survive it', async () => {
    const io = new ProbeIo();
    const o = await open({ io });
    for (let i = 0; i < 100; i++) await add(o, `old${i}`);
    const held = io.hold('write', /snap\.\d+\.tmp$/);
    const compaction = o.journal.compact();
    await held.reached;
    for (let i = 0; i < 50; i++) await add(o, `new${i}`); // durable while the snapshot waits
    held.release();
    await compaction;
    expect(o.journal.stats()).toMatchObject({ compactions: 1, records: 50 });
    await o.journal.close();
    const back = await open();
    expect(back.owner.items).toEqual(o.owner.items);
    expect(back.journal.recovery.recordsReplayed).toBe(50);
    await back.journal.close();
  });

  it('leftover tmp files and files the MANIFEST does not list are removed at open', async () => {
    await fiveFrames();
    for (const name of ['MANIFEST.tmp', 'snap.7.tmp', 'wal.5.0', 'snap.3']) {
      await fs.writeFile(file(name), 'left by a crash');
    }
    await fs.writeFile(file('notes.txt'), 'not ours');
    const o = await open();
    expect(o.warnings.sort()).toEqual(['ORPHAN_FILE', 'ORPHAN_FILE', 'TEMP_FILE', 'TEMP_FILE']);
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'notes.txt', 'wal.0.0']);
    await (await open()).journal.close(); // the next compaction's names are free
  });

  it('a failed snapshot write is sticky and loses nothing', async () => {
    await twoParts();
    expect(await replayed()).toEqual(['p0', 'p1', 'p2', 'q0']);
    const o = await open();
    await o.journal.compact();
    await o.journal.close();
    expect(await names()).toEqual(['MANIFEST', 'snap.2', 'wal.2.0']);
    expect(await replayed()).toEqual(['p0', 'p1', 'p2', 'q0']);
  });

  it('restart cost follows the current data, not the number of operations', async () => {
    const state = new Map<string, string>();
    const owner: JournalOwner = {
      reset: () => state.clear(),
      loadChunk: (c) => {
        for (const [k, v] of JSON.parse(c.toString()) as [string, string][]) state.set(k, v);
      },
      apply: (r) => {
        const [k, v] = r.toString().split('=') as [string, string];
        state.set(k, v);
      },
      snapshot: () => [Buffer.from(JSON.stringify([...state]))],
    };
    const journal = await Journal.open(tmp, owner, { fsync: 'always', compactMinBytes: 2048 });
    for (let i = 0; i < 20_000; i++) {
      state.set(`k${i % 10}`, String(i));
      journal.append(Buffer.from(`k${i % 10}=${i}`));
      if (i % 100 === 0) await journal.whenDurable(journal.lastSeq);
    }
    await journal.close();
    const expected = new Map(state);
    const again = await Journal.open(tmp, owner);
    expect(state).toEqual(expected);
    // The log grows while a compaction runs (about 100 records per fdatasync here), so the
    // bound is loose; the history is 20 000 records and 260 KB.
    expect(again.recovery.chunksLoaded).toBe(1);
    expect(again.recovery.recordsReplayed).toBeLessThan(4000);
    const bytes = await Promise.all(
      (await names()).map(async (n) => (await fs.stat(file(n))).size),
    );
    expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThan(64 * 1024);
    await again.close();
  });
});
