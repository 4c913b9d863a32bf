// Conformance cases for consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
// XAUTOCLAIM and XINFO, each checked against redis-server 7.0.15 (FLUSHALL before each case).
// Entries use explicit IDs; times (idle, seen-time, delivery times) are normalised by the
// runner, so cases that depend on idle times use a min-idle of 0 or of an hour.

export interface ConformanceCase {
  name: string;
  commands: string[][];
  unordered?: boolean;
}

const x = (key: string, id: string, ...fields: string[]): string[] => [
  'XADD',
  key,
  id,
  ...(fields.length > 0 ? fields : ['f', 'v']),
];
/** Stream `s` with entries 1-0 .. n-0 (fields f=v1.. vn) and group `g` at 0. */
const seed = (n: number, key = 's'): string[][] => [
  ...Array.from({ length: n }, (_, i) => x(key, `${i + 1}-0`, 'f', `v${i + 1}`)),
  ['XGROUP', 'CREATE', key, 'g', '0'],
];
const read = (consumer: string, ...rest: string[]): string[] => [
  'XREADGROUP',
  'GROUP',
  'g',
  consumer,
  ...rest,
];
const readNew = (consumer: string, count?: number): string[] =>
  count === undefined
    ? read(consumer, 'STREAMS', 's', '>')
    : read(consumer, 'COUNT', String(count), 'STREAMS', 's', '>');
const pending = (...rest: string[]): string[] => ['XPENDING', 's', 'g', ...rest];
const groupsInfo: string[] = ['XINFO', 'GROUPS', 's'];
const consumersInfo: string[] = ['XINFO', 'CONSUMERS', 's', 'g'];
const HOUR = '3600000';

const xgroupCreate: ConformanceCase[] = [
  {
    name: 'XGROUP CREATE on an existing stream answers OK and the group starts at the ID',
    commands: [x('s', '1-0'), ['XGROUP', 'CREATE', 's', 'g', '0'], groupsInfo],
  },
  {
    name: 'XGROUP CREATE with $ starts at the last ID',
    commands: [x('s', '1-0'), x('s', '5-3'), ['XGROUP', 'CREATE', 's', 'g', '$'], groupsInfo],
  },
  {
    name: 'XGROUP CREATE twice is BUSYGROUP',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['XGROUP', 'CREATE', 's', 'g', '$'],
    ],
  },
  {
    name: 'XGROUP CREATE on a missing key needs MKSTREAM',
    commands: [
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['EXISTS', 's'],
    ],
  },
  {
    name: 'XGROUP CREATE MKSTREAM makes an empty stream',
    commands: [['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'], ['XLEN', 's'], groupsInfo],
  },
  {
    name: 'XGROUP CREATE MKSTREAM with a bad ID makes no stream',
    commands: [
      ['XGROUP', 'CREATE', 's', 'g', 'bad', 'MKSTREAM'],
      ['EXISTS', 's'],
    ],
  },
  {
    name: 'XGROUP CREATE MKSTREAM on an existing stream keeps it',
    commands: [
      x('s', '3-0'),
      ['XGROUP', 'CREATE', 's', 'g', '$', 'mkstream'],
      ['XLEN', 's'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATE with ENTRIESREAD sets the counter and the lag follows',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      x('s', '3-0'),
      ['XGROUP', 'CREATE', 's', 'g', '1-0', 'ENTRIESREAD', '1'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATE accepts ENTRIESREAD -1 and refuses other negatives',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0', 'ENTRIESREAD', '-2'],
      ['XGROUP', 'CREATE', 's', 'g', '0', 'ENTRIESREAD', '-1'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATE with a non-integer ENTRIESREAD',
    commands: [x('s', '1-0'), ['XGROUP', 'CREATE', 's', 'g', '0', 'ENTRIESREAD', 'x']],
  },
  {
    name: 'XGROUP CREATE option errors come before the key check',
    commands: [
      ['XGROUP', 'CREATE', 'nokey', 'g', '0', 'FOO'],
      ['XGROUP', 'CREATE', 'nokey', 'g', '0', 'ENTRIESREAD'],
      ['XGROUP', 'create', 'nokey', 'g', '0', 'entriesread', '-5'],
    ],
  },
  {
    name: 'XGROUP CREATE refuses - and + and malformed IDs',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'g', '-'],
      ['XGROUP', 'CREATE', 's', 'g', '+'],
      ['XGROUP', 'CREATE', 's', 'g', '1-x'],
      ['XGROUP', 'CREATE', 's', 'g', '7'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATE with too many options is a syntax error',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM', 'MKSTREAM', 'ENTRIESREAD', '1'],
      ['XGROUP', 'CREATE', 's', 'g', '0', 'ENTRIESREAD', '1', 'ENTRIESREAD', '2'],
      ['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM', 'ENTRIESREAD', '2'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP arity and unknown subcommands',
    commands: [
      ['XGROUP'],
      ['XGROUP', 'FOO'],
      ['XGROUP', 'FOO', 'a', 'b', 'c'],
      ['XGROUP', 'CREATE', 's'],
      ['XGROUP', 'CREATE', 's', 'g'],
      ['XGROUP', 'DESTROY', 's'],
      ['XGROUP', 'HELP', 'x'],
    ],
  },
  {
    name: 'XGROUP HELP lists the subcommands',
    commands: [
      ['XGROUP', 'HELP'],
      ['xgroup', 'help'],
    ],
  },
  {
    name: 'group names are binary-safe and listed in byte order',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'zeta', '0'],
      ['XGROUP', 'CREATE', 's', 'Alpha', '0'],
      ['XGROUP', 'CREATE', 's', 'alpha', '0'],
      ['XGROUP', 'CREATE', 's', 'a b', '0'],
      groupsInfo,
      ['XINFO', 'STREAM', 's'],
    ],
  },
];

