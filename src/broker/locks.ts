// Per-key FIFO locks. A command that reads and then writes (XREADGROUP, XCLAIM, XAUTOCLAIM)
// holds its keys' locks from its first read to its last change in memory, so two consumers of
// one group never take the same entries. Locks are never held while waiting for durability.
export class KeyLocks {
  private readonly queues = new Map<string, Array<() => void>>();

  /** Runs `fn` holding every key's lock; keys are taken in sorted order (no deadlock). */
  async run<T>(keys: readonly string[], fn: () => T | Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    for (const k of sorted) await this.acquire(k);
    try {
      return await fn();
    } finally {
      for (const k of sorted) this.release(k);
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

  private release(key: string): void {
    const q = this.queues.get(key);
    if (!q) return;
    const next = q.shift();
    if (next) next();
    else this.queues.delete(key);
  }
}
