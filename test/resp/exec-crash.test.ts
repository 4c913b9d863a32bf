// MULTI/EXEC across kill -9 (fsync `always`): each transaction adds the same number to two
// streams and a list. The process is killed while pipelined transactions run; after each
// restart the three keys hold the same numbers, in order: every EXEC left all its writes or
// none (an EXEC's writes are one unit, storage/write-hold.ts), and every EXEC that was
// answered is there. With RENAME and DEL + XADD inside (`always` and `everysec`), the streams
// they move are also where the last whole EXEC left them.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { processPerTest } from '../helpers/broker-process';
import { RespClient } from '../helpers/resp-client';
import { plain } from './fixture';

const start = processPerTest();

const KILLS = 4;
const PIPELINE = 8;

/**
 * Pipelines transactions until the connection dies; returns the last n whose EXEC answered.
 * `withRead`: before each, an XADD to u outside the transaction; inside, a read of u (it waits
 * for that write, so u's writer is let go) and another XADD to u, which must still wait for
 * the end of the EXEC. `readsOwn`: inside, a read of s after the EXEC's XADD to it (which has
 * s written before the EXEC ends, behind an undo intent). `moves`: inside, stream r is renamed
 * from ra to rb (odd n) or back (even n) and gets n, and stream d is deleted and created again
 * holding only n.
 */
async function transactions(
  port: number,
  first: number,
  withRead: boolean,
  readsOwn: boolean,
  moves = false,
): Promise<number> {
  const c = await RespClient.connect(port);
  let answered = first - 1;
  try {
    for (let n = first; ; n += PIPELINE) {
      const execs: Promise<unknown>[] = [];
      for (let k = n; k < n + PIPELINE; k++) {
        if (withRead) void c.call('XADD', 'u', `${k}-1`, 'n', String(k)).catch(() => {});
        void c.call('MULTI').catch(() => {});
        if (withRead) {
          void c.call('XRANGE', 'u', `${k}-1`, `${k}-1`).catch(() => {});
          void c.call('XADD', 'u', `${k}-2`, 'n', String(k)).catch(() => {});
        }
        void c.call('XADD', 's', `${k}-1`, 'n', String(k)).catch(() => {});
        if (readsOwn) void c.call('XRANGE', 's', `${k}-1`, '+').catch(() => {});
        if (moves) {
          const [from, to] = k % 2 === 1 ? ['ra', 'rb'] : ['rb', 'ra'];
          void c.call('RENAME', from, to).catch(() => {});
          void c.call('XADD', to, `${k}-1`, 'n', String(k)).catch(() => {});
          void c.call('DEL', 'd').catch(() => {});
          void c.call('XADD', 'd', `${k}-1`, 'n', String(k)).catch(() => {});
        }
        void c.call('XADD', 't', `${k}-1`, 'n', String(k)).catch(() => {});
        void c.call('RPUSH', 'l', String(k)).catch(() => {});
        execs.push(c.call('EXEC').then((r) => r.t === 'array' && (answered = k)));
      }
      await Promise.all(execs);
    }
  } catch {
    return answered; // killed
  } finally {
    await c.close().catch(() => {});
  }
}

async function contents(port: number): Promise<string[][]> {
  const c = await RespClient.connect(port);
  try {
    const ids = async (key: string) =>
      (plain(await c.call('XRANGE', key, '-', '+')) as [string, string[]][]).map((e) =>
        String(e[1][1]),
      );
    const list = plain(await c.call('LRANGE', 'l', '0', '-1')) as string[];
    const u = plain(await c.call('XRANGE', 'u', '-', '+')) as [string, string[]][];
    const inExec = u.filter((e) => e[0].endsWith('-2')).map((e) => String(e[1][1]));
    return [await ids('s'), await ids('t'), list.map(String), inExec];
  } finally {
    await c.close();
  }
}

