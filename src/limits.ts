// Every limit of Sluice in one place (STYLE rule 7), each with a unit and a reason. Storage
// limits live beside the code that enforces them (storage/ imports nothing from src/) and are
// re-exported here.
export {
  CHECKPOINT_INTERVAL_MS,
  DEFAULT_SEGMENT_BYTES,
  FRAME_TARGET_BYTES,
  FSYNC_INTERVAL_MS,
  INDEX_CACHE_SEGMENTS,
  INDEX_INTERVAL_BYTES,
  MAX_FRAME_BYTES,
  MAX_RECORD_BYTES,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  READ_CHUNK_BYTES,
  READ_FIRST_CHUNK_BYTES,
  READ_FD_CACHE,
} from '../storage/limits';

/** A graceful stop that takes longer than this exits anyway (data already acknowledged is safe). */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
