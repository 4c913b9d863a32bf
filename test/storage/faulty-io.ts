// A fault layer over nodeIo for storage tests: fails the next fdatasync, or writes a prefix of
// the next write and then fails it (a torn write, as ENOSPC leaves one). Faults are armed one
// at a time and fire once, only on files whose path matches the armed filter.
import { nodeIo, type Io } from '../../storage/io';

export interface WriteFault {
  /** Bytes of the buffer actually written before the failure. */
  readonly prefixBytes: number;
  readonly code: string;
}

function errnoError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall} '${file}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = file;
  return err;
}

export class FaultyIo implements Io {
  private readonly paths = new Map<number, string>();
  private syncFault: { code: string; match: RegExp } | null = null;
  private writeFault: (WriteFault & { match: RegExp }) | null = null;
  /** Faults that fired, in order, for assertions. */
  readonly fired: string[] = [];
  syncCount = 0;
  writeCount = 0;

  /** The next fdatasync of a file matching `match` fails with `code`. */
  failNextFdatasync(code = 'EIO', match = /\.seg$/): void {
    this.syncFault = { code, match };
  }

  /** The next write to a matching file writes `prefixBytes` of its buffer, then fails. */
  failNextWrite(fault: WriteFault, match = /\.seg$/): void {
    this.writeFault = { ...fault, match };
  }

  private pathOf(fd: number): string {
    return this.paths.get(fd) ?? `fd ${fd}`;
  }

  async open(file: string, flags: string): Promise<number> {
    const fd = await nodeIo.open(file, flags);
    this.paths.set(fd, file);
    return fd;
  }

  async close(fd: number): Promise<void> {
    this.paths.delete(fd);
    await nodeIo.close(fd);
  }

  async write(fd: number, buf: Buffer, position: number): Promise<void> {
    this.writeCount++;
    const file = this.pathOf(fd);
    const fault = this.writeFault;
    if (fault && fault.match.test(file)) {
      this.writeFault = null;
      const prefix = Math.min(fault.prefixBytes, buf.length);
      if (prefix > 0) await nodeIo.write(fd, buf.subarray(0, prefix), position);
      this.fired.push(`write ${fault.code} after ${prefix} of ${buf.length} bytes`);
      throw errnoError(fault.code, 'write', file);
    }
    await nodeIo.write(fd, buf, position);
  }

  read(fd: number, buf: Buffer, offset: number, length: number, position: number) {
    return nodeIo.read(fd, buf, offset, length, position);
  }

  async fdatasync(fd: number): Promise<void> {
    this.syncCount++;
    const file = this.pathOf(fd);
    const fault = this.syncFault;
    if (fault && fault.match.test(file)) {
      this.syncFault = null;
      this.fired.push(`fdatasync ${fault.code}`);
      throw errnoError(fault.code, 'fdatasync', file);
    }
    await nodeIo.fdatasync(fd);
  }

  ftruncate(fd: number, length: number): Promise<void> {
    return nodeIo.ftruncate(fd, length);
  }

  fileSize(fd: number): Promise<number> {
    return nodeIo.fileSize(fd);
  }
}
