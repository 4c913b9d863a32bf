// SWAPDB in the broker: the journal's records and snapshot chunks for it (list records name the
// physical database, so journals from before SWAPDB read alike), its durability (fdatasync'd
// whatever the fsync policy, before the databases change, with every other command held back;
// a failed fdatasync changes nothing), its place in snapshots (a swap waiting for its fdatasync
// is in the snapshot; a compaction waits for an open transaction batch), a mapping that does not
// fit the databases count refusing the start, and random writes, swaps, compactions and
// restarts leaving every database as redis-server has it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeIo, type Io } from '../../storage/io';
import {
  DecodeError,
  decodeChunk,
  decodeOp,
  encodeChunk,
  encodeDatabasesChunk,
  encodeOp,
  Side,
} from '../../src/broker/list-records';
import type { BrokerOptions } from '../../src/broker/broker';
import type { Session } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { openSluice, type InProcessSluice } from '../helpers/sluice';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespClient } from '../helpers/resp-client';
import { FaultyIo } from '../storage/faulty-io';
import { mulberry32, pick, randInt, type Rand } from '../conformance/harness';
import { plain } from '../resp/fixture';

const OK: Reply = { t: 'simple', v: 'OK' };
const int = (v: number): Reply => ({ t: 'int', v });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const open: InProcessSluice[] = [];
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-swapdb-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, options: Partial<BrokerOptions> = {}) {
  const s = await openSluice({ dataDir, ...options });
  open.push(s);
  return s;
}

async function stop(s: InProcessSluice): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

const inDb = (s: InProcessSluice, db: number): Session => ({ ...s.session(), db });

describe('SWAPDB journal records and snapshot chunks', () => {
  it('a list record is byte for byte one from before SWAPDB, naming the physical db', () => {
    const push = encodeOp({ op: 'push', db: 3, key: 'k', side: Side.Right, values: ['v'] });
    // version 1, op PUSH, db 3, side right, key "k", 1 value "v"
    expect([...push]).toEqual([1, 1, 3, 1, 1, 0x6b, 1, 1, 0x76]);
    // Written under a swap, the record names the physical database given.
    expect(encodeOp({ op: 'del', db: 0, key: 'k' }, 7)[2]).toBe(7);
  });

  it('a SWAP record round-trips; an op number a reader does not know is refused', () => {
    const swap = encodeOp({ op: 'swap', db: 2, other: 9 });
    expect([...swap]).toEqual([1, 11, 2, 9]);
    expect(decodeOp(swap)).toEqual({ op: 'swap', db: 2, other: 9 });
    expect(() => decodeOp(Buffer.from([1, 12, 0]))).toThrow(DecodeError);
    expect(() => decodeOp(Buffer.from([1, 11, 2]))).toThrow(DecodeError);
  });

  it('the databases chunk round-trips; list chunks read as before', () => {
    expect(decodeChunk(encodeDatabasesChunk([1, 0, 2]))).toEqual({
      kind: 'databases',
      physical: [1, 0, 2],
    });
    const lists = [{ db: 4, key: 'q', continues: false, values: ['a', 'b'] }];
    const chunk = encodeChunk(lists);
    expect(chunk[0]).toBe(1);
    expect(decodeChunk(chunk)).toEqual({ kind: 'lists', lists });
    expect(() => decodeChunk(Buffer.from([3, 0]))).toThrow(DecodeError);
  });
});

/** nodeIo whose next fdatasync of a matching file waits until released. */
class GatedIo implements Io {
  private readonly paths = new Map<number, string>();
  private gate: { match: RegExp; reached: () => void; opened: Promise<void> } | null = null;

  holdNextSync(match: RegExp): { reached: Promise<void>; release: () => void } {
    let release = () => {};
    let reached = () => {};
    const opened = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (reached = resolve));
    this.gate = { match, reached, opened };
    return { reached: started, release };
  }

  async open(file: string, flags: string): Promise<number> {
    const fd = await nodeIo.open(file, flags);
    this.paths.set(fd, file);
    return fd;
  }

  close(fd: number): Promise<void> {
    this.paths.delete(fd);
    return nodeIo.close(fd);
  }

  write(fd: number, buf: Buffer, position: number): Promise<void> {
    return nodeIo.write(fd, buf, position);
  }

  read(fd: number, buf: Buffer, offset: number, length: number, position: number) {
    return nodeIo.read(fd, buf, offset, length, position);
  }

  async fdatasync(fd: number): Promise<void> {
    const gate = this.gate;
    if (gate && gate.match.test(this.paths.get(fd) ?? '')) {
      this.gate = null;
      gate.reached();
      await gate.opened;
    }
    await nodeIo.fdatasync(fd);
  }

  ftruncate(fd: number, length: number): Promise<void> {
    return nodeIo.ftruncate(fd, length);
  }

  fileSize(fd: number): Promise<number> {
    return nodeIo.fileSize(fd);
  }
}

