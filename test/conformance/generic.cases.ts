// Conformance cases for the generic keyspace, server and connection commands, each checked
// against redis-server 7.0 (FLUSHALL before each case). Stream keys are made with XADD and
// explicit IDs. SCAN cursors differ from Redis's (see src/broker/keyspace.ts), so SCAN cases
// only compare whole iterations that fit one call and return at most one key (the runner's
// `unordered` sorts top-level elements, not the key list inside a SCAN reply). TIME's value
// is never compared.

export interface ConformanceCase {
  name: string;
  commands: string[][];
  unordered?: boolean;
}

const xadd = (key: string, id = '1-1'): string[] => ['XADD', key, id, 'f', 'v'];
const LONG_KEY = 'k'.repeat(10_000);

const del: ConformanceCase[] = [
  { name: 'DEL of a missing key answers 0', commands: [['DEL', 'nokey']] },
  {
    name: 'DEL counts only the keys that existed',
    commands: [xadd('a'), xadd('b'), ['DEL', 'a', 'b', 'c'], ['EXISTS', 'a', 'b']],
  },
  { name: 'DEL counts a repeated key once', commands: [xadd('a'), ['DEL', 'a', 'a']] },
  { name: 'DEL without keys is an arity error', commands: [['DEL']] },
  {
    name: 'DEL then XADD starts a new stream',
    commands: [xadd('a', '5-1'), ['DEL', 'a'], xadd('a', '1-1'), ['XLEN', 'a']],
  },
  {
    name: 'UNLINK deletes like DEL',
    commands: [xadd('a'), ['UNLINK', 'a', 'x', 'a'], ['TYPE', 'a'], ['DBSIZE']],
  },
  { name: 'UNLINK without keys is an arity error', commands: [['UNLINK']] },
];

const existsAndType: ConformanceCase[] = [
  { name: 'EXISTS counts repeats', commands: [xadd('a'), ['EXISTS', 'a', 'a', 'b', 'a']] },
  { name: 'EXISTS of missing keys answers 0', commands: [['EXISTS', 'x', 'y']] },
  { name: 'EXISTS without keys is an arity error', commands: [['EXISTS']] },
  { name: 'TYPE of a stream', commands: [xadd('s'), ['TYPE', 's']] },
  { name: 'TYPE of a missing key is none', commands: [['TYPE', 'nokey']] },
  { name: 'TYPE takes exactly one key', commands: [['TYPE'], ['TYPE', 'a', 'b']] },
];

const GLOB_KEYS = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'a*b', 'axb'];
const globSetup = GLOB_KEYS.map((k) => xadd(k));

const keys: ConformanceCase[] = [
  {
    name: 'KEYS with ? matches one byte',
    commands: [...globSetup, ['KEYS', 'h?llo']],
    unordered: true,
  },
  {
    name: 'KEYS with * matches any run of bytes',
    commands: [...globSetup, ['KEYS', 'h*llo'], ['KEYS', '*']],
    unordered: true,
  },
  {
    name: 'KEYS with a class, a negated class and a range',
    commands: [...globSetup, ['KEYS', 'h[ae]llo'], ['KEYS', 'h[^e]llo'], ['KEYS', 'h[a-b]llo']],
    unordered: true,
  },
  {
    name: 'KEYS with an escaped star matches it literally',
    commands: [...globSetup, ['KEYS', 'a\\*b'], ['KEYS', 'a*b']],
    unordered: true,
  },
  { name: 'KEYS matching nothing is empty', commands: [...globSetup, ['KEYS', 'zz*']] },
  {
    name: 'KEYS * returns the empty key, ** does not',
    commands: [xadd(''), ['KEYS', '*'], ['KEYS', '**'], ['TYPE', ''], ['EXISTS', '']],
  },
  { name: 'KEYS takes exactly one pattern', commands: [['KEYS'], ['KEYS', 'a', 'b']] },
  {
    name: 'KEYS on binary keys with NUL and UTF-8 bytes',
    commands: [xadd('a\u0000b'), xadd('caf\u00e9'), ['KEYS', 'a?b'], ['KEYS', 'caf*']],
  },
];

