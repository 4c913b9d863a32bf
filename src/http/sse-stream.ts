// One Server-Sent Events response and its life: headers and the `retry:` line, heartbeats,
// backpressure for feeds that pull (stream tails and group feeds wait for 'drain'), output
// limits for feeds that are pushed (pub/sub has no backpressure, so a subscriber that does not
// read is cut off, as Redis does), and the three ends: client gone, server stopping, cut off.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import type { Reply } from '../commands/reply';
import {
  SSE_ACK_POLL_MS,
  SSE_CORK_MAX_BYTES,
  SSE_END_GRACE_MS,
  SSE_HEARTBEAT_MS,
  SSE_RETRY_MS,
  SUBSCRIBER_OUTPUT_HARD_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_BYTES,
  SUBSCRIBER_OUTPUT_SOFT_SECONDS,
} from '../limits';
import type { HttpDeps } from './deps';
import { runIn } from './run';

export interface SseSettings {
  heartbeatMs: number;
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
  ackPollMs: number;
  endGraceMs: number;
}

/** The limits of src/limits.ts; tests shorten them (module-wide, in the test's own process). */
export const sseSettings: SseSettings = {
  heartbeatMs: SSE_HEARTBEAT_MS,
  hardBytes: SUBSCRIBER_OUTPUT_HARD_BYTES,
  softBytes: SUBSCRIBER_OUTPUT_SOFT_BYTES,
  softSeconds: SUBSCRIBER_OUTPUT_SOFT_SECONDS,
  ackPollMs: SSE_ACK_POLL_MS,
  endGraceMs: SSE_END_GRACE_MS,
};