const JOURNAL_PART = /journal[/\\]wal\.\d+\.\d+$/;

describe('SWAPDB durability', () => {
  it("fsync 'no': fdatasync'd before the databases change, others waiting", async () => {
    const io = new GatedIo();
    const s = await start(await tempDir(), { fsync: 'no', io });
    expect(await s.call('RPUSH', 'l', 'a')).toEqual(int(1));
    const gate = io.holdNextSync(JOURNAL_PART);
    const swapping = s.call('SWAPDB', '0', '1');
    await gate.reached;
    // The swap's record is being synced: nothing has changed in memory yet.
    expect(s.broker.keyspace.permutation().slice(0, 2)).toEqual([0, 1]);
    expect(s.broker.keyspace.size(0)).toBe(1);
    let answered = false;
    const dbsize = s.callIn(s.session(), 'DBSIZE').then((r) => {
      answered = true;
      return r;
    });
    await sleep(50);
    expect(answered).toBe(false);
    gate.release();
    expect(await swapping).toEqual(OK);
    expect(await dbsize).toEqual(int(0));
    expect(s.broker.keyspace.permutation().slice(0, 3)).toEqual([1, 0, 2]);
    expect(plain(await s.callIn(inDb(s, 1), 'LRANGE', 'l', '0', '-1'))).toEqual(['a']);
  });

  it('a failed fdatasync answers the error and leaves the databases as they were', async () => {
    const io = new FaultyIo();
    const s = await start(await tempDir(), { fsync: 'no', io });
    await s.call('RPUSH', 'l', 'a');
    await s.call('XADD', 's', '1-1', 'f', 'v');
    io.failNextFdatasync('EIO', JOURNAL_PART);
    const reply = await s.call('SWAPDB', '0', '1');
    expect(reply).toMatchObject({
      t: 'error',
      v: expect.stringMatching(/^ERR write to the journal/),
    });
    expect(s.broker.keyspace.permutation().slice(0, 2)).toEqual([0, 1]);
    expect(await s.call('DBSIZE')).toEqual(int(2));
    expect(await s.call('SWAPDB', '0', '1')).toMatchObject({ t: 'error' });
  });
});

/** Every database's keys with their types and contents, in key order. */
async function dump(
  call: (db: number, ...args: string[]) => Promise<Reply>,
  dbs: readonly number[],
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const db of dbs) {
    const keys = (plain(await call(db, 'KEYS', '*')) as string[]).sort();
    for (const key of keys) {
      const type = plain(await call(db, 'TYPE', key));
      const content =
        type === 'list'
          ? await call(db, 'LRANGE', key, '0', '-1')
          : await call(db, 'XRANGE', key, '-', '+');
      out.push([db, key, type, plain(content)]);
    }
  }
  return out;
}

const sluiceDump = (s: InProcessSluice, dbs: readonly number[]) =>
  dump((db, ...args) => s.callIn(inDb(s, db), ...args), dbs);

