// The file operations the log writes and reads through. Production uses Node's callback fs
// (faster than fs.promises on hot paths); tests wrap it to inject torn writes, ENOSPC and
// failed fsyncs (see test/storage/faulty-io.ts).
import fs from 'node:fs';
import { SYNC_WRITE_MAX_BYTES } from './limits';

export interface Io {
  open(path: string, flags: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** Positional write of the whole buffer; short writes are continued. */
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  /** Positional read; returns the bytes read (0 at end of file). */
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  /** A positional write of the whole buffer, done now (optional; used for small writes). */
  writeSync?(fd: number, buf: Buffer, position: number): void;
  ftruncate(fd: number, length: number): Promise<void>;
  /** ftruncate done now (optional; a log's file is grown ahead of its data with it). */
  ftruncateSync?(fd: number, length: number): void;
  fileSize(fd: number): Promise<number>;
}

function writeAll(fd: number, buf: Buffer, position: number, done: (err: Error | null) => void) {
  fs.write(fd, buf, 0, buf.length, position, (err, written) => {
    if (err) return done(err);
    if (written === buf.length) return done(null);
    writeAll(fd, buf.subarray(written), position + written, done);
  });
}

function writeAllSync(fd: number, buf: Buffer, position: number): void {
  for (let off = 0; off < buf.length;) {
    off += fs.writeSync(fd, buf, off, buf.length - off, position + off);
  }
}

/** A small write done now (see SYNC_WRITE_MAX_BYTES); the promise only reports how it went. */
function writeNow(fd: number, buf: Buffer, position: number): Promise<void> {
  try {
    writeAllSync(fd, buf, position);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

export const nodeIo: Io = {
  open: (path, flags) =>
    new Promise((resolve, reject) =>
      fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))),
    ),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve()))),
  write: (fd, buf, position) => {
    if (buf.length <= SYNC_WRITE_MAX_BYTES) return writeNow(fd, buf, position);
    return new Promise((resolve, reject) =>
      writeAll(fd, buf, position, (e) => (e ? reject(e) : resolve())),
    );
  },
  read: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) =>
      fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
    ),
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()))),
  writeSync: writeAllSync,
  ftruncate: (fd, length) =>
    new Promise((resolve, reject) => fs.ftruncate(fd, length, (e) => (e ? reject(e) : resolve()))),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fileSize: (fd) =>
    new Promise((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size)))),
};

/** Reads exactly `length` bytes at `position`, or fewer only at end of file. */
export async function readAt(
  io: Io,
  fd: number,
  position: number,
  length: number,
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await io.read(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}
