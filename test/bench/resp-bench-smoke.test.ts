// The RESP benchmark at its small size, so it cannot rot (STYLE.md rule 14): redis-benchmark
// drives a Sluice child process and a real redis-server through every case, the servers' state
// afterwards matches what was acknowledged, and the numbers are sane; no timing is asserted.
import { describe, expect, it } from 'vitest';
import { runRespBench } from '../../bench/resp';

const COMMANDS = ['PING', 'XADD', 'LPUSH', 'RPOP', 'PUBLISH'];
const MODES = ['unpipelined', '-P 16'];
const POLICIES = ['everysec', 'always'];

describe('resp benchmark', () => {
  it('runs every command, mode and policy against Sluice and redis-server', async () => {
    const results = await runRespBench('small');
    for (const policy of POLICIES) {
      for (const cmd of COMMANDS) {
        for (const mode of MODES) {
          const name = `${cmd} ${mode}, 50 clients, ${policy}`;
          expect(
            results.some((r) => r.name === name),
            name,
          ).toBe(true);
        }
      }
    }
    for (const r of results) {
      expect(r.ops, r.name).toBeGreaterThan(0);
      expect(r.notes['check'], r.name).toBe('ok');
      for (const v of [r.opsPerSec, r.entriesPerSec, r.p50Ms, r.p99Ms]) {
        if (v !== null) expect(Number.isFinite(v) && v >= 0, r.name).toBe(true);
      }
      if (r.target) expect(Number.isFinite(r.target.actual), `${r.name} target`).toBe(true);
    }
    const memory = results.find((r) => r.name.startsWith('memory of a'));
    expect(memory?.notes['sluiceRssMB']).toBeGreaterThan(0);
    expect(memory?.notes['sluiceRssAfterRestartMB']).toBeGreaterThan(0);
    expect(memory?.notes['redisUsedMemoryMB']).toBeGreaterThan(0);
  }, 120_000);
});
