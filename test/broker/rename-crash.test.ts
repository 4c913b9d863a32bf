// RENAME of a stream onto a stream or a list, and of a list onto a stream, across kill -9 (fsync
// `always`): each pair src:<round>:i / dst:<round>:i is written, then renamed; after every
// restart each pair whose RENAME was sent holds either both values as before or the source's
// value at dst, never the source alone (the rename decided, the old value at dst deleted, the
// move lost).
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { processPerTest } from '../helpers/broker-process';
import { RespClient } from '../helpers/resp-client';
import { plain } from '../resp/fixture';

const start = processPerTest();

const KILLS = 3;
const BATCH = 4;

type Type = 'stream' | 'list';

function put(c: RespClient, type: Type, key: string, value: string) {
  return type === 'stream' ? c.call('XADD', key, '*', 'v', value) : c.call('RPUSH', key, value);
}

/** Writes pairs and renames them until the connection dies; returns the pairs renamed. */
async function renames(port: number, src: Type, dst: Type, round: number): Promise<number[]> {
  const c = await RespClient.connect(port);
  const sent: number[] = [];
  try {
    for (let i = 0; ; i += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, k) => i + k);
      const written = batch.flatMap((j) => [
        put(c, src, `src:${round}:${j}`, `s${j}`),
        put(c, dst, `dst:${round}:${j}`, `d${j}`),
      ]);
      for (const r of await Promise.all(written)) expect(r.t).not.toBe('error');
      sent.push(...batch);
      await Promise.all(
        batch.map((j) => c.call('RENAME', `src:${round}:${j}`, `dst:${round}:${j}`)),
      );
    }
  } catch {
    return sent; // killed
  } finally {
    await c.close().catch(() => {});
  }
}

async function valueOf(c: RespClient, key: string): Promise<string | null> {
  const type = plain(await c.call('TYPE', key)) as string;
  if (type === 'none') return null;
  if (type === 'list')
    return `list:${(plain(await c.call('LRANGE', key, '0', '-1')) as string[]).join()}`;
  const entries = plain(await c.call('XRANGE', key, '-', '+')) as [string, string[]][];
  return `stream:${entries.map((e) => e[1][1]).join()}`;
}

describe('RENAME across types, across kill -9', () => {
  it.each([
    ['stream', 'stream'],
    ['stream', 'list'],
    ['list', 'stream'],
  ] as const)('a %s onto a %s: before or after, never neither', async (src, dst) => {
    const broker = await start({ fsync: 'always' });
    for (let kill = 0; kill < KILLS; kill++) {
      const work = renames(broker.respPort, src, dst, kill);
      await sleep(150 + 150 * kill);
      await broker.kill();
      const sent = await work;
      await broker.restart();
      const c = await RespClient.connect(broker.respPort);
      const broken: string[] = [];
      for (const j of sent) {
        const s = await valueOf(c, `src:${kill}:${j}`);
        const d = await valueOf(c, `dst:${kill}:${j}`);
        const before = s === `${src}:s${j}` && d === `${dst}:d${j}`;
        const after = s === null && d === `${src}:s${j}`;
        if (!before && !after) broken.push(`${j}: src=${s} dst=${d}`);
      }
      await c.close();
      expect(broken, `after kill ${kill + 1}`).toEqual([]);
      expect(sent.length).toBeGreaterThan(0);
    }
  });
});
