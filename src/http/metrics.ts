// Prometheus metrics (prom-client), served at /metrics. One registry per server, so several
// embedded brokers in one process (test suites) keep separate figures. Gauges that mirror
// broker state are collected when scraped, not kept up to date on every command.
import client from 'prom-client';
import type { Broker } from '../broker/broker';

export class Metrics {
  readonly registry = new client.Registry();
  readonly commands: client.Counter<'cmd'>;
  readonly commandErrors: client.Counter<'code'>;
  readonly commandSeconds: CommandHistogram;
  readonly fsyncSeconds: client.Histogram;
  readonly sseConnections: client.Gauge;
  readonly slowSubscriberDisconnects: client.Counter;
  private readonly errorsSinceScrape = new Map<string, number>();

  constructor(broker: () => Broker | null) {
    const registers = [this.registry];
    // Counted per command in plain counters (calls in the latency histogram's series) and
    // handed to prom-client when scraped: its own inc() hashes the labels on every call, which
    // cost more than some commands themselves.
    const histogram = new CommandHistogram(
      'sluice_command_duration_seconds',
      'Command latency including the wait for durability',
      [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10],
    );
    this.commandSeconds = histogram;
    const errors = this.errorsSinceScrape;
    this.commands = new client.Counter({
      name: 'sluice_commands_total',
      help: 'Commands executed, by command name',
      labelNames: ['cmd'],
      registers,
      collect() {
        for (const [cmd, n] of histogram.takeCalls()) this.inc({ cmd }, n);
      },
    });
    this.commandErrors = new client.Counter({
      name: 'sluice_command_errors_total',
      help: 'Commands answered with an error, by error code (first word)',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, n] of errors) this.inc({ code }, n);
        errors.clear();
      },
    });
    // prom-client's registry only asks a metric for its name, get() and reset() (see the class).
    this.registry.registerMetric(this.commandSeconds as unknown as client.Metric);
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
    this.commandSeconds.observe(cmd, seconds);
    if (errorCode !== null) {
      this.errorsSinceScrape.set(errorCode, (this.errorsSinceScrape.get(errorCode) ?? 0) + 1);
    }
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

/** One command's latency figures: a count per bucket (not cumulative), their sum and count. */
interface Series {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
  /** Observations since the commands counter last took them (takeCalls). */
  unscraped: number;
}

interface HistogramValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A Prometheus histogram labelled by command, in the shape prom-client's registry prints
 * (`<name>_bucket{le,cmd}`, `_sum`, `_count`), observed at the cost of one array increment:
 * prom-client's Histogram hashes its label object on every observe(), which cost a tenth of
 * the server's CPU on a pipelined benchmark.
 */
export class CommandHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  /** The last command's series: a pipeline's commands are mostly the same one. */
  private last: { cmd: string; series: Series } | null = null;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(cmd: string, seconds: number): void {
    const s = this.last !== null && this.last.cmd === cmd ? this.last.series : this.seriesOf(cmd);
    let i = 0;
    while (i < this.bounds.length && seconds > (this.bounds[i] as number)) i++;
    (s.buckets[i] as number)++;
    s.sum += seconds;
    s.count++;
    s.unscraped++;
  }

  private seriesOf(cmd: string): Series {
    let s = this.series.get(cmd);
    if (!s) {
      s = { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, unscraped: 0 };
      this.series.set(cmd, s);
    }
    this.last = { cmd, series: s };
    return s;
  }

  /** Calls per command observed since the last time this was asked, then zeroed. */
  takeCalls(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [cmd, s] of this.series) {
      if (s.unscraped > 0) out.push([cmd, s.unscraped]);
      s.unscraped = 0;
    }
    return out;
  }

  /** The figures as prom-client's Histogram.get() gives them (cumulative buckets). */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: HistogramValue[];
  }> {
    const values: HistogramValue[] = [];
    for (const [cmd, s] of this.series) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += s.buckets[i] as number;
        const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({ labels: { le, cmd }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { cmd }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { cmd }, value: s.count, metricName: `${this.name}_count` });
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  reset(): void {
    this.series.clear();
    this.last = null;
  }
}
