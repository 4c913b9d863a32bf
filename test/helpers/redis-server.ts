// Starts real redis-server children for tests that compare Sluice with Redis: one per call, on
// 127.0.0.1 and a free port, persistence off, in its own temp dir; stop() kills it and removes
// the dir. A process exit hook kills any server a test forgot to stop.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespClient } from './resp-client';

export interface RedisServer {
  readonly port: number;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, e.g. ['--enable-debug-command', 'yes']. */
  readonly args?: readonly string[];
}

const REDIS_BIN = 'redis-server';
const MIN_MAJOR_VERSION = 7;
/** A fresh server answers PING within ~50 ms; 10 s allows for a loaded CI machine. */
const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 20;
/** Another process can take the port between our probe and redis's bind: retry a few times. */
const PORT_ATTEMPTS = 5;
/** Server output kept for error messages. */
const LOG_TAIL_BYTES = 4096;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

class Launch {
  log = '';
  exited = false;
  spawnError: NodeJS.ErrnoException | null = null;
  readonly exit: Promise<void>;

  constructor(readonly child: ChildProcess) {
    live.add(child);
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.spawnError = err;
    });
    this.exit = new Promise((resolve) => {
      child.once('close', () => {
        this.exited = true;
        live.delete(child);
        resolve();
      });
    });
  }

  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** Starts a throwaway redis-server; throws if it is not installed or does not come up. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-redis-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const launch = new Launch(spawn(REDIS_BIN, serverArgs(port, dir, options), { stdio }));
      const ready = await waitReady(launch, port).catch(async (err: unknown) => {
        await launch.kill();
        throw err;
      });
      if (ready === 'ready') return handle(launch, port, dir);
      await launch.kill();
      if (ready === 'port-taken' && attempt < PORT_ATTEMPTS) continue;
      throw new Error(`redis-server did not start on port ${port} (${ready}):\n${launch.log}`);
    }
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];

function serverArgs(port: number, dir: string, options: StartRedisOptions): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ];
}

function handle(launch: Launch, port: number, dir: string): RedisServer {
  let stopping: Promise<void> | null = null;
  return {
    port,
    stop() {
      stopping ??= (async () => {
        await launch.kill();
        await fs.rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

type Readiness = 'ready' | 'port-taken' | 'exited' | 'timed out';

async function waitReady(launch: Launch, port: number): Promise<Readiness> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(READY_POLL_MS);
    if (launch.spawnError !== null) throw notInstalled(launch.spawnError);
    if (launch.exited) return /address already in use/i.test(launch.log) ? 'port-taken' : 'exited';
    const client = await RespClient.connect(port).catch(() => null);
    if (client === null) continue;
    try {
      const pong = await client.call('PING');
      if (pong.t !== 'simple' || pong.v !== 'PONG') continue; // still loading
      await checkVersion(client);
      return 'ready';
    } finally {
      await client.close();
    }
  }
  return 'timed out';
}

async function checkVersion(client: RespClient): Promise<void> {
  const info = await client.call('INFO', 'server');
  const text = info.t === 'bulk' ? info.v.toString('utf8') : '';
  const version = /redis_version:(\d+)\.\S*/.exec(text);
  if (version === null || Number(version[1]) < MIN_MAJOR_VERSION) {
    throw new Error(`redis-server ${MIN_MAJOR_VERSION}+ is needed, found ${version?.[0]}`);
  }
}

function notInstalled(err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT') {
    return new Error(
      `${REDIS_BIN} not found on PATH: conformance tests need Redis 7 ` +
        '(apt-get install redis-server)',
    );
  }
  return new Error(`cannot run ${REDIS_BIN}: ${err.message}`);
}

/** A port that was free a moment ago: the OS picks it for a listener we close at once. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
