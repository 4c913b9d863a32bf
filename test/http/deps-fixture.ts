// An HTTP app over a real broker without listening, for inject() tests that need to set the
// server's state by hand (recovering, stopping) or add a route of their own before ready.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Broker } from '../../src/broker/broker';
import { buildCommandTable, Dispatcher, type Session } from '../../src/commands';
import { defaultConfig, type Config } from '../../src/config';
import { buildApp } from '../../src/http/app';
import type { HttpDeps, ServerState } from '../../src/http/deps';
import { Metrics } from '../../src/http/metrics';
import { silentLogger } from '../../storage/errors';

export interface AppFixture {
  readonly deps: HttpDeps;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds deps and the app. `state: 'recovering'` leaves the broker closed (as during start);
 * `extra` may add routes before the app is readied.
 */
export async function appFixture(
  options: Partial<Config> & { state?: ServerState } = {},
  extra?: (app: FastifyInstance) => void,
): Promise<AppFixture> {
  const { state = 'ready', ...rest } = options;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-http-'));
  const config: Config = { ...defaultConfig(), fsync: 'no', ...rest, dataDir };
  let sessions = 0;
  const deps: HttpDeps = {
    config,
    logger: silentLogger,
    metrics: new Metrics(() => deps.broker),
    broker: null,
    dispatcher: null,
    state,
    stopping: new AbortController(),
    sessionId: () => ++sessions,
    session: (abort?: AbortSignal): Session => ({
      id: deps.sessionId(),
      db: 0,
      name: null,
      resp: 2,
      abort,
    }),
  };
  if (state !== 'recovering') {
    const broker = await Broker.open({ dataDir, fsync: config.fsync });
    deps.broker = broker;
    deps.dispatcher = new Dispatcher(buildCommandTable(), broker, {
      maxBlockMs: config.maxBlockMs,
    });
  }
  const app = await buildApp(deps);
  extra?.(app);
  await app.ready();
  return {
    deps,
    app,
    async close() {
      await app.close();
      await deps.broker?.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
