import { describe, it, expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Store } from '../../storage/store';
import { StreamId } from '../../storage/id';

const b = (s: string) => Buffer.from(s);

describe('smoke', () => {
  it('appends, reads, restarts', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-smoke-'));
    let store = await Store.open(root, { fsync: 'always', segmentBytes: 4096 });
    const log = await store.create(b('s1'));
    for (let i = 1; i <= 500; i++) {
      await log.append(() => [{ id: new StreamId(BigInt(i), 0n), fields: [b('f'), b(`v${i}`)] }]);
    }
    expect(log.length).toBe(500);
    expect(log.segments.length).toBeGreaterThan(3);
    const mid = await log.read(new StreamId(250n, 0n), StreamId.MAX, 3, false);
    expect(mid.map((e) => e.id.toString())).toEqual(['250-0', '251-0', '252-0']);
    const rev = await log.read(StreamId.ZERO, new StreamId(250n, 0n), 3, true);
    expect(rev.map((e) => e.id.toString())).toEqual(['250-0', '249-0', '248-0']);
    expect(
      await log.delete([new StreamId(1n, 0n), new StreamId(2n, 0n), new StreamId(9999n, 0n)]),
    ).toBe(2);
    expect(log.firstId.toString()).toBe('3-0');
    expect(await log.trim({ maxLen: 100, approx: false, limit: 0 })).toBe(398);
    expect(log.firstId.toString()).toBe('401-0');
    await store.close();
    store = await Store.open(root, { fsync: 'always', segmentBytes: 4096 });
    const again = store.get(b('s1'))!;
    expect(again.length).toBe(100);
    expect(again.firstId.toString()).toBe('401-0');
    const all = await again.read(StreamId.ZERO, StreamId.MAX, 0, false);
    expect(all.length).toBe(100);
    expect(all[99]!.fields[1]!.toString()).toBe('v500');
    await store.close();
    await fs.rm(root, { recursive: true, force: true });
  });
});
