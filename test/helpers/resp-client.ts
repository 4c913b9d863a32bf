// A minimal RESP2/RESP3 client for tests, and the resumable reply parser it uses (exported on
// its own so the RESP front end's tests can reuse it). Replies come back as the protocol-neutral
// `Reply` values of src/commands/reply.ts; error replies are values, never thrown.
//
// Mapping of RESP3 types without a `Reply` of their own: booleans `#t`/`#f` become int 1/0, big
// numbers `(` become int with a bigint, verbatim strings `=` become bulk without the `txt:`
// prefix, blob errors `!` become error, attributes `|` are parsed and dropped.
import net from 'node:net';
import type { Reply } from '../../src/commands/reply';

export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

export interface RespParserOptions {
  /** Longest header line or simple string/error; Redis caps its own error texts far below. */
  readonly maxLineBytes?: number;
  /** Largest bulk string; 512 MiB is Redis's default proto-max-bulk-len. */
  readonly maxBulkBytes?: number;
  /** Deepest nesting of aggregates; Redis's deepest replies (XINFO STREAM FULL) nest ~6. */
  readonly maxDepth?: number;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const DEFAULT_MAX_BULK_BYTES = 512 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 1024;
const EMPTY = Buffer.alloc(0);
const CR = 0x0d;
const LF = 0x0a;

type AggregateKind = 'array' | 'set' | 'map' | 'push' | 'attr';

interface Frame {
  readonly kind: AggregateKind;
  /** Replies still expected: twice the pair count for maps and attributes. */
  remaining: number;
  readonly items: Reply[];
}

/** What a bulk payload becomes once complete: `$`, `=` (verbatim) or `!` (blob error). */
type BulkKind = 'bulk' | 'verbatim' | 'bloberror';

const AGGREGATE_KINDS: Readonly<Record<string, AggregateKind>> = {
  '*': 'array',
  '~': 'set',
  '%': 'map',
  '>': 'push',
  '|': 'attr',
};
const BULK_KINDS: Readonly<Record<string, BulkKind>> = {
  $: 'bulk',
  '=': 'verbatim',
  '!': 'bloberror',
};

/**
 * Resumable RESP2/RESP3 reply parser: feed it chunks split anywhere; each complete top-level
 * reply goes to `onReply` in order. It keeps at most one partial header line and one partial
 * bulk payload (filled in place, never re-copied). After a protocol error it stays failed.
 */
export class RespParser {
  private pending: Buffer = EMPTY;
  private bulk: Buffer | null = null;
  private bulkFilledBytes = 0;
  private bulkKind: BulkKind = 'bulk';
  private readonly stack: Frame[] = [];
  private failure: unknown = null;
  private readonly maxLineBytes: number;
  private readonly maxBulkBytes: number;
  private readonly maxDepth: number;

  constructor(
    private readonly onReply: (reply: Reply) => void,
    options: RespParserOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxBulkBytes = options.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /** True when no reply is partially parsed. */
  get idle(): boolean {
    return this.pending.length === 0 && this.bulk === null && this.stack.length === 0;
  }

  feed(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.consume(chunk);
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  private consume(chunk: Buffer): void {
    let data = chunk;
    if (this.pending.length > 0) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = EMPTY;
    }
    let pos = 0;
    while (pos < data.length) {
      if (this.bulk !== null) {
        pos = this.fillBulk(data, pos);
        continue;
      }
      const eol = data.indexOf(LF, pos);
      if (eol < 0) {
        if (data.length - pos > this.maxLineBytes) this.fail('header line too long');
        this.pending = Buffer.from(data.subarray(pos)); // a copy: don't pin the whole chunk
        return;
      }
      if (eol - pos > this.maxLineBytes) this.fail('header line too long');
      if (eol === pos || data[eol - 1] !== CR) this.fail('line not terminated by CRLF');
      const type = String.fromCharCode(data[pos]!);
      const line = data.toString('utf8', pos + 1, eol - 1);
      pos = eol + 1;
      this.header(type, line);
    }
  }

  private header(type: string, line: string): void {
    const aggregate = AGGREGATE_KINDS[type];
    if (aggregate !== undefined) return this.startAggregate(aggregate, line);
    const bulkKind = BULK_KINDS[type];
    if (bulkKind !== undefined) return this.startBulk(bulkKind, line);
    switch (type) {
      case '+':
        return this.emit({ t: 'simple', v: line });
      case '-':
        return this.emit({ t: 'error', v: line });
      case ':':
      case '(':
        return this.emit({ t: 'int', v: this.integer(line) });
      case '_':
        if (line !== '') this.fail(`bad null line '${line}'`);
        return this.emit({ t: 'null' });
      case '#':
        if (line !== 't' && line !== 'f') this.fail(`bad boolean '${line}'`);
        return this.emit({ t: 'int', v: line === 't' ? 1 : 0 });
      case ',':
        return this.emit({ t: 'double', v: this.double(line) });
      default:
        this.fail(`unknown type byte '${type}'`);
    }
  }

  private startAggregate(kind: AggregateKind, line: string): void {
    const count = this.length(line);
    if (count < 0) {
      if (kind !== 'array') this.fail(`negative length for ${kind}`);
      return this.emit({ t: 'nullarray' });
    }
    if (this.stack.length >= this.maxDepth) this.fail('replies nested too deep');
    const pairs = kind === 'map' || kind === 'attr';
    if (count === 0) {
      if (kind !== 'attr') this.emit(buildAggregate(kind, []));
      return;
    }
    this.stack.push({ kind, remaining: pairs ? count * 2 : count, items: [] });
  }

  private startBulk(kind: BulkKind, line: string): void {
    const length = this.length(line);
    if (length < 0) {
      if (kind !== 'bulk') this.fail('negative length for a verbatim string or blob error');
      return this.emit({ t: 'null' });
    }
    if (length > this.maxBulkBytes) this.fail(`bulk of ${length} bytes exceeds the limit`);
    this.bulk = Buffer.allocUnsafe(length + 2);
    this.bulkFilledBytes = 0;
    this.bulkKind = kind;
  }

  private fillBulk(data: Buffer, pos: number): number {
    const bulk = this.bulk!;
    const missingBytes = bulk.length - this.bulkFilledBytes;
    const copied = data.copy(bulk, this.bulkFilledBytes, pos, pos + missingBytes);
    this.bulkFilledBytes += copied;
    if (this.bulkFilledBytes < bulk.length) return pos + copied;
    this.bulk = null;
    if (bulk[bulk.length - 2] !== CR || bulk[bulk.length - 1] !== LF) {
      this.fail('bulk payload not terminated by CRLF');
    }
    const payload = bulk.subarray(0, bulk.length - 2);
    if (this.bulkKind === 'bloberror') this.emit({ t: 'error', v: payload.toString('utf8') });
    else if (this.bulkKind === 'bulk') this.emit({ t: 'bulk', v: payload });
    else {
      // Verbatim: a 3-byte format ("txt", "mkd") and ':' precede the text.
      if (payload.length < 4 || payload[3] !== 0x3a) this.fail('verbatim string without format');
      this.emit({ t: 'bulk', v: payload.subarray(4) });
    }
    return pos + copied;
  }

  private emit(reply: Reply): void {
    let value = reply;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        this.onReply(value);
        return;
      }
      top.items.push(value);
      top.remaining -= 1;
      if (top.remaining > 0) return;
      this.stack.pop();
      // An attribute describes the reply that follows it; tests have no use for it.
      if (top.kind === 'attr') return;
      value = buildAggregate(top.kind, top.items);
    }
  }