const xgroupOther: ConformanceCase[] = [
  {
    name: 'XGROUP SETID moves the group and resets entries-read',
    commands: [
      ...seed(3),
      readNew('c', 2),
      ['XGROUP', 'SETID', 's', 'g', '1-0'],
      groupsInfo,
      readNew('c'),
    ],
  },
  {
    name: 'XGROUP SETID with $, - and +',
    commands: [
      ...seed(2),
      ['XGROUP', 'SETID', 's', 'g', '$'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '-'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '+'],
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP SETID with ENTRIESREAD',
    commands: [...seed(4), ['XGROUP', 'SETID', 's', 'g', '2-0', 'ENTRIESREAD', '2'], groupsInfo],
  },
  {
    name: 'XGROUP SETID errors: missing group, missing key, bad options',
    commands: [
      x('s', '1-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['XGROUP', 'SETID', 's', 'nog', '0'],
      ['XGROUP', 'SETID', 'nokey', 'g', '0'],
      ['XGROUP', 'SETID', 's', 'g', '0', 'MKSTREAM'],
      ['XGROUP', 'SETID', 's', 'g', '0', 'ENTRIESREAD'],
      ['XGROUP', 'SETID', 's', 'g', '0', 'ENTRIESREAD', '1', 'ENTRIESREAD', '2'],
      ['XGROUP', 'SETID', 's', 'g', 'bad'],
      ['XGROUP', 'SETID', 's', 'g'],
    ],
  },
  {
    name: 'XGROUP SETID back makes entries deliverable again to a new owner with count 1',
    commands: [
      ...seed(2),
      readNew('alice'),
      read('alice', 'STREAMS', 's', '0'),
      ['XGROUP', 'SETID', 's', 'g', '0'],
      readNew('bob', 1),
      pending('-', '+', '10'),
      pending(),
    ],
  },
  {
    name: 'XGROUP DESTROY answers 1 then 0 and drops the PEL',
    commands: [
      ...seed(2),
      readNew('c'),
      ['XGROUP', 'DESTROY', 's', 'g'],
      ['XGROUP', 'DESTROY', 's', 'g'],
      pending(),
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP DESTROY on a missing key',
    commands: [['XGROUP', 'DESTROY', 'nokey', 'g']],
  },
  {
    name: 'XGROUP CREATECONSUMER answers 1 then 0',
    commands: [
      ...seed(1),
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'],
      consumersInfo,
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATECONSUMER errors',
    commands: [
      ...seed(1),
      ['XGROUP', 'CREATECONSUMER', 's', 'nog', 'c'],
      ['XGROUP', 'CREATECONSUMER', 'nokey', 'g', 'c'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c', 'd'],
    ],
  },
  {
    name: 'XGROUP DELCONSUMER answers the pending count and drops its entries',
    commands: [
      ...seed(3),
      readNew('a', 2),
      readNew('b'),
      ['XGROUP', 'DELCONSUMER', 's', 'g', 'a'],
      ['XGROUP', 'DELCONSUMER', 's', 'g', 'a'],
      pending(),
      pending('-', '+', '10'),
      consumersInfo,
    ],
  },
  {
    name: 'XGROUP DELCONSUMER errors',
    commands: [
      ...seed(1),
      ['XGROUP', 'DELCONSUMER', 's', 'nog', 'c'],
      ['XGROUP', 'DELCONSUMER', 'nokey', 'g', 'c'],
      ['XGROUP', 'DELCONSUMER', 's', 'g', 'nobody'],
    ],
  },
  {
    name: 'XGROUP subcommands with extra arguments',
    commands: [
      ...seed(1),
      ['XGROUP', 'DESTROY', 's', 'g', 'x'],
      ['XGROUP', 'DELCONSUMER', 's', 'g', 'c', 'x'],
      ['XGROUP', 'cReate', 's', 'g2', '0', 'foo'],
      ['XGROUP', 'SetId', 's', 'g', '0', 'foo'],
    ],
  },
];

const xreadgroup: ConformanceCase[] = [
  {
    name: 'XREADGROUP > delivers new entries and moves the group',
    commands: [...seed(3), readNew('c'), groupsInfo, consumersInfo, readNew('c')],
  },
  {
    name: 'XREADGROUP COUNT limits the entries',
    commands: [...seed(5), readNew('c', 2), readNew('c', 2), readNew('c', 2), readNew('c', 2)],
  },
  {
    name: 'XREADGROUP COUNT 0 and negative COUNT mean no limit',
    commands: [...seed(3), readNew('a', 0), ['XGROUP', 'SETID', 's', 'g', '0'], readNew('b', -5)],
  },
  {
    name: 'XREADGROUP without new entries answers a null array',
    commands: [
      ...seed(1),
      readNew('c'),
      readNew('c'),
      ['XGROUP', 'CREATE', 'e', 'g', '$', 'MKSTREAM'],
      read('c', 'STREAMS', 'e', '>'),
    ],
  },
  {
    name: 'XREADGROUP NOACK delivers without pending entries',
    commands: [
      ...seed(2),
      read('c', 'NOACK', 'STREAMS', 's', '>'),
      pending(),
      groupsInfo,
      consumersInfo,
    ],
  },
  {
    name: 'XREADGROUP history returns the consumer own pending entries and counts deliveries',
    commands: [
      ...seed(3),
      readNew('a', 2),
      readNew('b'),
      read('a', 'STREAMS', 's', '0'),
      read('b', 'STREAMS', 's', '0-0'),
      read('c', 'STREAMS', 's', '0'),
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XREADGROUP history starts after the given ID',
    commands: [
      ...seed(4),
      readNew('a'),
      read('a', 'STREAMS', 's', '2-0'),
      read('a', 'STREAMS', 's', '1'),
      read('a', 'STREAMS', 's', '0-5'),
      read('a', 'COUNT', '1', 'STREAMS', 's', '1-18446744073709551615'),
      read('a', 'STREAMS', 's', '18446744073709551615'),
    ],
  },
  {
    name: 'XREADGROUP history shows deleted entries as nil and leaves them pending',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XDEL', 's', '2-0'],
      read('a', 'STREAMS', 's', '0'),
      pending('-', '+', '10'),
      read('a', 'COUNT', '1', 'STREAMS', 's', '1-0'),
    ],
  },
  {
    name: 'XREADGROUP history after XACK',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XACK', 's', 'g', '1-0', '3-0'],
      read('a', 'STREAMS', 's', '0'),
    ],
  },
  {
    name: 'XREADGROUP with the top ID reads as >',
    commands: [
      ...seed(2),
      read('a', 'STREAMS', 's', '18446744073709551615-18446744073709551615'),
      read('a', 'STREAMS', 's', '18446744073709551615-18446744073709551615'),
    ],
  },
  {
    name: 'XREADGROUP refuses $ and + and malformed IDs',
    commands: [
      ...seed(1),
      read('c', 'STREAMS', 's', '$'),
      read('c', 'STREAMS', 's', '+'),
      read('c', 'STREAMS', 's', '-'),
      read('c', 'STREAMS', 's', 'bad'),
      read('c', 'STREAMS', 's', '99999999999999999999'),
    ],
  },
  {
    name: 'XREADGROUP errors for missing key or group name the key and group',
    commands: [
      ...seed(1),
      read('c', 'STREAMS', 'nokey', '>'),
      ['XREADGROUP', 'GROUP', 'nog', 'c', 'STREAMS', 's', '>'],
      read('c', 'STREAMS', 's', 'nokey', '>', '>'),
      read('c', 'STREAMS', 'nokey', 's', '>', '>'),
      read('c', 'STREAMS', 's', 'nokey', 'bad', '>'),
    ],
  },
  {
    name: 'XREADGROUP option errors',
    commands: [
      ...seed(1),
      ['XREADGROUP', 'COUNT', '1', 'BLOCK', '1', 'STREAMS', 's', '>'],
      ['XREADGROUP', 'g', 'c', 'STREAMS', 's', '>', 'x'],
      read('c', 'COUNT', 'x', 'STREAMS', 's', '>'),
      read('c', 'BLOCK', '-1', 'STREAMS', 's', '>'),
      read('c', 'BLOCK', 'x', 'STREAMS', 's', '>'),
      read('c', 'BLOCK', '1.5', 'STREAMS', 's', '>'),
      read('c', 'FOO', 'STREAMS', 's', '0'),
      read('c', 'STREAMS', 's', '>', '>'),
      read('c', 'STREAMS', 's'),
      ['XREADGROUP', 'GROUP', 'g', 'STREAMS', 's', '>'],
    ],
  },
  {
    name: 'XREADGROUP takes the last GROUP and repeated NOACK',
    commands: [
      ...seed(1),
      read('c', 'GROUP', 'g2', 'c2', 'STREAMS', 's', '>'),
      read('c', 'NOACK', 'NOACK', 'STREAMS', 's', '>'),
      pending(),
    ],
  },
  {
    name: 'XREADGROUP over several streams answers those with entries',
    commands: [
      ...seed(2),
      ...seed(1, 't'),
      ['XGROUP', 'CREATE', 'u', 'g', '$', 'MKSTREAM'],
      read('c', 'STREAMS', 's', 'u', 't', '>', '>', '>'),
      read('c', 'STREAMS', 's', 'u', 't', '>', '>', '>'),
      read('c', 'STREAMS', 's', 'u', 't', '0', '>', '0'),
      ['XINFO', 'CONSUMERS', 'u', 'g'],
    ],
  },
  {
    name: 'XREADGROUP naming a stream twice',
    commands: [
      ...seed(2),
      read('c', 'STREAMS', 's', 's', '>', '>'),
      read('c', 'STREAMS', 's', 's', '0', '0'),
    ],
  },
  {
    name: 'XREADGROUP BLOCK with entries answers at once',
    commands: [
      ...seed(2),
      read('c', 'BLOCK', '0', 'STREAMS', 's', '>'),
      read('c', 'BLOCK', '0', 'STREAMS', 's', '0'),
    ],
  },
  {
    name: 'XREADGROUP BLOCK times out with a null array',
    commands: [
      ...seed(1),
      readNew('c'),
      read('c', 'BLOCK', '20', 'COUNT', '1', 'STREAMS', 's', '>'),
      consumersInfo,
    ],
  },
  {
    name: 'XREADGROUP creates the consumer even when nothing is delivered',
    commands: [
      ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
      readNew('a'),
      read('b', 'STREAMS', 's', '0'),
      read('c', 'BLOCK', '10', 'STREAMS', 's', '>'),
      consumersInfo,
      groupsInfo,
    ],
  },
  {
    name: 'XREADGROUP skips deleted entries and entries-read follows Redis 7.0',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      x('s', '3-0'),
      x('s', '4-0'),
      ['XDEL', 's', '2-0'],
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      readNew('c', 1),
      groupsInfo,
      readNew('c', 1),
      groupsInfo,
      readNew('c', 1),
      groupsInfo,
    ],
  },
  {
    name: 'XREADGROUP entries-read counts on from a valid counter past an earlier deletion',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      x('s', '3-0'),
      x('s', '4-0'),
      ['XGROUP', 'CREATE', 's', 'g', '1-0', 'ENTRIESREAD', '1'],
      ['XDEL', 's', '2-0'],
      groupsInfo,
      readNew('c', 1),
      groupsInfo,
      readNew('c', 1),
      groupsInfo,
    ],
  },
  {
    name: 'XREADGROUP after a trim estimates entries-read',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      x('s', '3-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['XTRIM', 's', 'MAXLEN', '2'],
      groupsInfo,
      readNew('c', 1),
      groupsInfo,
      ['XDEL', 's', '3-0'],
      groupsInfo,
      readNew('c', 1),
    ],
  },
  {
    name: 'XREADGROUP with NOACK leaves earlier pending entries alone',
    commands: [
      ...seed(2),
      readNew('a', 1),
      ['XGROUP', 'SETID', 's', 'g', '0'],
      read('b', 'NOACK', 'STREAMS', 's', '>'),
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XREADGROUP on a stream emptied by XTRIM',
    commands: [
      ...seed(2),
      ['XTRIM', 's', 'MAXLEN', '0'],
      readNew('c'),
      groupsInfo,
      x('s', '3-0'),
      groupsInfo,
      readNew('c'),
      groupsInfo,
    ],
  },
];

const xack: ConformanceCase[] = [
  {
    name: 'XACK counts only pending IDs, once each',
    commands: [
      ...seed(3),
      readNew('c'),
      ['XACK', 's', 'g', '1-0', '1-0', '2', '9-0'],
      ['XACK', 's', 'g', '1-0', '2-0'],
      pending(),
    ],
  },
  {
    name: 'XACK on a missing key or group answers 0 without parsing IDs',
    commands: [...seed(1), ['XACK', 'nokey', 'g', 'bad'], ['XACK', 's', 'nog', 'bad']],
  },
  {
    name: 'XACK with a bad ID acknowledges nothing',
    commands: [
      ...seed(2),
      readNew('c'),
      ['XACK', 's', 'g', '1-0', 'bad'],
      ['XACK', 's', 'g', '+'],
      pending(),
    ],
  },
  {
    name: 'XACK arity',
    commands: [
      ['XACK', 's'],
      ['XACK', 's', 'g'],
    ],
  },
  {
    name: 'XACK of every entry empties the summary',
    commands: [
      ...seed(2),
      readNew('c'),
      ['XACK', 's', 'g', '1-0', '2-0'],
      pending(),
      pending('-', '+', '5'),
      consumersInfo,
    ],
  },
  {
    name: 'XACK keeps other consumers entries',
    commands: [
      ...seed(4),
      readNew('a', 2),
      readNew('b', 2),
      ['XACK', 's', 'g', '2-0', '3-0'],
      pending(),
      pending('-', '+', '10', 'b'),
    ],
  },
];

const xpending: ConformanceCase[] = [
  {
    name: 'XPENDING summary on an empty PEL',
    commands: [...seed(1), pending()],
  },
  {
    name: 'XPENDING summary counts per consumer in name order',
    commands: [...seed(5), readNew('zed', 2), readNew('amy', 1), readNew('Bob', 2), pending()],
  },
  {
    name: 'XPENDING extended form lists entries with owner and count',
    commands: [
      ...seed(3),
      readNew('a', 2),
      readNew('b'),
      pending('-', '+', '10'),
      pending('-', '+', '2'),
    ],
  },
  {
    name: 'XPENDING ranges, exclusive bounds and incomplete IDs',
    commands: [
      ...seed(4),
      readNew('a'),
      pending('2', '3', '10'),
      pending('(1-0', '(4-0', '10'),
      pending('(3', '+', '10'),
      pending('-', '(3', '10'),
      pending('+', '-', '10'),
    ],
  },
  {
    name: 'XPENDING with a consumer, including one that does not exist',
    commands: [
      ...seed(4),
      readNew('a', 2),
      readNew('b'),
      pending('-', '+', '10', 'b'),
      pending('-', '+', '10', 'nobody'),
    ],
  },
  {
    name: 'XPENDING ignores arguments after the consumer',
    commands: [...seed(2), readNew('a'), pending('-', '+', '10', 'a', 'extra')],
  },
  {
    name: 'XPENDING IDLE filters by idle time',
    commands: [
      ...seed(3),
      readNew('a'),
      pending('IDLE', '0', '-', '+', '10'),
      pending('IDLE', HOUR, '-', '+', '10'),
      pending('idle', '-5', '-', '+', '10', 'a'),
    ],
  },
  {
    name: 'XPENDING count 0 and negative count',
    commands: [...seed(2), readNew('a'), pending('-', '+', '0'), pending('-', '+', '-1')],
  },
  {
    name: 'XPENDING syntax errors',
    commands: [
      ...seed(1),
      readNew('a'),
      ['XPENDING', 's'],
      pending('-'),
      pending('-', '+'),
      pending('IDLE', '10', '-', '+'),
      pending('-', '+', '10', 'a', 'b', 'c'),
      pending('IDLE', '1', '-', '+', '10', 'a', 'b'),
    ],
  },
  {
    name: 'XPENDING value errors come before the group check',
    commands: [
      ['XPENDING', 'nokey', 'g', '-', '+', 'x'],
      ['XPENDING', 'nokey', 'g', 'IDLE', 'x', '-', '+', '10'],
      ['XPENDING', 'nokey', 'g', 'IDLE', '10', '-', '+', 'x'],
      ['XPENDING', 'nokey', 'g', 'bad', '+', '10'],
      ['XPENDING', 'nokey', 'g', '-', 'bad', '10'],
      ['XPENDING', 'nokey', 'g', '(-', '+', '10'],
      ['XPENDING', 'nokey', 'g', '-', '(+', '10'],
      ['XPENDING', 'nokey', 'g', '(', '+', '10'],
      ['XPENDING', 'nokey', 'g'],
      ['XPENDING', 'nokey', 'g', '-', '+', '10'],
    ],
  },
  {
    name: 'XPENDING interval bounds at the ends of the ID space',
    commands: [
      ...seed(1),
      pending('(18446744073709551615-18446744073709551615', '+', '10'),
      pending('-', '(0-0', '10'),
      pending('(18446744073709551614-18446744073709551615', '+', '10'),
    ],
  },
  {
    name: 'XPENDING on a missing group',
    commands: [...seed(1), ['XPENDING', 's', 'nog'], ['XPENDING', 's', 'nog', '-', '+', '1']],
  },
];

const xclaim: ConformanceCase[] = [
  {
    name: 'XCLAIM moves entries to another consumer and counts a delivery',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', '3-0'],
      pending('-', '+', '10'),
      pending(),
      consumersInfo,
    ],
  },
  {
    name: 'XCLAIM JUSTID returns IDs and keeps the count',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', '2-0', 'JUSTID'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM skips entries not idle long enough',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', HOUR, '1-0', '2-0'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM of IDs not pending returns nothing',
    commands: [
      ...seed(2),
      readNew('a', 1),
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', '5-0'],
      pending(),
    ],
  },
  {
    name: 'XCLAIM FORCE creates pending entries for existing entries only',
    commands: [
      ...seed(3),
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', '7-0', 'FORCE'],
      pending('-', '+', '10'),
      ['XCLAIM', 's', 'g', 'b', HOUR, '3-0', 'FORCE', 'JUSTID'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM RETRYCOUNT sets the count; a negative one is ignored',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'RETRYCOUNT', '7'],
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', 'RETRYCOUNT', '-3'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM RETRYCOUNT with JUSTID',
    commands: [
      ...seed(1),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'JUSTID', 'RETRYCOUNT', '0'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM IDLE and TIME set the delivery time',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'IDLE', HOUR, 'JUSTID'],
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', 'TIME', '5', 'JUSTID'],
      ['XCLAIM', 's', 'g', 'b', '0', '3-0', 'IDLE', '-5', 'JUSTID'],
      pending('IDLE', '1000', '-', '+', '10'),
      ['XCLAIM', 's', 'g', 'c', '60000', '1-0', '2-0', '3-0', 'JUSTID'],
    ],
  },
  {
    name: 'XCLAIM drops pending entries whose stream entry is gone',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XDEL', 's', '2-0'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', '2-0', '3-0'],
      pending('-', '+', '10'),
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', 'FORCE'],
      pending(),
    ],
  },
  {
    name: 'XCLAIM of a repeated ID claims it twice',
    commands: [
      ...seed(1),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', '1-0'],
      pending('-', '+', '10'),
      ['XCLAIM', 's', 'g', 'c', '0', '1-0', '1-0', 'JUSTID'],
    ],
  },
  {
    name: 'XCLAIM LASTID moves the group forward only',
    commands: [
      ...seed(3),
      readNew('a', 1),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'LASTID', '2-0', 'JUSTID'],
      groupsInfo,
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'LASTID', '0-1', 'JUSTID'],
      groupsInfo,
      ['XCLAIM', 's', 'g', 'b', '0', '9-0', 'LASTID', '9-0'],
      groupsInfo,
    ],
  },
  {
    name: 'XCLAIM creates the consumer even when it claims nothing',
    commands: [...seed(1), ['XCLAIM', 's', 'g', 'newbie', '0', '1-0'], consumersInfo],
  },
  {
    name: 'XCLAIM option errors',
    commands: [
      ...seed(1),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', 'bad'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'bad'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'IDLE'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'IDLE', 'x'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'TIME', 'x'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'RETRYCOUNT', 'x'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'LASTID', 'x'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'LASTID', '+'],
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'JUSTID', '1-0'],
      ['XCLAIM', 's', 'g', 'b', '0', '-', 'JUSTID'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XCLAIM checks key and group before min-idle-time',
    commands: [
      ...seed(1),
      ['XCLAIM', 'nokey', 'g', 'b', 'x', '1-0'],
      ['XCLAIM', 's', 'nog', 'b', '0', '1-0'],
      ['XCLAIM', 's', 'g', 'b', 'x', '1-0'],
      ['XCLAIM', 's', 'g', 'b', '1.5', '1-0'],
      ['XCLAIM', 's', 'g', 'b', '-5', '1-0', 'JUSTID'],
      ['XCLAIM', 's', 'g', 'b', '0'],
    ],
  },
  {
    name: 'XCLAIM options are case-insensitive and may repeat',
    commands: [
      ...seed(2),
      readNew('a'),
      [
        'XCLAIM',
        's',
        'g',
        'b',
        '0',
        '1-0',
        '2-0',
        'justid',
        'force',
        'Force',
        'retrycount',
        '3',
        'RETRYCOUNT',
        '4',
      ],
      pending('-', '+', '10'),
    ],
  },
];

const xautoclaim: ConformanceCase[] = [
  {
    name: 'XAUTOCLAIM claims idle entries from the start and answers a cursor',
    commands: [
      ...seed(5),
      readNew('a'),
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '2'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '3-0', 'COUNT', '2', 'JUSTID'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '5-0', 'COUNT', '2'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XAUTOCLAIM default COUNT claims everything here and ends with 0-0',
    commands: [...seed(3), readNew('a'), ['XAUTOCLAIM', 's', 'g', 'b', '0', '-'], pending()],
  },
  {
    name: 'XAUTOCLAIM with an exclusive start',
    commands: [
      ...seed(3),
      readNew('a'),
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '(1-0', 'JUSTID'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '+', 'JUSTID'],
    ],
  },
  {
    name: 'XAUTOCLAIM skips entries not idle long enough',
    commands: [...seed(3), readNew('a'), ['XAUTOCLAIM', 's', 'g', 'b', HOUR, '0'], pending()],
  },
  {
    name: 'XAUTOCLAIM drops deleted entries and lists them, counting toward COUNT',
    commands: [
      ...seed(5),
      readNew('a'),
      ['XDEL', 's', '2-0', '4-0'],
      ['XAUTOCLAIM', 's', 'g', 'b', HOUR, '0', 'COUNT', '1'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '1'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XAUTOCLAIM scans at most COUNT times ten entries',
    commands: [
      ...Array.from({ length: 25 }, (_, i) => x('s', `${i + 1}-0`)),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      readNew('a', 24),
      readNew('b'),
      ['XAUTOCLAIM', 's', 'g', 'b', HOUR, '0', 'COUNT', '2'],
      ['XAUTOCLAIM', 's', 'g', 'b', HOUR, '21-0', 'COUNT', '2'],
    ],
  },
  {
    name: 'XAUTOCLAIM JUSTID keeps the delivery count',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'JUSTID', 'JUSTID'],
      ['XAUTOCLAIM', 's', 'g', 'c', '-7', '0'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'XAUTOCLAIM argument errors come before the group check',
    commands: [
      ['XAUTOCLAIM', 'nokey', 'g', 'b', 'x', '0'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', 'bad'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'COUNT', '0'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'COUNT', 'x'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'COUNT', '-1'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'COUNT', '576460752303423488'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'COUNT'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0', 'FOO'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '(+'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '(18446744073709551615-18446744073709551615'],
      ['XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0'],
    ],
  },
  {
    name: 'XAUTOCLAIM on a missing group and on an empty PEL',
    commands: [
      ...seed(1),
      ['XAUTOCLAIM', 's', 'nog', 'b', '0', '0'],
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '1000000'],
      consumersInfo,
    ],
  },
];

const xinfo: ConformanceCase[] = [
  {
    name: 'XINFO STREAM of a stream with a group',
    commands: [...seed(3), readNew('a', 1), ['XDEL', 's', '3-0'], ['XINFO', 'STREAM', 's']],
  },
  {
    name: 'XINFO STREAM of an empty stream',
    commands: [
      ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
      ['XINFO', 'STREAM', 's'],
      ['XINFO', 'STREAM', 's', 'FULL'],
    ],
  },
  {
    name: 'XINFO STREAM FULL shows entries, groups, PELs and consumers',
    commands: [
      ...seed(3),
      ['XGROUP', 'CREATE', 's', 'h', '$'],
      readNew('a', 2),
      readNew('b'),
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'idle'],
      ['XINFO', 'STREAM', 's', 'FULL'],
    ],
  },
  {
    name: 'XINFO STREAM FULL COUNT cuts entries and PELs; 0 means all, negative 10',
    commands: [
      ...Array.from({ length: 12 }, (_, i) => x('s', `${i + 1}-0`)),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      readNew('a'),
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '2'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '-1'],
      ['XINFO', 'STREAM', 's', 'FULL'],
    ],
  },
  {
    name: 'XINFO STREAM option errors come after the key check',
    commands: [
      ['XINFO', 'STREAM', 'nokey', 'FOO'],
      x('s', '1-0'),
      ['XINFO', 'STREAM', 's', 'FOO'],
      ['XINFO', 'Stream', 's', 'FULL', 'COUNT'],
      ['XINFO', 'STREAM', 's', 'FULL', 'FOO', '1'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '1', 'x'],
    ],
  },
  {
    name: 'XINFO GROUPS of a stream without groups, and of a missing key',
    commands: [x('s', '1-0'), groupsInfo, ['XINFO', 'GROUPS', 'nokey']],
  },
  {
    name: 'XINFO GROUPS lag when the group is behind, caught up, and past deletions',
    commands: [
      ...seed(4),
      ['XGROUP', 'CREATE', 's', 'h', '$'],
      ['XGROUP', 'CREATE', 's', 'i', '2-0'],
      groupsInfo,
      ['XDEL', 's', '3-0'],
      groupsInfo,
      readNew('a'),
      groupsInfo,
    ],
  },
  {
    name: 'XINFO GROUPS lag after every entry is deleted',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['XGROUP', 'CREATE', 's', 'h', '0'],
      readNew('a', 1),
      ['XDEL', 's', '1-0', '2-0'],
      groupsInfo,
    ],
  },
  {
    name: 'XINFO GROUPS lag with SETID ENTRIESREAD before and after the first entry',
    commands: [
      x('s', '1-0'),
      x('s', '2-0'),
      x('s', '3-0'),
      ['XGROUP', 'CREATE', 's', 'g', '0'],
      ['XDEL', 's', '1-0', '2-0'],
      ['XGROUP', 'SETID', 's', 'g', '0-5', 'ENTRIESREAD', '0'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '9-0', 'ENTRIESREAD', '1'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '9-0'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '2-0'],
      groupsInfo,
      ['XGROUP', 'SETID', 's', 'g', '0-5'],
      groupsInfo,
    ],
  },
  {
    name: 'XINFO CONSUMERS lists name, pending and idle in name order',
    commands: [
      ...seed(3),
      readNew('b', 1),
      readNew('a'),
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'],
      consumersInfo,
    ],
  },
  {
    name: 'XINFO CONSUMERS errors',
    commands: [
      x('s', '1-0'),
      ['XINFO', 'CONSUMERS', 's', 'nog'],
      ['XINFO', 'CONSUMERS', 'nokey', 'g'],
      ['XINFO', 'CONSUMERS', 's'],
      ['XINFO', 'CONSUMERS', 's', 'g', 'x'],
    ],
  },
  {
    name: 'XINFO arity, unknown subcommands and HELP',
    commands: [
      ['XINFO'],
      ['XINFO', 'FOO', 's'],
      ['XINFO', 'STREAM'],
      ['XINFO', 'GROUPS', 's', 'x'],
      ['XINFO', 'HELP'],
      ['XINFO', 'HELP', 'x'],
    ],
  },
];

