// Command statistics, as INFO commandstats, errorstats and stats report them and CONFIG
// RESETSTAT clears them: per command calls, time, rejected and failed calls; per error code
// counts; commands processed and the ops rate. The dispatcher records every answer here.

/** One command's counters (Redis's redisCommand calls/microseconds/rejected/failed). */
export interface CommandCounters {
  calls: number;
  usec: number;
  /** Refused before running: the arity check failed. */
  rejectedCalls: number;
  /** Ran and answered an error. */
  failedCalls: number;
}

/**
 * Distinct error codes tracked, as Redis's ERROR_STATS_NUMBER: codes are the first word of
 * catalog texts, so the set is small; the bound only guards against a runaway of new codes.
 * Past it a new code is counted in total_error_replies only.
 */
export const ERROR_CODES_MAX = 128;

export class CommandStats {
  private readonly commands = new Map<string, CommandCounters>();
  private readonly errors = new Map<string, number>();
  private commandsCount = 0;
  private errorRepliesCount = 0;
  /** The ops rate: commands answered in the current whole second and in the one before. */
  private second = -1;
  private inSecondCount = 0;
  private lastSecondCount = 0;

  /** A command that ran: its time, and the error code of its reply (null: not an error). */
  record(name: string, usec: number, errorCode: string | null, nowMs: number): void {
    const c = this.countersOf(name);
    c.calls++;
    c.usec += usec;
    this.commandsCount++;
    this.tick(nowMs);
    if (errorCode !== null) {
      c.failedCalls++;
      this.error(errorCode);
    }
  }

  /** A call refused before running (arity, unknown command): `name` null when unknown. */
  reject(name: string | null, errorCode: string): void {
    if (name !== null) this.countersOf(name).rejectedCalls++;
    this.error(errorCode);
  }

  reset(): void {
    this.commands.clear();
    this.last = null;
    this.errors.clear();
    this.commandsCount = 0;
    this.errorRepliesCount = 0;
    this.second = -1;
    this.inSecondCount = 0;
    this.lastSecondCount = 0;
  }

  /** Commands that ran (total_commands_processed). */
  get totalCommands(): number {
    return this.commandsCount;
  }

  /** Error replies, rejected calls included (total_error_replies). */
  get totalErrorReplies(): number {
    return this.errorRepliesCount;
  }

  /** Commands answered in the last whole second (instantaneous_ops_per_sec). */
  opsPerSecond(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return this.lastSecondCount;
    return second === this.second + 1 ? this.inSecondCount : 0;
  }

  /** Counters by command name, in the order commands were first seen. */
  commandEntries(): IterableIterator<[string, Readonly<CommandCounters>]> {
    return this.commands.entries();
  }

  /** Counts by error code, sorted by code (Redis keeps them in a radix tree). */
  errorEntries(): [string, number][] {
    return [...this.errors.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The last command's counters: a pipeline's commands are mostly the same one. */
  private last: { name: string; counters: CommandCounters } | null = null;

  private countersOf(name: string): CommandCounters {
    if (this.last !== null && this.last.name === name) return this.last.counters;
    let c = this.commands.get(name);
    if (!c) {
      c = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
      this.commands.set(name, c);
    }
    this.last = { name, counters: c };
    return c;
  }

  private error(code: string): void {
    this.errorRepliesCount++;
    const n = this.errors.get(code);
    if (n !== undefined) this.errors.set(code, n + 1);
    else if (this.errors.size < ERROR_CODES_MAX) this.errors.set(code, 1);
  }

  private tick(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.lastSecondCount = second === this.second + 1 ? this.inSecondCount : 0;
      this.second = second;
      this.inSecondCount = 0;
    }
    this.inSecondCount++;
  }
}
