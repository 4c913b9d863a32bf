// Clients blocked on keys (XREAD/XREADGROUP BLOCK, later BLPOP and friends). A waiter costs a
// timer and a set entry, no CPU. Writers signal a key; waiters on it wake in the order they
// blocked. Each key has a version bumped by every signal: a waiter registers with the versions
// it saw before reading, and wakes at once if a key changed in between, so no wake-up is lost.

/** The longest a connection's next command waits for woken clients to retry (whenRetried). */
const RETRY_WAIT_MAX_MS = 100;

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 0x7fffffff;

export type WakeReason = 'ready' | 'served' | 'timeout' | 'aborted';

/**
 * A waiter's synchronous attempt to take data from `key` the moment it is signalled (list
 * pops): true when it served itself. Waiters that cannot be served keep their place, so a
 * push of N values serves the N oldest waiters and nobody else sees the values first.
 */
export type Serve = (key: string) => boolean;

interface Waiter {
  readonly keys: readonly string[];
  readonly serve: Serve | undefined;
  /** Told synchronously of the key signalled, before the waiter is woken. */
  readonly onReady: ((key: string) => void) | undefined;
  readonly resolve: (r: WakeReason) => void;
  timer: NodeJS.Timeout | null;
  /** Removes the abort listener once the wait is over (a session may block many times). */
  unlisten: (() => void) | null;
  /** Being served now: a signal its own move causes (BLMOVE k k) must not serve it again. */
  serving: boolean;
  done: boolean;
}

export class Blocking {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private readonly versions = new Map<string, number>();
  private waiting = 0;
  /** hold() depth; while above 0, signals are kept in `heldKeys` (first-signalled first). */
  private holds = 0;
  private heldKeys: Set<string> | null = null;
  /** Waits answered 'ready' whose caller has not yet said retried() (see whenRetried). */
  private retries = 0;
  private retriedWaiters: Array<() => void> = [];

  /** Number of clients blocked now (INFO blocked_clients, metrics). */
  get blockedCount(): number {
    return this.waiting;
  }

  /** Every key some client waits on now (SWAPDB wakes those of the swapped databases). */
  waitedKeys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** Whether some client waits on `key` now. */
  isWaited(key: string): boolean {
    return (this.byKey.get(key)?.size ?? 0) > 0;
  }

  versionsOf(keys: readonly string[]): number[] {
    return keys.map((k) => this.versions.get(k) ?? 0);
  }

  /**
   * Wakes the waiters on `key`, oldest first; those with `serve` are served synchronously.
   * While held, the key's version moves at once but its waiters wake at release().
   */
  signal(key: string): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    if (this.holds > 0) (this.heldKeys ??= new Set()).add(key);
    else this.wake(key);
  }

  /**
   * Holds wake-ups back until release() (MULTI/EXEC): as in Redis, clients blocked on keys a
   * transaction writes are served once it is done, from what it left, so a push and a pop in
   * one EXEC never feed a blocked client in the middle, and the EXEC's own reads see its
   * writes. Holds nest.
   */
  hold(): void {
    this.holds++;
  }

  /** Ends a hold; the last one wakes the keys signalled meanwhile, in signal order. */
  release(): void {
    if (--this.holds > 0) return;
    const keys = this.heldKeys;
    this.heldKeys = null;
    if (keys) for (const k of keys) this.wake(k);
  }

  private wake(key: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const w of [...set]) {
      // A waiter served by a nested signal (a move onto this key) is gone already.
      if (w.done || w.serving) continue;
      if (!w.serve) {
        w.onReady?.(key);
        if (this.finish(w, 'ready')) this.retries++;
        continue;
      }
      w.serving = true;
      try {
        if (w.serve(key)) this.finish(w, 'served');
      } finally {
        w.serving = false;
      }
    }
  }

  /**
   * Waits until a key is signalled, `timeoutMs` passes (0 = forever) or `signal` aborts.
   * `seen` are the versions read before the caller looked at the keys.
   */
  wait(
    keys: readonly string[],
    seen: readonly number[],
    timeoutMs: number,
    abort?: AbortSignal,
    serve?: Serve,
    onReady?: (key: string) => void,
  ): Promise<WakeReason> {
    if (abort?.aborted) return Promise.resolve('aborted');
    const now = this.versionsOf(keys);
    if (now.some((v, i) => v !== seen[i])) {
      this.retries++;
      return Promise.resolve('ready');
    }
    return new Promise((resolve) => {
      const w: Waiter = {
        keys,
        serve,
        onReady,
        resolve,
        timer: null,
        unlisten: null,
        serving: false,
        done: false,
      };
      this.waiting++;
      for (const k of keys) {
        let set = this.byKey.get(k);
        if (!set) this.byKey.set(k, (set = new Set()));
        set.add(w);
      }
      if (timeoutMs > 0) this.arm(w, timeoutMs);
      if (abort) {
        const onAbort = () => this.finish(w, 'aborted');
        abort.addEventListener('abort', onAbort, { once: true });
        w.unlisten = () => abort.removeEventListener('abort', onAbort);
      }
    });
  }

  /** Node fires a longer setTimeout after 1 ms (TimeoutOverflowWarning): re-arm in steps. */
  private arm(w: Waiter, timeoutMs: number): void {
    const step = Math.min(timeoutMs, MAX_TIMER_MS);
    const later = () =>
      timeoutMs > step ? this.arm(w, timeoutMs - step) : this.finish(w, 'timeout');
    w.timer = setTimeout(later, step);
  }

  /**
   * A wait answered 'ready' was retried (its caller looked at the keys again, whatever it
   * found): every 'ready' from wait() is followed by one call of this.
   */
  retried(): void {
    this.retries = Math.max(0, this.retries - 1);
    if (this.retries === 0) this.wakeRetriedWaiters();
  }

  private wakeRetriedWaiters(): void {
    const waiting = this.retriedWaiters;
    this.retriedWaiters = [];
    for (const wake of waiting) wake();
  }

  /**
   * Resolves once every client woken 'ready' has retried; null when none is pending. A
   * connection's next command waits for it, so that (as in Redis) a client blocked in
   * XREADGROUP is served by an XADD before the command after the XADD runs.
   */
  whenRetried(): Promise<void> | null {
    if (this.retries === 0) return null;
    return new Promise((resolve) => {
      // Never a stall: a retry that takes longer (a slow disk) lets the others go on, and a
      // count that went wrong is forgotten rather than holding every connection back.
      const timer = setTimeout(() => {
        this.retries = 0;
        this.wakeRetriedWaiters();
      }, RETRY_WAIT_MAX_MS);
      this.retriedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Ends `w`'s wait with `reason`; false when it had ended already. */
  private finish(w: Waiter, reason: WakeReason): boolean {
    let found = false;
    for (const k of w.keys) {
      const set = this.byKey.get(k);
      if (set?.delete(w)) found = true;
      if (set && set.size === 0) this.byKey.delete(k);
    }
    if (!found) return false;
    w.done = true;
    this.waiting--;
    if (w.timer) clearTimeout(w.timer);
    w.unlisten?.();
    w.resolve(reason);
    return true;
  }

  /** Ends every wait with 'aborted' (shutdown). */
  abortAll(): void {
    for (const set of [...this.byKey.values()]) for (const w of [...set]) this.finish(w, 'aborted');
  }
}