const scenarios: ConformanceCase[] = [
  {
    name: 'two groups read the same stream independently',
    commands: [
      ...seed(3),
      ['XGROUP', 'CREATE', 's', 'h', '0'],
      readNew('a', 2),
      ['XREADGROUP', 'GROUP', 'h', 'a', 'STREAMS', 's', '>'],
      groupsInfo,
      ['XPENDING', 's', 'h'],
    ],
  },
  {
    name: 'a claimed entry moves between consumers in the summary',
    commands: [
      ...seed(4),
      readNew('a', 2),
      readNew('b', 2),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0'],
      pending(),
      read('b', 'STREAMS', 's', '0'),
      read('a', 'STREAMS', 's', '0'),
    ],
  },
  {
    name: 'deleting the key removes its groups',
    commands: [...seed(2), readNew('a'), ['DEL', 's'], pending(), x('s', '5-0'), groupsInfo],
  },
  {
    name: 'deleting a consumer lets its entries be read again after SETID',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XGROUP', 'DELCONSUMER', 's', 'g', 'a'],
      ['XGROUP', 'SETID', 's', 'g', '0'],
      readNew('b'),
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'trimmed entries stay pending and are dropped by XAUTOCLAIM',
    commands: [
      ...seed(4),
      readNew('a'),
      ['XTRIM', 's', 'MAXLEN', '1'],
      pending(),
      read('a', 'STREAMS', 's', '0'),
      ['XAUTOCLAIM', 's', 'g', 'b', '0', '0'],
      pending('-', '+', '10'),
    ],
  },
  {
    name: 'binary consumer names',
    commands: [...seed(2), readNew('c\u0000d', 1), readNew('\u00ff', 1), pending(), consumersInfo],
  },
  {
    name: 'XREADGROUP then XACK then history is empty',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XACK', 's', 'g', '1-0', '2-0'],
      read('a', 'STREAMS', 's', '0'),
      groupsInfo,
    ],
  },
  {
    name: 'XGROUP CREATE at an ID beyond the last entry',
    commands: [
      ...seed(2).slice(0, 2),
      ['XGROUP', 'CREATE', 's', 'g', '9-0'],
      readNew('a'),
      groupsInfo,
      x('s', '10-0'),
      readNew('a'),
      groupsInfo,
    ],
  },
];

