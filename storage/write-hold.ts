// Holding back the writers of several logs so that what one unit of work (a MULTI/EXEC) wrote
// to each of them reaches the files together. While held, a stream log or the journal that
// would schedule its write defers it; release() schedules every deferred write in the same
// turn, so they run one after another with no other work between them. A waiter on a held log
// (a read inside the unit that must see its own writes, say) has that log write what it holds
// at once, so nothing ever waits on the hold.
//
// What this buys: a kill -9 can no longer land between the unit's writes while the unit waits
// on something else (a stream being created, a disk read), which left one stream written and
// another not. What it does not: the writes are still separate system calls to separate files,
// so a kill in the microseconds between them, or a power cut before all are fdatasync'd, can
// still keep some and not others. Making a unit one record in one file is the real fix.

export class WriteHold {
  private depth = 0;
  private readonly deferred = new Map<object, () => void>();
  /** Logs released early (someone waits on them), until they have written what was queued. */
  private readonly bypassed = new Set<object>();

  get held(): boolean {
    return this.depth > 0;
  }

  hold(): void {
    this.depth++;
  }

  /** Ends one hold; the last one schedules every deferred write. */
  release(): void {
    if (this.depth === 0) return;
    this.depth--;
    if (this.depth > 0) return;
    this.bypassed.clear();
    const writes = [...this.deferred.values()];
    this.deferred.clear();
    for (const write of writes) write();
  }

  /** Whether `owner`'s writes wait now. */
  holds(owner: object): boolean {
    return this.depth > 0 && !this.bypassed.has(owner);
  }

  /**
   * Schedules `owner`'s writer: `later()` now, or while `owner` is held, at the release, when
   * `writeNow()` (a synchronous write of what was kept back) cannot do it.
   */
  schedule(owner: object, writeNow: () => boolean, later: () => void): void {
    if (!this.holds(owner)) return later();
    if (this.deferred.has(owner)) return;
    this.deferred.set(owner, () => {
      if (!writeNow()) later();
    });
  }

  /** `owner` wrote everything queued when it was released early: it is held again. */
  rehold(owner: object): void {
    this.bypassed.delete(owner);
  }

  /** Someone waits on `owner`'s writes: what is queued goes now (then rehold()). */
  releaseOne(owner: object): void {
    if (this.depth === 0) return;
    this.bypassed.add(owner);
    const schedule = this.deferred.get(owner);
    if (!schedule) return;
    this.deferred.delete(owner);
    schedule();
  }
}
