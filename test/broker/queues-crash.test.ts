// The reliable queue survives kill -9 under fsync `always`: producers RPUSH numbered messages,
// consumers BLMOVE them into a processing list and LREM them when done. After each of 20+ kills,
// every acknowledged push is in exactly one of the two lists (or was removed by a consumer),
// nothing is duplicated and nothing is invented.
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

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

interface Ledger {
  issued: Set<string>;
  pushed: Set<string>;
  returned: Set<string>;
  removeIssued: Set<string>;
  removed: Set<string>;
}

/** Runs producers and consumers until `stop` turns true. */
function traffic(b: ChildBroker, round: number, ledger: Ledger, rand: () => number) {
  let stop = false;
  const loops: Promise<void>[] = [];
  for (let p = 0; p < 3; p++) {
    loops.push(
      (async () => {
        for (let n = 0; !stop; n++) {
          const m = `m-${round}-${p}-${n}`;
          ledger.issued.add(m);
          if (typeof (await b.callIn(1 + p, 'RPUSH', 'queue', m)) === 'number')
            ledger.pushed.add(m);
        }
      })(),
    );
  }
  for (let c = 0; c < 3; c++) {
    loops.push(
      (async () => {
        while (!stop) {
          const m = await b.callIn(
            10 + c,
            'BLMOVE',
            'queue',
            'processing',
            'LEFT',
            'RIGHT',
            '0.05',
          );
          if (typeof m !== 'string') continue;
          ledger.returned.add(m);
          if (rand() < 0.7) {
            ledger.removeIssued.add(m);
            if ((await b.callIn(10 + c, 'LREM', 'processing', '1', m)) === 1) ledger.removed.add(m);
          }
        }
      })(),
    );
  }
  return () => {
    stop = true;
    void Promise.allSettled(loops);
  };
}

function check(ledger: Ledger, queue: JsonReply, processing: JsonReply): void {
  const q = (queue as string[]) ?? [];
  const p = (processing as string[]) ?? [];
  const count = new Map<string, number>();
  for (const m of [...q, ...p]) count.set(m, (count.get(m) ?? 0) + 1);
  for (const [m, c] of count) {
    expect(c, `${m} is duplicated`).toBe(1);
    expect(ledger.issued.has(m), `${m} was never pushed`).toBe(true);
  }
  const inQueue = new Set(q);
  for (const m of ledger.pushed) {
    const c = count.get(m) ?? 0;
    if (ledger.removed.has(m)) expect(c, `${m} was removed`).toBe(0);
    else if (!ledger.removeIssued.has(m)) expect(c, `${m} was acknowledged but lost`).toBe(1);
    // A message handed to a consumer by an acknowledged BLMOVE is no longer in the queue.
    if (ledger.returned.has(m)) expect(inQueue.has(m), `${m} went back to the queue`).toBe(false);
  }
}

describe('reliable queue across kill -9', () => {
  it('every acknowledged push is in exactly one list after each of 20 crashes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-qcrash-'));
    dirs.push(dir);
    const rand = rng(1234);
    const ledger: Ledger = {
      issued: new Set(),
      pushed: new Set(),
      returned: new Set(),
      removeIssued: new Set(),
      removed: new Set(),
    };
    let b = await ChildBroker.start(dir, 'always');
    children.push(b);
    for (let round = 0; round < 20; round++) {
      const stop = traffic(b, round, ledger, rand);
      await new Promise((r) => setTimeout(r, 80 + Math.floor(rand() * 250)));
      await b.kill();
      stop();
      b = await ChildBroker.start(dir, 'always');
      children.push(b);
      check(
        ledger,
        await b.call('LRANGE', 'queue', '0', '-1'),
        await b.call('LRANGE', 'processing', '0', '-1'),
      );
    }
    expect(ledger.pushed.size).toBeGreaterThan(100);
    expect(ledger.returned.size).toBeGreaterThan(20);
  }, 180_000);
});
