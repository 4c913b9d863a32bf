// Lone XADD, LPUSH/RPUSH and LPOP/RPOP calls that different clients send in the same turn of
// the server's event loop, on one key, are staged as one batch (src/resp/coalesce.ts). Each
// client must still get exactly what Redis would give it for some order of the concurrent
// calls: its own ID, length or value, its own error, WATCH broken by the others' writes, a
// blocked client served as after one push. The clients here write in one synchronous block,
// so the server reads all of them in one turn; the stream's storage sequence (one step per
// storage command) shows the calls were staged together.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, plain, ReplyStream } from './fixture';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { startLocalSluice, type LocalSluice } from './fixture';

const CLIENTS = 24;

let sluice: LocalSluice;
let redis: RedisServer;
let clients: ReplyStream[] = [];

beforeAll(async () => {
  [sluice, redis] = await Promise.all([startLocalSluice(), startRedis()]);
});

afterAll(async () => {
  await Promise.all([sluice?.close(), redis?.stop()]);
});

beforeEach(async () => {
  for (const c of clients) await c.close();
  clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => ReplyStream.connect(sluice.port)),
  );
  await clients[0]!.call('FLUSHALL');
});

/** Every client sends its command in the same synchronous block; their replies, in order. */
async function together(
  conns: readonly ReplyStream[],
  command: (i: number) => string[],
): Promise<unknown[]> {
  conns.forEach((c, i) => c.send(...command(i)));
  return Promise.all(conns.map(async (c) => plain(await c.next())));
}

const streamSeq = () => sluice.server.broker.keyspace.stream(0, Buffer.from('s'))?.log.lastSeq ?? 0;

/** The same commands, one client each at once, against redis-server: its replies. */
async function onRedis(command: (i: number) => string[], setup: string[][] = []) {
  const conns = await Promise.all(
    Array.from({ length: CLIENTS }, () => ReplyStream.connect(redis.port)),
  );
  try {
    await conns[0]!.call('FLUSHALL');
    for (const s of setup) await conns[0]!.call(...s);
    return await together(conns, command);
  } finally {
    for (const c of conns) await c.close();
  }
}

const sorted = (xs: unknown[]) => [...xs].map((x) => JSON.stringify(x)).sort();

describe('lone calls of several clients in one turn', () => {
  it('XADDs get distinct increasing IDs, each entry holding its own client fields', async () => {
    await clients[0]!.call('XADD', 's', '*', 'seed', '0');
    const before = streamSeq();
    const ids = (await together(clients, (i) => [
      'XADD',
      's',
      '*',
      'client',
      String(i),
    ])) as string[];
    expect(new Set(ids).size).toBe(CLIENTS);
    for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
    // Staged together: far fewer storage commands than calls.
    expect(streamSeq() - before).toBeLessThanOrEqual(CLIENTS / 2);
    const range = plain(await clients[0]!.call('XRANGE', 's', '-', '+')) as [string, string[]][];
    expect(range).toHaveLength(CLIENTS + 1);
    const byId = new Map(range.map(([id, fields]) => [id, fields]));
    ids.forEach((id, i) => expect(byId.get(id)).toEqual(['client', String(i)]));
  });

  it('an XADD with a bad ID gets its own error, and the others their IDs', async () => {
    const command = (i: number) =>
      i === 5 ? ['XADD', 's', '1-1', 'bad', 'id'] : ['XADD', 's', '*', 'client', String(i)];
    const setup = [['XADD', 's', '5-0', 'seed', '0']];
    for (const s of setup) await clients[0]!.call(...s);
    const got = await together(clients, command);
    const want = await onRedis(command, setup);
    expect(got[5]).toBe(want[5]);
    expect(got[5]).toBe(
      '-ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    expect(got.filter((r) => typeof r === 'string' && /^\d+-\d+$/.test(r))).toHaveLength(
      CLIENTS - 1,
    );
  });

  it('XADD on a key of another type: WRONGTYPE for every client, as Redis', async () => {
    const setup = [['RPUSH', 's', 'x']];
    for (const s of setup) await clients[0]!.call(...s);
    const command = () => ['XADD', 's', '*', 'f', 'v'];
    expect(await together(clients, command)).toEqual(await onRedis(command, setup));
  });

  it('LPUSH answers each client a different length, as Redis', async () => {
    const command = (i: number) => ['LPUSH', 'q', `v${i}`];
    const got = await together(clients, command);
    expect(sorted(got)).toEqual(sorted(await onRedis(command)));
    const all = plain(await clients[0]!.call('LRANGE', 'q', '0', '-1')) as string[];
    expect(all.sort()).toEqual(Array.from({ length: CLIENTS }, (_, i) => `v${i}`).sort());
  });

  it('RPOP past the end: every value goes to exactly one client, the rest get nil', async () => {
    const setup = [['RPUSH', 'q', ...Array.from({ length: CLIENTS - 4 }, (_, i) => `v${i}`)]];
    for (const s of setup) await clients[0]!.call(...s);
    const command = () => ['RPOP', 'q'];
    const got = await together(clients, command);
    expect(sorted(got)).toEqual(sorted(await onRedis(command, setup)));
    expect(plain(await clients[0]!.call('EXISTS', 'q'))).toBe(0);
  });

  it('a client blocked on the list takes one value, as after the first push', async () => {
    const blocked = clients[CLIENTS - 1]!;
    const pushers = clients.slice(0, CLIENTS - 1);
    blocked.send('BLPOP', 'q', '0');
    await eventually('the BLPOP blocked', () => sluice.server.broker.blocking.blockedCount === 1);
    const command = (i: number) => ['RPUSH', 'q', `v${i}`];
    const lengths = await together(pushers, command);
    const popped = plain(await blocked.next()) as [string, string];
    expect(popped[0]).toBe('q');
    // One push woke the client and its value left at once: lengths 1, 1, 2, ... n - 1.
    const n = pushers.length;
    const want = [1, ...Array.from({ length: n - 1 }, (_, i) => i + 1)];
    expect(sorted(lengths)).toEqual(sorted(want));
    expect(plain(await clients[0]!.call('LLEN', 'q'))).toBe(n - 1);
  });

  it("WATCH is broken by other clients' XADDs staged together", async () => {
    const watcher = clients[CLIENTS - 1]!;
    await watcher.call('WATCH', 's');
    await watcher.call('MULTI');
    await watcher.call('XLEN', 's');
    await together(clients.slice(0, CLIENTS - 1), (i) => ['XADD', 's', '*', 'c', String(i)]);
    expect(plain(await watcher.call('EXEC'))).toBeNull();
  });

  it("a client's next command runs after its own deferred call", async () => {
    // The second command of each client comes in a later write, often in the same turn.
    clients.forEach((c, i) => {
      c.send('RPUSH', `own${i}`, 'a');
      c.send('LRANGE', `own${i}`, '0', '-1');
    });
    for (const c of clients) {
      expect(plain(await c.next())).toBe(1);
      expect(plain(await c.next())).toEqual(['a']);
    }
  });
});
