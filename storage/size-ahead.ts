// Growing a log's file ahead of its data under fsync `always`. An fdatasync that follows a write
// past the end of the file must also commit the file's new size (on ext4 a journal commit and
// one more disk flush); one after a write inside the file's size does not. So the segment or
// journal part being appended to is extended with ftruncate (a hole: no bytes written, it reads
// as zeros) to the next whole SIZE_AHEAD_BYTES at least SLACK_BYTES past the data, and only
// one fdatasync in a megabyte's worth pays for a size.
//
// The zeros after the data are the "zero-filled tail" the frame formats already end at
// (frame.ts, journal-format.ts: `len == 0 && crc == 0`). The file is cut back to its data when
// it is sealed (a segment roll, a journal part switch: before the fdatasync that precedes the
// next file, so only the last file of a log can ever have such a tail), when it is closed, and
// by recovery after a crash: ZERO_TAIL, told apart from a torn tail by the file's size (a whole
// number of steps) and zeros from the end of the data to the end of the file (isAheadTail).
// Under `everysec` and `no` nothing is extended: an fdatasync is rare there.
import { SIZE_AHEAD_BYTES } from './limits';
import { readAt, type Io } from './io';

/** The zeros kept past the data: more than a frame header, so a scan stops at ZERO there. */
const SLACK_BYTES = 64;

/** The size one log's open file was grown to; one per log, reset when the log moves file. */
export class SizeAhead {
  /** The file's size as set here; 0 while the file ends at its data. */
  private sizeBytes = 0;
  private on: boolean;

  constructor(
    private readonly io: Io,
    enabled: boolean,
  ) {
    this.on = enabled && io.ftruncateSync !== undefined;
  }

  /** Before a write ending at `end`: grows the file when the write would come near its end. */
  cover(fd: number, end: number): void {
    if (!this.on || end + SLACK_BYTES <= this.sizeBytes) return;
    const size = Math.ceil((end + SLACK_BYTES) / SIZE_AHEAD_BYTES) * SIZE_AHEAD_BYTES;
    try {
      (this.io.ftruncateSync as NonNullable<Io['ftruncateSync']>)(fd, size);
      this.sizeBytes = size;
    } catch {
      // Only a cost saving: the file grows write by write as before (and is still cut back).
      this.on = false;
    }
  }

  /** Cuts the file back to its data (`end`) if it was grown; the next file starts afresh. */
  async cut(fd: number, end: number): Promise<void> {
    if (this.sizeBytes === 0) return;
    this.sizeBytes = 0;
    await this.io.ftruncate(fd, end);
  }

  /** The file was cut back elsewhere (a failed write's cut) or is a new file. */
  forget(): void {
    this.sizeBytes = 0;
  }
}

/**
 * Is [from, size) of `fd` a tail SizeAhead left, not a torn write: a size a whole number of
 * steps, at most two steps past `from`, and nothing but zeros there?
 */
export async function isAheadTail(io: Io, fd: number, from: number, size: number) {
  if (size % SIZE_AHEAD_BYTES !== 0 || size - from > 2 * SIZE_AHEAD_BYTES || from >= size) {
    return false;
  }
  const tail = await readAt(io, fd, from, size - from);
  return tail.length === size - from && allZero(tail);
}

export function allZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
