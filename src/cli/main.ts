// `npm start` / `sluice serve`: loads the config, starts the HTTP front end (503 until ready),
// opens and recovers the data directory, prints the bound addresses, runs until SIGINT, SIGTERM
// or the SHUTDOWN command, then stops gracefully (long-polls answered, event streams ended,
// everything flushed and fsynced, lock released) and exits 0.
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { SHUTDOWN_TIMEOUT_MS } from '../limits';
import { SluiceServer } from '../server';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'serve') argv.shift();
  const config = loadConfig(argv);
  const logger = createLogger(config.logLevel);
  logger.info('opening data directory', { dataDir: config.dataDir, fsync: config.fsync });
  const server = await SluiceServer.start({ ...config, logger });
  // One machine-readable line on stdout: scripts and the embedding API read the ports here.
  const listening = {
    http: server.httpUrl,
    ...(server.respPort !== null ? { resp: `${server.config.host}:${server.respPort}` } : {}),
  };
  process.stdout.write(`${JSON.stringify({ listening })}\n`);
  logger.info('listening', listening);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  server.onShutdownCommand = () => stop('SHUTDOWN');
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
