// The Sluice server in one process: the HTTP front end first (answering 503 while recovering,
// so /readyz tells orchestrators when to send traffic), then the broker: lock, recovery, ready.
// Stopping ends long-polls with their timeout reply and event streams with a final event,
// drains HTTP, then flushes and fsyncs everything and releases the lock.
import { setMaxListeners } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { Broker } from './broker/broker';
import { buildCommandTable, Dispatcher, type Session } from './commands';
import { defaultConfig, type Config } from './config';
import { installKeyspaceNotifications } from './commands/notifications';
import { buildApp } from './http/app';
import type { HttpDeps } from './http/deps';
import { Metrics } from './http/metrics';
import { timedIo } from './http/timed-io';
import { silentLogger, type Logger } from '../storage/errors';
import { nodeIo } from '../storage/io';
import { RespServer } from './resp/server';

export interface ServerOptions extends Partial<Config> {
  readonly logger?: Logger;
}

/** Addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Every request listens on it while in flight: no listener cap (MaxListenersExceeded). */
function stoppingController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  return ac;
}

/** Idle keep-alive sockets get this long to finish before they are cut at stop. */
const CLOSE_GRACE_MS = 1000;

/** Waits at most this long for recovery progress before logging it. */
const PROGRESS_AFTER_MS = 1000;

export class SluiceServer {
  private stopped: Promise<void> | null = null;
  /**
   * What the SHUTDOWN command does: a graceful stop. The CLI replaces it with its own, which
   * then exits the process as at SIGTERM.
   */
  onShutdownCommand: () => void = () => {
    this.stop().catch((err: unknown) => {
      this.deps.logger.error('shutdown failed', { err: String(err) });
    });
  };
  /** The Redis-protocol listener; null with --no-resp. */
  resp: RespServer | null = null;

  private constructor(
    readonly config: Config,
    readonly deps: HttpDeps,
    readonly app: FastifyInstance,
    readonly httpPort: number,
  ) {}

  get httpUrl(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.httpPort}`;
  }

  /** The bound RESP port, or null when RESP is off. */
  get respPort(): number | null {
    return this.resp?.port ?? null;
  }

  get broker(): Broker {
    if (!this.deps.broker) throw new Error('broker not open');
    return this.deps.broker;
  }

  static async start(options: ServerOptions = {}): Promise<SluiceServer> {
    const { logger = silentLogger, ...rest } = options;
    const config: Config = { ...defaultConfig(), ...rest };
    if (!isLoopback(config.host) && !config.token && !config.insecureNoAuth) {
      throw new Error(
        `refusing to listen on ${config.host} without --token ` +
          '(pass --insecure-no-auth to allow it anyway)',
      );
    }
    let sessions = 0;
    const deps: HttpDeps = {
      config,
      logger,
      metrics: new Metrics(() => deps.broker),
      broker: null,
      dispatcher: null,
      state: 'recovering',
      stopping: stoppingController(),
      sessionId: () => ++sessions,
      session: (abort?: AbortSignal): Session => ({
        id: deps.sessionId(),
        db: 0,
        name: null,
        resp: 2,
        abort,
      }),
    };
    const app = await buildApp(deps);
    await app.listen({ host: config.host, port: config.httpPort });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.httpPort;
    const server = new SluiceServer(config, deps, app, port);
    try {
      await server.openBroker(logger);
    } catch (err) {
      await app.close();
      throw err;
    }
    return server;
  }

  private async openBroker(logger: Logger): Promise<void> {
    const { config, deps } = this;
    const started = Date.now();
    const broker = await Broker.open({
      dataDir: config.dataDir,
      fsync: config.fsync,
      segmentBytes: config.segmentBytes,
      onCorruption: config.onCorruption,
      logger,
      io: timedIo(nodeIo, (seconds) => deps.metrics.fsyncSeconds.observe(seconds)),
      onProgress: (done, total) => {
        if (Date.now() - started > PROGRESS_AFTER_MS) {
          logger.info('recovering streams', { done, total });
        }
      },
    });
    const dispatcher = new Dispatcher(buildCommandTable(), broker, {
      maxBlockMs: config.maxBlockMs,
    });
    dispatcher.observer = (cmd, seconds, code) => deps.metrics.observe(cmd, seconds, code);
    dispatcher.shutdownHandler = () => this.onShutdownCommand();
    installKeyspaceNotifications(dispatcher);
    if (config.resp) {
      try {
        this.resp = await RespServer.listen(broker, dispatcher, {
          host: config.host,
          port: config.respPort,
          token: config.token,
          readonlyToken: config.readonlyToken,
          logger,
        });
      } catch (err) {
        await broker.close();
        throw new Error(`cannot listen for RESP on ${config.host}:${config.respPort}: ${err}`);
      }
    }
    deps.broker = broker;
    deps.dispatcher = dispatcher;
    deps.state = 'ready';
    logger.info('ready', { recoveryMs: Date.now() - started });
  }

  /** Graceful stop: idempotent; resolves once the lock is released. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    const { deps } = this;
    deps.state = 'stopping';
    deps.stopping.abort();
    deps.broker?.blocking.abortAll();
    // app.close() waits for every socket, and a client may hold one open without a request.
    const cut = setTimeout(() => this.app.server.closeAllConnections(), CLOSE_GRACE_MS);
    await Promise.all([this.app.close(), this.resp?.close()]);
    clearTimeout(cut);
    // A command whose connection just closed may still be at work (an EXEC between its stream
    // writes and its list writes): it finishes before the storage it writes to closes.
    await deps.dispatcher?.exclusive(() => Promise.resolve());
    await deps.broker?.close();
  }
}
