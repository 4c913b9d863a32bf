// The RESP request parser: turns the bytes a client sends into commands (arrays of arguments),
// as Redis 7.0's processMultibulkBuffer and processInlineBuffer (networking.c) do, errors included.
//
// Resumable: chunks may be split anywhere; the state between them is the command being read
// (its finished arguments, the remaining count) plus at most one partial header line (bounded by
// maxInlineBytes) or one partial bulk. Pull-based: `feed()` only queues, `next()` parses one
// command at a time, so the server can flip `authenticated` between commands as Redis does.
//
// Where Redis's behaviour depends on how its reads happen to be cut, this parser decides from
// the bytes alone, so that every split of the stream gives the same commands:
// - 'too big inline request' (and the two count-line variants): Redis checks only when a read
//   leaves no line terminator buffered, so a longer line that arrives in one read passes. Here a
//   line errs exactly when more than maxInlineBytes precede its terminator.
// Quirks kept on purpose because clients can observe them:
// - The line after `*`/`$` ends at the first CR; the byte after it is skipped unchecked, and
//   so are the 2 bytes after each bulk payload (`$3\r\nfooXX` is accepted).
// - Redis finds line ends with strchr(), which stops at a NUL byte: a header or inline line with
//   a NUL before its terminator never completes, and the connection errs once more than
//   maxInlineBytes are buffered behind it ('stuck' below).
import { CommandError } from '../errors';

/** PROTO_INLINE_MAX_SIZE: the longest inline command or count line without its terminator. */
export const PROTO_INLINE_MAX_BYTES = 64 * 1024;
/** proto-max-bulk-len default: the largest argument a client may send. */
export const PROTO_MAX_BULK_BYTES = 512 * 1024 * 1024;
/** Redis refuses `*<n>` above INT_MAX. */
export const PROTO_MAX_MULTIBULK_COUNT = 2 ** 31 - 1;
/** Before AUTH (when a password is set) Redis allows only this many arguments per command... */
export const PROTO_UNAUTH_MAX_MULTIBULK_COUNT = 10;
/** ...and arguments up to this size (CVE-2021-32675). */
export const PROTO_UNAUTH_MAX_BULK_BYTES = 16384;
/**
 * PROTO_MBULK_BIG_ARG: a payload split over chunks below this size is copied into a buffer of
 * its exact size at once; a bigger one is kept as views of the chunks that carried it (memory
 * follows the bytes received, never the declared length) and joined once, exactly sized.
 */
export const PROTO_MBULK_BIG_ARG_BYTES = 32 * 1024;

/** A protocol error: the server sends `-<message>` and closes the connection. */
export class ProtocolError extends CommandError {
  constructor(message: string) {
    super(message, 400);
    this.name = 'ProtocolError';
  }
}

/** Redis 7.0's exact texts, wire-ready: CR and LF shown as spaces, as addReplyErrorFormat does. */
export const ProtocolErrors = {
  tooBigInline: () => new ProtocolError('ERR Protocol error: too big inline request'),
  unbalancedQuotes: () => new ProtocolError('ERR Protocol error: unbalanced quotes in request'),
  tooBigCount: () => new ProtocolError('ERR Protocol error: too big mbulk count string'),
  invalidCount: () => new ProtocolError('ERR Protocol error: invalid multibulk length'),
  unauthCount: () => new ProtocolError('ERR Protocol error: unauthenticated multibulk length'),
  tooBigBulkCount: () => new ProtocolError('ERR Protocol error: too big bulk count string'),
  expectedDollar: (byte: number) => {
    const shown = byte === CR || byte === LF ? ' ' : String.fromCharCode(byte);
    return new ProtocolError(`ERR Protocol error: expected '$', got '${shown}'`);
  },
  invalidBulkLength: () => new ProtocolError('ERR Protocol error: invalid bulk length'),
  unauthBulkLength: () => new ProtocolError('ERR Protocol error: unauthenticated bulk length'),
} as const;

export interface RequestParserOptions {
  /** Longest inline command or `*`/`$` line; default PROTO_INLINE_MAX_BYTES. */
  readonly maxInlineBytes?: number;
  /** Largest argument (proto-max-bulk-len); default PROTO_MAX_BULK_BYTES. */
  readonly maxBulkBytes?: number;
  /** False while the client still has to AUTH: Redis's tighter limits apply. Default true. */
  readonly authenticated?: boolean;
}

