import { describe, expect, it } from 'vitest';
import { wallMicros } from '../src/clock';

describe('wallMicros', () => {
  it('stays inside the wall clock millisecond it is read in', () => {
    let last = 0n;
    for (let i = 0; i < 20_000; i++) {
      const before = Date.now();
      const us = wallMicros();
      const after = Date.now();
      expect(Number(us) / 1000).toBeGreaterThanOrEqual(before);
      expect(Number(us) / 1000).toBeLessThan(after + 1);
      if (i > 0 && us < last) expect(Number(last - us)).toBeLessThan(1000);
      last = us;
    }
  });
});