const scan: ConformanceCase[] = [
  { name: 'SCAN of an empty database', commands: [['SCAN', '0']] },
  {
    name: 'SCAN with a large COUNT returns the only key and cursor 0',
    commands: [xadd('a'), ['SCAN', '0', 'COUNT', '1000']],
  },
  {
    name: 'SCAN MATCH keeps the matching key',
    commands: [...globSetup, ['SCAN', '0', 'MATCH', 'hx*', 'COUNT', '1000']],
  },
  {
    name: 'SCAN MATCH with no match',
    commands: [...globSetup, ['SCAN', '0', 'MATCH', 'nomatch*', 'COUNT', '1000']],
  },
  {
    name: 'SCAN TYPE stream, in any case',
    commands: [
      xadd('s'),
      ['SCAN', '0', 'TYPE', 'stream', 'COUNT', '100'],
      ['SCAN', '0', 'TYPE', 'STREAM', 'COUNT', '100'],
    ],
  },
  {
    name: 'SCAN TYPE of another or an unknown type returns nothing',
    commands: [
      xadd('s'),
      ['SCAN', '0', 'TYPE', 'list', 'COUNT', '100'],
      ['SCAN', '0', 'TYPE', 'nosuchtype', 'COUNT', '100'],
    ],
  },
  {
    name: 'SCAN options repeat: the last one wins',
    commands: [
      ...globSetup,
      ['SCAN', '0', 'MATCH', 'zz', 'COUNT', '1', 'MATCH', 'axb', 'COUNT', '99'],
    ],
  },
  {
    name: 'SCAN cursors strtoul accepts',
    commands: [
      ['SCAN', ''],
      ['SCAN', '+0'],
      ['SCAN', '-0'],
      ['SCAN', '000'],
      ['SCAN', '-1'],
    ],
  },
  {
    name: 'SCAN with the largest cursor ends at once',
    commands: [
      ['SCAN', '18446744073709551615'],
      ['SCAN', '-18446744073709551615', 'MATCH', 'x'],
    ],
  },
  {
    name: 'SCAN rejects cursors that are not unsigned integers',
    commands: [
      ['SCAN', 'abc'],
      ['SCAN', ' 0'],
      ['SCAN', '0 '],
      ['SCAN', '1.5'],
      ['SCAN', '-'],
      ['SCAN', '0x10'],
      ['SCAN', '18446744073709551616'],
    ],
  },
  {
    name: 'SCAN COUNT must be a positive integer',
    commands: [
      ['SCAN', '0', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', '-1'],
      ['SCAN', '0', 'COUNT', 'abc'],
      ['SCAN', '0', 'COUNT', '9223372036854775808'],
    ],
  },
  {
    name: 'SCAN options without a value, or unknown, are syntax errors',
    commands: [
      ['SCAN', '0', 'COUNT'],
      ['SCAN', '0', 'MATCH'],
      ['SCAN', '0', 'TYPE'],
      ['SCAN', '0', 'FOO', 'bar'],
      ['SCAN', '0', 'COUNT', '5', 'MATCH'],
    ],
  },
  {
    name: 'SCAN checks the cursor before the options',
    commands: [['SCAN', 'x', 'COUNT', '0'], ['SCAN']],
  },
];

const server: ConformanceCase[] = [
  { name: 'DBSIZE counts keys', commands: [['DBSIZE'], xadd('a'), xadd('b'), ['DBSIZE']] },
  { name: 'DBSIZE takes no argument', commands: [['DBSIZE', 'x']] },
  {
    name: 'FLUSHALL removes every key',
    commands: [xadd('a'), xadd('b'), ['FLUSHALL'], ['DBSIZE'], ['EXISTS', 'a', 'b']],
  },
  {
    name: 'FLUSHALL takes ASYNC or SYNC in any case',
    commands: [xadd('a'), ['FLUSHALL', 'async'], ['DBSIZE'], xadd('a'), ['FLUSHALL', 'Sync']],
  },
  {
    name: 'FLUSHALL with other arguments is a syntax error',
    commands: [xadd('a'), ['FLUSHALL', 'now'], ['FLUSHALL', 'ASYNC', 'SYNC'], ['DBSIZE']],
  },
  {
    name: 'FLUSHDB removes the keys of the database',
    commands: [xadd('a'), ['FLUSHDB'], ['DBSIZE'], xadd('b'), ['FLUSHDB', 'ASYNC'], ['DBSIZE']],
  },
  {
    name: 'FLUSHDB with other arguments is a syntax error',
    commands: [
      ['FLUSHDB', 'x'],
      ['FLUSHDB', 'SYNC', 'SYNC'],
    ],
  },
  {
    name: 'a key written after FLUSHALL starts afresh',
    commands: [xadd('a', '9-9'), ['FLUSHALL'], xadd('a', '1-1'), ['XRANGE', 'a', '-', '+']],
  },
];

/** SWAPDB without SELECT (the in-process executor has no connection): db 0 trades with others. */
const swapdb: ConformanceCase[] = [
  {
    name: 'SWAPDB moves the keys of a database to the other and back',
    commands: [
      xadd('s', '1-1'),
      ['RPUSH', 'l', 'x', 'y'],
      ['SWAPDB', '0', '1'],
      ['DBSIZE'],
      ['EXISTS', 's', 'l'],
      xadd('t', '2-1'),
      ['SWAPDB', '1', '0'],
      ['DBSIZE'],
      ['XRANGE', 's', '-', '+'],
      ['LRANGE', 'l', '0', '-1'],
      ['EXISTS', 't'],
      ['SWAPDB', '0', '1'],
      ['KEYS', '*'],
      ['XRANGE', 't', '-', '+'],
    ],
  },
  {
    name: 'SWAPDB through a third database, several times',
    commands: [
      ['RPUSH', 'a', '1'],
      ['SWAPDB', '0', '1'],
      ['RPUSH', 'b', '2'],
      ['SWAPDB', '0', '2'],
      xadd('c', '3-1'),
      ['SWAPDB', '1', '2'],
      ['SWAPDB', '0', '1'],
      ['KEYS', '*'],
      ['SWAPDB', '0', '2'],
      ['KEYS', '*'],
      ['SWAPDB', '15', '0'],
      ['DBSIZE'],
      ['SWAPDB', '0', '15'],
      ['KEYS', '*'],
    ],
  },
  {
    name: 'SWAPDB of a database with itself answers OK and moves nothing',
    commands: [xadd('s'), ['SWAPDB', '0', '0'], ['SWAPDB', '15', '15'], ['DBSIZE']],
  },
  {
    name: 'the same key in both databases: each keeps its own data, RENAME and DEL after SWAPDB',
    commands: [
      xadd('k', '1-1'),
      ['SWAPDB', '0', '1'],
      xadd('k', '5-5'),
      ['RPUSH', 'q', 'v'],
      ['SWAPDB', '0', '1'],
      ['XRANGE', 'k', '-', '+'],
      ['RENAME', 'k', 'r'],
      ['SWAPDB', '0', '1'],
      ['XRANGE', 'k', '-', '+'],
      ['RENAME', 'q', 'r'],
      ['EXISTS', 'r'],
      ['SWAPDB', '0', '1'],
      ['XRANGE', 'r', '-', '+'],
      ['DEL', 'r'],
      ['SWAPDB', '0', '1'],
      ['LRANGE', 'r', '0', '-1'],
      ['DBSIZE'],
      ['EXISTS', 'k', 'r'],
    ],
  },
  {
    name: 'FLUSHDB after SWAPDB empties the swapped-in database only',
    commands: [
      xadd('a'),
      ['SWAPDB', '0', '1'],
      xadd('b'),
      ['RPUSH', 'l', 'x'],
      ['SWAPDB', '0', '1'],
      ['FLUSHDB'],
      ['DBSIZE'],
      ['SWAPDB', '0', '1'],
      ['DBSIZE'],
      ['XRANGE', 'b', '-', '+'],
    ],
  },
  {
    name: 'SCAN and TYPE after SWAPDB see the swapped-in keys',
    commands: [
      xadd('a'),
      ['SWAPDB', '0', '3'],
      ['RPUSH', 'l', 'x'],
      ['SCAN', '0', 'COUNT', '100'],
      ['TYPE', 'l'],
      ['TYPE', 'a'],
      ['SWAPDB', '3', '0'],
      ['SCAN', '0', 'COUNT', '100'],
      ['TYPE', 'a'],
    ],
  },
  {
    name: 'SWAPDB index errors: first index parsed, then second, then both ranges',
    commands: [
      ['SWAPDB', 'a', '0'],
      ['SWAPDB', '0', 'a'],
      ['SWAPDB', 'a', 'b'],
      ['SWAPDB', '16', 'a'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', '16', '0'],
      ['SWAPDB', '-1', '0'],
      ['SWAPDB', '0', '-1'],
      ['SWAPDB', '00', '1'],
      ['SWAPDB', '0', '-0'],
      ['SWAPDB', ' 1', '0'],
      ['SWAPDB', '+1', '0'],
      ['SWAPDB', '1.0', '0'],
      ['SWAPDB', '0x1', '0'],
      ['SWAPDB', '', '0'],
      ['SWAPDB', '2147483647', '0'],
      ['SWAPDB', '2147483648', '0'],
      ['SWAPDB', '-2147483648', '0'],
      ['SWAPDB', '-2147483649', '0'],
      ['SWAPDB', '99999999999999999999', '0'],
    ],
  },
  {
    name: 'SWAPDB takes exactly two arguments',
    commands: [['SWAPDB'], ['SWAPDB', '0'], ['SWAPDB', '0', '1', '2'], ['swapdb', '0']],
  },
];

const rename: ConformanceCase[] = [
  { name: 'RENAME of a missing key is an error', commands: [['RENAME', 'a', 'b']] },
  { name: 'RENAME of a missing key onto itself is an error', commands: [['RENAME', 'a', 'a']] },
  {
    name: 'RENAME of a key onto itself answers OK',
    commands: [xadd('a'), ['RENAME', 'a', 'a'], ['XLEN', 'a']],
  },
  {
    name: 'RENAME moves the entries',
    commands: [
      xadd('a', '1-1'),
      xadd('a', '2-1'),
      ['RENAME', 'a', 'b'],
      ['EXISTS', 'a'],
      ['XRANGE', 'b', '-', '+'],
    ],
  },
  {
    name: 'RENAME overwrites the destination',
    commands: [
      xadd('a', '1-1'),
      xadd('b', '5-1'),
      xadd('b', '6-1'),
      ['RENAME', 'a', 'b'],
      ['XRANGE', 'b', '-', '+'],
      ['DBSIZE'],
    ],
  },
  {
    name: 'RENAME keeps the last ID: XADD below it fails',
    commands: [xadd('a', '5-1'), ['RENAME', 'a', 'b'], xadd('b', '3-1'), xadd('b', '5-2')],
  },
  {
    name: 'RENAME takes exactly two keys',
    commands: [
      ['RENAME', 'a'],
      ['RENAME', 'a', 'b', 'c'],
    ],
  },
  {
    name: 'RENAMENX to a free key answers 1',
    commands: [xadd('a'), ['RENAMENX', 'a', 'b'], ['TYPE', 'a'], ['TYPE', 'b']],
  },
  {
    name: 'RENAMENX to an existing key answers 0 and changes nothing',
    commands: [
      xadd('a', '1-1'),
      xadd('b', '2-2'),
      ['RENAMENX', 'a', 'b'],
      ['XRANGE', 'b', '-', '+'],
    ],
  },
  {
    name: 'RENAMENX of a key onto itself answers 0; a missing one is an error',
    commands: [xadd('a'), ['RENAMENX', 'a', 'a'], ['RENAMENX', 'x', 'y']],
  },
  { name: 'RENAMENX takes exactly two keys', commands: [['RENAMENX', 'a']] },
  {
    name: 'RENAME keeps consumer groups and pending entries',
    commands: [
      xadd('a', '1-1'),
      xadd('a', '2-1'),
      ['XGROUP', 'CREATE', 'a', 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'a', '>'],
      ['RENAME', 'a', 'b'],
      ['XPENDING', 'b', 'g'],
      ['XINFO', 'GROUPS', 'b'],
      ['XPENDING', 'a', 'g'],
      ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 'b', '>'],
    ],
  },
  {
    name: 'RENAME of long and binary keys',
    commands: [
      xadd(LONG_KEY),
      ['RENAME', LONG_KEY, 'short'],
      ['RENAME', 'short', 'a\u0000\u00ff'],
      ['EXISTS', LONG_KEY, 'short', 'a\u0000\u00ff'],
      ['KEYS', 'a*'],
    ],
  },
];

const connection: ConformanceCase[] = [
  { name: 'PING answers PONG', commands: [['PING'], ['ping']] },
  {
    name: 'PING with a message echoes it',
    commands: [
      ['PING', 'hello'],
      ['PING', ''],
    ],
  },
  { name: 'PING with two arguments is an arity error', commands: [['PING', 'a', 'b']] },
  {
    name: 'ECHO answers its argument',
    commands: [
      ['ECHO', 'hello world'],
      ['ECHO', ''],
    ],
  },
  { name: 'ECHO takes exactly one argument', commands: [['ECHO'], ['ECHO', 'a', 'b']] },
  { name: 'TIME takes no argument', commands: [['TIME', 'x']] },
];

export const cases: ConformanceCase[] = [
  ...del,
  ...existsAndType,
  ...keys,
  ...scan,
  ...server,
  ...swapdb,
  ...rename,
  ...connection,
];
