// Renders Reply values (src/commands/reply.ts) as RESP2 or RESP3 bytes, the way Redis 7.0's
// addReply* calls write them. Replies are written straight into one growing output buffer
// (no per-element Buffer or concat); a pipeline's replies share it.
//
// Text: bulk strings are raw bytes. Simple strings and errors are JS strings: written as latin1
// when every character fits a byte (the error catalog shows client bytes as latin1, so the
// client's bytes come back unchanged), else as UTF-8; CR and LF become spaces (Redis maps them
// in every formatted status or error text, which is where client input can appear).
// Doubles: Redis 7.0 prints them with "%.17g" (7.2 moved to the shortest round-trip form).
import assert from 'node:assert';
import { Latin1Bulk, type Reply } from '../commands/reply';

export type RespVersion = 2 | 3;

/** First size of an encoder's buffer; it doubles as replies need. */
const INITIAL_BUFFER_BYTES = 16 * 1024;
/** After take(), a buffer grown past this is dropped rather than kept for the connection. */
const RETAINED_BUFFER_BYTES = 1024 * 1024;
/** Room for a type byte, a 20-digit length or integer with its sign, and CRLF. */
const HEADER_BYTES = 24;

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const EMPTY = Buffer.alloc(0);

/**
 * Appends replies to one output buffer; take() hands out what was written so far. Bytes handed
 * out are never written again (later replies go after them or into a new buffer), so a taken
 * Buffer can sit in a socket's write queue safely.
 */
export class Encoder {
  private buf: Buffer = EMPTY;
  /** Start of the bytes not taken yet. */
  private base = 0;
  /** End of the bytes written. */
  private end = 0;

  /** Bytes appended and not taken yet. */
  get length(): number {
    return this.end - this.base;
  }

  append(reply: Reply, resp: RespVersion): void {
    this.write(reply, resp === 3);
  }

  /** The bytes appended since the last take() (empty when none). */
  take(): Buffer {
    if (this.end === this.base) return EMPTY;
    const out = this.buf.subarray(this.base, this.end);
    if (this.buf.length > RETAINED_BUFFER_BYTES) {
      this.buf = EMPTY;
      this.base = this.end = 0;
    } else {
      this.base = this.end;
    }
    return out;
  }

  private write(reply: Reply, resp3: boolean): void {
    switch (reply.t) {
      case 'simple':
        return this.writeLine(0x2b, reply.v);
      case 'error':
        return this.writeLine(0x2d, reply.v);
      case 'int':
        return this.writeInt(reply.v);
      case 'bulk':
        if (reply instanceof Latin1Bulk) return this.writeLatin1(reply.text);
        if (resp3 && reply.verbatim) return this.writeVerbatim(reply.verbatim, reply.v);
        return this.writeBulk(reply.v);
      case 'null':
        return this.writeAscii(resp3 ? '_\r\n' : '$-1\r\n');
      case 'nullarray':
        return this.writeAscii(resp3 ? '_\r\n' : '*-1\r\n');
      case 'double':
        return this.writeDouble(reply.v, resp3);
      case 'array':
        return this.writeAggregate(0x2a, reply.v, resp3);
      case 'set':
        return this.writeAggregate(resp3 ? 0x7e : 0x2a, reply.v, resp3);
      case 'push':
        return this.writeAggregate(resp3 ? 0x3e : 0x2a, reply.v, resp3);
      case 'map':
        return this.writeMap(reply.v, resp3);
    }
  }

  private writeAggregate(type: number, items: readonly Reply[], resp3: boolean): void {
    this.writeHeader(type, items.length);
    for (let i = 0; i < items.length; i++) this.write(items[i]!, resp3);
  }

