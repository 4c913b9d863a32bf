// Prometheus metrics (prom-client), served at /metrics. One registry per server, so several
// embedded brokers in one process (test suites) keep separate figures. Gauges that mirror
// broker state are collected when scraped, not kept up to date on every command.
import client from 'prom-client';
import type { Broker } from '../broker/broker';

export class Metrics {
  readonly registry = new client.Registry();
  readonly commands: client.Counter<'cmd'>;
  readonly commandErrors: client.Counter<'code'>;
  readonly commandSeconds: client.Histogram<'cmd'>;
  readonly fsyncSeconds: client.Histogram;
  readonly sseConnections: client.Gauge;
  readonly slowSubscriberDisconnects: client.Counter;

  constructor(broker: () => Broker | null) {
    const registers = [this.registry];
    this.commands = new client.Counter({
      name: 'sluice_commands_total',
      help: 'Commands executed, by command name',
      labelNames: ['cmd'],
      registers,
    });
    this.commandErrors = new client.Counter({
      name: 'sluice_command_errors_total',
      help: 'Commands answered with an error, by error code (first word)',
      labelNames: ['code'],
      registers,
    });
    this.commandSeconds = new client.Histogram({
      name: 'sluice_command_duration_seconds',
      help: 'Command latency including the wait for durability',
      labelNames: ['cmd'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10],
      registers,
    });
    this.fsyncSeconds = new client.Histogram({
      name: 'sluice_fsync_duration_seconds',
      help: 'fdatasync calls of stream segments and the journal',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      registers,
    });
    this.sseConnections = new client.Gauge({
      name: 'sluice_sse_connections',
      help: 'Open Server-Sent Events streams',
      registers,
    });
    this.slowSubscriberDisconnects = new client.Counter({
      name: 'sluice_slow_subscriber_disconnects_total',
      help: 'Subscribers cut off for passing the output limit',
      registers,
    });
    this.brokerGauges(broker);
    // Process figures (CPU, memory, event-loop lag, GC) on this server's registry only.
    client.collectDefaultMetrics({ register: this.registry });
  }

  private brokerGauges(broker: () => Broker | null): void {
    const registers = [this.registry];
    new client.Gauge({
      name: 'sluice_keys',
      help: 'Keys by type, all databases',
      labelNames: ['type'],
      registers,
      collect() {
        const b = broker();
        if (!b) return;
        for (const [type, n] of Object.entries(keysByType(b))) this.set({ type }, n);
      },
    });
    new client.Gauge({
      name: 'sluice_blocked_clients',
      help: 'Clients blocked in BLPOP, XREAD BLOCK and friends',
      registers,
      collect() {
        this.set(broker()?.blocking.blockedCount ?? 0);
      },
    });
    new client.Gauge({
      name: 'sluice_journal_log_bytes',
      help: 'Bytes of the lists journal log since its last snapshot',
      registers,
      collect() {
        this.set(broker()?.journal.stats().logBytes ?? 0);
      },
    });
    new client.Gauge({
      name: 'sluice_log_bytes',
      help: 'Bytes on disk by log: stream segments, and the journal (snapshot plus log)',
      labelNames: ['log'],
      registers,
      collect() {
        const b = broker();
        if (!b) return;
        const journal = b.journal.stats();
        this.set({ log: 'streams' }, streamSegmentBytes(b));
        this.set({ log: 'journal' }, journal.logBytes + journal.snapshotBytes);
      },
    });
    this.pubsubGauges(broker);
  }

  private pubsubGauges(broker: () => Broker | null): void {
    const registers = [this.registry];
    new client.Gauge({
      name: 'sluice_pubsub_channels',
      help: 'Channels, shard channels and patterns with at least one subscriber',
      labelNames: ['kind'],
      registers,
      collect() {
        const p = broker()?.pubsub;
        if (!p) return;
        this.set({ kind: 'channel' }, p.activeNames('channel', null).length);
        this.set({ kind: 'shard' }, p.activeNames('shard', null).length);
        this.set({ kind: 'pattern' }, p.patternCount);
      },
    });
    new client.Gauge({
      name: 'sluice_pubsub_subscribers',
      help: 'Subscribers holding at least one subscription',
      registers,
      collect() {
        this.set(broker()?.pubsub.subscriberCount ?? 0);
      },
    });
  }

  /** Called by the dispatcher after each command. */
  observe(cmd: string, seconds: number, errorCode: string | null): void {
    this.commands.inc({ cmd });
    this.commandSeconds.observe({ cmd }, seconds);
    if (errorCode !== null) this.commandErrors.inc({ code: errorCode });
  }
}

/** Keys by type over every database, from sizes only (no walk over the keys). */
export function keysByType(b: Broker): { stream: number; list: number } {
  let total = 0;
  for (let db = 0; db < b.keyspace.databases; db++) total += b.keyspace.size(db);
  const stream = b.store.size;
  return { stream, list: Math.max(0, total - stream) };
}

/** Bytes of every stream's segments: a sum over per-segment summaries already in memory. */
export function streamSegmentBytes(b: Broker): number {
  let bytes = 0;
  for (const log of b.store.keys()) for (const seg of log.segments) bytes += seg.size;
  return bytes;
}
