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
  JOURNAL_COMPACT_MIN_BYTES,
  JOURNAL_FRAME_TARGET_BYTES,
  JOURNAL_MANIFEST_MAX_BYTES,
  JOURNAL_PROBE_MAX_BYTES,
  JOURNAL_SNAPSHOT_WRITE_BYTES,
  MAX_FRAME_BYTES,
  MAX_RECORD_BYTES,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  READ_CHUNK_BYTES,
  READ_FIRST_CHUNK_BYTES,
  READ_FD_CACHE,
  SYNC_WRITE_MAX_BYTES,
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
/**
 * Consecutive XADDs to one stream (a pipeline, an HTTP batch) run as one batch of at most this
 * many calls: one storage command each, and a bounded time (a few ms) without yielding.
 */
export const BATCH_MAX_CALLS = 1024;
/** Emulated nodes kept per stream (about 200 bytes each); older ones fold into a lazy region. */
export const MODEL_MAX_NODES = 4096;

// ---- HTTP front end (src/http) ---------------------------------------------------------------
/** Loopback only by default: a broker without a token must not be reachable from outside. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 7380;
/** Request bodies: 8 MiB covers batches of thousands of entries (fastify's default is 1 MiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
/** The largest body limit an operator may set: a request is parsed whole in memory. */
export const MAX_BODY_LIMIT_BYTES = 512 * 1024 * 1024;
/** Long-polls end by then: proxies and load balancers commonly drop idle requests at 60 s. */
export const DEFAULT_MAX_BLOCK_MS = 25_000;
/** Commands in one POST /pipeline: bounds the replies held for one response. */
export const MAX_PIPELINE_COMMANDS = 10_000;
/** SSE comment line sent this often so proxies keep the stream open. */
export const SSE_HEARTBEAT_MS = 15_000;
/** An SSE or pub/sub subscriber whose unsent output passes this is cut off (Redis's hard limit). */
export const SUBSCRIBER_OUTPUT_HARD_BYTES = 32 * 1024 * 1024;
/** ...or stays above this for SUBSCRIBER_OUTPUT_SOFT_SECONDS (Redis's pubsub soft limit). */
export const SUBSCRIBER_OUTPUT_SOFT_BYTES = 8 * 1024 * 1024;
export const SUBSCRIBER_OUTPUT_SOFT_SECONDS = 60;
/** Default cap on unacknowledged entries of an SSE consumer-group feed. */
export const DEFAULT_SSE_MAX_UNACKED = 100;
/** The largest maxUnacked an SSE group feed may ask for: bounds one consumer's PEL growth. */
export const MAX_SSE_MAX_UNACKED = 100_000;
/** The `retry:` line of every SSE stream: EventSource reconnects after this long. */
export const SSE_RETRY_MS = 3000;
/** Entries an SSE tail or group feed reads per command (`?count=`), and the most allowed. */
export const DEFAULT_SSE_READ_COUNT = 100;
export const MAX_SSE_READ_COUNT = 10_000;
/** How often a group feed held at its maxUnacked cap looks at the PEL again for acks. */
export const SSE_ACK_POLL_MS = 50;
/** A stream that ended (shutdown, slow consumer) gets this long to flush, then is destroyed. */
export const SSE_END_GRACE_MS = 1000;
/** Pub/sub output held back to batch one loop turn's messages goes out once it reaches this. */
export const SSE_CORK_MAX_BYTES = 64 * 1024;

// ---- RESP front end (src/resp) -----------------------------------------------------------------
export const DEFAULT_RESP_PORT = 6379;
/** Parsed commands a connection may have waiting; past it, its socket stops being read. */
export const RESP_MAX_QUEUED_COMMANDS = 4096;
/** Unsent reply bytes after which a connection stops reading until its client catches up. */
export const RESP_OUTPUT_PAUSE_BYTES = 4 * 1024 * 1024;
