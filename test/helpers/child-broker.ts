// Drives test/fixtures/broker-child.ts: a real broker process that tests can kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { JsonReply } from '../fixtures/broker-child';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'broker-child.ts');

export class ChildBroker {
  private readonly pending: Array<(r: JsonReply) => void> = [];
  private exited: Promise<void>;

  private constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  static async start(dataDir: string, fsync = 'always'): Promise<ChildBroker> {
    const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, fsync], {
      cwd: path.join(import.meta.dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const child = new ChildBroker(proc);
    const lines = readline.createInterface({ input: proc.stdout! });
    await new Promise<void>((resolve, reject) => {
      proc.once('exit', (code) => reject(new Error(`broker child exited early (${code})`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; reply?: JsonReply };
        if (msg.ready) resolve();
        else child.pending.shift()?.(msg.reply as JsonReply);
      });
    });
    return child;
  }

  /** Sends a command; resolves with its reply (never, if the process dies first). */
  call(...args: (string | Buffer)[]): Promise<JsonReply> {
    const line = JSON.stringify(args.map((a) => Buffer.from(a).toString('base64')));
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.proc.stdin!.write(`${line}\n`);
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
