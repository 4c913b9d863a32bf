// `npm start` / `sluice serve`: loads the config, opens and recovers the data directory, runs
// until SIGINT or SIGTERM, then flushes, checkpoints, releases the lock and exits 0. Recovery
// covers every stream and the lists' journal.
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { SHUTDOWN_TIMEOUT_MS } from '../limits';
import { Broker } from '../broker/broker';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'serve') argv.shift();
  const config = loadConfig(argv);
  const logger = createLogger(config.logLevel);
  const started = Date.now();
  logger.info('opening data directory', { dataDir: config.dataDir, fsync: config.fsync });
  const broker = await Broker.open({
    dataDir: config.dataDir,
    fsync: config.fsync,
    segmentBytes: config.segmentBytes,
    onCorruption: config.onCorruption,
    logger,
    onProgress: (done, total) => {
      if (Date.now() - started > 1000) logger.info('recovering streams', { done, total });
    },
  });
  logger.info('ready', {
    streams: broker.store.size,
    lists: broker.keyspace.listCount(),
    recoveryMs: Date.now() - started,
  });
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
    broker.close().then(
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
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Keeps the process alive until a signal; front ends will hold it open once they exist.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