  private writeMap(pairs: readonly (readonly [Reply, Reply])[], resp3: boolean): void {
    // RESP2 has no map: Redis sends the pairs as a flat array of 2n elements.
    if (resp3) this.writeHeader(0x25, pairs.length);
    else this.writeHeader(0x2a, pairs.length * 2);
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!;
      this.write(pair[0], resp3);
      this.write(pair[1], resp3);
    }
  }

  private writeVerbatim(format: string, value: Buffer): void {
    this.writeHeader(0x3d, format.length + 1 + value.length);
    this.writeAscii(`${format}:`);
    this.reserve(value.length + 2);
    this.end += value.copy(this.buf, this.end);
    this.writeAscii('\r\n');
  }

  private writeBulk(value: Buffer): void {
    this.writeHeader(0x24, value.length);
    this.reserve(value.length + 2);
    const buf = this.buf;
    let at = this.end;
    if (value.length <= 16) {
      for (let i = 0; i < value.length; i++) buf[at++] = value[i]!;
    } else {
      at += value.copy(buf, at);
    }
    buf[at] = CR;
    buf[at + 1] = LF;
    this.end = at + 2;
  }

  /** A bulk string of `text`'s latin1 bytes (Latin1Bulk), without a Buffer for it. */
  private writeLatin1(text: string): void {
    const n = text.length;
    this.writeHeader(0x24, n);
    this.reserve(n + 2);
    const buf = this.buf;
    let at = this.end;
    if (n <= 16) {
      for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    } else {
      at += buf.write(text, at, n, 'latin1');
    }
    buf[at] = CR;
    buf[at + 1] = LF;
    this.end = at + 2;
  }

  /** `<type><n>\r\n` for a non-negative n (a length). */
  private writeHeader(type: number, n: number): void {
    this.reserve(HEADER_BYTES);
    this.buf[this.end++] = type;
    this.writeDigits(n);
    this.buf[this.end] = CR;
    this.buf[this.end + 1] = LF;
    this.end += 2;
  }

  private writeInt(v: number | bigint): void {
    if (typeof v === 'bigint') {
      assert(v >= INT64_MIN && v <= INT64_MAX, 'integer reply out of int64 range');
      return this.writeAscii(`:${v}\r\n`);
    }
    assert(Number.isInteger(v), 'integer reply is not an integer');
    if (!Number.isSafeInteger(v)) return this.writeAscii(`:${BigInt(v)}\r\n`);
    this.reserve(HEADER_BYTES);
    this.buf[this.end++] = 0x3a;
    if (v < 0) {
      this.buf[this.end++] = 0x2d;
      v = -v;
    }
    this.writeDigits(v);
    this.buf[this.end] = CR;
    this.buf[this.end + 1] = LF;
    this.end += 2;
  }

  /** The decimal digits of a safe non-negative integer; the caller reserved room. */
  private writeDigits(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.end++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    let at = this.end + digits;
    this.end = at;
    do {
      const q = Math.floor(n / 10);
      buf[--at] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  private writeDouble(v: number, resp3: boolean): void {
    const text = formatDouble(v);
    if (resp3) this.writeAscii(`,${text}\r\n`);
    else this.writeAscii(`$${text.length}\r\n${text}\r\n`);
  }

  /** `<type><text>\r\n` for a simple string or error; see the file comment for the text rules. */
  private writeLine(type: number, text: string): void {
    this.reserve(text.length + 3);
    const buf = this.buf;
    let at = this.end;
    buf[at++] = type;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) return this.writeUtf8Line(type, text);
      buf[at++] = c === CR || c === LF ? SPACE : c;
    }
    buf[at] = CR;
    buf[at + 1] = LF;
    this.end = at + 2;
  }

  private writeUtf8Line(type: number, text: string): void {
    const clean = text.replace(/[\r\n]/g, ' ');
    this.reserve(Buffer.byteLength(clean, 'utf8') + 3);
    this.buf[this.end++] = type;
    this.end += this.buf.write(clean, this.end, 'utf8');
    this.buf[this.end] = CR;
    this.buf[this.end + 1] = LF;
    this.end += 2;
  }

  /** A string known to be ASCII. */
  private writeAscii(text: string): void {
    this.reserve(text.length);
    this.end += this.buf.write(text, this.end, 'latin1');
  }

  /** Makes room for `bytes` more; untaken bytes move to a new buffer, taken ones stay put. */
  private reserve(bytes: number): void {
    if (this.end + bytes <= this.buf.length) return;
    const pending = this.end - this.base;
    let size = Math.max(INITIAL_BUFFER_BYTES, this.buf.length);
    while (size < 2 * (pending + bytes)) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, this.base, this.end);
    this.buf = grown;
    this.base = 0;
    this.end = pending;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** One reply as a Buffer of its own (the Encoder is the fast way for several). */
