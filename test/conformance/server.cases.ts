// Conformance cases for the server commands (COMMAND, CONFIG, OBJECT, FUNCTION, INFO), each
// checked against redis-server 7.0 (FLUSHALL before each case). Only replies that do not
// depend on the server's build are compared: COMMAND COUNT, full COMMAND INFO entries (tips,
// key-spec details) and most of INFO differ by design (test/commands/server.test.ts compares
// COMMAND INFO's arity, flags and key positions row by row). Every case that changes a
// parameter sets it back: both servers live across cases and families. Parameters whose
// values differ by design (save, appendonly, appendfsync, dir, bind, port, loglevel, maxclients,
// which follows the file descriptor limit) are not compared.

export interface ConformanceCase {
  name: string;
  commands: string[][];
  unordered?: boolean;
}

const xadd = (key: string, id = '1-1'): string[] => ['XADD', key, id, 'f', 'v'];
const getkeys = (...call: string[]): string[] => ['COMMAND', 'GETKEYS', ...call];
const configSet = (...pairs: string[]): string[] => ['CONFIG', 'SET', ...pairs];
const configGet = (...patterns: string[]): string[] => ['CONFIG', 'GET', ...patterns];

const command: ConformanceCase[] = [
  {
    name: 'COMMAND INFO of an unknown command or subcommand is a null entry',
    commands: [
      ['COMMAND', 'INFO', 'nosuch'],
      ['COMMAND', 'INFO', 'xgroup|nosuch', 'config|', 'xlen|x'],
    ],
  },
  {
    name: 'COMMAND GETKEYS of commands with a key range',
    commands: [
      getkeys('del', 'a', 'b', 'c'),
      getkeys('rename', 'a', 'b'),
      getkeys('blpop', 'a', 'b', '0'),
      getkeys('blpop', 'a', 'b'),
      getkeys('lmove', 'a', 'b', 'LEFT', 'RIGHT'),
      getkeys('xadd', 's', '*', 'f', 'v'),
      getkeys('XLEN', 'k'),
      getkeys('XGROUP', 'CREATE', 's', 'g', '0'),
      getkeys('xinfo', 'stream', 's'),
      getkeys('object', 'encoding', 'k'),
    ],
  },
  {
    name: 'COMMAND GETKEYS of commands whose keys move',
    commands: [
      getkeys('xread', 'COUNT', '2', 'STREAMS', 'a', 'b', '0', '0'),
      getkeys('xreadgroup', 'GROUP', 'g', 'c', 'STREAMS', 'a', 'b', '0', '0'),
      getkeys('xreadgroup', 'GROUP', 'g', 'c', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'a', '0'),
      getkeys('lmpop', '2', 'a', 'b', 'LEFT'),
      getkeys('lmpop', '1', 'a', 'LEFT'),
      getkeys('blmpop', '0', '2', 'a', 'b', 'LEFT'),
    ],
  },
  {
    // SWAPDB's entry has no tips and no key specs, so it compares whole.
    name: 'COMMAND INFO and GETKEYS of SWAPDB: write, fast, @keyspace @dangerous, no keys',
    commands: [
      ['COMMAND', 'INFO', 'swapdb'],
      getkeys('swapdb', '0', '1'),
      ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'swap*'],
    ],
  },
  {
    name: 'COMMAND GETKEYS errors, in Redis order',
    commands: [
      ['COMMAND', 'GETKEYS'],
      getkeys('xlen'),
      getkeys('nosuch', 'a'),
      getkeys('xgroup', 'nosub', 's'),
      getkeys('ping', 'x'),
      getkeys('scan', '0'),
      getkeys('xinfo', 'help'),
      getkeys('command', 'info'),
      getkeys('publish', 'ch', 'm'),
      getkeys('spublish', 'ch', 'm'),
      getkeys('xlen', 'a', 'b'),
      getkeys('xgroup', 'create'),
      getkeys('lmpop', '0', 'a', 'LEFT'),
      getkeys('xread', 'COUNT', '2', 'x', 'y', 'z'),
    ],
  },
  {
    name: 'COMMAND LIST FILTERBY MODULE is empty; other filter forms are syntax errors',
    commands: [
      ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'],
      ['COMMAND', 'LIST', 'filterby', 'aclcat', 'nosuch'],
      ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'nosuch*'],
      ['COMMAND', 'LIST', 'FILTERBY'],
      ['COMMAND', 'LIST', 'FILTERBY', 'MODULE'],
      ['COMMAND', 'LIST', 'FILTERBY', 'FOO', 'x'],
      ['COMMAND', 'LIST', 'x'],
    ],
  },
  {
    name: 'COMMAND HELP, unknown subcommands and arity errors',
    commands: [
      ['COMMAND', 'HELP'],
      ['COMMAND', 'FOO'],
      ['COMMAND', 'COUNT', 'x'],
      ['COMMAND', 'HELP', 'x'],
      ['COMMAND', 'GETKEYSANDFLAGS'],
    ],
  },
];

