// Streams with no entries that clients were told of survive a restart (recovery removes only a
// creation cut off before its first command, UNBORN_STREAM): an XGROUP CREATE ... MKSTREAM
// stream, one whose only group was destroyed, one trimmed or deleted to nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSluice, type InProcessSluice } from '../helpers/sluice';
import { plain } from '../resp/fixture';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function run(s: InProcessSluice, lines: readonly string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const line of lines) out.push(plain(await s.call(...line.split(' '))));
  return out;
}

const cases: [string, string[]][] = [
  ['XGROUP CREATE ... MKSTREAM', ['XGROUP CREATE s g $ MKSTREAM']],
  [
    'MKSTREAM, then its only group destroyed',
    ['XGROUP CREATE s g $ MKSTREAM', 'XGROUP DESTROY s g'],
  ],
  ['XADD MAXLEN 0', ['XADD s MAXLEN 0 5-1 f v']],
  ['XADD then XDEL', ['XADD s 5-1 f v', 'XDEL s 5-1']],
];

describe('empty streams across a restart', () => {
  it.each(cases)('%s', async (_name, script) => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-empty-'));
    dirs.push(dataDir);
    const look = ['EXISTS s', 'XLEN s', 'XINFO GROUPS s', 'TYPE s', 'DBSIZE'];
    const first = await openSluice({ dataDir, fsync: 'always' });
    await run(first, script);
    const before = await run(first, look);
    await first.close();
    const second = await openSluice({ dataDir, fsync: 'always' });
    const after = await run(second, look);
    await second.close();
    expect(before[0]).toBe(1);
    expect(after).toEqual(before);
  });
});