describe('SWAPDB and snapshots', () => {
  it('a snapshot taken while a swap waits for its fdatasync holds the swap', async () => {
    const io = new GatedIo();
    const dataDir = await tempDir();
    let s = await start(dataDir, { fsync: 'no', io });
    await s.call('RPUSH', 'l', 'zero');
    await s.callIn(inDb(s, 1), 'RPUSH', 'l', 'one');
    await s.callIn(inDb(s, 1), 'XADD', 's', '1-1', 'f', 'v');
    const before = await sluiceDump(s, [0, 1]);
    const gate = io.holdNextSync(JOURNAL_PART);
    const swapping = s.call('SWAPDB', '0', '1');
    await gate.reached;
    const compacting = s.broker.journal.compact();
    gate.release();
    expect(await swapping).toEqual(OK);
    await compacting;
    expect(s.broker.journal.stats().compactions).toBe(1);
    await stop(s);
    s = await start(dataDir);
    const after = await sluiceDump(s, [1, 0]);
    expect(after.map((e) => (e as unknown[]).slice(1))).toEqual(
      before.map((e) => (e as unknown[]).slice(1)),
    );
    expect(s.broker.keyspace.permutation().slice(0, 2)).toEqual([1, 0]);
  });

  it('a compaction waits for an open batch: its changes are replayed once', async () => {
    const dataDir = await tempDir();
    let s = await start(dataDir);
    const lists = s.broker.lists;
    lists.beginBatch();
    lists.push(0, 'q', Side.Right, ['x']);
    lists.swap(0, 1).catch(() => {});
    const compacting = s.broker.journal.compact();
    await sleep(30);
    expect(s.broker.journal.stats().compactions).toBe(0);
    await lists.whenDurable(lists.endBatch());
    await compacting;
    expect(s.broker.journal.stats().compactions).toBe(1);
    await stop(s);
    s = await start(dataDir);
    expect(await sluiceDump(s, [0, 1])).toEqual([[1, 'q', 'list', ['x']]]);
  });

  it('a list in a snapshot whose key a stream took later does not stop the start', async () => {
    const dataDir = await tempDir();
    let s = await start(dataDir);
    await s.call('RPUSH', 'k', 'a');
    await s.call('SWAPDB', '0', '1');
    await s.callIn(inDb(s, 1), 'RPUSH', 'big', ...Array.from({ length: 5000 }, (_, i) => `${i}`));
    await s.broker.journal.compact();
    await s.callIn(inDb(s, 1), 'DEL', 'k', 'big');
    await s.callIn(inDb(s, 1), 'XADD', 'k', '1-1', 'f', 'v');
    await s.callIn(inDb(s, 1), 'XADD', 'big', '1-1', 'f', 'v');
    await stop(s);
    s = await start(dataDir);
    expect(await sluiceDump(s, [0, 1])).toEqual([
      [1, 'big', 'stream', [['1-1', ['f', 'v']]]],
      [1, 'k', 'stream', [['1-1', ['f', 'v']]]],
    ]);
  });

  it('a mapping that does not fit the databases count refuses the start', async () => {
    const dataDir = await tempDir();
    let s = await start(dataDir);
    await s.callIn(inDb(s, 1), 'RPUSH', 'l', 'x');
    expect(await s.call('SWAPDB', '1', '15')).toEqual(OK);
    await stop(s);
    await expect(start(dataDir, { databases: 4 })).rejects.toThrow(/only 4/);
    s = await start(dataDir);
    await s.broker.journal.compact();
    await stop(s);
    await expect(start(dataDir, { databases: 4 })).rejects.toThrow(/does not fit 4 databases/);
    s = await start(dataDir, { databases: 20 });
    expect(await sluiceDump(s, [1, 15])).toEqual([[15, 'l', 'list', ['x']]]);
  });
});

const DBS = [0, 1, 2, 15];

/** One random command: list and stream writes on a few keys, and swaps of the databases. */
function randomCommand(rand: Rand, n: number): string[] {
  const key = (p: string) => `${p}${randInt(rand, 3)}`;
  const any = () => key(pick(rand, ['l', 's']));
  const r = rand();
  if (r < 0.25) return ['RPUSH', key('l'), `v${n}`];
  if (r < 0.35) return ['LPOP', key('l')];
  if (r < 0.45) return ['LMOVE', key('l'), key('l'), 'LEFT', 'RIGHT'];
  if (r < 0.7) return ['XADD', key('s'), `${n}-1`, 'f', `${n}`];
  if (r < 0.74) return ['DEL', any()];
  if (r < 0.78) return ['RENAME', any(), any()];
  if (r < 0.8) return ['XTRIM', key('s'), 'MAXLEN', '1'];
  if (r < 0.81) return ['FLUSHDB'];
  return ['SWAPDB', String(pick(rand, DBS)), String(pick(rand, DBS))];
}

describe('SWAPDB across restarts, against redis-server', () => {
  let redis: RedisServer;
  let clients: RespClient[];

  beforeAll(async () => {
    redis = await startRedis();
    clients = await Promise.all(
      DBS.map(async (db) => {
        const c = await RespClient.connect(redis.port);
        await c.call('SELECT', String(db));
        return c;
      }),
    );
  });

  afterAll(async () => {
    for (const c of clients ?? []) await c.close();
    await redis?.stop();
  });

  it('random writes, swaps, compactions, restarts: every database as redis has it', async () => {
    await clients[0]!.call('FLUSHALL');
    const dataDir = await tempDir();
    // A small compaction threshold: snapshots (with the mapping) are taken all along.
    const options = { journalCompactMinBytes: 256 };
    let s = await start(dataDir, options);
    const rand = mulberry32(20_260_406);
    const redisCall = (db: number, ...args: string[]) => clients[DBS.indexOf(db)]!.call(...args);
    let compactions = 0;
    for (let step = 1; step <= 600; step++) {
      const db = pick(rand, DBS);
      const command = randomCommand(rand, step);
      const fromRedis = plain(await redisCall(db, ...command));
      const fromSluice = plain(await s.callIn(inDb(s, db), ...command));
      expect(fromSluice, `step ${step}: ${command.join(' ')} in db ${db}`).toEqual(fromRedis);
      if (step % 75 !== 0) continue;
      if (rand() < 0.5) await s.broker.journal.compact();
      compactions += s.broker.journal.stats().compactions;
      await stop(s);
      s = await start(dataDir, options);
      expect(await sluiceDump(s, DBS), `after the restart at step ${step}`).toEqual(
        await dump(redisCall, DBS),
      );
    }
    expect(compactions).toBeGreaterThan(8);
  });
});
