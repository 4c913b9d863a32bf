// The benchmarks at their small size, so they cannot rot (STYLE.md rule 14). Nothing here
// asserts a timing: only that every case ran and produced sane numbers.
import { describe, expect, it } from 'vitest';
import { runStorageBench } from '../../bench/storage';
import type { Result } from '../../bench/harness';

const RATE_FIELDS = ['opsPerSec', 'entriesPerSec', 'mbPerSec', 'p50Ms', 'p99Ms'] as const;

function expectSane(r: Result): void {
  expect(r.ops, r.name).toBeGreaterThan(0);
  expect(Number.isFinite(r.seconds) && r.seconds >= 0, r.name).toBe(true);
  for (const field of RATE_FIELDS) {
    const v = r[field];
    if (v !== null) expect(Number.isFinite(v) && v >= 0, `${r.name} ${field}`).toBe(true);
  }
  if (r.p50Ms !== null && r.p99Ms !== null) expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  if (r.target) expect(Number.isFinite(r.target.actual), `${r.name} target`).toBe(true);
}

describe('storage benchmark', () => {
  it('runs every case at the small size and reports sane numbers', async () => {
    const results = await runStorageBench('small');
    const names = results.map((r) => r.name);
    for (const prefix of ['append fsync=no', 'append fsync=everysec', 'append fsync=always']) {
      expect(
        names.some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const prefix of ['build ', 'read ', 'restart clean', 'restart after kill -9', 'rss ']) {
      expect(
        names.some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const r of results) expectSane(r);
    const appends = results.filter((r) => r.name.startsWith('append'));
    for (const r of appends) expect(r.entriesPerSec, r.name).toBeGreaterThan(0);
    const reads = results.find((r) => r.name.startsWith('read '));
    expect(reads?.notes['entriesPerRead']).toBeGreaterThan(0);
    const rss = results.filter((r) => r.name.startsWith('rss '));
    for (const r of rss) expect(r.notes['rssMB']).toBeGreaterThan(0);
  }, 120_000);
});

describe('streams benchmark', () => {
  it('runs every case at the small size and reports sane numbers', async () => {
    const { runStreamsBench } = await import('../../bench/streams');
    const results = await runStreamsBench('small');
    for (const prefix of ['XADD', 'XRANGE', 'XREADGROUP', 'PEL of']) {
      expect(
        results.some((r) => r.name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const r of results) expectSane(r);
    const pel = results.find((r) => r.name.startsWith('PEL of'));
    expect(pel?.notes['pending']).toBe(20_000);
  }, 120_000);
});

describe('queues benchmark', () => {
  it('runs every case at the small size and reports sane numbers', async () => {
    const { runQueuesBench } = await import('../../bench/queues');
    const results = await runQueuesBench('small');
    for (const prefix of ['LPUSH + BRPOP', 'restart of the same', 'memory of']) {
      expect(
        results.some((r) => r.name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const r of results) expectSane(r);
    const restart = results.find((r) => r.name.includes('then restart'));
    expect(restart?.notes['journalBytesPerOp']).toBeGreaterThan(0);
  }, 120_000);
});