/**
 * Arguments are views made the way Node makes its own Buffers (lib/buffer.js FastBuffer): a
 * Uint8Array subclass under Buffer.prototype whose `constructor` is Buffer, so they are Buffers
 * to every test (isBuffer, instanceof, .constructor) and their own subarray()s are plain
 * Buffers. Constructing one costs less than half of buf.subarray(), whose species lookup is
 * the slowest step of parsing a small command.
 */
class ArgView extends Uint8Array {}
Object.setPrototypeOf(ArgView.prototype, Buffer.prototype);
Object.defineProperty(ArgView.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  configurable: true,
});

/** buf[start, end) as a Buffer sharing its memory (what buf.subarray() returns, faster). */
function view(buf: Buffer, start: number, end: number): Buffer {
  const memory = buf.buffer as ArrayBuffer;
  return new ArgView(memory, buf.byteOffset + start, end - start) as unknown as Buffer;
}

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const STAR = 0x2a;
const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);
/** First size of the partial-line buffer; it doubles up to maxInlineBytes. */
const LINE_BUFFER_INITIAL_BYTES = 256;
/** Redis sizes argv for min(count, 1024) arguments up front. */
const ARGS_PREALLOCATED_COUNT = 1024;
/** Consumed slots at the head of the chunk queue before it is compacted. */
const QUEUE_COMPACT_SLOTS = 64;
/** A partial-line buffer grown past this is dropped once its line is complete. */
const LINE_BUFFER_KEEP_BYTES = 4096;

// Parser states. A header line in progress may sit in `line` (see collectLine).
const START = 0; // between commands: the next byte picks multibulk or inline
const COUNT = 1; // the `*<count>` line
const BULK_HEADER = 2; // a `$<length>` line
const BULK_DATA = 3; // payload bytes of the current argument
const BULK_SKIP = 4; // the 2 unchecked bytes after a payload
const INLINE = 5; // an inline command line
const STUCK = 6; // a NUL hides the line end: count bytes until the limit, then fail
const FAILED = 7;

/** Which line kind a STUCK parser was reading: picks the error it ends with. */
type StuckKind = typeof COUNT | typeof BULK_HEADER | typeof INLINE;

/**
 * Resumable RESP request parser. `feed()` queues chunks (never copied); `next()` returns the
 * next complete command, a ProtocolError (sticky: the connection must be closed), or null when
 * more bytes are needed.
 *
 * Arguments are usually views into the fed chunks (zero copy): callers copy what they keep
 * beyond the command, or they pin the chunk. The parser never writes into a buffer it handed
 * out, so arguments stay valid however many commands follow.
 */
export class RequestParser {
  /** Flip to true after a successful AUTH (Redis's authRequired() turning false). */
  authenticated: boolean;
  private readonly maxInlineBytes: number;
  private readonly maxBulkBytes: number;

  private buf: Buffer = EMPTY;
  private pos = 0;
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  private queuedBytes = 0;

  private state = START;
  private args: Buffer[] = [];
  private argsCount = 0;
  private argsLeft = 0;
  private bulkLength = 0;
  // A payload split over chunks: small ones fill `bulkCopy`, big ones collect `bulkParts`.
  private bulkCopy: Buffer | null = null;
  private bulkParts: Buffer[] | null = null;
  private bulkFilledBytes = 0;
  private skipLeft = 0;
  private pendingArg: Buffer = EMPTY;
  // A header line split over chunks: bytes before its terminator, and for CR-ended lines
  // whether the CR was seen (Redis then wants one more byte, whatever it is).
  private line: Buffer = EMPTY;
  private lineLength = 0;
  private lineCrSeen = false;
  // After collectLine(): where the completed line's bytes are (terminator excluded).
  private lineSrc: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;
  private stuckKind: StuckKind = INLINE;
  private stuckBytes = 0;
  private failure: ProtocolError | null = null;

  constructor(options: RequestParserOptions = {}) {
    this.maxInlineBytes = options.maxInlineBytes ?? PROTO_INLINE_MAX_BYTES;
    this.maxBulkBytes = options.maxBulkBytes ?? PROTO_MAX_BULK_BYTES;
    this.authenticated = options.authenticated ?? true;
  }

