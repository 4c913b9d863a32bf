// Shared pieces of the RESP front end's end-to-end tests: an in-process Sluice with its RESP
// listener on a free port, a raw socket that records every byte the server sends (to compare
// Sluice's bytes with redis-server's), and the conformance families as harness scripts.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Reply } from '../../src/commands/reply';
import { SluiceServer, type ServerOptions } from '../../src/server';
import { afterAll, beforeAll } from 'vitest';
import { encodeCommand, RespClient, RespParser } from '../helpers/resp-client';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { defineCase, type ConformanceCase as HarnessCase } from '../conformance/harness';
import { cases as genericCases } from '../conformance/generic.cases';
import { cases as streamCases, casesNeedingLists } from '../conformance/streams.cases';
import { cases as groupCases } from '../conformance/groups.cases';
import { cases as listCases } from '../conformance/lists.cases';

// ---- an in-process Sluice ---------------------------------------------------------------------

export interface LocalSluice {
  readonly server: SluiceServer;
  /** The RESP port. */
  readonly port: number;
  readonly httpUrl: string;
  close(): Promise<void>;
}

/** SluiceServer on a temp dir, HTTP and RESP on free loopback ports, fsync 'no' by default. */
export async function startLocalSluice(options: ServerOptions = {}): Promise<LocalSluice> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-resp-'));
  const server = await SluiceServer.start({
    host: '127.0.0.1',
    httpPort: 0,
    respPort: 0,
    fsync: 'no',
    dataDir,
    ...options,
  });
  const port = server.respPort;
  if (port === null) throw new Error('RESP listener is off');
  return {
    server,
    port,
    httpUrl: server.httpUrl,
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 10 ms until it holds; throws with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- raw bytes --------------------------------------------------------------------------------

/** A TCP connection that keeps every byte received; for protocol tests below any client. */
export class RawConnection {
  private readonly chunks: Buffer[] = [];
  private receivedBytes = 0;
  private wake: (() => void) | null = null;
  closed = false;
  readonly ended: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.receivedBytes += chunk.length;
      this.notify();
    });
    socket.on('error', () => {});
    this.ended = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      });
    });
  }

  static connect(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawConnection(socket));
      });
    });
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks, this.receivedBytes);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  send(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Waits until `done` holds for what was received, or the connection closed; false on timeout. */
  async waitFor(done: (received: Buffer) => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (this.closed) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  }

  /** Waits for `bytes` more than `from` received bytes; false on timeout or close. */
  waitForBytes(count: number, timeoutMs = 5000): Promise<boolean> {
    return this.waitFor((r) => r.length >= count, timeoutMs);
  }

  /** True once the server closed the connection within `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.ended, timeout]);
    clearTimeout(timer);
    return this.closed;
  }

  destroy(): Promise<void> {
    this.socket.destroy();
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

export interface Exchange {
  /** Everything the server sent, as latin1 text (bytes kept one to one). */
  readonly reply: string;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` on a new connection and collects what comes back until the server closes it,
 * or until nothing more arrived for `quietMs` after `timeoutMs` at most.
 */
export async function exchange(
  port: number,
  bytes: Buffer | string,
  { quietMs = 150, timeoutMs = 3000 }: { quietMs?: number; timeoutMs?: number } = {},
): Promise<Exchange> {
  const conn = await RawConnection.connect(port);
  conn.send(bytes);
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (!conn.closed && Date.now() < deadline) {
    const now = conn.received.length;
    if (now === seen) break;
    seen = now;
    await conn.waitClosed(quietMs);
  }
  const result = { reply: conn.text, closed: conn.closed };
  await conn.destroy();
  return result;
}

/** Writes a command as RESP (an array of bulk strings), latin1 so any byte can be given. */
export function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const bytes = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

// ---- conformance scripts ----------------------------------------------------------------------

/** The shape the *.cases.ts files share. */
interface DataCase {
  readonly name: string;
  readonly commands: readonly (readonly string[])[];
  readonly unordered?: boolean;
}

/** Every family of scripted cases, as harness cases ready for runCase(). */
export const conformanceFamilies: ReadonlyArray<readonly [string, readonly HarnessCase[]]> = (
  [
    ['generic', genericCases],
    ['streams', [...streamCases, ...casesNeedingLists]],
    ['groups', groupCases],
    ['lists', listCases],
  ] as const
).map(([family, cases]: readonly [string, readonly DataCase[]]) => [
  family,
  cases.map((c) => defineCase(c.name, c.commands, { unordered: c.unordered })),
]);

/** A generated stream ID (ms from the clock, 10+ digits) anywhere in text. */
const GENERATED_ID_IN_TEXT = /(?<![\d-])\d{10,}-\d+(?![\d-])/g;

/** Replaces generated stream IDs with `<id:N>`, numbered by first appearance. */
export function normaliseIdsInText(text: string): string {
  const tokens = new Map<string, string>();
  return text.replace(GENERATED_ID_IN_TEXT, (id) => {
    let token = tokens.get(id);
    if (token === undefined) {
      token = `<id:${tokens.size + 1}>`;
      tokens.set(id, token);
    }
    return token;
  });
}

/** After the last step of a raw session, how long nothing more must arrive. */
const FINAL_QUIET_MS = 100;

/** How rawSession() runs; with keepOpen the connection is handed back instead of closed. */
export interface RawSessionOptions {
  readonly prelude?: readonly (Buffer | string)[];
  readonly quietMs?: number;
  readonly keepOpen?: boolean;
  /**
   * How many replies each script step answers: the step waits for that many before its quiet
   * wait (a quiet gap alone can end a step early on a loaded machine).
   */
  readonly replies?: readonly number[];
}

/**
 * One connection's view of a scripted exchange: sends `prelude` (e.g. HELLO 3) and waits until
 * it is answered, then sends each step of `script` in turn, waiting for quiet after each, and
 * returns what the server sent for the script only (and whether it closed the connection).
 */
export async function rawSession(
  port: number,
  script: readonly (Buffer | string)[],
  { prelude = [], quietMs = 20, keepOpen = false, replies = [] }: RawSessionOptions = {},
): Promise<Exchange & { readonly conn?: RawConnection }> {
  const conn = await RawConnection.connect(port);
  try {
    for (const bytes of prelude) await sendAndSettle(conn, bytes, quietMs);
    const from = conn.received.length;
    for (const [i, bytes] of script.entries()) {
      await sendAndSettle(conn, bytes, quietMs, replies[i] ?? 1);
    }
    await conn.waitClosed(FINAL_QUIET_MS); // a late tail of the last reply
    const reply = conn.received.subarray(from).toString('latin1');
    return keepOpen ? { reply, closed: conn.closed, conn } : { reply, closed: conn.closed };
  } finally {
    if (!keepOpen) await conn.destroy();
  }
}

async function sendAndSettle(
  conn: RawConnection,
  bytes: Buffer | string,
  quietMs: number,
  replies = 1,
) {
  if (conn.closed) return;
  const before = conn.received.length;
  conn.send(bytes);
  // The first reply byte (or as many replies as the step answers), then quiet for quietMs.
  await conn.waitFor(
    (r) => r.length > before && (replies <= 1 || countReplies(r.subarray(before)) >= replies),
    replies <= 1 ? 2000 : 10_000,
  );
  for (let seen = -1; seen !== conn.received.length && !conn.closed;) {
    seen = conn.received.length;
    await conn.waitClosed(quietMs);
  }
}

/** The complete replies at the start of `bytes`. */
function countReplies(bytes: Buffer): number {
  let n = 0;
  const parser = new RespParser(() => n++);
  try {
    parser.feed(bytes);
  } catch {
    return Infinity; // not RESP: nothing to wait for
  }
  return n;
}

/**
 * Every reply and push a connection receives, in arrival order: for RESP3 subscribers, whose
 * SUBSCRIBE confirmations arrive as pushes and so never answer a RespClient call.
 */
export class ReplyStream {
  readonly frames: Reply[] = [];
  private taken = 0;

  private constructor(private readonly conn: RawConnection) {
    const parser = new RespParser((r) => this.frames.push(r));
    conn.socket.on('data', (chunk: Buffer) => parser.feed(chunk));
  }

  static async connect(port: number, resp: 2 | 3 = 2): Promise<ReplyStream> {
    const stream = new ReplyStream(await RawConnection.connect(port));
    if (resp === 3) {
      stream.send('HELLO', '3');
      await stream.next();
    }
    return stream;
  }

  send(...args: (string | Buffer)[]): void {
    this.conn.send(encodeCommand(args));
  }

  /** The client's socket (to pause reading, say). */
  get socket(): net.Socket {
    return this.conn.socket;
  }

  /** The next frame not yet taken (a reply or a push). */
  async next(timeoutMs = 5000): Promise<Reply> {
    const ok = await this.conn.waitFor(() => this.frames.length > this.taken, timeoutMs);
    if (!ok) throw new Error('no frame arrived');
    return this.frames[this.taken++]!;
  }

  /** Sends a command and takes the next frame (its reply, if no push comes first). */
  async call(...args: (string | Buffer)[]): Promise<Reply> {
    this.send(...args);
    return this.next();
  }

  close(): Promise<void> {
    return this.conn.destroy();
  }
}

/** A reply as plain values: bulks as strings, ints as numbers, aggregates as arrays. */
export function plain(r: Reply): unknown {
  switch (r.t) {
    case 'bulk':
      return r.v.toString('latin1');
    case 'int':
      return Number(r.v);
    case 'simple':
    case 'double':
      return r.v;
    case 'error':
      return `-${r.v}`;
    case 'null':
    case 'nullarray':
      return null;
    case 'map':
      return r.v.map(([k, v]) => [plain(k), plain(v)]);
    default:
      return r.v.map(plain);
  }
}

/** A redis-server and a Sluice for one file's tests: started before them, stopped after. */
export function redisAndSluice(): { readonly redis: RedisServer; readonly sluice: LocalSluice } {
  const servers = {} as { redis: RedisServer; sluice: LocalSluice };
  beforeAll(async () => {
    [servers.redis, servers.sluice] = await Promise.all([startRedis(), startLocalSluice()]);
  });
  afterAll(async () => {
    await Promise.all([servers.sluice?.close(), servers.redis?.stop()]);
  });
  return servers;
}

// ---- a client blocked on keys while another writes --------------------------------------------

/** A command run in a database, as `db command words...`. */
export type InDb = readonly [number, string];

export interface BlockedScenario {
  /** Commands run before the client blocks. */
  readonly setup: readonly InDb[];
  /** The blocking command and the database its client selected. */
  readonly block: InDb;
  /**
   * Run in database 0 once the client is blocked (default: SWAPDB 0 1); a SELECT 0 comes before
   * each line (queued, inside MULTI).
   */
  readonly swap?: readonly string[];
  /** Run afterwards, to see where the data went. */
  readonly after?: readonly InDb[];
}

const blockedClients = (info: string) => Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);

/**
 * On one server: a client blocks (`block`) after `setup`, then `swap` runs in database 0; the
 * replies of `swap`, what the blocked client got, and the `after` replies.
 */
export async function blockedScenario(port: number, s: BlockedScenario): Promise<unknown[]> {
  const setup = await RespClient.connect(port);
  const blocked = await RespClient.connect(port);
  try {
    const run = async ([db, line]: InDb) => {
      await setup.call('SELECT', String(db));
      return plain(await setup.call(...line.split(' ')));
    };
    await setup.call('FLUSHALL');
    for (const step of s.setup) await run(step);
    await blocked.call('SELECT', String(s.block[0]));
    const reply = blocked.call(...s.block[1].split(' '));
    await eventually('the client to block', async () => {
      const info = plain(await setup.call('INFO', 'clients')) as string;
      return blockedClients(info) === 1;
    });
    const swapped: unknown[] = [];
    for (const line of s.swap ?? ['SWAPDB 0 1']) swapped.push(await run([0, line]));
    const got = plain(await reply);
    const after: unknown[] = [];
    for (const step of s.after ?? []) after.push(await run(step));
    return [swapped, got, after];
  } finally {
    await Promise.all([setup.close(), blocked.close()]);
  }
}
