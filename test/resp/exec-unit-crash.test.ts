// A MULTI/EXEC writing two streams and a list is one unit (storage/write-hold.ts): its intent
// is written first, then each file's part. A real Sluice process kills itself (SIGKILL) at each
// of those writes in turn, whole or torn (test/fixtures/kill-in-unit.mjs); after a restart the
// EXEC is there whole (killed after its intent: the restart finishes it) or not at all (killed
// while the intent was written), never in part.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSluice, type SluiceProcess } from '../../src/index';
import { RespClient } from '../helpers/resp-client';
import { plain } from './fixture';

const PRELOAD = path.join(import.meta.dirname, '..', 'fixtures', 'kill-in-unit.mjs');
const SMALL_SEGMENT_BYTES = 4096;
const FILLER = 'x'.repeat(100);
const BIG = 'y'.repeat(1024 * 1024);

async function valuesOf(c: RespClient): Promise<string[][]> {
  const ids = async (key: string) =>
    (plain(await c.call('XRANGE', key, '-', '+')) as [string, string[]][]).map((e) => e[0]);
  const list = plain(await c.call('LRANGE', 'l', '0', '-1')) as string[];
  return [await ids('s'), await ids('t'), list, await ids('d'), await ids('e')];
}

interface Case {
  readonly at: number;
  readonly torn: number;
  readonly fsync: 'always' | 'everysec';
  /** The EXEC creates the streams (otherwise they exist before it). */
  readonly creates: boolean;
  /** Segments this small, and s's first one full: the EXEC's XADD would roll it. */
  readonly small?: boolean;
  /** s's XADDs carry 1 MB each, 6 MB in all (over the 4 MB units used to be limited to). */
  readonly big?: boolean;
  /** The EXEC reads s after writing it (so s is written early, behind an undo intent). */
  readonly reads?: boolean;
  /** The EXEC deletes stream d (its directory goes at the EXEC's end). */
  readonly drops?: boolean;
  /**
   * The EXEC deletes stream d and then adds to d again (the old directory moves aside until the
   * EXEC's end); `twice`: deletes and adds again a second time.
   */
  readonly recreates?: 'no' | 'once' | 'twice';
  /** The EXEC renames stream d to e and adds to e. */
  readonly renames?: boolean;
}

async function killInside(c: Case): Promise<{ before: string[][]; after: string[][] }> {
  const procs: SluiceProcess[] = [];
  try {
    const env = {
      NODE_OPTIONS: `--import ${PRELOAD}`,
      SLUICE_TEST_KILL_AT: String(c.at),
      SLUICE_TEST_KILL_TORN: String(c.torn),
    };
    const args = c.small ? ['--segment-bytes', String(SMALL_SEGMENT_BYTES)] : [];
    const first = await startSluice({ fsync: c.fsync, env, args });
    procs.push(first);
    const client = await RespClient.connect(first.respPort);
    if (!c.creates) {
      for (const key of ['s', 't']) await client.call('XADD', key, '1-1', 'n', '1');
      await client.call('RPUSH', 'l', '1');
    }
    if (c.drops || c.renames || (c.recreates ?? 'no') !== 'no')
      await client.call('XADD', 'd', '1-1', 'n', '1');
    const before = await valuesOf(client);
    void client.call('MULTI').catch(() => {});
    for (const id of execIds(c)) {
      void client.call('XADD', 's', id, 'n', c.big ? BIG : FILLER).catch(() => {});
    }
    if (c.reads) void client.call('XRANGE', 's', '-', '+').catch(() => {});
    if (c.drops) void client.call('DEL', 'd').catch(() => {});
    for (let i = 0; i < { no: 0, once: 1, twice: 2 }[c.recreates ?? 'no']; i++) {
      void client.call('DEL', 'd').catch(() => {});
      void client.call('XADD', 'd', `5-${i + 1}`, 'n', '5').catch(() => {});
    }
    if (c.renames) {
      void client.call('RENAME', 'd', 'e').catch(() => {});
      void client.call('XADD', 'e', '6-1', 'n', '6').catch(() => {});
    }
    void client.call('XADD', 't', '2-1', 'n', '2').catch(() => {});
    void client.call('RPUSH', 'l', '2').catch(() => {});
    const exec = await client.call('EXEC').catch((err: unknown) => err);
    expect(exec, 'the EXEC is never answered: the process dies inside it').toBeInstanceOf(Error);
    await first.kill(); // reaps the process that killed itself
    await client.close().catch(() => {});
    const second = await startSluice({ dataDir: first.dataDir, fsync: c.fsync, args });
    procs.push(second);
    const check = await RespClient.connect(second.respPort);
    const after = await valuesOf(check);
    await check.close();
    return { before, after };
  } finally {
    for (const p of procs.reverse()) await p.destroy();
  }
}

