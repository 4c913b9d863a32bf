// Typed storage errors. Client mistakes never reach storage; these are disk and state errors
// that the broker reports (and, for corruption at start, the operator must act on).

export class StorageError extends Error {
  constructor(
    readonly code: 'WRITE_FAILED' | 'CORRUPT' | 'CLOSED' | 'LIMIT' | 'INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Corruption found at start or on read: names the file, offset and what is at stake. */
export class CorruptionError extends StorageError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super('CORRUPT', `corruption in ${file} at offset ${offset}: ${detail}`);
    this.name = 'CorruptionError';
  }
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