/** Parameters stored as no-ops, whose defaults are redis-server's. */
const STORED_DEFAULTS = [
  ...['maxmemory', 'maxmemory-policy', 'timeout', 'tcp-keepalive', 'hz', 'databases'],
  ...['notify-keyspace-events', 'lua-time-limit', 'busy-reply-threshold'],
  ...['slowlog-log-slower-than', 'slowlog-max-len', 'latency-tracking'],
  ...['stream-node-max-bytes', 'stream-node-max-entries', 'list-max-listpack-size'],
  ...['list-max-ziplist-size', 'list-compress-depth', 'protected-mode'],
  ...['client-output-buffer-limit', 'lazyfree-lazy-user-del', 'activedefrag'],
  ...['appendfilename', 'dbfilename', 'requirepass'],
];

const configGets: ConformanceCase[] = [
  {
    name: 'CONFIG GET of the stored parameters answers redis-server defaults',
    commands: STORED_DEFAULTS.map((p) => configGet(p)),
  },
  {
    name: 'CONFIG GET answers a name as typed, once, and nothing for unknown names',
    commands: [
      configGet('MAXMEMORY'),
      configGet('maxmemory', 'MAXMEMORY'),
      configGet('MaxMemory', 'max*memory'),
      configGet('nosuch'),
      configGet('nosuch*'),
      configGet('*lua*'),
      configGet('busy*'),
      configGet('stream-node-max-e*'),
      configGet('HZ*'),
      ['CONFIG', 'GET'],
    ],
  },
  {
    name: 'CONFIG GET with patterns matching several parameters',
    unordered: true,
    commands: [configGet('list-max-*'), configGet('hz', 'lazyfree-lazy-user-del')],
  },
];

