// The HTTP benchmark at its small size, so it cannot rot (STYLE.md rule 14): every case runs
// against a real server and reports sane numbers; no timing is asserted.
import { describe, expect, it } from 'vitest';
import { runHttpBench } from '../../bench/http';

describe('http benchmark', () => {
  it('runs every case at the small size and reports sane numbers', async () => {
    const results = await runHttpBench('small');
    const prefixes = [
      'bare fastify route, same JSON body',
      'bare fastify route, 100 entries/request',
      'XADD 1 entry/request, 50 connections, everysec',
      'XADD 1 entry/request, 50 connections, always',
      'XADD 100 entries/request',
      'XREADGROUP COUNT 100 + XACK',
      'PUBLISH to 10 SSE subscribers, flat out',
      'PUBLISH to 10 SSE subscribers, at',
    ];
    for (const prefix of prefixes) {
      expect(
        results.some((r) => r.name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const r of results) {
      expect(r.ops, r.name).toBeGreaterThan(0);
      expect(r.notes['failed'], r.name).toBeUndefined();
      for (const v of [r.opsPerSec, r.entriesPerSec, r.p50Ms, r.p99Ms]) {
        if (v !== null) expect(Number.isFinite(v) && v >= 0, r.name).toBe(true);
      }
      if (r.target) expect(Number.isFinite(r.target.actual), `${r.name} target`).toBe(true);
    }
    const batch = results.find((r) => r.name.startsWith('XADD 100'));
    expect(batch?.entries).toBe((batch?.ops ?? 0) * 100);
    expect(Number(batch?.notes['percentOfBare'])).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.name.startsWith('PUBLISH'))) {
      expect(r.notes['lost'], r.name).toBe(0);
    }
    const group = results.find((r) => r.name.startsWith('XREADGROUP'));
    expect(Number(group?.notes['consumedPerSec'])).toBeGreaterThan(0);
  }, 120_000);
});
