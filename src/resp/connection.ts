// One RESP client connection: parses requests as they arrive (resumable, bounded), runs them
// one after another through the command table, and writes the replies in order. A reply is
// held until it is as durable as the fsync policy promises, without holding back the commands
// after it: a pipeline of N writes shares one group commit. The connection-level commands
// (HELLO, AUTH, SELECT, CLIENT, QUIT, RESET, MULTI/EXEC, WATCH, the SUBSCRIBE family) and the
// rules of subscriber mode live here; everything else goes to the dispatcher.
import type net from 'node:net';
import type { Session } from '../commands';
import type { Staged } from '../commands/dispatch';
import type { Reply } from '../commands/reply';
import { errorReply, Latin1Bulk } from '../commands/reply';
import type { PubSubMessage } from '../broker/pubsub';
import { Encoder } from './encoder';
import { RequestParser } from './parser';
import type { MultiState, ReplyMode, RespConnection, RespHost } from './types';
import { connectionCommand, dispatchesWrites, pushReply } from './commands';
import {
  RESP_MAX_QUEUED_COMMANDS,
  RESP_OUTPUT_PAUSE_BYTES,
  SUBSCRIBER_OUTPUT_HARD_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_SECONDS,
} from '../limits';
import { commandName } from '../commands/table';
import { atTurnEnd } from '../../storage/turn-end';

/** Commands that can authenticate a connection or take its authentication away. */
const AUTH_CHANGING = new Set(['auth', 'hello', 'reset']);
const lower = (b: Buffer | undefined) => (b ? commandName(b) : '');

/** One reply slot in order; `ready` once its durability wait is over. */
interface OutEntry {
  replies: Reply[];
  ready: boolean;
  /** About how many bytes its replies will encode to, counted in heldReplyBytes till then. */
  heldBytes?: number;
}

/**
 * Node's Readable schedules maybeReadMore (a nextTick, then read(0)) after every chunk. For a
 * socket in flowing mode, whose handle reads on by itself, it finds nothing to do, yet it was
 * 5% of an unpipelined XADD's time (perf); marked as already scheduled, it never runs.
 * Reading still stops and starts as it should: a paused socket's handle stops when its buffer
 * fills, and resume() calls read() itself, which starts it again (backpressure.test.ts). Where
 * the flag does not exist, nothing changes.
 */
function skipReadMore(socket: net.Socket): void {
  const state = (socket as unknown as { _readableState?: { readingMore?: boolean } })
    ._readableState;
  if (state && 'readingMore' in state) state.readingMore = true;
}

/** About how many bytes `r` encodes to: for output limits, without encoding it. */
function replyBytes(r: Reply): number {
  switch (r.t) {
    case 'bulk':
      // A Latin1Bulk's length without making its Buffer (the encoder never needs one).
      return (r instanceof Latin1Bulk ? r.text.length : r.v.length) + 16;
    case 'simple':
    case 'error':
      return r.v.length + 3;
    case 'array':
    case 'set':
    case 'push': {
      let n = 16;
      for (const x of r.v) n += replyBytes(x);
      return n;
    }
    case 'map': {
      let n = 16;
      for (const [k, v] of r.v) n += replyBytes(k) + replyBytes(v);
      return n;
    }
    default:
      return 24;
  }
}

/** A reply waiting for its command's writes to be durable. */
interface Waiting extends OutEntry {
  readonly staged: Staged;
  /** False under CLIENT REPLY OFF / SKIP: the slot is kept, with nothing sent. */
  readonly send: boolean;
}

export class Connection implements RespConnection {
  readonly session: Session;
  readonly createdMs = Date.now();
  lastCommandMs = Date.now();
  /** The last command's name as sent; CLIENT LIST shows it in lower case. */
  private lastCommandName: Buffer | null = null;
  authenticated: boolean;
  readOnly = false;
  replyMode: ReplyMode = 'on';
  multi: MultiState | null = null;
  /** WATCHed keys (keyId) with the modification count seen at WATCH time. */
  readonly watched = new Map<string, number>();
  /** Set by CLIENT UNBLOCK ... ERROR: the blocked command answers UNBLOCKED instead. */
  unblockWithError = false;
  blockedNow = false;
  closed = false;

