// The HTTP front end under load (autocannon on 127.0.0.1, in a worker thread; each server is a
// child process of its own, Sluice started as users start it, so the load generator and the
// server share no event loop): XADD of one entry per request against a bare fastify route that
// parses the same JSON body (the ceiling), under everysec and always; XADD of 100 entries per
// request; XREADGROUP COUNT 100 + XACK consumers against a producer at 80% of its maximum;
// PUBLISH to 100 SSE subscribers (deliveries per second, publish-to-receive latency). Each
// server, the bare route too, first takes the same requests for a few seconds on a key of its
// own (warmUp), so the measured run is the steady state rather than V8 compiling the path.
//
// Usage: tsx bench/http.ts [--full]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { startSluice, type SluiceProcess } from '../src/index';
import {
  Latencies,
  printTable,
  progress,
  REPO_ROOT,
  round,
  saveResults,
  throughputResult,
  withTarget,
  type BenchSize,
  type Result,
} from './harness';
import { GROUP_CONSUMERS_JS, PUBSUB_CLIENTS_JS } from './http-workers';

/**
 * How much load a case gets: a duration in seconds (full size), or a number of requests (small
 * size: every case finishes some requests however loaded the machine is).
 */
type Load = { readonly duration: number } | { readonly amount: number };

interface Sizes {
  readonly single: Load;
  readonly batch: Load;
  readonly group: Load;
  /** Load of each warm-up run, not measured. */
  readonly warmUp: Load;
  /** autocannon's worker threads: 0 runs it on the main thread (quicker to start). */
  readonly cannonWorkers: number;
  readonly subscribers: number;
  /** Messages published flat out; the paced run publishes `pacedPerSec` for `pacedSeconds`. */
  readonly messages: number;
  readonly pacedPerSec: number;
  readonly pacedSeconds: number;
}

const SIZES: Record<BenchSize, Sizes> = {
  small: {
    single: { amount: 300 },
    batch: { amount: 20 },
    group: { amount: 300 },
    warmUp: { amount: 50 },
    cannonWorkers: 0,
    subscribers: 10,
    messages: 200,
    pacedPerSec: 100,
    pacedSeconds: 1,
  },
  full: {
    single: { duration: 10 },
    batch: { duration: 10 },
    group: { duration: 10 },
    warmUp: { duration: 3 },
    cannonWorkers: 1,
    subscribers: 100,
    messages: 3000,
    pacedPerSec: 100,
    pacedSeconds: 10,
  },
};

