// Storage limits, each with a unit and a reason. src/limits.ts re-exports these beside the
// protocol limits so every limit can be found in one place.

/** Default segment size: between NATS (8 MiB blocks) and Kafka (1 GiB); bounds tail scans. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Smallest segment size accepted; tests use small segments to exercise rolling. */
export const MIN_SEGMENT_BYTES = 4 * 1024;
/** Largest segment size accepted: positions are kept as u32 in the sparse index. */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** A frame longer than this is treated as corrupt (NATS rlBadThresh). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** A single record body may not exceed this; larger entries are refused before writing. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;
/** Frames are cut at command boundaries past this, so reading a few entries stays small. */
export const FRAME_TARGET_BYTES = 8 * 1024;
/** One sparse index entry per this many bytes of frames (Kafka index.interval.bytes). */
export const INDEX_INTERVAL_BYTES = 4 * 1024;
/** First read of a scan: a point read of a few entries touches about this much. */
export const READ_FIRST_CHUNK_BYTES = 8 * 1024;
/** Scans double their reads up to this, so long sequential scans make few syscalls. */
export const READ_CHUNK_BYTES = 256 * 1024;
/** everysec: the longest time written data may stay without fdatasync. */
export const FSYNC_INTERVAL_MS = 1000;
/** A checkpoint is written at each segment roll, at shutdown, and at most this long apart. */
export const CHECKPOINT_INTERVAL_MS = 60_000;
/**
 * Under fsync `always`, the file a log appends to is kept up to this much longer than its data
 * (size-ahead.ts), in whole steps, so an fdatasync has no new file size to commit. Measured on
 * this ext4 disk: write+fdatasync of 200 bytes 185-209 us growing the file, 112-128 us inside it.
 */
export const SIZE_AHEAD_BYTES = 1024 * 1024;
/** Loaded sealed-segment indexes kept in memory per store (LRU). */
export const INDEX_CACHE_SEGMENTS = 64;
/** Open read descriptors for sealed segments kept per store (LRU). */
export const READ_FD_CACHE = 128;

// ---- the journal (storage/journal.ts) -------------------------------------------------------
/** Compaction starts once the log parts exceed max(this, the last snapshot's size): Redis
 * auto-aof-rewrite-min-size, so a small journal is not rewritten over and over. 8 MiB (not
 * Redis's 64) bounds the log a restart replays to well under a second. */
export const JOURNAL_COMPACT_MIN_BYTES = 8 * 1024 * 1024;
/** A flush closes its frame past this (at an append boundary), so replay reads stay small. */
export const JOURNAL_FRAME_TARGET_BYTES = 1024 * 1024;
/** Compaction writes the snapshot in writes of about this much, yielding to commands between. */
export const JOURNAL_SNAPSHOT_WRITE_BYTES = 1024 * 1024;
/** A MANIFEST names a snapshot and a few parts; a longer length field means corruption. */
export const JOURNAL_MANIFEST_MAX_BYTES = 1024 * 1024;
/** Past a bad frame, recovery reads at most this much looking for a valid frame (torn tail or
 * corruption); a longer rest of the file is taken as corruption without probing. */
export const JOURNAL_PROBE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Writes up to this size are made with a synchronous write(2) on the event loop, as Redis
 * writes its AOF in beforeSleep: into the page cache that takes microseconds, where a round
 * trip through libuv's thread pool cost each unpipelined command a loop turn (measured: LPUSH
 * with 50 clients sat idle 25% of the time). Larger writes go to the thread pool.
 */
export const SYNC_WRITE_MAX_BYTES = 256 * 1024;
/**
 * Bytes of a MULTI/EXEC's writes written as one intent (write-hold.ts). The intent and then the
 * unit's parts are synchronous writes, so a unit's bytes are copied twice on the main thread
 * (and under `always` fdatasync'd there, as Redis does its AOF). That is a small share of running
 * a unit that size: an EXEC of 50,000 100-byte XADDs (6.5 MB) takes 0.8-1 s, one of 60 XADDs of
 * 1 MB 0.3-0.5 s in all. A larger unit is written without an intent (not all-or-nothing across a
 * crash) rather than hold that much twice in memory.
 */
export const TXN_INTENT_MAX_BYTES = 64 * 1024 * 1024;
/** An intent file left this much longer than its latest intent is cut back to it. */
export const TXN_INTENT_STALE_MAX_BYTES = 1024 * 1024;

// ---- the tail cache (storage/tail-cache.ts) -------------------------------------------------
/** Memory the cached tails of all segments of a store may hold together. */
export const TAIL_CACHE_BYTES = 32 * 1024 * 1024;
/** Memory one segment's cached tail may hold: a consumer a few thousand entries behind reads
 * from memory. */
export const TAIL_CACHE_SEGMENT_BYTES = 2 * 1024 * 1024;
/** The tail is kept in blocks of this size (a larger write gets a block of its own). */
export const TAIL_CACHE_BLOCK_BYTES = 64 * 1024;
