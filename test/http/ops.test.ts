// The operational routes: probes and the readiness gate, Prometheus metrics, OpenAPI and the
// docs page, server info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFixture, type AppFixture } from './deps-fixture';

describe('while recovering', () => {
  let fx: AppFixture;
  beforeAll(async () => {
    fx = await appFixture({ state: 'recovering' });
  });
  afterAll(() => fx.close());

  it('/readyz is 503 with reason recovering, /healthz is 200', async () => {
    const ready = await fx.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', reason: 'recovering' });
    const health = await fx.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
  });

  it('every other route is 503 LOADING with Retry-After', async () => {
    for (const [method, url] of [
      ['POST', '/'],
      ['POST', '/pipeline'],
      ['GET', '/metrics'],
      ['GET', '/v1/info'],
      ['GET', '/no/such/route'],
    ] as const) {
      const res = await fx.app.inject({
        method,
        url,
        payload: method === 'POST' ? ['PING'] : undefined,
      });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({
        error: 'LOADING Sluice is loading the dataset in memory',
        code: 'LOADING',
        statusCode: 503,
      });
    }
  });
});

describe('while stopping', () => {
  it('/readyz is 503 shutting_down; routes are 503 SHUTDOWN, closing the connection', async () => {
    const fx = await appFixture();
    try {
      fx.deps.state = 'stopping';
      const ready = await fx.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'unavailable', reason: 'shutting_down' });
      const res = await fx.app.inject({ method: 'POST', url: '/', payload: ['PING'] });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'SHUTDOWN', statusCode: 503 });
      expect(res.headers.connection).toBe('close');
      expect((await fx.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await fx.close();
    }
  });
});

describe('when ready', () => {
  let fx: AppFixture;
  beforeAll(async () => {
    fx = await appFixture({ fsync: 'always' });
  });
  afterAll(() => fx.close());

  it('/readyz is 200 ready', async () => {
    const res = await fx.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('/metrics is Prometheus text with every figure the broker promises', async () => {
    // Metrics are fed by the dispatcher's observer, which server.ts wires; do it here too.
    const dispatcher = fx.deps.dispatcher;
    if (!dispatcher) throw new Error('no dispatcher');
    dispatcher.observer = (cmd, s, code) => fx.deps.metrics.observe(cmd, s, code);
    await fx.app.inject({ method: 'POST', url: '/', payload: ['RPUSH', 'q', 'a'] });
    await fx.app.inject({ method: 'POST', url: '/', payload: ['XADD', 's', '*', 'f', 'v'] });
    await fx.app.inject({ method: 'POST', url: '/', payload: ['XADD', 'q', '*', 'f', 'v'] });
    const res = await fx.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    for (const name of [
      'sluice_commands_total',
      'sluice_command_errors_total',
      'sluice_command_duration_seconds',
      'sluice_fsync_duration_seconds',
      'sluice_log_bytes',
      'sluice_journal_log_bytes',
      'sluice_keys',
      'sluice_blocked_clients',
      'sluice_sse_connections',
      'sluice_slow_subscriber_disconnects_total',
      'sluice_pubsub_channels',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('sluice_commands_total{cmd="rpush"} 1');
    expect(text).toContain('sluice_command_errors_total{code="WRONGTYPE"} 1');
    expect(text).toContain('sluice_keys{type="stream"} 1');
    expect(text).toContain('sluice_keys{type="list"} 1');
    expect(text).toMatch(/sluice_log_bytes\{log="streams"\} [1-9]/);
    expect(text).toMatch(/sluice_log_bytes\{log="journal"\} [1-9]/);
    // Counted between scrapes and added at each: a second scrape shows the running totals.
    await fx.app.inject({ method: 'POST', url: '/', payload: ['RPUSH', 'q', 'b'] });
    await fx.app.inject({ method: 'POST', url: '/', payload: ['LLEN', 'q'] });
    await fx.app.inject({ method: 'POST', url: '/', payload: ['RPUSH', 'q', 'c'] });
    const again = (await fx.app.inject({ url: '/metrics' })).body;
    expect(again).toContain('sluice_commands_total{cmd="rpush"} 3');
    expect(again).toContain('sluice_commands_total{cmd="llen"} 1');
    expect(again).toContain('sluice_commands_total{cmd="xadd"} 2');
    expect(again).toMatch(/sluice_command_duration_seconds_count\{cmd="rpush"\} 3/);
  });

  it('/openapi.json is an OpenAPI document listing the routes', async () => {
    const res = await fx.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/', '/pipeline', '/healthz', '/readyz', '/metrics', '/v1/info']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('/docs answers an HTML page', async () => {
    const res = await fx.app.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<html');
  });

  it('/v1/info reports version, uptime, persistence, keys and pub/sub', async () => {
    const res = await fx.app.inject({ url: '/v1/info' });
    expect(res.statusCode).toBe(200);
    const info = res.json();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(info.persistence.fsync).toBe('always');
    expect(info.persistence.journal.logBytes).toBeGreaterThan(0);
    expect(info.keyspace).toEqual({ stream: 1, list: 1 });
    expect(info.clients).toEqual({ blocked: 0 });
    expect(info.pubsub).toMatchObject({ channels: 0, patterns: 0 });
  });
});