/** s's IDs in the EXEC: with small segments, more than a segment's worth (it would roll). */
function execIds(c: Case): string[] {
  const n = c.big ? 6 : c.small ? Math.ceil((2 * SMALL_SEGMENT_BYTES) / FILLER.length) : 1;
  return Array.from({ length: n }, (_, i) => `2-${i + 1}`);
}

const whole = (before: string[][], c: Case) => [
  [...(before[0] ?? []), ...execIds(c)],
  [...(before[1] ?? []), '2-1'],
  [...(before[2] ?? []), '2'],
  c.drops || c.renames
    ? []
    : { no: before[3] ?? [], once: ['5-1'], twice: ['5-2'] }[c.recreates ?? 'no'],
  c.renames ? [...(before[3] ?? []), '6-1'] : [],
];

describe('EXEC as one unit across kill -9 inside its writes', () => {
  const cases: Case[] = [
    { at: 0, torn: 0, fsync: 'always', creates: false },
    { at: 0, torn: 30, fsync: 'always', creates: false },
    { at: 1, torn: 0, fsync: 'always', creates: false },
    { at: 1, torn: 20, fsync: 'always', creates: false },
    { at: 2, torn: 0, fsync: 'always', creates: false },
    { at: 3, torn: 15, fsync: 'always', creates: false },
    { at: 2, torn: 0, fsync: 'everysec', creates: false },
    { at: 0, torn: 0, fsync: 'everysec', creates: true },
    { at: 1, torn: 0, fsync: 'always', creates: true },
    { at: 2, torn: 40, fsync: 'everysec', creates: true },
    { at: 1, torn: 0, fsync: 'always', creates: false, small: true },
    { at: 3, torn: 0, fsync: 'everysec', creates: false, small: true },
    // With a read of s inside: 0 the undo intent, 1 s's early write, 2 the EXEC's intent,
    // then t's and the journal's parts.
    { at: 1, torn: 0, fsync: 'always', creates: false, reads: true },
    { at: 2, torn: 0, fsync: 'always', creates: false, reads: true },
    { at: 2, torn: 25, fsync: 'everysec', creates: false, reads: true },
    { at: 3, torn: 0, fsync: 'always', creates: false, reads: true },
    { at: 4, torn: 10, fsync: 'everysec', creates: false, reads: true },
    // With DEL d inside: 0 the intent, 1-3 the parts, 4 the rename of d's directory.
    { at: 0, torn: 0, fsync: 'always', creates: false, drops: true },
    { at: 1, torn: 0, fsync: 'always', creates: false, drops: true },
    { at: 3, torn: 0, fsync: 'everysec', creates: false, drops: true },
    { at: 4, torn: 0, fsync: 'always', creates: false, drops: true },
    // With DEL d and XADD d again inside: d's old directory is moved aside first; 0 the intent
    // (a kill there puts it back at the restart), 1-4 the parts (s, d's new stream, t, the
    // journal), 5 the removal of the old directory.
    { at: 0, torn: 0, fsync: 'always', creates: false, recreates: 'once' },
    { at: 0, torn: 30, fsync: 'everysec', creates: false, recreates: 'once' },
    { at: 1, torn: 0, fsync: 'always', creates: false, recreates: 'once' },
    { at: 2, torn: 20, fsync: 'everysec', creates: false, recreates: 'once' },
    { at: 4, torn: 0, fsync: 'always', creates: false, recreates: 'once' },
    { at: 5, torn: 0, fsync: 'always', creates: false, recreates: 'once' },
    // Twice: the second DEL closes d's first new stream, which writes it early behind an undo
    // intent (0); 1-7 are its writes and the directory moves, 8 the EXEC's own intent.
    { at: 0, torn: 0, fsync: 'always', creates: false, recreates: 'twice' },
    { at: 3, torn: 0, fsync: 'everysec', creates: false, recreates: 'twice' },
    { at: 8, torn: 20, fsync: 'always', creates: false, recreates: 'twice' },
    { at: 9, torn: 0, fsync: 'always', creates: false, recreates: 'twice' },
    { at: 13, torn: 0, fsync: 'everysec', creates: false, recreates: 'twice' },
    { at: 0, torn: 0, fsync: 'everysec', creates: true, recreates: 'once' },
    // 6 MB in one EXEC: 0 the intent, 1 s's part, 2 t's, 3 the journal's.
    { at: 0, torn: 4096, fsync: 'always', creates: false, big: true },
    { at: 1, torn: 3_000_000, fsync: 'always', creates: false, big: true },
    { at: 2, torn: 0, fsync: 'everysec', creates: false, big: true },
    // With RENAME d e and XADD e inside: d's directory moves to e's at once (its new key in
    // meta.unit); 0 the intent (a kill there moves it back at the restart), 1-4 the parts (s,
    // e, t, the journal), 5 meta.unit becoming e's meta.
    { at: 0, torn: 0, fsync: 'always', creates: false, renames: true },
    { at: 0, torn: 25, fsync: 'everysec', creates: false, renames: true },
    { at: 2, torn: 0, fsync: 'always', creates: false, renames: true },
    { at: 4, torn: 10, fsync: 'everysec', creates: false, renames: true },
    { at: 5, torn: 0, fsync: 'always', creates: false, renames: true },
  ];
  const defaults = {
    small: false,
    big: false,
    reads: false,
    drops: false,
    recreates: 'no',
    renames: false,
  } as const;
  it.each(cases.map((c) => ({ ...defaults, ...c })))(
    'kill at $at ($torn bytes), $fsync, creates $creates, small $small, big $big, ' +
      'reads $reads, drops $drops, recreates $recreates, renames $renames',
    async (c) => {
      const { before, after } = await killInside(c);
      // Write 0 is the intent: a kill there (torn or not) leaves nothing of the EXEC; any
      // later one leaves an intent the restart finishes. With a read inside, the EXEC's own
      // intent is write 2: a kill up to it is undone (write 8 when d is created again twice).
      const none = c.at <= (c.reads ? 2 : c.recreates === 'twice' ? 8 : 0);
      expect(after).toEqual(none ? before : whole(before, c));
    },
  );
});

