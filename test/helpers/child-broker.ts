// Drives test/fixtures/broker-child.ts: a real broker process that tests can kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { JsonReply } from '../fixtures/broker-child';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'broker-child.ts');

export class ChildBroker {
  private readonly pending = new Map<number, Array<(r: JsonReply) => void>>();
  private exited: Promise<void>;

  private constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  static async start(dataDir: string, fsync = 'always'): Promise<ChildBroker> {
    const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, fsync], {
      cwd: path.join(import.meta.dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // A command written as the process is killed fails with EPIPE: it stays unanswered, which
    // the crash tests expect of a command in flight.
    proc.stdin!.on('error', () => {});
    const child = new ChildBroker(proc);
    const lines = readline.createInterface({ input: proc.stdout! });
    await new Promise<void>((resolve, reject) => {
      proc.once('exit', (code) => reject(new Error(`broker child exited early (${code})`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; s?: number; reply?: JsonReply };
        if (msg.ready) resolve();
        else child.pending.get(msg.s ?? 0)?.shift()?.(msg.reply as JsonReply);
      });
    });
    return child;
  }

  /** Sends a command in session 0; resolves with its reply (never, if the process dies first). */
  call(...args: (string | Buffer)[]): Promise<JsonReply> {
    return this.callIn(0, ...args);
  }

  /** Sends a command in client session `s` (each session is like one connection). */
  callIn(s: number, ...args: (string | Buffer)[]): Promise<JsonReply> {
    const a = args.map((x) => Buffer.from(x).toString('base64'));
    let queue = this.pending.get(s);
    if (!queue) this.pending.set(s, (queue = []));
    const q = queue;
    return new Promise((resolve) => {
      q.push(resolve);
      this.proc.stdin!.write(`${JSON.stringify({ s, a })}\n`);
    });
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.proc.stdin!.end();
    await this.exited;
  }
}
