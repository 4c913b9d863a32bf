// The classes of keyspace notifications (notify-keyspace-events), as Redis's NOTIFY_* bits.
// Their own module: handlers note events of a class, and the server's CONFIG parses them.
/** notify-keyspace-events classes as bits (Redis's NOTIFY_*). */
export const KeyspaceEvents = {
  keyspace: 1 << 0, // K
  keyevent: 1 << 1, // E
  generic: 1 << 2, // g
  string: 1 << 3, // $
  list: 1 << 4, // l
  set: 1 << 5, // s
  hash: 1 << 6, // h
  zset: 1 << 7, // z
  expired: 1 << 8, // x
  evicted: 1 << 9, // e
  stream: 1 << 10, // t
  keyMiss: 1 << 11, // m
  module: 1 << 12, // d
  newKey: 1 << 13, // n
} as const;