  private length(line: string): number {
    if (!/^-?\d{1,12}$/.test(line)) this.fail(`bad length '${line}'`);
    const n = Number(line);
    if (n < -1) this.fail(`bad length '${line}'`);
    return n;
  }

  private integer(line: string): number | bigint {
    if (!/^[-+]?\d+$/.test(line)) this.fail(`bad integer '${line}'`);
    const big = BigInt(line);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  private double(line: string): number {
    const lower = line.toLowerCase();
    if (lower === 'inf' || lower === '+inf') return Infinity;
    if (lower === '-inf') return -Infinity;
    if (lower === 'nan' || lower === '-nan') return NaN;
    const n = Number(line);
    if (line === '' || Number.isNaN(n)) this.fail(`bad double '${line}'`);
    return n;
  }

  private fail(message: string): never {
    throw new RespProtocolError(message);
  }
}

function buildAggregate(kind: Exclude<AggregateKind, 'attr'>, items: Reply[]): Reply {
  if (kind !== 'map') return { t: kind, v: items };
  const pairs: (readonly [Reply, Reply])[] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
  return { t: 'map', v: pairs };
}

/** A command as RESP sends it: an array of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export interface RespClientOptions {
  /** 3 sends HELLO 3 after connecting; 2 (the default) sends nothing. */
  readonly resp?: 2 | 3;
  /**
   * Receives RESP3 push replies, and any reply that arrives while no call waits (RESP2 pub/sub
   * messages). Without it they are dropped. A RESP2 subscriber whose messages can arrive while
   * a call is pending would get them as that call's reply: keep such tests on RESP3.
   */
  readonly onPush?: (push: Reply) => void;
}

interface Waiter {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
}

/** A test client on 127.0.0.1. Calls may be pipelined: replies are matched to calls FIFO. */
export class RespClient {
  private readonly waiting: Waiter[] = [];
  private readonly parser: RespParser;
  private closedError: Error | null = null;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    private readonly onPush: ((push: Reply) => void) | undefined,
  ) {
    this.parser = new RespParser((reply) => this.deliver(reply));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        this.shutdown(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => this.shutdown(err));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.shutdown(new Error('connection closed'));
        resolve();
      });
    });
  }

  static async connect(port: number, options: RespClientOptions = {}): Promise<RespClient> {
    const socket = await openSocket(port);
    const client = new RespClient(socket, options.onPush);
    if (options.resp === 3) {
      const hello = await client.call('HELLO', '3');
      if (hello.t === 'error') {
        await client.close();
        throw new Error(`HELLO 3 refused: ${hello.v}`);
      }
    }
    return client;
  }

  call(...args: (string | Buffer)[]): Promise<Reply> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Closes the connection; calls still waiting are rejected. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  private deliver(reply: Reply): void {
    const waiter = reply.t === 'push' ? undefined : this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(reply);
    else this.onPush?.(reply);
  }

  private shutdown(err: Error): void {
    if (this.closedError === null) this.closedError = err;
    for (const waiter of this.waiting.splice(0)) waiter.reject(err);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
