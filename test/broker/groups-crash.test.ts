// Consumer-group state survives kill -9 of a real broker process under fsync `always`: the
// pending list, group and consumer info come back exactly as acknowledged before the crash,
// and XREADGROUP `>` continues right after the last delivered ID.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChildBroker } from '../helpers/child-broker';
import type { JsonReply } from '../fixtures/broker-child';

const children: ChildBroker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill().catch(() => {});
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function start(dir: string): Promise<ChildBroker> {
  const c = await ChildBroker.start(dir, 'always');
  children.push(c);
  return c;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Group state with idle times removed (they move with the clock). */
async function groupState(b: ChildBroker) {
  const pending = (await b.call('XPENDING', 's', 'g', '-', '+', '100000')) as JsonReply[][];
  const groups = (await b.call('XINFO', 'GROUPS', 's')) as JsonReply[][];
  const consumers = (await b.call('XINFO', 'CONSUMERS', 's', 'g')) as JsonReply[][];
  const dropKeys = (flat: JsonReply[], keys: string[]) =>
    flat.filter(
      (_, i) =>
        !(i % 2 === 1 && keys.includes(String(flat[i - 1]))) &&
        !(i % 2 === 0 && keys.includes(String(flat[i]))),
    );
  return {
    pending: pending.map(([id, consumer, , count]) => [id, consumer, count]),
    summary: await b.call('XPENDING', 's', 'g'),
    groups: groups.map((g) => dropKeys(g, [])),
    consumers: consumers.map((c) => dropKeys(c, ['idle', 'inactive', 'seen-time', 'active-time'])),
    length: await b.call('XLEN', 's'),
  };
}

/** Entry IDs of an XREADGROUP reply for one stream. */
function delivered(r: JsonReply): string[] {
  if (!Array.isArray(r)) return [];
  const entries = (r[0] as JsonReply[])[1] as JsonReply[][];
  return entries.map((e) => e[0] as string);
}

describe('consumer groups across kill -9', () => {
  it('pending list, group and consumer info are identical after each of 8 crashes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-gcrash-'));
    dirs.push(dir);
    const rand = rng(42);
    let b = await start(dir);
    expect(await b.call('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM')).toBe('OK');
    let lastDelivered = '0-0';
    for (let round = 0; round < 8; round++) {
      const adds = await Promise.all(
        Array.from({ length: 30 }, (_, i) => b.call('XADD', 's', '*', 'n', `${round}-${i}`)),
      );
      expect(adds.every((id) => typeof id === 'string')).toBe(true);
      for (let r = 0; r < 4; r++) {
        const ids = delivered(
          await b.call('XREADGROUP', 'GROUP', 'g', `c${r % 3}`, 'COUNT', '6', 'STREAMS', 's', '>'),
        );
        if (ids.length > 0) lastDelivered = ids[ids.length - 1]!;
        const acks = ids.filter(() => rand() < 0.5);
        if (acks.length > 0) await b.call('XACK', 's', 'g', ...acks);
      }
      const claimable = (await b.call('XPENDING', 's', 'g', '-', '+', '3')) as JsonReply[][];
      if (claimable.length > 0) {
        await b.call('XCLAIM', 's', 'g', 'c9', '0', ...claimable.map((p) => p[0] as string));
      }
      const before = await groupState(b);
      await b.kill();
      b = await start(dir);
      expect(await groupState(b)).toEqual(before);
      // `>` continues after the last delivered ID: nothing redelivered as new, nothing skipped.
      await b.call('XADD', 's', '*', 'n', `marker-${round}`);
      const next = delivered(
        await b.call('XREADGROUP', 'GROUP', 'g', 'c0', 'COUNT', '1000', 'STREAMS', 's', '>'),
      );
      expect(next.length).toBeGreaterThan(0);
      const cmp = (a: string, z: string) => {
        const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
        const [zm, zs] = z.split('-').map(BigInt) as [bigint, bigint];
        return am === zm ? (as === zs ? 0 : as < zs ? -1 : 1) : am < zm ? -1 : 1;
      };
      expect(cmp(next[0]!, lastDelivered)).toBe(1);
      lastDelivered = next[next.length - 1]!;
    }
  }, 120_000);

  it('acknowledged XADD, XREADGROUP and XACK survive kills in the middle of traffic', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-gcrash2-'));
    dirs.push(dir);
    const rand = rng(7);
    let b = await start(dir);
    await b.call('XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM');
    const added = new Set<string>();
    const acked = new Set<string>();
    const deliveredIds = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const inflight: Promise<unknown>[] = [];
      let stop = false;
      for (let w = 0; w < 5; w++) {
        inflight.push(
          (async () => {
            while (!stop) {
              const id = await b.call('XADD', 's', '*', 'w', String(w));
              if (typeof id === 'string') added.add(id);
              const ids = delivered(
                await b.call(
                  'XREADGROUP',
                  'GROUP',
                  'g',
                  `c${w}`,
                  'COUNT',
                  '3',
                  'STREAMS',
                  's',
                  '>',
                ),
              );
              for (const d of ids) deliveredIds.add(d);
              const toAck = ids.filter(() => rand() < 0.6);
              if (toAck.length > 0 && (await b.call('XACK', 's', 'g', ...toAck)) === toAck.length) {
                for (const a of toAck) acked.add(a);
              }
            }
          })(),
        );
      }
      await new Promise((r) => setTimeout(r, 100 + Math.floor(rand() * 300)));
      stop = true;
      await b.kill();
      b = await start(dir);
      const all = (await b.call('XRANGE', 's', '-', '+')) as JsonReply[][];
      const present = new Set(all.map((e) => e[0] as string));
      for (const id of added) expect(present.has(id)).toBe(true);
      const pending = (await b.call('XPENDING', 's', 'g', '-', '+', '1000000')) as JsonReply[][];
      const pendingIds = new Set(pending.map((p) => p[0] as string));
      for (const id of acked) expect(pendingIds.has(id)).toBe(false);
      // The PEL only names entries that exist (nothing is deleted in this test).
      for (const id of pendingIds) expect(present.has(id)).toBe(true);
      // Everything delivered before the crash is behind the group's last delivered ID.
      const fresh = delivered(
        await b.call('XREADGROUP', 'GROUP', 'g', 'cx', 'COUNT', '1000000', 'STREAMS', 's', '>'),
      );
      for (const id of fresh) expect(deliveredIds.has(id)).toBe(false);
      for (const id of fresh) deliveredIds.add(id);
    }
  }, 120_000);
});
