// Lists and streams taking turns at the same keys, then kill -9 (fsync `always`): streams are
// opened before the journal replays, so list ops replayed onto a key that now holds a stream
// must still apply in full to the other keys they touch (an LMOVE into a list deleted since
// still takes its element from the source; a RENAME still empties its source). After the
// restart every key holds what it held before the kill, and a clean restart changes nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker';
import { Side } from '../../src/broker/list-records';
import { streamDirName } from '../../storage/datadir';
import { StreamId } from '../../storage/id';
import { startSluice, type SluiceProcess } from '../../src/index';
import { RespClient } from '../helpers/resp-client';
import { plain } from '../resp/fixture';

let broker: SluiceProcess | undefined;
afterEach(async () => {
  await broker?.destroy();
  broker = undefined;
});

const SCRIPT = [
  'RPUSH a x y z',
  'LMOVE a b LEFT RIGHT',
  'DEL b',
  'XADD b 1-1 f v',
  'RPOPLPUSH a c',
  'RENAME c b2',
  'DEL b2',
  'XADD b2 1-1 f v',
  'RPUSH d 1 2 3',
  'RENAME d e',
  'XADD d 1-1 f v',
  'RPUSH g 1',
  'LMOVE g h LEFT LEFT',
  'DEL h',
  'XADD h 1-1 f v',
  'RPUSH h2 1 2',
  'DEL h2',
  'XADD h2 1-1 f v',
  'XADD s 1-1 f v',
  'DEL s',
  'RPUSH s 9',
  'LPUSH s 8',
];

/** Every key with its type and contents. */
async function dump(port: number): Promise<Record<string, unknown>> {
  const c = await RespClient.connect(port);
  try {
    const out: Record<string, unknown> = {};
    const keys = plain(await c.call('KEYS', '*')) as string[];
    for (const k of keys.sort()) {
      const type = plain(await c.call('TYPE', k)) as string;
      const items =
        type === 'list'
          ? await c.call('LRANGE', k, '0', '-1')
          : await c.call('XRANGE', k, '-', '+');
      out[k] = { type, items: plain(items) };
    }
    return out;
  } finally {
    await c.close();
  }
}

describe('journal replay next to streams at the same keys', () => {
  it('kill -9 after lists and streams took turns at keys: every key as before', async () => {
    broker = await startSluice({ fsync: 'always' });
    const c = await RespClient.connect(broker.respPort);
    for (const line of SCRIPT) {
      const reply = plain(await c.call(...line.split(' ')));
      expect(String(reply), line).not.toMatch(/^-/);
    }
    await c.close();
    const before = await dump(broker.respPort);
    expect(before['a']).toEqual({ type: 'list', items: ['y'] });
    expect(before['e']).toEqual({ type: 'list', items: ['1', '2', '3'] });
    await broker.kill();
    await broker.restart();
    expect(await dump(broker.respPort)).toEqual(before);
    await broker.stop();
    await broker.restart();
    expect(await dump(broker.respPort)).toEqual(before);
  });
});

describe('a stream marked as being replaced by a list (RENAME cut off)', () => {
  const key = Buffer.from('\0s'); // database 0, key s

  it('without the renamed list in the journal the stream stays and loses its mark', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-replaced-'));
    try {
      const first = await Broker.open({ dataDir, fsync: 'always' });
      const log = await first.store.create(key);
      await log.append(() => [{ id: new StreamId(1n, 1n), fields: [Buffer.from('f')] }]);
      await first.store.markReplaced(key);
      await first.close();
      const dir = path.join(dataDir, 'streams', streamDirName(key));
      expect(await fs.readdir(dir)).toContain('replaced');
      const again = await Broker.open({ dataDir, fsync: 'always' });
      expect(again.keyspace.typeOf(0, 's')).toBe('stream');
      expect(await fs.readdir(dir)).not.toContain('replaced');
      await again.close();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a list the journal holds at a key a stream took (RENAME in an EXEC cut off)', () => {
  it('is dropped for good: it does not come back once the stream leaves the key', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-dropped-'));
    try {
      const first = await Broker.open({ dataDir, fsync: 'always' });
      first.lists.push(0, 'l', Side.Right, ['old1', 'old2']);
      await first.lists.whenDurable();
      // The stream's directory moved to l, the list's deletion never journaled: as a kill
      // inside `MULTI; RENAME a l; ...; EXEC` leaves it.
      const log = await first.store.create(Buffer.from('\0l'));
      await log.append(() => [{ id: new StreamId(1n, 1n), fields: [Buffer.from('f')] }]);
      await first.close();
      const second = await Broker.open({ dataDir, fsync: 'always' });
      expect(second.keyspace.typeOf(0, 'l')).toBe('stream');
      await second.keyspace.delete(0, Buffer.from('l'));
      await second.close();
      for (let restart = 0; restart < 2; restart++) {
        const again = await Broker.open({ dataDir, fsync: 'always' });
        expect(again.keyspace.typeOf(0, 'l')).toBeUndefined();
        await again.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