/** The numbers every key holds, and those only some keys hold (an EXEC split by the kill). */
function compare(keys: readonly (readonly string[])[]): { common: number[]; partial: number[] } {
  const sets = keys.map((k) => new Set(k.map(Number)));
  const all = new Set(keys.flat().map(Number));
  const common = [...all].filter((n) => sets.every((x) => x.has(n))).sort((a, b) => a - b);
  const partial = [...all].filter((n) => !sets.every((x) => x.has(n)));
  return { common, partial };
}

describe('EXEC across kill -9, renaming and re-creating streams', () => {
  it.each(['always', 'everysec'] as const)(
    'every answered EXEC is whole, and the streams it moved are where it left them (%s)',
    async (fsync) => {
      const broker = await start({ fsync });
      const seed = await RespClient.connect(broker.respPort);
      await seed.call('XADD', 'ra', '0-1', 'n', '0');
      await seed.close();
      let next = 1;
      for (let kill = 0; kill < KILLS; kill++) {
        const work = transactions(broker.respPort, next, false, false, true);
        await sleep(150 + 100 * kill);
        await broker.kill();
        const answered = await work;
        await broker.restart();
        const [s, t, l] = await contents(broker.respPort);
        const c = await RespClient.connect(broker.respPort);
        const numbers = async (key: string) =>
          (plain(await c.call('XRANGE', key, '-', '+')) as [string, string[]][]).map((e) =>
            Number(e[1][1]),
          );
        const [ra, rb, d] = [await numbers('ra'), await numbers('rb'), await numbers('d')];
        await c.close();
        const { common, partial } = compare([s, t, l] as string[][]);
        expect(partial, `EXECs split by kill ${kill + 1}`).toEqual([]);
        const last = common.at(-1) ?? 0;
        expect(last).toBeGreaterThanOrEqual(answered);
        // r is under the name the last whole EXEC gave it, holding 0 and every EXEC's number.
        expect(last % 2 === 1 ? [ra, rb] : [rb, ra]).toEqual([[], [0, ...common]]);
        expect(d).toEqual(last > 0 ? [last] : []);
        next = last + 1;
      }
      expect(next).toBeGreaterThan(KILLS * PIPELINE);
    },
  );
});

describe('EXEC across kill -9', () => {
  // A read in an EXEC of a stream with writes still queued (`withRead`) lets that stream's
  // writer go for them; the EXEC's own later write to it must still wait for the end, where
  // the EXEC's writes go as one unit behind an intent (storage/write-hold.ts): a kill between
  // them leaves the intent, and the restart finishes the EXEC. Asserted: no EXEC is split,
  // nothing answered is lost, and what is kept is in order.
  it.each([
    [false, false],
    [true, false],
    [false, true],
  ])(
    'every answered EXEC is whole (read inside: %s, of its own write: %s)',
    async (withRead, readsOwn) => {
      const broker = await start({ fsync: 'always' });
      let next = 1;
      for (let kill = 0; kill < KILLS; kill++) {
        const work = transactions(broker.respPort, next, withRead, readsOwn);
        await sleep(150 + 100 * kill);
        await broker.kill();
        const answered = await work;
        await broker.restart();
        const [s, t, l, u] = await contents(broker.respPort);
        const keys = withRead ? [s, t, l, u] : [s, t, l];
        for (const k of keys) expect(k?.map(Number)).toEqual(k?.map(Number).sort((a, b) => a - b));
        const { common, partial } = compare(keys as string[][]);
        for (const k of keys)
          expect(new Set(k).size, `duplicates after kill ${kill + 1}`).toBe(k?.length);
        expect(common.at(-1) ?? 0).toBeGreaterThanOrEqual(answered);
        expect(partial, `EXECs split by kill ${kill + 1}`).toEqual([]);
        next = (common.at(-1) ?? 0) + 1;
      }
      expect(next).toBeGreaterThan(KILLS * PIPELINE);
    },
  );
});