  /** Bytes fed but not parsed yet (the server pauses reading when this grows). */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.queuedBytes;
  }

  /** Queues a chunk; the parser keeps a reference, never a copy. Ignored after an error. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0 || this.failure !== null) return;
    if (this.pos >= this.buf.length && this.queueHead === this.queue.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
    }
  }

  /** The next command, a ProtocolError (returned again on every later call), or null. */
  next(): Buffer[] | ProtocolError | null {
    if (this.failure !== null) return this.failure;
    for (;;) {
      if (this.pos >= this.buf.length && !this.nextChunk()) return null;
      const out = this.step();
      if (out !== undefined) return out;
    }
  }

  private nextChunk(): boolean {
    if (this.queueHead === this.queue.length) {
      this.buf = EMPTY; // don't pin a consumed chunk
      this.pos = 0;
      if (this.queueHead > 0) this.queue.length = this.queueHead = 0;
      return false;
    }
    const chunk = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = EMPTY;
    this.queuedBytes -= chunk.length;
    if (this.queueHead >= QUEUE_COMPACT_SLOTS && this.queueHead * 2 >= this.queue.length) {
      this.queue.splice(0, this.queueHead); // a caller that never drains to null
      this.queueHead = 0;
    }
    this.buf = chunk;
    this.pos = 0;
    return true;
  }

  /** Advances by one state; returns a command or error when one is complete. */
  private step(): Buffer[] | ProtocolError | undefined {
    switch (this.state) {
      case START:
        this.state = this.buf[this.pos] === STAR ? COUNT : INLINE;
        return undefined;
      case COUNT:
        return this.countLine();
      case BULK_HEADER:
      case BULK_DATA:
        return this.readArgs();
      case BULK_SKIP:
        return this.bulkSkip();
      case INLINE:
        return this.inlineLine();
      case STUCK:
        return this.stuck();
      default:
        return this.failure ?? undefined;
    }
  }

  private countLine(): ProtocolError | undefined {
    let count = this.fastNumber();
    if (count < 0) {
      if (!this.collectLine(CR)) return this.lineTooLong(ProtocolErrors.tooBigCount);
      count = parseLength(this.lineSrc, this.lineStart + 1, this.lineEnd, true);
      if (count === NOT_A_NUMBER) {
        return this.hasNul() ? this.enterStuck(COUNT) : this.fail(ProtocolErrors.invalidCount());
      }
    }
    if (count > PROTO_MAX_MULTIBULK_COUNT) return this.fail(ProtocolErrors.invalidCount());
    if (count > PROTO_UNAUTH_MAX_MULTIBULK_COUNT && !this.authenticated) {
      return this.fail(ProtocolErrors.unauthCount());
    }
    if (count <= 0) {
      this.state = START; // `*0` and `*-1` are skipped, as Redis does
      return undefined;
    }
    // Sized up front like Redis's argv (at most 1024 slots; a longer command grows by push).
    this.args = new Array<Buffer>(Math.min(count, ARGS_PREALLOCATED_COUNT));
    this.argsCount = 0;
    this.argsLeft = count;
    this.state = BULK_HEADER;
    return undefined;
  }

  /** The arguments of a multibulk command, looping while the chunk lasts (the hot path). */
  private readArgs(): Buffer[] | ProtocolError | undefined {
    while (this.pos < this.buf.length) {
      if (this.state === BULK_HEADER) {
        const error = this.bulkHeader();
        if (error !== undefined) return error;
        if (!this.readingData()) return undefined; // stuck
        continue;
      }
      const out = this.bulkData();
      if (out !== undefined || this.state !== BULK_HEADER) return out;
    }
    return undefined;
  }

  private readingData(): boolean {
    return this.state === BULK_DATA;
  }

  private bulkHeader(): ProtocolError | undefined {
    let length = this.buf[this.pos] === DOLLAR ? this.fastNumber() : -1;
    if (length < 0) {
      if (!this.collectLine(CR)) return this.lineTooLong(ProtocolErrors.tooBigBulkCount);
      const src = this.lineSrc;
      if (this.lineStart === this.lineEnd || src[this.lineStart] !== DOLLAR) {
        const first = this.lineStart === this.lineEnd ? CR : src[this.lineStart]!;
        if (this.hasNul()) return this.enterStuck(BULK_HEADER);
        return this.fail(ProtocolErrors.expectedDollar(first));
      }
      length = parseLength(src, this.lineStart + 1, this.lineEnd, false);
      if (length === NOT_A_NUMBER || length < 0 || length > this.maxBulkBytes) {
        if (this.hasNul()) return this.enterStuck(BULK_HEADER);
        return this.fail(ProtocolErrors.invalidBulkLength());
      }
    } else if (length > this.maxBulkBytes) {
      return this.fail(ProtocolErrors.invalidBulkLength());
    }
    if (length > PROTO_UNAUTH_MAX_BULK_BYTES && !this.authenticated) {
      return this.fail(ProtocolErrors.unauthBulkLength());
    }
    this.bulkLength = length;
    this.bulkFilledBytes = 0;
    this.state = BULK_DATA;
    return undefined;
  }

  /**
   * Hot path: `<type byte><digits>\r<any byte>` wholly in the current chunk, a positive number
   * without a leading zero, at most 20 characters. Returns -1 (consuming nothing) otherwise;
   * collectLine() and parseLength() then handle every other case exactly.
   */
  private fastNumber(): number {
    const buf = this.buf;
    const end = Math.min(buf.length, this.pos + 22);
    let p = this.pos + 1;
    let c = p < end ? buf[p]! : 0;
    if (c < 0x31 || c > 0x39 || this.lineLength > 0 || this.lineCrSeen) return -1;
    let value = 0;
    do {
      value = value * 10 + (c - 0x30);
      c = ++p < end ? buf[p]! : 0;
    } while (c >= 0x30 && c <= 0x39);
    if (c !== CR || p + 1 >= buf.length) return -1;
    this.pos = p + 2;
    return value;
  }

  private bulkData(): Buffer[] | undefined {
    const buf = this.buf;
    const length = this.bulkLength;
    const available = buf.length - this.pos;
    if (this.bulkFilledBytes === 0 && available >= length) {
      const value = view(buf, this.pos, this.pos + length);
      if (available >= length + 2) {
        this.pos += length + 2;
        return this.finishArg(value);
      }
      this.pos = buf.length;
      this.pendingArg = value;
      this.skipLeft = length + 2 - available;
      this.state = BULK_SKIP;
      return undefined;
    }
    const take = Math.min(available, length - this.bulkFilledBytes);
    this.keepBulkPart(take);
    this.bulkFilledBytes += take;
    this.pos += take;
    if (this.bulkFilledBytes < length) return undefined;
    this.pendingArg = this.takeBulk();
    this.skipLeft = 2;
    this.state = BULK_SKIP;
    return undefined;
  }

  private keepBulkPart(bytes: number): void {
    if (this.bulkLength < PROTO_MBULK_BIG_ARG_BYTES) {
      this.bulkCopy ??= Buffer.allocUnsafe(this.bulkLength);
      this.buf.copy(this.bulkCopy, this.bulkFilledBytes, this.pos, this.pos + bytes);
    } else if (bytes > 0) {
      (this.bulkParts ??= []).push(view(this.buf, this.pos, this.pos + bytes));
    }
  }

  private takeBulk(): Buffer {
    const copy = this.bulkCopy;
    const parts = this.bulkParts;
    this.bulkCopy = null;
    this.bulkParts = null;
    if (copy !== null) return copy;
    if (parts === null) return EMPTY;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.bulkLength);
  }

  private bulkSkip(): Buffer[] | undefined {
    const skipped = Math.min(this.skipLeft, this.buf.length - this.pos);
    this.pos += skipped;
    this.skipLeft -= skipped;
    if (this.skipLeft > 0) return undefined;
    const value = this.pendingArg;
    this.pendingArg = EMPTY;
    return this.finishArg(value);
  }

  private finishArg(value: Buffer): Buffer[] | undefined {
    if (this.argsCount < this.args.length) this.args[this.argsCount] = value;
    else this.args.push(value);
    this.argsCount++;
    if (--this.argsLeft > 0) {
      this.state = BULK_HEADER;
      return undefined;
    }
    const args = this.args;
    this.args = [];
    this.state = START;
    return args;
  }

  private inlineLine(): Buffer[] | ProtocolError | undefined {
    if (!this.collectLine(LF)) return this.lineTooLong(ProtocolErrors.tooBigInline);
    const src = this.lineSrc;
    let end = this.lineEnd;
    if (this.hasNul()) return this.enterStuck(INLINE);
    if (end > this.lineStart && src[end - 1] === CR) end--;
    const args = splitArgs(src, this.lineStart, end);
    if (args === null) return this.fail(ProtocolErrors.unbalancedQuotes());
    this.state = START;
    return args.length > 0 ? args : undefined; // empty lines are ignored
  }

  /**
   * Reads a line ended by `terminator` (CR lines also need the byte after the CR). Returns true
   * when the line is complete (bytes in lineSrc[lineStart, lineEnd)), or false after consuming
   * the whole chunk; lineTooLong() then tells whether the line passed the limit.
   */
  private collectLine(terminator: number): boolean {
    const buf = this.buf;
    if (this.lineCrSeen) {
      this.pos++; // the byte after a CR that ended the previous chunk
      return this.completeFromLineBuffer();
    }
    const at = buf.indexOf(terminator, this.pos);
    const extra = terminator === CR ? 1 : 0;
    if (at >= 0 && at + extra < buf.length && this.lineLength === 0) {
      this.lineSrc = buf;
      this.lineStart = this.pos;
      this.lineEnd = at;
      this.pos = at + 1 + extra;
      return at - this.lineStart <= this.maxInlineBytes || this.tooLong();
    }
    const upTo = at >= 0 ? at : buf.length;
    if (this.lineLength + (upTo - this.pos) > this.maxInlineBytes) return this.tooLong();
    this.appendToLine(buf, this.pos, upTo);
    if (at < 0) {
      this.pos = buf.length;
      return false;
    }
    this.pos = at + 1;
    if (extra === 0) return this.completeFromLineBuffer();
    if (this.pos < buf.length) {
      this.pos++;
      return this.completeFromLineBuffer();
    }
    this.lineCrSeen = true;
    return false;
  }

  private completeFromLineBuffer(): true {
    this.lineSrc = this.line;
    this.lineStart = 0;
    this.lineEnd = this.lineLength;
    // Don't keep a long line's buffer per connection; lineSrc holds it until it is parsed.
    if (this.line.length > LINE_BUFFER_KEEP_BYTES) this.line = EMPTY;
    this.lineLength = 0;
    this.lineCrSeen = false;
    return true;
  }

  private appendToLine(src: Buffer, from: number, to: number): void {
    const needed = this.lineLength + (to - from);
    if (needed > this.line.length) {
      let size = Math.max(LINE_BUFFER_INITIAL_BYTES, this.line.length * 2);
      while (size < needed) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, this.maxInlineBytes + 1));
      this.line.copy(grown, 0, 0, this.lineLength);
      this.line = grown;
    }
    src.copy(this.line, this.lineLength, from, to);
    this.lineLength = needed;
  }

  /** Marks the line as over the limit (lineTooLong() reports it); returns false. */
  private tooLong(): false {
    this.lineLength = -1;
    return false;
  }

  /** After collectLine() returned false: the limit error, or undefined to wait for bytes. */
  private lineTooLong(error: () => ProtocolError): ProtocolError | undefined {
    if (this.lineLength >= 0) return undefined;
    this.lineLength = 0;
    return this.fail(error());
  }

  /** Whether the completed line holds a NUL, which hides its terminator from Redis. */
  private hasNul(): boolean {
    return this.lineSrc.subarray(this.lineStart, this.lineEnd).indexOf(NUL) >= 0;
  }

  private enterStuck(kind: StuckKind): ProtocolError | undefined {
    // Redis counts everything buffered from the line start: the line, its terminator, and on.
    this.stuckBytes = this.lineEnd - this.lineStart + (kind === INLINE ? 1 : 2);
    this.stuckKind = kind;
    this.state = STUCK;
    return this.stuckBytes > this.maxInlineBytes ? this.stuckError() : undefined;
  }

  private stuck(): ProtocolError | undefined {
    this.stuckBytes += this.buf.length - this.pos;
    this.pos = this.buf.length;
    return this.stuckBytes > this.maxInlineBytes ? this.stuckError() : undefined;
  }

  private stuckError(): ProtocolError {
    if (this.stuckKind === COUNT) return this.fail(ProtocolErrors.tooBigCount());
    if (this.stuckKind === BULK_HEADER) return this.fail(ProtocolErrors.tooBigBulkCount());
    return this.fail(ProtocolErrors.tooBigInline());
  }

  private fail(error: ProtocolError): ProtocolError {
    this.failure = error;
    this.state = FAILED;
    // Drop everything held: the connection is closed after the error reply.
    this.buf = this.line = this.lineSrc = this.pendingArg = EMPTY;
    this.pos = this.queueHead = this.queuedBytes = 0;
    this.queue.length = 0;
    this.args = [];
    this.bulkCopy = null;
    this.bulkParts = null;
    return error;
  }
}

