// The PUBLISH benchmark's subscriber counts the messages it is sent. Parsing every push into
// reply objects (RespClient) cost the bench process about as much CPU as a subscriber-heavy
// server spends sending them, and on a 2-core machine that CPU is taken from the server being
// measured (redis-benchmark has the other core): Sluice, which needs its core, lost about a
// fifth of its PUBLISH rate to the measuring apparatus, where redis-server, mostly idle, lost
// nothing. This counter reads the RESP2 frames byte by byte, resumable across chunks, without
// making an object per message; anything but `*3` arrays of three bulk strings whose first is
// `message` (or `subscribe`'s reply, not counted) is refused, so a server sending something
// else is caught, not miscounted.

const CR = 0x0d;
const LF = 0x0a;
const MESSAGE = Buffer.from('message');

/** Where the scanner is in the current frame. */
const enum At {
  /** Before `*`. */
  ArrayStart,
  /** Reading the array length's digits, up to `\r\n`. */
  ArrayLength,
  /** Before a bulk's `$`. */
  BulkStart,
  /** Reading a bulk's length, up to `\r\n`. */
  BulkLength,
  /** Inside a bulk's bytes, then its `\r\n`. */
  BulkData,
}

export class MessageCounter {
  /** Messages (`message` pushes) read so far. */
  messages = 0;
  /** Frames read so far: messages and subscription replies. */
  frames = 0;
  private at = At.ArrayStart;
  private number = 0;
  /** Bulks left in the current array. */
  private bulksLeft = 0;
  /** Bytes left in the current bulk, its `\r\n` included. */
  private dataLeft = 0;
  /** The current array's first bulk so far, compared with `message` as it arrives. */
  private firstBulk = false;
  private isMessage = true;
  private firstOffset = 0;
  /** The current item is an integer (`:`), as ends `subscribe`'s reply. */
  private intItem = false;

  /** Reads one chunk; throws on anything that is not a pub/sub push of three bulks. */
  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length;) {
      if (this.at === At.BulkData) {
        i = this.bulkData(chunk, i);
        continue;
      }
      const c = chunk[i++] as number;
      switch (this.at) {
        case At.ArrayStart:
          if (c !== 0x2a) throw new Error(`subscriber: expected '*', got byte ${c}`);
          this.at = At.ArrayLength;
          this.number = 0;
          break;
        case At.ArrayLength:
          if (this.digit(c)) break;
          this.bulksLeft = this.number;
          if (this.bulksLeft !== 3) throw new Error(`subscriber: a push of ${this.number} items`);
          this.firstBulk = true;
          this.at = At.BulkStart;
          break;
        case At.BulkStart:
          this.intItem = c === 0x3a && this.bulksLeft === 1 && !this.isMessage;
          if (c !== 0x24 && !this.intItem) {
            throw new Error(`subscriber: expected '$', got byte ${c}`);
          }
          this.at = At.BulkLength;
          this.number = 0;
          break;
        case At.BulkLength:
          if (this.digit(c)) break;
          this.startBulk();
          break;
      }
    }
  }

  /** Digits of a length, then `\r\n`: true while the length goes on. */
  private digit(c: number): boolean {
    if (c >= 0x30 && c <= 0x39) {
      this.number = this.number * 10 + (c - 0x30);
      return true;
    }
    if (c === CR) return true;
    if (c !== LF) throw new Error(`subscriber: bad length byte ${c}`);
    return false;
  }

  private startBulk(): void {
    // `subscribe`'s reply ends with an integer (`:1`): no bytes follow its line.
    if (this.intItem) {
      this.endBulk();
      return;
    }
    this.dataLeft = this.number + 2;
    this.firstOffset = 0;
    if (this.firstBulk) this.isMessage = this.number === MESSAGE.length;
    this.at = At.BulkData;
  }

  private bulkData(chunk: Buffer, i: number): number {
    const n = Math.min(this.dataLeft, chunk.length - i);
    if (this.firstBulk && this.isMessage) {
      for (let k = 0; k < n && this.firstOffset < MESSAGE.length; k++) {
        if (chunk[i + k] !== MESSAGE[this.firstOffset++]) this.isMessage = false;
      }
    }
    this.dataLeft -= n;
    if (this.dataLeft === 0) this.endBulk();
    return i + n;
  }

  private endBulk(): void {
    this.firstBulk = false;
    this.bulksLeft--;
    if (this.bulksLeft > 0) {
      this.at = At.BulkStart;
      return;
    }
    if (this.isMessage) this.messages++;
    this.frames++;
    this.isMessage = true;
    this.at = At.ArrayStart;
  }
}
