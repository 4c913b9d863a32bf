// MULTI/EXEC across kill -9 (fsync `always`): each transaction adds the same number to two
// streams and a list. The process is killed while pipelined transactions run; after each
// restart the three keys hold the same numbers, in order: every EXEC left all its writes or
// none (the writes of an EXEC are held back and written together, storage/write-hold.ts), and
// every EXEC that was answered is there.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { processPerTest } from '../helpers/broker-process';
import { RespClient } from '../helpers/resp-client';
import { plain } from './fixture';

const start = processPerTest();

const KILLS = 4;
const PIPELINE = 8;

/** Pipelines transactions until the connection dies; returns the last n whose EXEC answered. */
async function transactions(port: number, first: number): Promise<number> {
  const c = await RespClient.connect(port);
  let answered = first - 1;
  try {
    for (let n = first; ; n += PIPELINE) {
      const execs: Promise<unknown>[] = [];
      for (let k = n; k < n + PIPELINE; k++) {
        void c.call('MULTI').catch(() => {});
        void c.call('XADD', 's', `${k}-1`, 'n', String(k)).catch(() => {});
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
    return [await ids('s'), await ids('t'), list.map(String)];
  } finally {
    await c.close();
  }
}

describe('EXEC across kill -9', () => {
  it('two streams and a list written by each EXEC keep the same numbers', async () => {
    const broker = await start({ fsync: 'always' });
    let next = 1;
    for (let kill = 0; kill < KILLS; kill++) {
      const work = transactions(broker.respPort, next);
      await sleep(150 + 100 * kill);
      await broker.kill();
      const answered = await work;
      await broker.restart();
      const [s, t, l] = await contents(broker.respPort);
      expect(t, `after kill ${kill + 1}`).toEqual(s);
      expect(l, `after kill ${kill + 1}`).toEqual(s);
      const last = Number(s?.at(-1) ?? 0);
      expect(last).toBeGreaterThanOrEqual(answered);
      next = last + 1;
    }
    expect(next).toBeGreaterThan(KILLS * PIPELINE);
  });
});