const NOT_A_NUMBER = Number.NEGATIVE_INFINITY;
/** LONG_STR_SIZE - 1: string2ll() refuses longer strings. */
const MAX_NUMBER_CHARS = 20;
/** -LLONG_MIN: the only 19-digit magnitude above LLONG_MAX that string2ll() accepts. */
const LLONG_MIN_DIGITS = '9223372036854775808';

/**
 * Redis's string2ll() over src[start, end): optional '-', no '+', no leading zeros, no spaces,
 * within int64. Returns NOT_A_NUMBER when it would fail. Magnitudes past 2^53 lose precision,
 * which is harmless: every caller refuses them by range, except negative counts (skipped).
 */
function parseLength(src: Buffer, start: number, end: number, signed: boolean): number {
  const chars = end - start;
  if (chars === 0 || chars > MAX_NUMBER_CHARS) return NOT_A_NUMBER;
  if (chars === 1 && src[start] === 0x30) return 0;
  const negative = src[start] === 0x2d;
  let p = negative ? start + 1 : start;
  const first = p < end ? src[p]! : 0;
  if (first < 0x31 || first > 0x39) return NOT_A_NUMBER;
  let value = 0;
  for (; p < end; p++) {
    const c = src[p]!;
    if (c < 0x30 || c > 0x39) return NOT_A_NUMBER;
    value = value * 10 + (c - 0x30);
  }
  if (!negative) return value < 2 ** 63 ? value : NOT_A_NUMBER;
  if (!signed) return -1;
  const digits = chars - 1;
  if (digits === 19 && src.toString('latin1', start + 1, end) > LLONG_MIN_DIGITS) {
    return NOT_A_NUMBER;
  }
  return -value;
}