export function encode(reply: Reply, resp: RespVersion): Buffer {
  const encoder = new Encoder();
  encoder.append(reply, resp);
  return encoder.take();
}

const float64 = new Float64Array(1);
const float64Words = new Uint32Array(float64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** %.17g: 17 significant digits. */
const PRECISION = 17;

/**
 * A double as Redis 7.0's addReplyDouble prints it: "inf"/"-inf" (written out by Redis, libc
 * differs), and C's "%.17g" otherwise, "nan" included. toExponential() rounds exact ties away
 * from zero where glibc rounds them to even; formatTie() handles the few doubles that tie.
 */
export function formatDouble(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isNaN(v)) return 'nan';
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 53) return Object.is(v, -0) ? '-0' : String(v);
  const tie = tieDigits(v);
  if (tie !== null) return formatG(v < 0, tie.digits, tie.exponent);
  const text = v.toExponential(PRECISION - 1);
  const e = text.indexOf('e');
  const negative = v < 0;
  const mantissa = text.slice(negative ? 1 : 0, e);
  return formatG(negative, mantissa[0]! + mantissa.slice(2), Number(text.slice(e + 1)));
}

/**
 * C's %g layout of 17 significant `digits` with decimal exponent `exponent`: fixed notation
 * when -4 <= exponent < 17, else d.ddde±XX; trailing zeros (and a bare point) removed.
 */
function formatG(negative: boolean, digits: string, exponent: number): string {
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= PRECISION) {
    const fraction = digits.slice(1).replace(/0+$/, '');
    const magnitude = Math.abs(exponent);
    const exp = `e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
    return `${sign}${digits[0]}${fraction === '' ? '' : '.' + fraction}${exp}`;
  }
  if (exponent < 0) {
    const fraction = ('0'.repeat(-exponent - 1) + digits).replace(/0+$/, '');
    return `${sign}0.${fraction}`;
  }
  const whole = digits.slice(0, exponent + 1);
  const fraction = digits.slice(exponent + 1).replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : '.' + fraction}`;
}

/**
 * When |v|'s exact decimal value has exactly 18 significant digits ending in 5 (a tie at 17),
 * its 17 digits rounded half to even, as glibc prints them; else null. A non-integer double is
 * m * 2^-k = m * 5^k / 10^k with m odd, so its digits are those of m * 5^k: 18 of them needs
 * k <= 25 (5^26 has 19 digits).
 */
function tieDigits(v: number): { digits: string; exponent: number } | null {
  float64[0] = v;
  const high = float64Words[LITTLE_ENDIAN ? 1 : 0]!;
  const low = float64Words[LITTLE_ENDIAN ? 0 : 1]!;
  const biased = (high >>> 20) & 0x7ff;
  let m = (high & 0xfffff) * 2 ** 32 + low;
  let e = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) m += 2 ** 52;
  while (m % 2 === 0) {
    m /= 2;
    e++;
  }
  const k = -e;
  if (k <= 0 || k > 25) return null;
  const exact = BigInt(m) * 5n ** BigInt(k);
  if (exact.toString().length !== PRECISION + 1) return null;
  let rounded = exact / 10n;
  if (rounded % 2n === 1n) rounded += 1n;
  let digits = rounded.toString();
  let exponent = PRECISION - k; // the exact value is 18 digits times 10^-k
  if (digits.length > PRECISION) {
    digits = digits.slice(0, PRECISION); // 99...95 rounded up to 10^17
    exponent++;
  }
  return { digits, exponent };
}
