// A graceful stop (SIGTERM) while transactions that write a stream and a list are in flight:
// an EXEC already running finishes before the storage closes, so after the restart every
// transaction left both of its writes or neither. Each EXEC creates its own stream (an
// asynchronous step between its two writes, where the stop used to land).
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { processPerTest } from '../helpers/broker-process';
import { RespClient } from '../helpers/resp-client';
import { plain } from './fixture';

const start = processPerTest();

const CLIENTS = 4;
const ROUNDS = 3;

/** Sends transactions until the connection dies; returns how many EXECs were answered. */
async function transactions(port: number, client: number, round: number): Promise<number> {
  const c = await RespClient.connect(port);
  let answered = 0;
  try {
    for (let n = 0; ; n++) {
      const tag = `${round}-${client}-${n}`;
      const replies = await Promise.all([
        c.call('MULTI'),
        c.call('XADD', `s-${tag}`, '*', 'f', 'v'),
        c.call('RPUSH', `l-${tag}`, 'x'),
        c.call('EXEC'),
      ]);
      expect(replies[3]?.t).toBe('array');
      answered++;
    }
  } catch {
    return answered; // the stop closed the connection
  } finally {
    await c.close().catch(() => {});
  }
}

describe('EXEC and a graceful stop', () => {
  it('every transaction in flight at SIGTERM leaves both its writes or neither', async () => {
    const broker = await start({ fsync: 'always' });
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const port = broker.respPort;
      const work = Array.from({ length: CLIENTS }, (_, i) => transactions(port, i, round));
      await sleep(300 + 100 * round);
      await broker.stop();
      const answered = (await Promise.all(work)).reduce((a, b) => a + b, 0);
      await broker.restart();
      const c = await RespClient.connect(broker.respPort);
      const keys = plain(await c.call('KEYS', '*')) as string[];
      await c.close();
      const streams = new Set(keys.filter((k) => k.startsWith('s-')).map((k) => k.slice(2)));
      const lists = new Set(keys.filter((k) => k.startsWith('l-')).map((k) => k.slice(2)));
      expect([...streams].filter((t) => !lists.has(t))).toEqual([]);
      expect([...lists].filter((t) => !streams.has(t))).toEqual([]);
      total += answered;
      expect(lists.size).toBeGreaterThanOrEqual(total);
    }
    expect(total).toBeGreaterThan(ROUNDS * CLIENTS);
  });
});
