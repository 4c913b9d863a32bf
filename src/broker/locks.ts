// Per-key FIFO locks. A command that reads and then writes (XREADGROUP, XCLAIM, XAUTOCLAIM)
// holds its keys' locks from its first read to its last change in memory, so two consumers of
// one group never take the same entries. Locks are never held while waiting for durability.
// When every key is free and `fn` answers synchronously, run() answers synchronously too: the
// common case (nobody else is inside these keys) costs no promise and no microtask.
export class KeyLocks {
  private readonly queues = new Map<string, Array<() => void>>();

  /** Runs `fn` holding every key's lock; keys are taken in sorted order (no deadlock). */
  run<T>(keys: readonly string[], fn: () => T | Promise<T>): T | Promise<T> {
    const sorted = keys.length < 2 ? keys : [...new Set(keys)].sort();
    if (!this.isFree(sorted)) return this.runQueued(sorted, fn);
    for (const k of sorted) this.queues.set(k, []);
    let out: T | Promise<T>;
    try {
      out = fn();
    } catch (err) {
      this.releaseAll(sorted);
      throw err;
    }
    if (!(out instanceof Promise)) {
      this.releaseAll(sorted);
      return out;
    }
    return out.then(
      (v) => {
        this.releaseAll(sorted);
        return v;
      },
      (err: unknown) => {
        this.releaseAll(sorted);
        throw err;
      },
    );
  }

  /** Whether no command holds or waits for any of `keys`: run() would run now. */
  isFree(keys: readonly string[]): boolean {
    for (const k of keys) if (this.queues.has(k)) return false;
    return true;
  }

  /** The keys held or waited for now: commands under way on them (FLUSHALL waits for them). */
  busyKeys(): IterableIterator<string> {
    return this.queues.keys();
  }

  private async runQueued<T>(sorted: readonly string[], fn: () => T | Promise<T>): Promise<T> {
    for (const k of sorted) await this.acquire(k);
    try {
      return await fn();
    } finally {
      this.releaseAll(sorted);
    }
  }

  private acquire(key: string): Promise<void> | void {
    const q = this.queues.get(key);
    if (!q) {
      this.queues.set(key, []);
      return;
    }
    return new Promise((resolve) => q.push(resolve));
  }

  private releaseAll(sorted: readonly string[]): void {
    for (const k of sorted) this.release(k);
  }

  private release(key: string): void {
    const q = this.queues.get(key);
    if (!q) return;
    const next = q.shift();
    if (next) next();
    else this.queues.delete(key);
  }
}
