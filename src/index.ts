// The package's embedding API, for test suites that need a real broker: start one on a
// temporary (or given) data directory and a free port, get its URL, stop it gracefully or kill
// it abruptly, and start it again on the same directory.
//
//   const broker = await startSluice();              // child process, port 0, temp dir
//   await fetch(`${broker.url}/`, { method: 'POST', body: '["RPUSH","q","job"]' });
//   await broker.kill();                              // kill -9: what a crash looks like
//   await broker.restart();                           // same directory, new port
//   await broker.stop();                              // graceful; data kept for restart()
//   await broker.destroy();                           // stop, and remove a temporary dir
//
// `SluiceServer.start()` runs one in this process instead (no kill, but faster to start).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Config } from './config';

export { SluiceServer, type ServerOptions } from './server';
export type { Config } from './config';

/** The CLI's launcher: compiles the sources to plain JavaScript and runs them (launch.mjs). */
const LAUNCH = path.join(import.meta.dirname, 'cli', 'launch.mjs');
/**
 * V8 flags the broker runs with, here and in package.json's `start` and the `sluice` bin's
 * shebang (keep the three alike). A young generation of 2 x 32 MiB instead of 2 x 16 MiB: under
 * pipelined XADDs a fifth of what each scavenge found was still alive (a turn's commands,
 * replies and frames waiting for their write) and was promoted, to die in the old generation;
 * with the larger one XADD -P 16 took 13% less CPU per command and the resident set after a
 * million of them was 200 MB instead of 220 (A/B, 2026-12-03). Other cases: within noise.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=32'] as const;
/** How long a child broker may take to recover and listen. */
const START_TIMEOUT_MS = 60_000;

export interface StartOptions {
  /** A data directory to use; default: a new temporary one (removed by destroy()). */
  readonly dataDir?: string;
  readonly fsync?: Config['fsync'];
  readonly token?: string;
  /** More command-line flags, e.g. ['--max-block-ms', '1000']. */
  readonly args?: readonly string[];
  /** Where the broker's log lines go; default: discarded. */
  readonly stderr?: 'inherit' | 'ignore';
  /** More environment variables for the broker process (SLUICE_* settings, NODE_OPTIONS). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SluiceProcess {
  /** The HTTP base URL of the running broker (changes at restart). */
  readonly url: string;
  /** The RESP port (for redis clients: `new Redis(respPort, '127.0.0.1')`); changes at restart. */
  readonly respPort: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** SIGTERM and wait: everything acknowledged is flushed, the lock released. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash, as kill -9 or a power cut would leave the files. */
  kill(): Promise<void>;
  /** Starts the broker again on the same data directory (after stop or kill). */
  restart(): Promise<void>;
  /** stop(), then remove the data directory if it was a temporary one. */
  destroy(): Promise<void>;
  /**
   * Resolves when the current process exits, by itself (SHUTDOWN) or by a signal: its exit
   * code, or null when a signal ended it.
   */
  exited(): Promise<number | null>;
}

interface Listening {
  readonly http: string;
  readonly resp?: string;
}

function waitForUrl(child: ChildProcess): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('sluice did not start in time')),
      START_TIMEOUT_MS,
    );
    const lines = readline.createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited during start (code ${code})`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let msg: { listening?: Listening };
      try {
        msg = JSON.parse(line) as { listening?: Listening };
      } catch {
        return; // not the line we wait for
      }
      if (msg.listening) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(msg.listening);
      }
    });
  });
}

export async function startSluice(options: StartOptions = {}): Promise<SluiceProcess> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-')));
  const flags = ['--host', '127.0.0.1', '--http-port', '0', '--resp-port', '0'];
  flags.push('--data-dir', dataDir);
  if (options.fsync) flags.push('--fsync', options.fsync);
  if (options.token) flags.push('--token', options.token);
  flags.push(...(options.args ?? []));
  let child: ChildProcess;
  let exit: Promise<number | null> = Promise.resolve(null);
  let listening: Listening = { http: '' };
  const launch = async () => {
    child = spawn(process.execPath, [...SERVER_NODE_FLAGS, LAUNCH, 'serve', ...flags], {
      stdio: ['ignore', 'pipe', options.stderr ?? 'ignore'],
      env: { ...process.env, ...options.env },
    });
    const started = child;
    exit = new Promise((resolve) => started.once('exit', (code) => resolve(code)));
    listening = await waitForUrl(child);
  };
  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  try {
    await launch();
  } catch (err) {
    // A broker that did not come up is not left behind, nor is its temporary directory.
    await end('SIGKILL');
    if (temporary) await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    get url() {
      return listening.http;
    },
    get respPort() {
      return Number(listening.resp?.split(':').pop() ?? 0);
    },
    dataDir,
    get pid() {
      return child.pid;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: launch,
    exited: () => exit,
    async destroy() {
      await end('SIGTERM');
      if (temporary) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
