// Blocking's hold and release (what EXEC uses): while held, a signal moves the key's version
// at once (a client registering with an older version wakes at once) but wakes nobody; the
// last release wakes the signalled keys in signal order, serving from what is there then.
import { describe, expect, it, vi } from 'vitest';
import { Blocking } from '../../src/broker/blocking';

describe('Blocking hold/release', () => {
  it('wakes the waiters of keys signalled while held only at the last release', async () => {
    const b = new Blocking();
    const woken: string[] = [];
    const onA = b.wait(['a'], b.versionsOf(['a']), 0).then((r) => woken.push(`a:${r}`));
    const onB = b.wait(['b'], b.versionsOf(['b']), 0).then((r) => woken.push(`b:${r}`));
    b.hold();
    b.hold();
    b.signal('b');
    b.signal('a');
    b.signal('b');
    expect(b.versionsOf(['a', 'b'])).toEqual([1, 2]);
    b.release();
    await Promise.resolve();
    expect(b.blockedCount).toBe(2);
    b.release();
    await Promise.all([onA, onB]);
    expect(woken).toEqual(['b:ready', 'a:ready']);
    expect(b.blockedCount).toBe(0);
  });

  it('serves at release from what is there then; a waiter left unserved stays', async () => {
    const b = new Blocking();
    const list: string[] = [];
    const got: string[] = [];
    const serve = () => {
      const v = list.shift();
      if (v === undefined) return false;
      got.push(v);
      return true;
    };
    const first = b.wait(['q'], b.versionsOf(['q']), 0, undefined, serve);
    const second = b.wait(['q'], b.versionsOf(['q']), 50, undefined, serve);
    b.hold();
    list.push('x', 'y');
    b.signal('q');
    list.shift();
    b.signal('q');
    expect(got).toEqual([]);
    b.release();
    expect(got).toEqual(['y']);
    expect(await first).toBe('served');
    expect(await second).toBe('timeout');
  });

  it('wakes at once a client that registers with a version older than a held signal', async () => {
    const b = new Blocking();
    const seen = b.versionsOf(['k']);
    b.hold();
    b.signal('k');
    expect(await b.wait(['k'], seen, 0)).toBe('ready');
    b.release();
  });
});

describe('Blocking whenRetried', () => {
  it('resolves once every client woken ready has retried', async () => {
    const b = new Blocking();
    expect(b.whenRetried()).toBeNull();
    const woken = [b.wait(['k'], [0], 0), b.wait(['k'], [0], 0)];
    b.signal('k');
    expect(await Promise.all(woken)).toEqual(['ready', 'ready']);
    let done = false;
    const all = b.whenRetried()?.then(() => (done = true));
    b.retried();
    await Promise.resolve();
    expect(done).toBe(false);
    b.retried();
    await all;
    expect(done).toBe(true);
    expect(b.whenRetried()).toBeNull();
  });

  it('never holds a connection back for long: a retry never reported is forgotten', async () => {
    vi.useFakeTimers();
    try {
      const b = new Blocking();
      const seen = b.versionsOf(['k']);
      b.signal('k');
      expect(await b.wait(['k'], seen, 0)).toBe('ready');
      const waiting = b.whenRetried();
      expect(waiting).not.toBeNull();
      await vi.advanceTimersByTimeAsync(1000);
      await waiting;
      expect(b.whenRetried()).toBeNull();
      b.retried(); // the late report does not make the count negative
      expect(b.whenRetried()).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