const CONNECTIONS = 50;
const VALUE = 'v'.repeat(90);
const ONE_ENTRY = JSON.stringify({ fields: { n: '1', v: VALUE } });
const BATCH = 100;
/** 10 requests of 100 entries in flight are 1,000 XADDs queued: enough to fill group commits. */
const BATCH_CONNECTIONS = 10;
const BATCH_BODY = JSON.stringify({
  entries: Array.from({ length: BATCH }, (_, i) => ({ fields: { n: String(i), v: VALUE } })),
});
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Cannon {
  readonly okPerSec: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function cannon(
  url: string,
  body: string,
  load: Load,
  sizes: Sizes,
  extra: { overallRate?: number; connections?: number } = {},
): Promise<Cannon> {
  const t0 = performance.now();
  const r = await autocannon({
    url,
    method: 'POST',
    headers: JSON_HEADERS,
    body,
    connections: CONNECTIONS,
    ...(sizes.cannonWorkers > 0 ? { workers: sizes.cannonWorkers } : {}),
    ...load,
    ...extra,
  });
  // autocannon reports whole seconds for a number of requests: time those runs here.
  const seconds = 'amount' in load ? (performance.now() - t0) / 1000 : r.duration;
  const ok = r['2xx'];
  return {
    okPerSec: ok / seconds,
    ok,
    failed: r.non2xx + r.errors + r.timeouts,
    seconds,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  };
}

function cannonResult(name: string, c: Cannon, entriesPerRequest: number, notes = {}): Result {
  const lat = new Latencies();
  lat.add(c.p50Ms);
  const r = throughputResult({
    bench: 'http',
    name,
    ops: c.ok,
    entries: c.ok * entriesPerRequest,
    seconds: c.seconds,
    payloadBytes: c.ok * entriesPerRequest * 100,
    notes: { ...notes, ...(c.failed > 0 ? { failed: c.failed } : {}) },
  });
  return { ...r, p50Ms: c.p50Ms, p99Ms: c.p99Ms };
}

/**
 * The ceiling: fastify parsing the same JSON body and answering like the XADD route (an ID, or
 * for {entries} an array of IDs), in a child process of its own as Sluice is. It prints its
 * port on its first line.
 */
const BARE_ROUTE_JS = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
const ID = String(Date.now()) + '-';
app.post('/bare', async (request, reply) => {
  const body = request.body;
  reply.code(201).type('application/json; charset=utf-8');
  if (Array.isArray(body.entries)) {
    return reply.send(JSON.stringify({ ids: body.entries.map((e, i) => ID + i) }));
  }
  if (!body.fields) return reply.code(400).send('{}');
  return reply.send('{"id":"0-1"}');
});
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(app.server.address().port);
`;

async function bareRoute(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_ROUTE_JS], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [port] = (await once(lines, 'line')) as [string];
  lines.close();
  return { url: `http://127.0.0.1:${port.trim()}/bare`, child };
}

async function withServer<T>(
  fsync: 'everysec' | 'always',
  fn: (server: SluiceProcess) => Promise<T>,
): Promise<T> {
  const server = await startSluice({ fsync, args: ['--no-resp'] });
  try {
    return await fn(server);
  } finally {
    await server.destroy();
  }
}

/** A set-up command through the command API. */
async function call(server: SluiceProcess, ...args: string[]): Promise<unknown> {
  const res = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { result?: unknown; error?: string };
  if (body.error !== undefined) throw new Error(`bench set-up failed: ${body.error}`);
  return body.result;
}

/** POST /v1/streams/:key/entries with {entries} if the route takes it, else POST /pipeline. */
async function batchRequest(server: SluiceProcess): Promise<{ path: string; body: string }> {
  const probe = await fetch(`${server.url}/v1/streams/probe/entries`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: BATCH_BODY,
  });
  if (probe.status === 201) return { path: '/v1/streams/batch/entries', body: BATCH_BODY };
  const commands = Array.from({ length: BATCH }, (_, i) => [
    'XADD',
    'batch',
    '*',
    'n',
    String(i),
    'v',
    VALUE,
  ]);
  return { path: '/pipeline', body: JSON.stringify(commands) };
}

// ---- XREADGROUP + XACK against a producer at 80% ------------------------------------------

interface GroupRun {
  readonly produced: number;
  readonly consumed: number;
  readonly seconds: number;
  readonly lagAtEnd: number;
  readonly drainMs: number;
}

function startWorker(code: string, workerData: unknown): Worker {
  return new Worker(code, { eval: true, workerData });
}

interface ConsumerReport {
  readonly consumed: number;
  readonly ready?: boolean;
  readonly done?: boolean;
  readonly error?: string;
}

/** The consumers' worker; `consumed` follows its reports, `ready` and `done` its milestones. */
function startConsumers(server: SluiceProcess) {
  const worker = startWorker(GROUP_CONSUMERS_JS, {
    url: server.url,
    key: 'g',
    group: 'grp',
    consumers: 4,
    count: 100,
    blockMs: 200,
  });
  const state = { consumed: 0, error: undefined as string | undefined };
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: ConsumerReport) => {
      state.consumed = m.consumed;
      if (m.ready) onReady();
      if (m.error !== undefined) state.error = m.error;
      if (m.done) resolve();
      if (m.done) onReady();
    });
    worker.once('error', reject);
  });
  return { worker, state, ready, done };
}