const configSets: ConformanceCase[] = [
  {
    name: 'CONFIG SET of numbers: memory units, bounds and hz clamped to 1..500',
    commands: [
      configSet('maxmemory', '1gb'),
      configGet('maxmemory'),
      configSet('maxmemory', '3GB'),
      configGet('maxmemory'),
      configSet('maxmemory', '100000k'),
      configGet('maxmemory'),
      configSet('maxmemory', 'kb'),
      configGet('maxmemory'),
      configSet('maxmemory', ''),
      configGet('maxmemory'),
      configSet('maxmemory', '0'),
      configSet('hz', '0'),
      configGet('hz'),
      configSet('hz', '1000'),
      configGet('hz'),
      configSet('hz', '10'),
      configSet('stream-node-max-bytes', '1kb'),
      configGet('stream-node-max-bytes'),
      configSet('stream-node-max-bytes', '4096'),
      configSet('slowlog-log-slower-than', '-1'),
      configGet('slowlog-log-slower-than'),
      configSet('slowlog-log-slower-than', '10000'),
    ],
  },
  {
    name: 'CONFIG SET of words: enums and booleans are case-insensitive and stored lower case',
    commands: [
      configSet('maxmemory-policy', 'ALLKEYS-LRU'),
      configGet('maxmemory-policy'),
      configSet('maxmemory-policy', 'noeviction'),
      configSet('protected-mode', 'NO'),
      configGet('protected-mode'),
      configSet('protected-mode', 'yes'),
      configSet('activedefrag', 'no'),
      configGet('activedefrag'),
    ],
  },
  {
    name: 'CONFIG SET through an alias changes the parameter',
    commands: [
      configSet('lua-time-limit', '100'),
      configGet('busy-reply-threshold'),
      configSet('busy-reply-threshold', '5000'),
      configSet('list-max-ziplist-size', '-5'),
      configGet('list-max-listpack-size'),
      configGet('list-max-ziplist-size'),
      configSet('list-max-listpack-size', '-2'),
      configSet('lua-time-limit', '1', 'busy-reply-threshold', '2'),
      configGet('lua-time-limit'),
      configSet('busy-reply-threshold', '5000'),
    ],
  },
  {
    name: 'CONFIG SET of several parameters at once, and all or nothing',
    commands: [
      configSet('maxmemory', '1gb', 'hz', '20'),
      configGet('maxmemory'),
      configGet('hz'),
      configSet('maxmemory', '0', 'hz', '10'),
      configSet('hz', '20', 'maxmemory', 'abc'),
      configGet('hz'),
      configSet('hz', '20', 'nosuch', '1'),
      configGet('hz'),
    ],
  },
  {
    name: 'CONFIG SET notify-keyspace-events: classes are normalised',
    commands: [
      configSet('notify-keyspace-events', 'KEA'),
      configGet('notify-keyspace-events'),
      configSet('notify-keyspace-events', 'Kl'),
      configGet('notify-keyspace-events'),
      configSet('notify-keyspace-events', 'AKEmn'),
      configGet('notify-keyspace-events'),
      configSet('notify-keyspace-events', 'g$lshzxetd'),
      configGet('notify-keyspace-events'),
      configSet('notify-keyspace-events', 'mEdK'),
      configGet('notify-keyspace-events'),
      configSet('notify-keyspace-events', 'Z'),
      configSet('notify-keyspace-events', ''),
      configGet('notify-keyspace-events'),
    ],
  },
  {
    name: 'CONFIG SET client-output-buffer-limit keeps the classes not named',
    commands: [
      configSet('client-output-buffer-limit', 'pubsub 1mb 2 3'),
      configGet('client-output-buffer-limit'),
      configSet('client-output-buffer-limit', 'replica 1 2 3 NORMAL 4 5 06'),
      configGet('client-output-buffer-limit'),
      configSet('client-output-buffer-limit', ''),
      configSet(
        'client-output-buffer-limit',
        'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
      ),
      configGet('client-output-buffer-limit'),
    ],
  },
  {
    name: 'CONFIG SET errors: syntax, unknown, immutable, protected and repeated names',
    commands: [
      ['CONFIG', 'SET'],
      configSet('maxmemory'),
      configSet('maxmemory', '1', 'hz'),
      configSet('nosuch', '1'),
      configSet('nosuch', '1', 'databases', '3'),
      configSet('databases', '3', 'nosuch', '1'),
      configSet('hz', 'abc', 'nosuch', '1'),
      configSet('databases', '3'),
      configSet('appendfilename', 'x.aof'),
      configSet('dir', '/tmp'),
      configSet('dbfilename', 'x.rdb'),
      configSet('hz', '10', 'hz', '11'),
      configSet('hz', '10', 'HZ', '11'),
    ],
  },
  {
    name: 'CONFIG SET errors: values each parameter refuses',
    commands: [
      configSet('maxmemory', 'abc'),
      configSet('maxmemory', '-1'),
      configSet('maxmemory', '+1'),
      configSet('maxmemory', ' 1'),
      configSet('HZ', 'abc'),
      configSet('hz', '010'),
      configSet('tcp-keepalive', '1.5'),
      configSet('timeout', '-1'),
      configSet('timeout', ''),
      configSet('maxclients', '0'),
      configSet('maxclients', '99999999999'),
      configSet('slowlog-max-len', '-1'),
      configSet('slowlog-log-slower-than', '-2'),
      configSet('list-max-listpack-size', '99999999999'),
      configSet('list-max-listpack-size', 'x'),
      configSet('stream-node-max-bytes', '-1'),
      configSet('lua-time-limit', 'abc'),
      configSet('maxmemory-policy', 'foo'),
      configSet('loglevel', 'foo'),
      configSet('protected-mode', 'maybe'),
      configSet('latency-tracking', '1'),
      configSet('save', '10 1 20'),
      configSet('save', 'a b'),
      configSet('save', '-1 2'),
      configSet('client-output-buffer-limit', 'pubsub 1mb 2'),
      configSet('client-output-buffer-limit', 'foo 1 2 3'),
      configSet('client-output-buffer-limit', 'master 1 2 3'),
      configSet('client-output-buffer-limit', 'normal x 2 3'),
      configSet('client-output-buffer-limit', 'normal -1 2 3'),
      configSet('client-output-buffer-limit', 'normal 1 2 -3'),
      configSet('client-output-buffer-limit', 'normal 1 2 x'),
    ],
  },
  {
    name: 'CONFIG RESETSTAT, CONFIG HELP and arity errors',
    commands: [
      ['CONFIG', 'RESETSTAT'],
      ['CONFIG', 'HELP'],
      ['CONFIG', 'FOO'],
      ['CONFIG'],
      ['CONFIG', 'RESETSTAT', 'x'],
      ['CONFIG', 'REWRITE', 'x'],
      ['CONFIG', 'HELP', 'x'],
    ],
  },
];