const BACKSLASH = 0x5c;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

/** C's isspace(): space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** What a backslash escape in double quotes stands for (sdssplitargs). */
function unescape(c: number): number {
  switch (c) {
    case 0x6e:
      return LF;
    case 0x72:
      return CR;
    case 0x74:
      return 0x09;
    case 0x62:
      return 0x08;
    case 0x61:
      return 0x07;
    default:
      return c;
  }
}

/** One token's worth of splitArgs() state: read position and output position. */
interface SplitCursor {
  p: number;
  o: number;
}

/**
 * Redis's sdssplitargs() over src[start, end) (which holds no NUL): arguments separated by
 * blanks; "double quotes" with \n \r \t \b \a \xHH and \<any> escapes; 'single quotes' with \'
 * only; a closing quote must be followed by a blank or the end. Returns null for unbalanced
 * quotes. The arguments are views into one new buffer (they never alias the chunk).
 */
export function splitArgs(src: Buffer, start: number, end: number): Buffer[] | null {
  const out = Buffer.allocUnsafe(end - start);
  const args: Buffer[] = [];
  const cur: SplitCursor = { p: start, o: 0 };
  for (;;) {
    while (cur.p < end && isSpace(src[cur.p]!)) cur.p++;
    if (cur.p >= end) return args;
    const tokenStart = cur.o;
    if (!splitToken(src, end, out, cur)) return null;
    args.push(view(out, tokenStart, cur.o));
  }
}