async function groupCase(server: SluiceProcess, maxRate: number, sizes: Sizes): Promise<Result> {
  await call(server, 'XGROUP', 'CREATE', 'g', 'grp', '$', 'MKSTREAM');
  const consumers = startConsumers(server);
  try {
    await consumers.ready;
    const rate = Math.max(1, Math.floor(maxRate * 0.8));
    const url = `${server.url}/v1/streams/g/entries`;
    const c = await cannon(url, ONE_ENTRY, sizes.group, sizes, { overallRate: rate });
    const lagAtEnd = c.ok - consumers.state.consumed;
    const t0 = Date.now();
    while (consumers.state.consumed < c.ok && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const drainMs = Date.now() - t0;
    consumers.worker.postMessage('stop');
    await consumers.done;
    if (consumers.state.error) throw new Error(`group consumers: ${consumers.state.error}`);
    const run = { produced: c.ok, consumed: consumers.state.consumed, seconds: c.seconds };
    return groupResult({ ...run, lagAtEnd, drainMs }, rate, c);
  } finally {
    await consumers.worker.terminate();
  }
}

function groupResult(g: GroupRun, rate: number, c: Cannon): Result {
  const producedPerSec = g.produced / g.seconds;
  const consumedPerSec = (g.produced - g.lagAtEnd) / g.seconds;
  const r = throughputResult({
    bench: 'http',
    name: 'XREADGROUP COUNT 100 + XACK (4 consumers), producer at 80% of max',
    ops: g.produced,
    entries: g.produced - g.lagAtEnd,
    seconds: g.seconds,
    payloadBytes: (g.produced - g.lagAtEnd) * 100,
    notes: {
      targetRate: rate,
      producedPerSec: round(producedPerSec, 0),
      consumedPerSec: round(consumedPerSec, 0),
      lagAtEnd: g.lagAtEnd,
      drainMs: g.drainMs,
      keptUpPercent: g.produced === 0 ? 0 : round((100 * consumedPerSec) / producedPerSec, 1),
    },
  });
  const target = { metric: 'keptUpPercent', op: '>=', value: 95 } as const;
  return withTarget({ ...r, p50Ms: c.p50Ms, p99Ms: c.p99Ms }, target);
}

// ---- PUBLISH to SSE subscribers ------------------------------------------------------------

interface PubSubRun {
  readonly deliveries: number;
  readonly expected: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
}

async function pubsubCase(
  server: SluiceProcess,
  sizes: Sizes,
  ratePerSec: number | null,
): Promise<Result> {
  const worker = startWorker(PUBSUB_CLIENTS_JS, {
    url: server.url,
    channel: 'bench',
    subscribers: sizes.subscribers,
    messages: ratePerSec === null ? sizes.messages : ratePerSec * sizes.pacedSeconds,
    concurrency: ratePerSec === null ? 16 : 1,
    ratePerSec,
    payloadBytes: 100,
  });
  const run = await new Promise<PubSubRun>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
  const lat = new Latencies();
  for (const ms of run.latenciesMs) lat.add(ms);
  const how = ratePerSec === null ? 'flat out' : `at ${ratePerSec} msg/s`;
  return throughputResult({
    bench: 'http',
    name: `PUBLISH to ${sizes.subscribers} SSE subscribers, ${how}`,
    ops: run.expected / sizes.subscribers,
    entries: run.deliveries,
    seconds: run.seconds,
    payloadBytes: run.deliveries * 100,
    latencies: lat,
    notes: {
      deliveriesPerSec: round(run.deliveries / run.seconds, 0),
      lost: run.expected - run.deliveries,
    },
  });
}

// ---- the run -------------------------------------------------------------------------------

interface Ceilings {
  readonly one: Cannon;
  readonly batch: Cannon;
}

/** The bare route's requests/s for one entry a request and for BATCH entries a request. */
async function ceilings(sizes: Sizes, results: Result[]): Promise<Ceilings> {
  const bare = await bareRoute();
  progress('bare fastify route');
  try {
    await cannon(bare.url, ONE_ENTRY, sizes.warmUp, sizes);
    await cannon(bare.url, BATCH_BODY, sizes.warmUp, sizes, { connections: BATCH_CONNECTIONS });
    const one = await cannon(bare.url, ONE_ENTRY, sizes.single, sizes);
    results.push(cannonResult('bare fastify route, same JSON body, 50 connections', one, 1));
    const batch = await cannon(bare.url, BATCH_BODY, sizes.batch, sizes, {
      connections: BATCH_CONNECTIONS,
    });
    const name = `bare fastify route, ${BATCH} entries/request, ${BATCH_CONNECTIONS} connections`;
    results.push(cannonResult(name, batch, BATCH));
    return { one, batch };
  } finally {
    bare.child.kill();
  }
}

async function singleEntryCases(sizes: Sizes, ceiling: Cannon, results: Result[]): Promise<number> {
  let maxRate = 0;
  for (const fsync of ['everysec', 'always'] as const) {
    progress(`XADD 1 entry/request, ${fsync}`);
    await withServer(fsync, async (server) => {
      await cannon(`${server.url}/v1/streams/warm/entries`, ONE_ENTRY, sizes.warmUp, sizes);
      const c = await cannon(`${server.url}/v1/streams/s/entries`, ONE_ENTRY, sizes.single, sizes);
      if (fsync === 'everysec') maxRate = c.okPerSec;
      const percent = round((100 * c.okPerSec) / ceiling.okPerSec, 1);
      const r = cannonResult(`XADD 1 entry/request, 50 connections, ${fsync}`, c, 1, {
        percentOfBare: percent,
      });
      const goal = fsync === 'always' ? 60 : 85;
      results.push(withTarget(r, { metric: 'percentOfBare', op: '>=', value: goal }));
    });
  }
  return maxRate;
}

export async function runHttpBench(size: BenchSize): Promise<Result[]> {
  const sizes = SIZES[size];
  const results: Result[] = [];
  const bare = await ceilings(sizes, results);
  const maxRate = await singleEntryCases(sizes, bare.one, results);
  await withServer('everysec', async (server) => {
    progress('XADD 100 entries/request');
    const { path, body } = await batchRequest(server);
    const warm = { connections: BATCH_CONNECTIONS };
    await cannon(
      `${server.url}${path.replace(/[^/]+\/entries$/, 'warm/entries')}`,
      body,
      sizes.warmUp,
      sizes,
      warm,
    );
    const c = await cannon(`${server.url}${path}`, body, sizes.batch, sizes, {
      connections: BATCH_CONNECTIONS,
    });
    const name = `XADD ${BATCH} entries/request (${path}), ${BATCH_CONNECTIONS} connections`;
    const r = cannonResult(`${name}, everysec`, c, BATCH, {
      percentOfBare: round((100 * c.okPerSec) / bare.batch.okPerSec, 1),
    });
    results.push(withTarget(r, { metric: 'entriesPerSec', op: '>=', value: 500_000 }));
    progress('XREADGROUP + XACK at 80% of the producer maximum');
    results.push(await groupCase(server, maxRate, sizes));
    progress('PUBLISH to SSE subscribers');
    results.push(await pubsubCase(server, sizes, null));
    results.push(await pubsubCase(server, sizes, sizes.pacedPerSec));
  });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size: BenchSize = process.argv.includes('--full') ? 'full' : 'small';
  runHttpBench(size).then(
    async (r) => {
      printTable(`http (${size})`, r);
      const file = await saveResults(size === 'full' ? 'http' : 'http-small', size, r);
      process.stdout.write(`saved ${path.relative(REPO_ROOT, file)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