const object: ConformanceCase[] = [
  {
    name: 'OBJECT ENCODING of a stream, a list and a missing key',
    commands: [
      xadd('s'),
      ['RPUSH', 'l', 'a'],
      ['OBJECT', 'ENCODING', 's'],
      ['OBJECT', 'ENCODING', 'l'],
      ['OBJECT', 'encoding', 'nosuch'],
    ],
  },
  {
    name: 'OBJECT FREQ needs an LFU policy, IDLETIME refuses one, REFCOUNT is 1',
    commands: [
      xadd('s'),
      ['OBJECT', 'FREQ', 's'],
      ['OBJECT', 'FREQ', 'nosuch'],
      ['OBJECT', 'IDLETIME', 'nosuch'],
      ['OBJECT', 'REFCOUNT', 's'],
      ['OBJECT', 'REFCOUNT', 'nosuch'],
      configSet('maxmemory-policy', 'allkeys-lfu'),
      ['OBJECT', 'IDLETIME', 's'],
      ['OBJECT', 'IDLETIME', 'nosuch'],
      configSet('maxmemory-policy', 'noeviction'),
    ],
  },
  {
    name: 'OBJECT HELP, unknown subcommands and arity errors',
    commands: [
      ['OBJECT', 'HELP'],
      ['OBJECT', 'HELP', 'x'],
      ['OBJECT'],
      ['OBJECT', 'ENCODING'],
      ['OBJECT', 'ENCODING', 's', 'x'],
      ['OBJECT', 'FOO', 's'],
    ],
  },
];