/** One event as the wire carries it; `data` is one line of JSON (JSON escapes CR and LF). */
export function sseEvent(event: string, data: string, id?: string): string {
  return id === undefined
    ? `event: ${event}\ndata: ${data}\n\n`
    : `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
}

const PING = ': ping\n\n';

/** Streams with corked pub/sub output, uncorked together once per event-loop turn. */
const corkedStreams = new Set<SseStream>();

function uncorkAll(): void {
  for (const stream of [...corkedStreams]) stream.uncork();
}

/**
 * Open streams by their server's stopping signal: one listener per server rather than one per
 * stream (a hundred subscribers would pass EventTarget's leak warning, and each add is linear).
 */
const openStreams = new WeakMap<AbortSignal, Set<SseStream>>();

function trackOpen(stopping: AbortSignal, stream: SseStream): void {
  if (stopping.aborted) return stream.stop();
  let set = openStreams.get(stopping);
  if (!set) {
    const streams = (set = new Set());
    openStreams.set(stopping, streams);
    stopping.addEventListener('abort', () => {
      for (const s of [...streams]) s.stop();
    });
  }
  set.add(stream);
}

export class SseStream {
  private readonly ac = new AbortController();
  private readonly res: ServerResponse;
  private heartbeat: NodeJS.Timeout | null = null;
  /** When unsent output first went above the soft limit (0: it is below). */
  private softSinceMs = 0;
  private opened = false;
  private corked = false;
  private finished = false;
  private readonly cleanups: (() => void)[] = [];
  /** Ends the stream with its final event because the server stops (trackOpen). */
  readonly stop = () =>
    this.end(sseEvent('shutdown', JSON.stringify({ reason: 'server stopping' })));

  constructor(
    private readonly deps: HttpDeps,
    private readonly reply: FastifyReply,
  ) {
    this.res = reply.raw;
  }

  /** Aborted once the stream has ended, for whatever reason. */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** A plain field, not signal.aborted: push() reads it once per message. */
  get ended(): boolean {
    return this.finished;
  }

  /** Runs when the stream ends (subscriptions removed, timers cleared). */
  onEnd(fn: () => void): void {
    if (this.finished) fn();
    else this.cleanups.push(fn);
  }

  /** Takes the response from fastify and starts the event stream. */
  open(): void {
    const { res, deps } = this;
    this.reply.hijack();
    this.opened = true;
    deps.metrics.sseConnections.inc();
    res.on('close', () => this.finish());
    if (res.destroyed || res.socket?.destroyed !== false) return this.finish();
    const hooked: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(this.reply.getHeaders()))
      if (v !== undefined) hooked[k] = v;
    // Headers set on the reply by hooks (CORS...) would be lost with the hijack: copy them.
    res.writeHead(200, {
      ...hooked,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      // One stream per connection: once it ends the socket closes, so a stopping server
      // is not held up by the client's idle keep-alive connection.
      connection: 'close',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    this.heartbeat = setInterval(() => {
      this.write(PING);
      this.checkOutput();
    }, sseSettings.heartbeatMs);
    trackOpen(deps.stopping.signal, this);
  }

  /** Writes text; false when the caller should wait for drained() (or the stream ended). */
  write(text: string): boolean {
    if (this.ended) return false;
    return this.res.write(text);
  }

  /**
   * Pushed output (pub/sub): no waiting, but cut off past the output limits. Writes are
   * corked until the event loop's next check phase, so the messages of every publish handled
   * in one loop turn leave in one syscall per subscriber instead of one each.
   */
  push(text: string): void {
    if (this.ended) return;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      corkedStreams.add(this);
      if (corkedStreams.size === 1) setImmediate(uncorkAll);
    }
    this.res.write(text);
    if (this.res.writableLength >= SSE_CORK_MAX_BYTES) this.uncork();
    this.checkOutput();
  }

  /** Sends what push() held back (uncorkAll, end). */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    corkedStreams.delete(this);
    this.res.uncork();
  }

  /** Resolves when the client has taken what was written, or the stream ended. */
  drained(): Promise<void> {
    if (this.ended || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.on('drain', done);
      this.signal.addEventListener('abort', done);
    });
  }

  /** Waits `ms` unless the stream ends first. */
  async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.signal }).catch(() => undefined);
  }

  /**
   * One command in a session of its own, aborted when the stream ends. A fresh session (and
   * signal) per command: blocked waits add listeners to their signal and this stream may run
   * thousands of them.
   */
  async run(args: readonly (string | Buffer)[]): Promise<Reply> {
    const child = new AbortController();
    const onEnd = () => child.abort();
    this.signal.addEventListener('abort', onEnd);
    if (this.ended) child.abort();
    try {
      return await runIn(this.deps, this.deps.session(child.signal), args);
    } finally {
      this.signal.removeEventListener('abort', onEnd);
    }
  }

  /**
   * Ends the stream after `finalText` (an event, or nothing). A client that does not read
   * would keep the response open: after a grace period the socket is destroyed.
   */
  end(finalText = ''): void {
    if (this.ended) return;
    const { res } = this;
    this.uncork();
    if (!res.destroyed) {
      res.end(finalText);
      const timer = setTimeout(() => res.destroy(), sseSettings.endGraceMs);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    }
    this.finish();
  }

  /** An error event (`{code, error}`), then the end. */
  fail(code: string, error: string): void {
    this.end(sseEvent('error', JSON.stringify({ code, error })));
  }

  /** Redis's client-output-buffer-limit for pubsub: a hard limit and a soft one over time. */
  private checkOutput(): void {
    if (this.ended) return;
    const unsentBytes = this.res.writableLength;
    const { hardBytes, softBytes, softSeconds } = sseSettings;
    let cut = unsentBytes > hardBytes;
    if (unsentBytes <= softBytes) this.softSinceMs = 0;
    else if (this.softSinceMs === 0) this.softSinceMs = Date.now();
    else if (Date.now() - this.softSinceMs >= softSeconds * 1000) cut = true;
    if (!cut) return;
    this.deps.metrics.slowSubscriberDisconnects.inc();
    this.deps.logger.warn('slow SSE subscriber cut off', { unsentBytes });
    this.fail('SLOWCONSUMER', 'SLOWCONSUMER unsent output passed the subscriber limit');
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    corkedStreams.delete(this);
    this.ac.abort();
    if (this.heartbeat) clearInterval(this.heartbeat);
    openStreams.get(this.deps.stopping.signal)?.delete(this);
    if (this.opened) this.deps.metrics.sseConnections.dec();
    for (const fn of this.cleanups.splice(0)) fn();
  }
}