const counters: ConformanceCase[] = [
  {
    name: 'delivery counts are u64 and reply as int64, past 2^32 and wrapping at 2^63',
    commands: [
      ...seed(2),
      readNew('a'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0', 'RETRYCOUNT', '9223372036854775807', 'JUSTID'],
      pending('-', '+', '10'),
      ['XCLAIM', 's', 'g', 'b', '0', '1-0'],
      ['XCLAIM', 's', 'g', 'b', '0', '2-0', 'RETRYCOUNT', '4294967294'],
      ['XCLAIM', 's', 'g', 'b', '0', '2-0'],
      pending('-', '+', '10'),
      read('b', 'STREAMS', 's', '0'),
      pending('-', '+', '10'),
      ['XINFO', 'STREAM', 's', 'FULL'],
      ['XAUTOCLAIM', 's', 'g', 'c', '0', '0'],
      pending('-', '+', '10', 'c'),
    ],
  },
  {
    name: 'XCLAIM and XAUTOCLAIM create the consumer only when they claim an entry',
    commands: [
      ...seed(3),
      readNew('a', 2),
      ['XDEL', 's', '1-0'],
      ['XAUTOCLAIM', 's', 'g', 'b', HOUR, '0'],
      ['XDEL', 's', '2-0'],
      ['XCLAIM', 's', 'g', 'c', '0', '2-0'],
      ['XCLAIM', 's', 'g', 'd', '0', '3-0'],
      ['XCLAIM', 's', 'g', 'e', '0', '3-0', 'LASTID', '9-0'],
      consumersInfo,
      groupsInfo,
      ['XCLAIM', 's', 'g', 'f', '0', '3-0', 'FORCE'],
      consumersInfo,
      pending(),
    ],
  },
];

export const cases: ConformanceCase[] = [
  ...counters,
  ...xgroupCreate,
  ...xgroupOther,
  ...xreadgroup,
  ...xack,
  ...xpending,
  ...xclaim,
  ...xautoclaim,
  ...xinfo,
  ...scenarios,
];