// MEMORY USAGE's figure is an estimate of each server's own memory, and DOCTOR's text depends
// on how much Redis holds (test/commands/server.test.ts has both): here only what does not.
const memory: ConformanceCase[] = [
  {
    name: 'MEMORY USAGE of a missing key is nil; its options are checked first',
    commands: [
      ['MEMORY', 'USAGE', 'nosuch'],
      ['MEMORY', 'usage', 'nosuch', 'SAMPLES', '0'],
      ['MEMORY', 'USAGE', 'nosuch', 'samples', '3'],
      xadd('s'),
      ['MEMORY', 'USAGE', 's', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 's', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 's', 'SAMPLES'],
      ['MEMORY', 'USAGE', 's', 'FOO'],
      ['MEMORY', 'USAGE', 's', 'SAMPLES', '1', 'FOO', '2'],
      ['MEMORY', 'USAGE'],
    ],
  },
  {
    name: 'MEMORY PURGE and HELP, unknown subcommands and arity errors',
    commands: [
      ['MEMORY', 'PURGE'],
      ['MEMORY', 'HELP'],
      ['MEMORY', 'HELP', 'x'],
      ['MEMORY'],
      ['MEMORY', 'FOO'],
      ['MEMORY', 'DOCTOR', 'x'],
    ],
  },
];

const fn: ConformanceCase[] = [
  {
    name: 'FUNCTION FLUSH takes SYNC or ASYNC',
    commands: [
      ['FUNCTION', 'FLUSH'],
      ['FUNCTION', 'FLUSH', 'ASYNC'],
      ['FUNCTION', 'FLUSH', 'sync'],
      ['FUNCTION', 'FLUSH', 'x'],
      ['FUNCTION', 'FLUSH', 'ASYNC', 'SYNC'],
    ],
  },
  {
    name: 'FUNCTION LIST is empty, after checking its options',
    commands: [
      ['FUNCTION', 'LIST'],
      ['FUNCTION', 'LIST', 'WITHCODE'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'x', 'withcode'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME'],
      ['FUNCTION', 'LIST', 'FOO'],
      ['FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'],
      ['FUNCTION', 'FOO'],
      ['FUNCTION'],
    ],
  },
];

const info: ConformanceCase[] = [
  {
    name: 'INFO keyspace lists the databases holding keys',
    commands: [
      ['INFO', 'keyspace'],
      xadd('s'),
      ['RPUSH', 'l', 'a'],
      ['INFO', 'keyspace'],
      ['INFO', 'KEYSPACE', 'keyspace'],
      ['INFO', 'nosuch'],
      ['INFO', 'a', 'b', 'c'],
    ],
  },
];

// BGSAVE and BGREWRITEAOF are left out: Redis's answer depends on a child still running.
// SAVE is compared once per case, with no BGSAVE before it (redis-server's dir is temporary).
const persistence: ConformanceCase[] = [
  {
    name: 'SAVE, LASTSAVE and BGSAVE: arity and syntax errors',
    commands: [
      ['SAVE', 'x'],
      xadd('s'),
      ['SAVE'],
      ['LASTSAVE', 'x'],
      ['BGSAVE', 'x'],
      ['BGSAVE', 'SCHEDULE', 'x'],
      ['BGREWRITEAOF', 'x'],
      ['TYPE', 's'],
    ],
  },
  {
    name: 'SHUTDOWN errors (the servers stay up): ABORT with nothing to abort, bad mixes',
    commands: [
      ['SHUTDOWN', 'ABORT'],
      ['SHUTDOWN', 'abort'],
      ['SHUTDOWN', 'NOSAVE', 'SAVE'],
      ['SHUTDOWN', 'ABORT', 'NOW'],
      ['SHUTDOWN', 'FORCE', 'ABORT'],
      ['SHUTDOWN', 'NOW', 'x'],
      ['SHUTDOWN', 'nosuch'],
      ['PING'],
    ],
  },
  {
    name: 'WAIT without replicas: 0 at once, or after its timeout; its argument errors',
    commands: [
      ['WAIT', '0', '0'],
      ['WAIT', '-1', '0'],
      ['WAIT', '1', '30'],
      ['WAIT', 'x', 'x'],
      ['WAIT', '1', 'x'],
      ['WAIT', '1', '-1'],
      ['WAIT', '1', '1.5'],
      ['WAIT', '1'],
    ],
  },
];

export const cases: ConformanceCase[] = [
  ...command,
  ...persistence,
  ...configGets,
  ...configSets,
  ...object,
  ...memory,
  ...fn,
  ...info,
];