/**
 * FLUSHALL outside MULTI is a unit of its own (commands/generic.ts): 0 its intent, 1 the
 * journal's part (the list's deletion), 2-4 the renames of the three streams' directories.
 */
async function killInFlush(at: number, fsync: 'always' | 'everysec') {
  const env = { NODE_OPTIONS: `--import ${PRELOAD}`, SLUICE_TEST_KILL_AT: String(at) };
  const first = await startSluice({ fsync, env });
  let second: SluiceProcess | null = null;
  try {
    const client = await RespClient.connect(first.respPort);
    for (const key of ['s', 't', 'd']) await client.call('XADD', key, '1-1', 'n', '1');
    await client.call('RPUSH', 'l', '1', '2');
    const before = await valuesOf(client);
    const flushed = await client.call('FLUSHALL').catch((err: unknown) => err);
    expect(flushed, 'the FLUSHALL is never answered: the process dies inside it').toBeInstanceOf(
      Error,
    );
    await first.kill();
    await client.close().catch(() => {});
    second = await startSluice({ dataDir: first.dataDir, fsync });
    const check = await RespClient.connect(second.respPort);
    const after = await valuesOf(check);
    const size = await check.call('DBSIZE');
    await check.close();
    return { before, after, size };
  } finally {
    await second?.destroy();
    await first.destroy();
  }
}

describe('FLUSHALL as one unit across kill -9 inside its writes', () => {
  const cases = [
    { at: 0, fsync: 'always' },
    { at: 1, fsync: 'always' },
    { at: 2, fsync: 'everysec' },
    { at: 3, fsync: 'always' },
    { at: 4, fsync: 'everysec' },
  ] as const;
  it.each(cases)('kill at $at, $fsync: every key is there, or none', async ({ at, fsync }) => {
    const { before, after, size } = await killInFlush(at, fsync);
    expect(before).toEqual([['1-1'], ['1-1'], ['1', '2'], ['1-1'], []]);
    if (at === 0) {
      expect(after).toEqual(before);
    } else {
      expect(after).toEqual([[], [], [], [], []]);
      expect(size).toEqual({ t: 'int', v: 0 });
    }
  });
});