function splitToken(src: Buffer, end: number, out: Buffer, cur: SplitCursor): boolean {
  const at = (i: number) => (i < end ? src[i]! : NUL); // C strings end in NUL
  let quote = 0; // 0, DOUBLE_QUOTE or SINGLE_QUOTE
  for (;;) {
    const c = at(cur.p);
    if (quote === DOUBLE_QUOTE) {
      if (c === BACKSLASH && at(cur.p + 1) === 0x78) {
        const high = hexValue(at(cur.p + 2));
        const low = hexValue(at(cur.p + 3));
        if (high >= 0 && low >= 0) {
          out[cur.o++] = high * 16 + low;
          cur.p += 4;
          continue;
        }
      }
      if (c === BACKSLASH && at(cur.p + 1) !== NUL) {
        out[cur.o++] = unescape(at(cur.p + 1));
        cur.p += 2;
        continue;
      }
    } else if (quote === SINGLE_QUOTE && c === BACKSLASH && at(cur.p + 1) === SINGLE_QUOTE) {
      out[cur.o++] = SINGLE_QUOTE;
      cur.p += 2;
      continue;
    }
    if (quote !== 0) {
      if (c === NUL) return false; // unterminated quotes
      if (c === quote) {
        const after = at(cur.p + 1);
        cur.p++;
        return after === NUL || isSpace(after);
      }
      out[cur.o++] = c;
      cur.p++;
      continue;
    }
    if (c === 0x20 || c === LF || c === CR || c === 0x09 || c === NUL) {
      if (c !== NUL) cur.p++;
      return true;
    }
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) quote = c;
    else out[cur.o++] = c;
    cur.p++;
  }
}