  private readonly parser: RequestParser;
  private readonly encoder = new Encoder();
  private readonly queue: Buffer[][] = [];
  private readonly out: OutEntry[] = [];
  private running = false;
  /** Queued calls a batch was declined for: they run one by one, not asked again each. */
  private unbatched = 0;
  private flushScheduled = false;
  private commandAbort = new AbortController();
  /** commandAbort was aborted (CLIENT UNBLOCK, close): a flag, as the signal's getter costs. */
  private commandAborted = false;
  private closeAfterFlush = false;
  /** The pump stopped with commands queued until the socket drains (outputBlocked). */
  private awaitingDrain = false;
  /** Replies staged and not yet encoded (waiting for durability, or behind one that is). */
  private heldReplyBytes = 0;
  /** A protocol error met while parsing: sent once the commands before it are answered. */
  private protocolError: Reply | null = null;
  /** Parsing waits for the queued AUTH/HELLO/RESET to run (see parseCommands). */
  private parseHeld = false;
  private softOverSinceMs = 0;
  /** Replies staged since the last turn of the event loop that wait for durability. */
  private durableRun: Waiting[] | null = null;
  /** While runOne's command runs; its own notifications that follow its reply wait in `held`. */
  private ownCommandRunning = false;
  private held: PubSubMessage[] | null = null;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly server: RespHost,
  ) {
    this.authenticated = !server.requiresAuth;
    this.parser = new RequestParser({ authenticated: this.authenticated });
    // The HTTP long-poll cap is not for RESP clients: BLPOP k 0 waits as long as Redis would.
    const session: Session = { id, db: 0, name: null, resp: 2, maxBlockMs: Infinity };
    // Each command gets the signal of the moment: CLIENT UNBLOCK aborts just that command.
    Object.defineProperty(session, 'abort', { get: () => this.commandAbort.signal });
    this.session = session;
    socket.setNoDelay(true);
    skipReadMore(socket);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('close', () => this.onClose());
    socket.on('error', () => socket.destroy());
  }

  get lastCommand(): string {
    return this.lastCommandName ? this.lastCommandName.toString('latin1').toLowerCase() : 'NULL';
  }

  get dispatcher() {
    return this.server.dispatcher;
  }

  get subscribed(): boolean {
    return this.server.broker.pubsub.countOf(this, 'classic') + this.shardCount() > 0;
  }

  private shardCount(): number {
    return this.server.broker.pubsub.countOf(this, 'shard');
  }

  setAuthenticated(on: boolean): void {
    this.authenticated = on;
    this.parser.authenticated = on;
  }

  // ---- input ------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closeAfterFlush || this.closed || this.protocolError !== null) return;
    // CLIENT LIST's idle: as Redis's lastinteraction, the last read (not per command: a
    // clock read per pipelined command cost 3% of PING -P 16).
    this.lastCommandMs = Date.now();
    this.parser.feed(chunk);
    if (!this.parseHeld) this.parseCommands();
    if (this.queue.length > RESP_MAX_QUEUED_COMMANDS) this.socket.pause();
    this.pump();
  }

  /** Parses the bytes fed so far into `queue`, up to a protocol error or a held parse. */
  private parseCommands(): void {
    while (this.protocolError === null) {
      const next = this.parser.next();
      if (next === null) return;
      if (!Array.isArray(next)) {
        // A protocol error: as Redis does, the commands parsed before it still run and are
        // answered, then the error is sent and the connection closed (see pump()).
        this.protocolError = errorReply(next.message);
        return;
      }
      this.queue.push(next);
      // AUTH, HELLO and RESET can change the parser's limits (tighter before AUTH): as Redis,
      // parse what follows one only after it ran.
      if (this.server.requiresAuth && AUTH_CHANGING.has(lower(next[0]))) {
        this.parseHeld = true;
        return;
      }
    }
  }

  /**
   * Runs queued commands one at a time; replies go to `out` in order. Commands that answer
   * synchronously (most do) run in one loop; one that must wait (a lock, a disk read, a
   * blocking pop) suspends the loop, which goes on once it has been staged.
   */
  private pump(): void {
    if (this.running) return;
    this.running = true;
    while (!this.closed) {
      if (this.queue.length > 0 && this.outputBlocked()) {
        // The client is not reading its replies: no more of its commands run until it does
        // (onDrain), so what is held for it stays near RESP_OUTPUT_PAUSE_BYTES.
        this.awaitingDrain = true;
        this.socket.pause();
        break;
      }
      if (this.queue.length === 0) {
        this.parseHeld = false;
        this.parseCommands();
      }
      if (this.queue.length > 1 && this.runBatch()) continue;
      const args = this.queue.shift();
      if (args === undefined) break;
      if (this.unbatched > 0) this.unbatched--;
      else if (this.queue.length === 0 && this.deferAlone(args)) return; // still `running`
      let waiting: Promise<void> | null | undefined;
      try {
        // A client this command woke is served before the next command runs, as in Redis.
        waiting = this.runOne(args) ?? this.server.broker.blocking.whenRetried();
      } catch (err) {
        this.failed(err);
        return;
      }
      if (waiting) {
        waiting.then(
          () => this.resumePump(),
          (err: unknown) => this.failed(err),
        );
        return;
      }
      if (this.closeAfterFlush) break;
    }
    this.running = false;
    this.afterPump();
  }

  /** A bug, not a client's error (those are replies): logged, and the connection closed. */
  private failed(err: unknown): void {
    this.running = false;
    this.server.logger.error('command failed', { id: this.id, err: String(err) });
    this.socket.destroy();
  }

  private resumePump(): void {
    this.running = false;
    if (this.closeAfterFlush) this.afterPump();
    else this.pump();
  }

  private afterPump(): void {
    if (this.protocolError !== null && this.queue.length === 0 && !this.closeAfterFlush) {
      this.push(this.protocolError);
      this.closeAfterFlush = true;
      return;
    }
    if (
      this.socket.isPaused() &&
      this.queue.length <= RESP_MAX_QUEUED_COMMANDS / 2 &&
      !this.outputFull()
    ) {
      this.socket.resume();
    }
  }

  /**
   * Stages consecutive calls of a row with a batch handler (XADD, LPUSH/RPUSH, LPOP/RPOP) on
   * one key at the head of the queue as one batch (one storage command); false when they must
   * run one by one. Not while a client is blocked on the key: Redis serves it after the first
   * of them, and so do we then.
   */
  private runBatch(): boolean {
    if (this.unbatched > 0 || !dispatchesWrites(this)) return false;
    const run = this.dispatcher.batchRun(this.queue, 0);
    if (!run) return false;
    const group = this.queue.slice(0, run.n);
    const staged = this.dispatcher.stageBatch(run.row, this.session, group, false);
    if (staged === null) {
      // Declined: these calls go one by one, without asking again for each of them.
      this.unbatched = run.n;
      return false;
    }
    this.queue.splice(0, run.n);
    this.lastCommandName = (group[run.n - 1] as Buffer[])[0] as Buffer;
    for (const s of staged) this.pushStaged(s);
    return true;
  }

  /**
   * Hands a call that could join a batch (XADD, LPUSH...), the only one this connection has to
   * run, to the coalescer: other clients' calls like it this turn join it (coalesce.ts).
   */
  private deferAlone(args: Buffer[]): boolean {
    if (!dispatchesWrites(this)) return false;
    const row = this.dispatcher.batchRow(args);
    return row !== null && this.server.coalescer.defer(this, row, args);
  }

  /**
   * The coalescer's answer for the call deferAlone handed over; the pump goes on. A reply that
   * is `durable` already is sent now, not at the turn's end: the coalescer's wait ended after
   * this turn's reads (as awaitRun's does).
   */
  resumeDeferred(args: Buffer[], staged: Staged | null, durable: boolean): void {
    this.running = false;
    if (staged === null) {
      // Run alone, not offered again.
      this.queue.unshift(args);
      this.unbatched++;
    } else {
      this.lastCommandName = args[0] as Buffer;
      this.pushStaged(staged);
      if (durable) this.flush();
    }
    if (this.closeAfterFlush) this.afterPump();
    else this.pump();
  }

  /** Runs one command; a promise when it could not be answered synchronously. */
  private runOne(args: Buffer[]): Promise<void> | undefined {
    this.lastCommandName = args[0] as Buffer;
    const local = connectionCommand(this, args);
    if (local instanceof Promise) return local.then((l) => this.push(l));
    if (local !== undefined) {
      this.push(local);
      return undefined;
    }
    this.ownCommandRunning = true;
    const staged = this.stageCommand(args);
    if (staged instanceof Promise) return staged.then((s) => this.pushOwnReply(s));
    this.pushOwnReply(staged);
    return undefined;
  }

  /** The reply of the command runOne ran, then the notifications it held back for after it. */
  private pushOwnReply(staged: Staged): void {
    const held = this.held;
    this.ownCommandRunning = false;
    this.held = null;
    this.pushStaged(staged);
    if (held) for (const msg of held) this.deliver(msg);
  }

  /** Runs a command through the dispatcher up to its reply (not its durability). */
  stageCommand(args: Buffer[]): Staged | Promise<Staged> {
    this.blockedNow = true;
    let staged: Staged | Promise<Staged>;
    try {
      staged = this.dispatcher.stage(this.session, args);
    } catch (err) {
      this.endBlocked();
      throw err;
    }
    if (!(staged instanceof Promise)) {
      this.endBlocked();
      return staged;
    }
    return staged.finally(() => this.endBlocked());
  }

  private endBlocked(): void {
    this.blockedNow = false;
    if (!this.commandAborted) return;
    this.commandAborted = false;
    this.commandAbort = new AbortController();
  }

  /** CLIENT UNBLOCK: ends the blocked command (with its timeout reply, or UNBLOCKED). */
  unblock(withError: boolean): boolean {
    if (!this.blockedNow) return false;
    this.unblockWithError = withError;
    this.commandAborted = true;
    this.commandAbort.abort();
    return true;
  }

  // ---- output -----------------------------------------------------------------------------

  /** Queues replies that are ready now (null: nothing to send, e.g. CLIENT REPLY OFF). */
  push(replies: Reply | Reply[] | null): void {
    if (replies === null) return;
    if (this.out.length === 0 && !Array.isArray(replies)) {
      // Nothing waits ahead of it (most replies): encoded now, without an `out` slot.
      if (this.sendsReply()) this.encoder.append(replies, this.session.resp);
      this.scheduleFlush();
      return;
    }
    const list = Array.isArray(replies) ? replies : [replies];
    this.out.push({ replies: this.applyReplyMode(list), ready: true });
    this.drain();
  }

  private pushStaged(staged: Staged): void {
    let done = staged;
    if (this.unblockWithError) {
      this.unblockWithError = false;
      done = { ...staged, reply: errorReply('UNBLOCKED client unblocked via CLIENT UNBLOCK') };
    }
    if (done.durable.length === 0) {
      this.push(this.dispatcher.record(done, done.reply));
      return;
    }
    // CLIENT REPLY applies to the command in its place, whenever its reply is ready.
    const heldBytes = replyBytes(done.reply);
    this.heldReplyBytes += heldBytes;
    const entry: Waiting = {
      replies: [],
      ready: false,
      staged: done,
      send: this.sendsReply(),
      heldBytes,
    };
    this.out.push(entry);
    if (this.durableRun === null) {
      this.durableRun = [];
      queueMicrotask(() => this.awaitRun());
    }
    this.durableRun.push(entry);
  }

  /** The replies that wait for durability, staged in one go (one read of the socket). */
  private awaitRun(): void {
    const run = this.durableRun as Waiting[];
    this.durableRun = null;
    void this.dispatcher.settleAll(run.map((e) => e.staged)).then((replies) => {
      run.forEach((e, i) => {
        e.replies = e.send ? [replies[i] as Reply] : [];
        e.ready = true;
      });
      // Durable replies become ready in the log's or journal's write, after this turn's reads:
      // waiting for the next turn's check phase to send them only added latency (unpipelined
      // XADD and LPUSH answered 5-15% more per second when sent here).
      this.encodeReady();
      this.flush();
      this.resumeIfDrained();
    });
  }

  /** Whether the command being answered now gets its reply (CLIENT REPLY OFF / SKIP). */
  private sendsReply(): boolean {
    if (this.replyMode === 'on') return true;
    if (this.replyMode === 'skip') this.replyMode = 'on';
    return false;
  }

  private applyReplyMode(list: Reply[]): Reply[] {
    return this.sendsReply() ? list : [];
  }

  private drain(): void {
    this.encodeReady();
    this.scheduleFlush();
  }

  /** Encodes the replies at the head of `out` that are ready, in order. */
  private encodeReady(): void {
    while (this.out.length > 0 && (this.out[0] as OutEntry).ready) {
      const entry = this.out.shift() as OutEntry;
      if (entry.heldBytes) this.heldReplyBytes -= entry.heldBytes;
      for (const r of entry.replies) this.encoder.append(r, this.session.resp);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    atTurnEnd(this.flushNow);
  }

  private readonly flushNow = (): void => this.flush();

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const bytes = this.encoder.take();
    if (bytes.length > 0) this.socket.write(bytes);
    if (this.closeAfterFlush && this.out.length === 0) {
      this.socket.end();
      return;
    }
    if (this.outputFull()) this.socket.pause();
  }

  /**
   * Whether replies waiting for the client (unsent, encoded, or staged and held) pass
   * RESP_OUTPUT_PAUSE_BYTES, once this turn's encoded ones are handed to the socket.
   */
  private outputBlocked(): boolean {
    const held = this.heldReplyBytes;
    if (this.socket.writableLength + this.encoder.length + held <= RESP_OUTPUT_PAUSE_BYTES) {
      return false;
    }
    this.flush();
    return this.socket.writableLength + this.heldReplyBytes > RESP_OUTPUT_PAUSE_BYTES;
  }

  /** After the pump stopped for output (outputBlocked): runs it again once that is over. */
  private resumeIfDrained(): boolean {
    if (!this.awaitingDrain || this.closed || this.outputBlocked()) return false;
    this.awaitingDrain = false;
    this.pump();
    return true;
  }

  private outputFull(): boolean {
    return this.socket.writableLength > RESP_OUTPUT_PAUSE_BYTES;
  }

  private onDrain(): void {
    if (this.awaitingDrain) {
      // Still held back (replies staged, not yet ready)? awaitRun resumes it once they are.
      this.resumeIfDrained();
      return;
    }
    if (this.queue.length <= RESP_MAX_QUEUED_COMMANDS / 2) this.socket.resume();
  }

  /** QUIT: answer what is pending, then close. */
  quitAfterReplies(): void {
    this.closeAfterFlush = true;
    this.scheduleFlush();
  }

  // ---- pub/sub ----------------------------------------------------------------------------

  deliver(msg: PubSubMessage): void {
    if (this.closed) return;
    // As Redis: the command's reply first, then what it notified after replying.
    if (msg.afterReplyOf === this.id && this.ownCommandRunning) {
      (this.held ??= []).push(msg);
      return;
    }
    this.push(pushReply(msg));
    this.checkPubSubLimits();
  }

  /** Redis's client-output-buffer-limit pubsub 32mb 8mb 60: a slow subscriber is cut off. */
  private checkPubSubLimits(): void {
    const pending = this.socket.writableLength + this.encoder.length;
    if (pending > SUBSCRIBER_OUTPUT_HARD_BYTES)
      return this.kill('pubsub output over the hard limit', true);
    if (pending <= SUBSCRIBER_OUTPUT_SOFT_BYTES) {
      this.softOverSinceMs = 0;
      return;
    }
    const now = Date.now();
    if (this.softOverSinceMs === 0) this.softOverSinceMs = now;
    else if (now - this.softOverSinceMs > SUBSCRIBER_OUTPUT_SOFT_SECONDS * 1000) {
      this.kill('pubsub output over the soft limit for too long', true);
    }
  }

  private kill(reason: string, slow: boolean): void {
    if (this.closed) return;
    this.server.logger.warn('closing client', { id: this.id, reason });
    if (slow) this.server.slowSubscriberDisconnects++;
    this.socket.destroy();
  }

  /** CLIENT KILL: closes at once; blocked commands end, their values stay where they were. */
  close(): void {
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.commandAborted = true;
    this.commandAbort.abort();
    this.server.broker.pubsub.removeAll(this);
    this.server.forget(this);
  }
}
