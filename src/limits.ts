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

// ---- streams (src/broker/streams.ts emulates Redis's node layout for `~` trims) ----------------
/** Redis stream-node-max-entries default: entries (live or deleted) per node. */
export const NODE_MAX_ENTRIES = 100;
/** Redis stream-node-max-bytes default: a node's listpack stays below this. */
export const NODE_MAX_BYTES = 4096;
/** Redis's LIMIT for `~` trims when none is given: 100 * stream-node-max-entries. */
export const APPROX_TRIM_DEFAULT_LIMIT = 100 * NODE_MAX_ENTRIES;
/** Redis STREAM_LISTPACK_MAX_SIZE: XADD refuses entries whose fields and values exceed it. */
export const ENTRY_MAX_BYTES = 1 << 30;
/** Emulated nodes kept per stream (about 200 bytes each); older ones fold into a lazy region. */
export const MODEL_MAX_NODES = 4096;
