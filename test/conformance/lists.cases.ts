// Conformance cases for the list commands of Redis 7.0 (LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP,
// RPOP, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP and
// the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP), each checked against
// redis-server 7.0.15 (FLUSHALL before each case). Also WRONGTYPE between lists and streams,
// and the generic keyspace commands (TYPE, EXISTS, DEL, SCAN TYPE, KEYS, RENAME, DBSIZE,
// FLUSHDB) on lists. A list that becomes empty is deleted, so many cases end with EXISTS/TYPE.
//
// Blocking commands only run when they cannot wait for another client (the runner drives one
// client per side): data is already there, or the timeout is short (0.01 s, or under a
// millisecond) and the call times out.
//
// Left out on purpose:
// - Timeouts whose conversion to milliseconds, or its sum with the clock, overflows (`inf`,
//   1e17, 9223372036854775): Redis 7.0 casts the double to long long with no range check
//   (undefined behaviour in C, "timeout is negative" on x86) and 7.2 added the checks.
//   Sub-millisecond timeouts are in: since 7.0.8 (redis#11688) Redis rounds them up to 1 ms.
// - LPOS RANK -9223372036854775808: 7.0 negates it with an overflow and answers a match,
//   7.2 made it an error.
// - String keys (SET/GET): Sluice has no strings, so WRONGTYPE is only checked against streams.

export interface ConformanceCase {
  name: string;
  commands: string[][];
  unordered?: boolean;
}

const rpush = (key: string, ...elements: string[]): string[] => ['RPUSH', key, ...elements];
const lpush = (key: string, ...elements: string[]): string[] => ['LPUSH', key, ...elements];
const all = (key = 'l'): string[] => ['LRANGE', key, '0', '-1'];
const xadd = (key = 's'): string[] => ['XADD', key, '1-1', 'f', 'v'];
/** EXISTS and TYPE of `key`: 0 and none once a list has been emptied. */
const gone = (key = 'l'): string[][] => [
  ['EXISTS', key],
  ['TYPE', key],
];

const abc = rpush('l', 'a', 'b', 'c');
const abcde = rpush('l', 'a', 'b', 'c', 'd', 'e');
/** l = a b c a b c a (for LREM, LPOS and LINSERT). */
const repeats = rpush('l', 'a', 'b', 'c', 'a', 'b', 'c', 'a');
const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';
const I64_OVER = '9223372036854775808';
const WRONG_INTEGERS = ['x', '', '1.0', '+1', ' 1', '1 ', '0x1', I64_OVER, '-9223372036854775809'];
/** 600 elements e0..e599: past Redis's listpack size, so a quicklist of several nodes. */
const MANY = Array.from({ length: 600 }, (_, i) => `e${i}`);

const pushes: ConformanceCase[] = [
  {
    name: 'RPUSH appends in order and replies with the length',
    commands: [rpush('l', 'a'), rpush('l', 'b', 'c'), all(), ['LLEN', 'l']],
  },
  {
    name: 'LPUSH prepends each element in turn',
    commands: [lpush('l', 'a', 'b', 'c'), lpush('l', 'z'), all()],
  },
  {
    name: 'LPUSH and RPUSH mix on one list',
    commands: [rpush('l', 'm'), lpush('l', 'l'), rpush('l', 'n'), lpush('l', 'k', 'j'), all()],
  },
  {
    name: 'RPUSH keeps duplicates',
    commands: [rpush('l', 'a', 'a', 'a'), rpush('l', 'a'), all()],
  },
  {
    name: 'RPUSH creates the key as a list',
    commands: [rpush('l', 'x'), ['TYPE', 'l'], ['EXISTS', 'l'], ['DBSIZE']],
  },
  {
    name: 'LPUSHX and RPUSHX on a missing key reply 0 and create nothing',
    commands: [['LPUSHX', 'l', 'a'], ['RPUSHX', 'l', 'a', 'b'], ...gone(), ['LLEN', 'l']],
  },
  {
    name: 'LPUSHX and RPUSHX on an existing list push every element',
    commands: [rpush('l', 'm'), ['LPUSHX', 'l', 'b', 'a'], ['RPUSHX', 'l', 'y', 'z'], all()],
  },
  {
    name: 'LPUSHX after the list was emptied replies 0',
    commands: [rpush('l', 'a'), ['LPOP', 'l'], ['LPUSHX', 'l', 'b'], ...gone()],
  },
  {
    name: 'RPUSH of 600 elements, then slices, LINDEX and LSET in the middle',
    commands: [
      rpush('l', ...MANY),
      ['LLEN', 'l'],
      ['LRANGE', 'l', '295', '305'],
      ['LRANGE', 'l', '-3', '-1'],
      ['LINDEX', 'l', '300'],
      ['LINDEX', 'l', '-300'],
      ['LSET', 'l', '450', 'mid'],
      ['LINDEX', 'l', '450'],
      ['LPOS', 'l', 'e599'],
      ['LPOS', 'l', 'mid', 'RANK', '-1'],
    ],
  },
  {
    name: 'LPUSH of 600 elements reverses them',
    commands: [lpush('l', ...MANY), ['LRANGE', 'l', '0', '4'], ['LINDEX', 'l', '-1']],
  },
];

const pops: ConformanceCase[] = [
  {
    name: 'LPOP and RPOP take one element from each end',
    commands: [abcde, ['LPOP', 'l'], ['RPOP', 'l'], all()],
  },
  {
    name: 'LPOP and RPOP of a missing key reply nil',
    commands: [
      ['LPOP', 'l'],
      ['RPOP', 'l'],
    ],
  },
  {
    name: 'LPOP and RPOP with a count of a missing key reply a nil array',
    commands: [
      ['LPOP', 'l', '1'],
      ['RPOP', 'l', '5'],
      ['LPOP', 'l', '0'],
      ['RPOP', 'l', '0'],
    ],
  },
  {
    name: 'LPOP with a count replies an array, in pop order',
    commands: [abcde, ['LPOP', 'l', '2'], ['RPOP', 'l', '2'], all()],
  },
  {
    name: 'LPOP with a count of 1 still replies an array',
    commands: [abc, ['LPOP', 'l', '1'], ['RPOP', 'l', '1']],
  },
  {
    name: 'LPOP and RPOP with a count of 0 reply an empty array and pop nothing',
    commands: [abc, ['LPOP', 'l', '0'], ['RPOP', 'l', '0'], ['LLEN', 'l']],
  },
  {
    name: 'LPOP with a count beyond the length pops all and deletes the key',
    commands: [abc, ['LPOP', 'l', '10'], ...gone(), ['LPOP', 'l', '10'], ['LPOP', 'l']],
  },
  {
    name: 'RPOP with the largest count pops all',
    commands: [abc, ['RPOP', 'l', I64_MAX], ...gone()],
  },
  {
    name: 'LPOP and RPOP with a negative count are range errors, even on a missing key',
    commands: [
      abc,
      ['LPOP', 'l', '-1'],
      ['RPOP', 'l', '-5'],
      ['LPOP', 'nokey', '-1'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'LPOP with a count that is not a number is a range error',
    commands: [abc, ['LPOP', 'l', 'x'], ['RPOP', 'l', '1.5'], ['LPOP', 'l', ''], ['LLEN', 'l']],
  },
  {
    name: 'LPOP with a count beyond 64 bits is a range error',
    commands: [abc, ['LPOP', 'l', I64_OVER], ['RPOP', 'l', '99999999999999999999']],
  },
  {
    name: 'LPOP of the last element deletes the key',
    commands: [rpush('l', 'only'), ['LPOP', 'l'], ...gone(), ['LLEN', 'l'], ['LPOP', 'l']],
  },
  {
    name: 'RPOP of the last element deletes the key',
    commands: [rpush('l', 'only'), ['RPOP', 'l', '1'], ...gone(), ['DBSIZE']],
  },
  {
    name: 'LPOP with an extra argument is an arity error',
    commands: [abc, ['LPOP', 'l', '1', '2'], ['RPOP', 'l', '1', '2'], ['LLEN', 'l']],
  },
  {
    name: 'popping to empty and pushing again starts a new list',
    commands: [rpush('l', 'a'), ['RPOP', 'l'], rpush('l', 'b'), all(), ['LLEN', 'l']],
  },
];

const llenAndLrange: ConformanceCase[] = [
  { name: 'LLEN of a missing key is 0', commands: [['LLEN', 'l']] },
  { name: 'LLEN counts the elements', commands: [abcde, ['LLEN', 'l']] },
  {
    name: 'LRANGE with non-negative indexes',
    commands: [
      abcde,
      ['LRANGE', 'l', '0', '0'],
      ['LRANGE', 'l', '1', '3'],
      ['LRANGE', 'l', '0', '4'],
      ['LRANGE', 'l', '3', '100'],
    ],
  },
  {
    name: 'LRANGE with negative indexes counts from the end',
    commands: [
      abcde,
      ['LRANGE', 'l', '-1', '-1'],
      ['LRANGE', 'l', '-3', '-2'],
      ['LRANGE', 'l', '-100', '1'],
      ['LRANGE', 'l', '1', '-2'],
      ['LRANGE', 'l', '-2', '100'],
    ],
  },
  {
    name: 'LRANGE out of range or reversed replies an empty array',
    commands: [
      abcde,
      ['LRANGE', 'l', '5', '10'],
      ['LRANGE', 'l', '3', '1'],
      ['LRANGE', 'l', '-1', '-2'],
      ['LRANGE', 'l', '-100', '-50'],
      ['LRANGE', 'l', '4', '-5'],
    ],
  },
  {
    name: 'LRANGE with the extreme 64-bit indexes',
    commands: [abc, ['LRANGE', 'l', I64_MIN, I64_MAX], ['LRANGE', 'l', I64_MAX, I64_MIN]],
  },
  {
    name: 'LRANGE of a missing key replies an empty array',
    commands: [['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l', '5', '1'], ...gone()],
  },
  {
    name: 'LRANGE indexes that are not integers are errors',
    commands: [abc, ...WRONG_INTEGERS.map((w) => ['LRANGE', 'l', w, '-1'])],
  },
  {
    name: 'LRANGE checks the stop index as well',
    commands: [abc, ['LRANGE', 'l', '0', 'x'], ['LRANGE', 'l', '0', '1e2']],
  },
  {
    name: 'LRANGE parses the indexes before looking the key up',
    commands: [xadd(), ['LRANGE', 'nokey', 'x', '1'], ['LRANGE', 's', 'x', '1']],
  },
];

const lindexAndLset: ConformanceCase[] = [
  {
    name: 'LINDEX with positive and negative indexes',
    commands: [
      abcde,
      ['LINDEX', 'l', '0'],
      ['LINDEX', 'l', '4'],
      ['LINDEX', 'l', '-1'],
      ['LINDEX', 'l', '-5'],
      ['LINDEX', 'l', '2'],
    ],
  },
  {
    name: 'LINDEX out of range replies nil',
    commands: [
      abc,
      ['LINDEX', 'l', '3'],
      ['LINDEX', 'l', '-4'],
      ['LINDEX', 'l', I64_MAX],
      ['LINDEX', 'l', I64_MIN],
    ],
  },
  {
    name: 'LINDEX of a missing key replies nil, even for a bad index',
    commands: [['LINDEX', 'l', '0'], ['LINDEX', 'l', 'x'], ...gone()],
  },
  {
    name: 'LINDEX with an index that is not an integer',
    commands: [abc, ['LINDEX', 'l', 'x'], ['LINDEX', 'l', '1.5'], ['LINDEX', 'l', I64_OVER]],
  },
  {
    name: 'LSET replaces an element by index',
    commands: [
      abc,
      ['LSET', 'l', '0', 'A'],
      ['LSET', 'l', '-1', 'C'],
      ['LSET', 'l', '1', ''],
      all(),
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'LSET on a missing key is "no such key", even with a bad index',
    commands: [['LSET', 'l', '0', 'v'], ['LSET', 'l', 'x', 'v'], ...gone()],
  },
  {
    name: 'LSET out of range is "index out of range"',
    commands: [
      abc,
      ['LSET', 'l', '3', 'v'],
      ['LSET', 'l', '-4', 'v'],
      ['LSET', 'l', I64_MAX, 'v'],
      ['LSET', 'l', I64_MIN, 'v'],
      all(),
    ],
  },
  {
    name: 'LSET with an index that is not an integer',
    commands: [abc, ['LSET', 'l', 'x', 'v'], ['LSET', 'l', '', 'v'], ['LSET', 'l', '0.0', 'v']],
  },
  {
    name: 'LSET with a long value, then a short one',
    commands: [abc, ['LSET', 'l', '1', 'y'.repeat(20_000)], ['LSET', 'l', '1', 'z'], all()],
  },
];

const linsert: ConformanceCase[] = [
  {
    name: 'LINSERT BEFORE and AFTER the pivot reply the new length',
    commands: [
      abc,
      ['LINSERT', 'l', 'BEFORE', 'b', 'x'],
      ['LINSERT', 'l', 'AFTER', 'b', 'y'],
      ['LINSERT', 'l', 'BEFORE', 'a', 'first'],
      ['LINSERT', 'l', 'AFTER', 'c', 'last'],
      all(),
    ],
  },
  {
    name: 'LINSERT uses the first occurrence of the pivot',
    commands: [
      repeats,
      ['LINSERT', 'l', 'AFTER', 'a', 'X'],
      ['LINSERT', 'l', 'BEFORE', 'c', 'Y'],
      all(),
    ],
  },
  {
    name: 'LINSERT with a missing pivot replies -1 and changes nothing',
    commands: [
      abc,
      ['LINSERT', 'l', 'BEFORE', 'zz', 'x'],
      ['LINSERT', 'l', 'AFTER', '', 'x'],
      all(),
    ],
  },
  {
    name: 'LINSERT on a missing key replies 0 and creates nothing',
    commands: [
      ['LINSERT', 'l', 'BEFORE', 'a', 'x'],
      ['LINSERT', 'l', 'AFTER', 'a', 'x'],
      ...gone(),
    ],
  },
  {
    name: 'LINSERT keywords are case-insensitive',
    commands: [
      abc,
      ['LINSERT', 'l', 'before', 'a', '0'],
      ['LINSERT', 'l', 'AfTeR', 'c', '9'],
      all(),
    ],
  },
  {
    name: 'LINSERT with another keyword is a syntax error, before the key is looked up',
    commands: [
      abc,
      xadd(),
      ['LINSERT', 'l', 'MIDDLE', 'a', 'x'],
      ['LINSERT', 'nokey', 'UP', 'a', 'x'],
      ['LINSERT', 's', 'BEFOREX', 'a', 'x'],
      all(),
    ],
  },
  {
    name: 'LINSERT matches the pivot byte for byte',
    commands: [
      rpush('l', '1', '01', 'A', ''),
      ['LINSERT', 'l', 'AFTER', '1.0', 'x'],
      ['LINSERT', 'l', 'AFTER', 'a', 'x'],
      ['LINSERT', 'l', 'BEFORE', '01', 'zero-one'],
      ['LINSERT', 'l', 'AFTER', '', 'after-empty'],
      all(),
    ],
  },
  {
    name: 'LINSERT into a long list',
    commands: [
      rpush('l', ...MANY),
      ['LINSERT', 'l', 'AFTER', 'e598', 'x'],
      ['LRANGE', 'l', '-3', '-1'],
    ],
  },
];

const lrem: ConformanceCase[] = [
  {
    name: 'LREM with a positive count removes from the head',
    commands: [repeats, ['LREM', 'l', '2', 'a'], all()],
  },
  {
    name: 'LREM with a negative count removes from the tail',
    commands: [repeats, ['LREM', 'l', '-2', 'a'], all()],
  },
  {
    name: 'LREM with a count of 0 removes all occurrences',
    commands: [repeats, ['LREM', 'l', '0', 'b'], all()],
  },
  {
    name: 'LREM with a count beyond the occurrences removes those there are',
    commands: [repeats, ['LREM', 'l', '10', 'c'], ['LREM', 'l', '-10', 'a'], all()],
  },
  {
    name: 'LREM of a missing element replies 0',
    commands: [abc, ['LREM', 'l', '0', 'zz'], ['LREM', 'l', '1', 'A'], all()],
  },
  {
    name: 'LREM of a missing key replies 0',
    commands: [['LREM', 'l', '0', 'a'], ['LREM', 'l', '-1', 'a'], ...gone()],
  },
  {
    name: 'LREM of every element deletes the key',
    commands: [rpush('l', 'a', 'a', 'a'), ['LREM', 'l', '0', 'a'], ...gone(), ['LLEN', 'l']],
  },
  {
    name: 'LREM with a count that is not an integer, before the key is looked up',
    commands: [
      abc,
      xadd(),
      ['LREM', 'l', 'x', 'a'],
      ['LREM', 'nokey', '1.5', 'a'],
      ['LREM', 's', '', 'a'],
      ['LREM', 'l', I64_OVER, 'a'],
      ['LREM', 'l', I64_MIN, 'a'],
      all(),
    ],
  },
  {
    name: 'LREM matches elements byte for byte, not as numbers',
    commands: [
      rpush('l', '1', '01', '1.0', '+1', '1', ' 1'),
      ['LREM', 'l', '0', '1'],
      all(),
      ['LREM', 'l', '0', '1.00'],
      ['LREM', 'l', '0', '+1'],
      all(),
    ],
  },
  {
    name: 'LREM of empty strings',
    commands: [rpush('l', '', 'a', '', 'b', ''), ['LREM', 'l', '-2', ''], all()],
  },
];

const ltrim: ConformanceCase[] = [
  {
    name: 'LTRIM keeps a range',
    commands: [abcde, ['LTRIM', 'l', '1', '3'], all()],
  },
  {
    name: 'LTRIM with negative indexes',
    commands: [abcde, ['LTRIM', 'l', '-3', '-1'], all(), ['LTRIM', 'l', '-100', '1'], all()],
  },
  {
    name: 'LTRIM to the whole list changes nothing',
    commands: [abcde, ['LTRIM', 'l', '0', '-1'], ['LTRIM', 'l', '-100', '100'], all()],
  },
  {
    name: 'LTRIM to an empty range deletes the key',
    commands: [abcde, ['LTRIM', 'l', '3', '1'], ...gone()],
  },
  {
    name: 'LTRIM past the end deletes the key',
    commands: [abc, ['LTRIM', 'l', '5', '10'], ...gone(), ['LLEN', 'l']],
  },
  {
    name: 'LTRIM with a start before a negative stop that is earlier',
    commands: [abcde, ['LTRIM', 'l', '2', '-4'], ...gone()],
  },
  {
    name: 'LTRIM of a missing key replies OK',
    commands: [['LTRIM', 'l', '0', '1'], ...gone()],
  },
  {
    name: 'LTRIM with indexes that are not integers, before the key is looked up',
    commands: [
      abc,
      ['LTRIM', 'l', 'x', '1'],
      ['LTRIM', 'l', '0', 'y'],
      ['LTRIM', 'nokey', '', '1'],
      all(),
    ],
  },
  {
    name: 'LTRIM with the extreme 64-bit indexes',
    commands: [
      abc,
      ['LTRIM', 'l', I64_MIN, I64_MAX],
      all(),
      ['LTRIM', 'l', I64_MAX, '0'],
      ...gone(),
    ],
  },
  {
    name: 'LTRIM of a long list as a capped log',
    commands: [
      rpush('l', ...MANY),
      ['LTRIM', 'l', '-10', '-1'],
      ['LLEN', 'l'],
      all(),
      ['LTRIM', 'l', '0', '0'],
      all(),
    ],
  },
];

const lposBasics: ConformanceCase[] = [
  {
    name: 'LPOS finds the first match',
    commands: [repeats, ['LPOS', 'l', 'a'], ['LPOS', 'l', 'b'], ['LPOS', 'l', 'c']],
  },
  {
    name: 'LPOS of a missing element replies nil',
    commands: [repeats, ['LPOS', 'l', 'z'], ['LPOS', 'l', 'A']],
  },
  {
    name: 'LPOS of a missing key replies nil, or an empty array with COUNT',
    commands: [
      ['LPOS', 'l', 'a'],
      ['LPOS', 'l', 'a', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'COUNT', '2'],
    ],
  },
  {
    name: 'LPOS RANK picks the n-th match',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '1'],
      ['LPOS', 'l', 'a', 'RANK', '2'],
      ['LPOS', 'l', 'a', 'RANK', '3'],
      ['LPOS', 'l', 'a', 'RANK', '4'],
    ],
  },
  {
    name: 'LPOS with a negative RANK searches from the tail',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '-1'],
      ['LPOS', 'l', 'b', 'RANK', '-1'],
      ['LPOS', 'l', 'b', 'RANK', '-2'],
      ['LPOS', 'l', 'b', 'RANK', '-3'],
    ],
  },
  {
    name: 'LPOS RANK 0 is an error, even on a missing key',
    commands: [repeats, ['LPOS', 'l', 'a', 'RANK', '0'], ['LPOS', 'nokey', 'a', 'RANK', '0']],
  },
  {
    name: 'LPOS RANK beyond the matches replies nil',
    commands: [repeats, ['LPOS', 'l', 'a', 'RANK', I64_MAX], ['LPOS', 'l', 'a', 'RANK', '-4']],
  },
  {
    name: 'LPOS COUNT 0 replies every match',
    commands: [repeats, ['LPOS', 'l', 'a', 'COUNT', '0'], ['LPOS', 'l', 'z', 'COUNT', '0']],
  },
  {
    name: 'LPOS COUNT limits the matches',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'COUNT', '1'],
      ['LPOS', 'l', 'a', 'COUNT', '2'],
      ['LPOS', 'l', 'a', 'COUNT', '10'],
    ],
  },
  {
    name: 'LPOS COUNT with RANK starts at the n-th match',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '2', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'COUNT', '1', 'RANK', '3'],
      ['LPOS', 'l', 'a', 'RANK', '4', 'COUNT', '0'],
    ],
  },
  {
    name: 'LPOS COUNT with a negative RANK lists matches from the tail',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '-1', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'RANK', '-2', 'COUNT', '2'],
      ['LPOS', 'l', 'c', 'RANK', '-1', 'COUNT', '5'],
    ],
  },
];

const lposLimits: ConformanceCase[] = [
  {
    name: 'LPOS MAXLEN limits the elements compared',
    commands: [
      repeats,
      ['LPOS', 'l', 'c', 'MAXLEN', '2'],
      ['LPOS', 'l', 'c', 'MAXLEN', '3'],
      ['LPOS', 'l', 'c', 'MAXLEN', '0'],
      ['LPOS', 'l', 'a', 'MAXLEN', '1'],
    ],
  },
  {
    name: 'LPOS MAXLEN with COUNT',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'COUNT', '0', 'MAXLEN', '4'],
      ['LPOS', 'l', 'a', 'COUNT', '0', 'MAXLEN', '3'],
      ['LPOS', 'l', 'a', 'MAXLEN', '7', 'COUNT', '0'],
    ],
  },
  {
    name: 'LPOS MAXLEN with a negative RANK counts from the tail',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '-1', 'MAXLEN', '1'],
      ['LPOS', 'l', 'b', 'RANK', '-1', 'MAXLEN', '2'],
      ['LPOS', 'l', 'b', 'RANK', '-1', 'MAXLEN', '3'],
      ['LPOS', 'l', 'a', 'RANK', '-2', 'COUNT', '0', 'MAXLEN', '5'],
    ],
  },
  {
    name: 'LPOS RANK, COUNT and MAXLEN together',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '2', 'COUNT', '2', 'MAXLEN', '6'],
      ['LPOS', 'l', 'a', 'RANK', '2', 'COUNT', '2', 'MAXLEN', '7'],
      ['LPOS', 'l', 'b', 'MAXLEN', '0', 'RANK', '-2', 'COUNT', '0'],
    ],
  },
  {
    name: 'LPOS options repeated: the last one counts',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', '1', 'RANK', '2'],
      ['LPOS', 'l', 'a', 'COUNT', '1', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'MAXLEN', '1', 'MAXLEN', '0', 'COUNT', '0'],
    ],
  },
  {
    name: 'LPOS option names are case-insensitive',
    commands: [repeats, ['LPOS', 'l', 'a', 'rank', '-1', 'count', '0', 'MaxLen', '7']],
  },
  {
    name: 'LPOS COUNT and MAXLEN cannot be negative',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'COUNT', '-1'],
      ['LPOS', 'l', 'a', 'MAXLEN', '-1'],
      ['LPOS', 'nokey', 'a', 'MAXLEN', '-5'],
    ],
  },
  {
    name: 'LPOS option values that are not integers',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'RANK', 'x'],
      ['LPOS', 'l', 'a', 'COUNT', 'x'],
      ['LPOS', 'l', 'a', 'MAXLEN', '1.5'],
      ['LPOS', 'l', 'a', 'RANK', I64_OVER],
    ],
  },
  {
    name: 'LPOS with an unknown option or a missing value is a syntax error',
    commands: [
      repeats,
      ['LPOS', 'l', 'a', 'FIRST'],
      ['LPOS', 'l', 'a', 'RANK'],
      ['LPOS', 'l', 'a', 'COUNT', '1', 'MAXLEN'],
      ['LPOS', 'l', 'a', '1'],
    ],
  },
  {
    name: 'LPOS checks the options before the key type',
    commands: [
      xadd(),
      ['LPOS', 's', 'a', 'RANK', '0'],
      ['LPOS', 's', 'a', 'BAD'],
      ['LPOS', 's', 'a'],
    ],
  },
  {
    name: 'LPOS matches elements byte for byte',
    commands: [
      rpush('l', '1', '01', '', 'a\u0000b', 'A'),
      ['LPOS', 'l', '1.0'],
      ['LPOS', 'l', '01'],
      ['LPOS', 'l', ''],
      ['LPOS', 'l', 'a\u0000b'],
      ['LPOS', 'l', 'a'],
    ],
  },
];

const lmove: ConformanceCase[] = [
  {
    name: 'LMOVE in all four directions',
    commands: [
      abcde,
      ['LMOVE', 'l', 'd', 'LEFT', 'LEFT'],
      ['LMOVE', 'l', 'd', 'LEFT', 'RIGHT'],
      ['LMOVE', 'l', 'd', 'RIGHT', 'LEFT'],
      ['LMOVE', 'l', 'd', 'RIGHT', 'RIGHT'],
      all(),
      all('d'),
    ],
  },
  {
    name: 'LMOVE of a missing source replies nil and creates nothing',
    commands: [['LMOVE', 'l', 'd', 'LEFT', 'RIGHT'], ...gone('l'), ...gone('d')],
  },
  {
    name: 'LMOVE of the last element deletes the source',
    commands: [rpush('l', 'x'), ['LMOVE', 'l', 'd', 'RIGHT', 'LEFT'], ...gone(), all('d')],
  },
  {
    name: 'LMOVE onto the same list rotates it',
    commands: [
      abc,
      ['LMOVE', 'l', 'l', 'LEFT', 'RIGHT'],
      all(),
      ['LMOVE', 'l', 'l', 'RIGHT', 'LEFT'],
      all(),
      ['LMOVE', 'l', 'l', 'LEFT', 'LEFT'],
      ['LMOVE', 'l', 'l', 'RIGHT', 'RIGHT'],
      all(),
    ],
  },
  {
    name: 'LMOVE of a one-element list onto itself keeps it',
    commands: [rpush('l', 'x'), ['LMOVE', 'l', 'l', 'LEFT', 'RIGHT'], all(), ['TYPE', 'l']],
  },
  {
    name: 'LMOVE direction keywords are case-insensitive',
    commands: [
      abc,
      ['LMOVE', 'l', 'd', 'left', 'Right'],
      ['LMOVE', 'l', 'd', 'rIgHt', 'lEfT'],
      all('d'),
    ],
  },
  {
    name: 'LMOVE with another direction is a syntax error, before the keys are looked up',
    commands: [
      abc,
      xadd(),
      ['LMOVE', 'l', 'd', 'UP', 'LEFT'],
      ['LMOVE', 'l', 'd', 'LEFT', 'DOWN'],
      ['LMOVE', 's', 's', 'HEAD', 'TAIL'],
      ['LMOVE', 'nokey', 'd', 'LEFTX', 'LEFT'],
      all(),
    ],
  },
  {
    name: 'LMOVE onto a stream is WRONGTYPE and leaves the source alone',
    commands: [abc, xadd(), ['LMOVE', 'l', 's', 'LEFT', 'LEFT'], all(), ['XLEN', 's']],
  },
  {
    name: 'LMOVE from a stream is WRONGTYPE',
    commands: [xadd(), ['LMOVE', 's', 'd', 'LEFT', 'LEFT'], ...gone('d')],
  },
  {
    name: 'LMOVE from a missing source onto a stream replies nil',
    commands: [xadd(), ['LMOVE', 'nokey', 's', 'LEFT', 'LEFT'], ['TYPE', 's']],
  },
];

const rpoplpush: ConformanceCase[] = [
  {
    name: 'RPOPLPUSH moves the tail to the head of another list',
    commands: [abc, ['RPOPLPUSH', 'l', 'd'], ['RPOPLPUSH', 'l', 'd'], all(), all('d')],
  },
  {
    name: 'RPOPLPUSH onto the same list is a circular queue',
    commands: [
      abcde,
      ['RPOPLPUSH', 'l', 'l'],
      ['RPOPLPUSH', 'l', 'l'],
      all(),
      ['RPOPLPUSH', 'l', 'l'],
      ['RPOPLPUSH', 'l', 'l'],
      ['RPOPLPUSH', 'l', 'l'],
      all(),
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'RPOPLPUSH of a one-element list onto itself keeps it',
    commands: [rpush('l', 'x'), ['RPOPLPUSH', 'l', 'l'], all()],
  },
  {
    name: 'RPOPLPUSH of a missing source replies nil',
    commands: [['RPOPLPUSH', 'l', 'd'], ['RPOPLPUSH', 'l', 'l'], ...gone('d')],
  },
  {
    name: 'RPOPLPUSH of the last element deletes the source',
    commands: [rpush('l', 'x'), ['RPOPLPUSH', 'l', 'd'], ...gone(), all('d')],
  },
  {
    name: 'RPOPLPUSH onto a stream or from a stream is WRONGTYPE',
    commands: [abc, xadd(), ['RPOPLPUSH', 'l', 's'], ['RPOPLPUSH', 's', 'l'], all()],
  },
];

const lmpop: ConformanceCase[] = [
  {
    name: 'LMPOP LEFT and RIGHT pop one element and name the key',
    commands: [abcde, ['LMPOP', '1', 'l', 'LEFT'], ['LMPOP', '1', 'l', 'RIGHT'], all()],
  },
  {
    name: 'LMPOP pops from the first non-empty key',
    commands: [
      rpush('b', 'b1', 'b2'),
      rpush('c', 'c1'),
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT'],
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT'],
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT'],
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT'],
      ['DBSIZE'],
    ],
  },
  {
    name: 'LMPOP COUNT pops up to that many from one key',
    commands: [
      abcde,
      rpush('m', 'x'),
      ['LMPOP', '2', 'l', 'm', 'LEFT', 'COUNT', '2'],
      ['LMPOP', '2', 'l', 'm', 'RIGHT', 'COUNT', '10'],
      ['LMPOP', '2', 'l', 'm', 'RIGHT', 'COUNT', '10'],
      ...gone(),
      ...gone('m'),
    ],
  },
  {
    name: 'LMPOP with the largest COUNT',
    commands: [abc, ['LMPOP', '1', 'l', 'RIGHT', 'COUNT', I64_MAX], ...gone()],
  },
  {
    name: 'LMPOP of missing keys replies a nil array',
    commands: [
      ['LMPOP', '2', 'a', 'b', 'LEFT'],
      ['LMPOP', '1', 'a', 'RIGHT', 'COUNT', '3'],
    ],
  },
  {
    name: 'LMPOP keywords are case-insensitive',
    commands: [
      abcde,
      ['LMPOP', '1', 'l', 'left', 'count', '2'],
      ['LMPOP', '1', 'l', 'RiGhT', 'CoUnT', '1'],
    ],
  },
  {
    name: 'LMPOP numkeys must be a positive integer',
    commands: [
      abc,
      ['LMPOP', '0', 'l', 'LEFT'],
      ['LMPOP', '-1', 'l', 'LEFT'],
      ['LMPOP', 'x', 'l', 'LEFT'],
      ['LMPOP', I64_OVER, 'l', 'LEFT'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'LMPOP numkeys beyond the arguments is a syntax error',
    commands: [
      abc,
      ['LMPOP', '2', 'l', 'LEFT'],
      ['LMPOP', '3', 'l', 'm', 'LEFT'],
      ['LMPOP', '2147483648', 'l', 'LEFT'],
      ['LMPOP', I64_MAX, 'l', 'LEFT'],
    ],
  },
  {
    name: 'LMPOP with a bad direction or trailing words is a syntax error',
    commands: [
      abc,
      ['LMPOP', '1', 'l', 'MIDDLE'],
      ['LMPOP', '2', 'l', 'm'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '1', 'COUNT', '2'],
      ['LMPOP', '1', 'l', 'LEFT', 'EXTRA'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'LMPOP COUNT must be a positive integer',
    commands: [
      abc,
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '0'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '-1'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', 'x'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '1.5'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', I64_OVER],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '0', 'UP'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'LMPOP checks the direction before COUNT',
    commands: [abc, ['LMPOP', '1', 'l', 'UP', 'COUNT', '0']],
  },
  {
    name: 'LMPOP stops at a stream key but pops a list before it',
    commands: [
      abc,
      xadd(),
      ['LMPOP', '2', 'nokey', 's', 'LEFT'],
      ['LMPOP', '2', 's', 'l', 'LEFT'],
      ['LMPOP', '2', 'l', 's', 'LEFT'],
      all(),
    ],
  },
  {
    name: 'LMPOP with the same key twice',
    commands: [
      rpush('l', 'a'),
      ['LMPOP', '2', 'l', 'l', 'LEFT', 'COUNT', '5'],
      ['LMPOP', '2', 'l', 'l', 'LEFT'],
    ],
  },
];

const blpop: ConformanceCase[] = [
  {
    name: 'BLPOP and BRPOP with data reply [key, element] at once',
    commands: [abc, ['BLPOP', 'l', '0'], ['BRPOP', 'l', '0'], all()],
  },
  {
    name: 'BLPOP takes the first non-empty key in argument order',
    commands: [
      rpush('b', 'b1'),
      rpush('c', 'c1', 'c2'),
      ['BLPOP', 'a', 'c', 'b', '1'],
      ['BRPOP', 'a', 'b', 'c', '1'],
      ['BLPOP', 'a', 'b', 'c', '1'],
      ['DBSIZE'],
    ],
  },
  {
    name: 'BLPOP and BRPOP with a fractional timeout and data',
    commands: [
      abc,
      ['BLPOP', 'l', '0.01'],
      ['BRPOP', 'l', '0.5'],
      ['BLPOP', 'l', '1e3'],
      ...gone(),
    ],
  },
  {
    name: 'BLPOP and BRPOP time out with a nil array',
    commands: [['BLPOP', 'l', '0.01'], ['BRPOP', 'l', 'm', '0.01'], ...gone()],
  },
  {
    name: 'blocking timeouts under a millisecond round up to 1 ms and time out',
    commands: [
      ['BLPOP', 'sub-ms-1', '0.0001'],
      ['BRPOPLPUSH', 'sub-ms-2', 'sub-ms-3', '0.0005'],
      ['BLMPOP', '0.0009', '1', 'sub-ms-4', 'LEFT'],
      ['BLMOVE', 'sub-ms-5', 'sub-ms-6', 'RIGHT', 'LEFT', '0.00000001'],
      ['DBSIZE'],
    ],
  },
  {
    name: 'BLPOP on an emptied key times out',
    commands: [rpush('l', 'x'), ['BLPOP', 'l', '0.01'], ['BLPOP', 'l', '0.01'], ...gone()],
  },
  {
    name: 'BLPOP of the last element deletes the key',
    commands: [rpush('l', 'x'), ['BRPOP', 'l', '0'], ...gone()],
  },
  {
    name: 'BLPOP timeouts that are not floats',
    commands: [
      abc,
      ['BLPOP', 'l', 'x'],
      ['BLPOP', 'l', ''],
      ['BLPOP', 'l', '1x'],
      ['BLPOP', 'l', 'nan'],
      ['BRPOP', 'l', '1e'],
      ['BRPOP', 'l', '0.01s'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'BLPOP negative timeouts',
    commands: [
      abc,
      ['BLPOP', 'l', '-1'],
      ['BRPOP', 'l', '-0.5'],
      ['BLPOP', 'nokey', '-1'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'BLPOP timeouts in other float spellings',
    commands: [
      abcde,
      ['BLPOP', 'l', '0.0'],
      ['BLPOP', 'l', '.5'],
      ['BLPOP', 'l', '5.'],
      ['BLPOP', 'l', '1E1'],
      ['BLPOP', 'l', '+1'],
    ],
  },
  {
    name: 'BLPOP parses the timeout before it looks at the keys',
    commands: [xadd(), ['BLPOP', 's', 'x'], ['BLPOP', 's', '-1']],
  },
  {
    name: 'BLPOP of a stream key is WRONGTYPE, unless a list before it has data',
    commands: [
      abc,
      xadd(),
      ['BLPOP', 's', 'l', '0'],
      ['BLPOP', 'nokey', 's', 'l', '0'],
      ['BLPOP', 'l', 's', '0'],
      ['BRPOP', 'l', 's', '0.01'],
      all(),
    ],
  },
  {
    name: 'BLPOP with the same key twice',
    commands: [rpush('l', 'a', 'b'), ['BLPOP', 'l', 'l', '0'], ['BRPOP', 'l', 'l', '0']],
  },
];

const blmove: ConformanceCase[] = [
  {
    name: 'BLMOVE with data moves at once',
    commands: [
      abcde,
      ['BLMOVE', 'l', 'd', 'LEFT', 'RIGHT', '0'],
      ['BLMOVE', 'l', 'd', 'RIGHT', 'LEFT', '0.01'],
      ['BLMOVE', 'l', 'l', 'LEFT', 'RIGHT', '1'],
      all(),
      all('d'),
    ],
  },
  {
    name: 'BLMOVE times out with a nil array, not a nil bulk string',
    commands: [['BLMOVE', 'l', 'd', 'LEFT', 'LEFT', '0.01'], ...gone(), ...gone('d')],
  },
  {
    name: 'BLMOVE timeout errors',
    commands: [
      abc,
      ['BLMOVE', 'l', 'd', 'LEFT', 'LEFT', 'x'],
      ['BLMOVE', 'l', 'd', 'LEFT', 'LEFT', '-1'],
      ['BLMOVE', 'l', 'd', 'LEFT', 'LEFT', ''],
      all(),
    ],
  },
  {
    name: 'BLMOVE checks the directions before the timeout',
    commands: [
      abc,
      ['BLMOVE', 'l', 'd', 'UP', 'LEFT', 'x'],
      ['BLMOVE', 'l', 'd', 'left', 'Right', '0'],
    ],
  },
  {
    name: 'BLMOVE onto a stream is WRONGTYPE',
    commands: [
      abc,
      xadd(),
      ['BLMOVE', 'l', 's', 'LEFT', 'LEFT', '0'],
      ['BLMOVE', 's', 'l', 'LEFT', 'LEFT', '0'],
      all(),
    ],
  },
  {
    name: 'BRPOPLPUSH with data moves at once',
    commands: [
      abc,
      ['BRPOPLPUSH', 'l', 'd', '0'],
      ['BRPOPLPUSH', 'l', 'l', '0.01'],
      all(),
      all('d'),
    ],
  },
  {
    name: 'BRPOPLPUSH times out with a nil array, not a nil bulk string',
    commands: [['BRPOPLPUSH', 'l', 'd', '0.01'], ...gone('d')],
  },
  {
    name: 'BRPOPLPUSH timeout errors',
    commands: [abc, ['BRPOPLPUSH', 'l', 'd', 'x'], ['BRPOPLPUSH', 'nokey', 'd', '-1'], all()],
  },
  {
    name: 'BRPOPLPUSH of the last element deletes the source',
    commands: [rpush('l', 'x'), ['BRPOPLPUSH', 'l', 'd', '0'], ...gone(), all('d')],
  },
  {
    name: 'BRPOPLPUSH onto a stream is WRONGTYPE',
    commands: [abc, xadd(), ['BRPOPLPUSH', 'l', 's', '0'], ['BRPOPLPUSH', 's', 'l', '0'], all()],
  },
];

const blmpop: ConformanceCase[] = [
  {
    name: 'BLMPOP with data pops at once',
    commands: [
      abcde,
      ['BLMPOP', '0', '1', 'l', 'LEFT'],
      ['BLMPOP', '0.01', '2', 'nokey', 'l', 'RIGHT', 'COUNT', '2'],
      ['BLMPOP', '1', '1', 'l', 'left', 'count', '10'],
      ...gone(),
    ],
  },
  {
    name: 'BLMPOP times out with a nil array',
    commands: [
      ['BLMPOP', '0.01', '2', 'a', 'b', 'LEFT'],
      ['BLMPOP', '0.01', '1', 'a', 'RIGHT', 'COUNT', '5'],
    ],
  },
  {
    name: 'BLMPOP timeout errors',
    commands: [
      abc,
      ['BLMPOP', 'x', '1', 'l', 'LEFT'],
      ['BLMPOP', '-1', '1', 'l', 'LEFT'],
      ['BLMPOP', '', '1', 'l', 'LEFT'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'BLMPOP checks numkeys, the direction and COUNT before the timeout',
    commands: [
      abc,
      ['BLMPOP', 'x', '0', 'l', 'LEFT'],
      ['BLMPOP', '-1', 'x', 'l', 'LEFT'],
      ['BLMPOP', 'x', '1', 'l', 'UP'],
      ['BLMPOP', 'x', '1', 'l', 'LEFT', 'COUNT', '0'],
      ['BLMPOP', 'x', '2', 'l', 'LEFT'],
    ],
  },
  {
    name: 'BLMPOP numkeys and COUNT errors',
    commands: [
      abc,
      ['BLMPOP', '0', '0', 'l', 'LEFT'],
      ['BLMPOP', '0', '-1', 'l', 'LEFT'],
      ['BLMPOP', '0', '2', 'l', 'LEFT'],
      ['BLMPOP', '0', '1', 'l', 'LEFT', 'COUNT', '-1'],
      ['BLMPOP', '0', '1', 'l', 'LEFT', 'COUNT'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'BLMPOP of a stream key is WRONGTYPE, unless a list before it has data',
    commands: [
      abc,
      xadd(),
      ['BLMPOP', '0', '2', 's', 'l', 'LEFT'],
      ['BLMPOP', '0', '2', 'l', 's', 'LEFT', 'COUNT', '2'],
      all(),
    ],
  },
];

const wrongType: ConformanceCase[] = [
  {
    name: 'pushes onto a stream are WRONGTYPE',
    commands: [
      xadd(),
      ['LPUSH', 's', 'a'],
      ['RPUSH', 's', 'a', 'b'],
      ['LPUSHX', 's', 'a'],
      ['RPUSHX', 's', 'a'],
      ['XLEN', 's'],
    ],
  },
  {
    name: 'pops of a stream are WRONGTYPE, with a count too',
    commands: [
      xadd(),
      ['LPOP', 's'],
      ['RPOP', 's'],
      ['LPOP', 's', '0'],
      ['RPOP', 's', '2'],
      ['LPOP', 's', '-1'],
    ],
  },
  {
    name: 'reads of a stream are WRONGTYPE',
    commands: [
      xadd(),
      ['LLEN', 's'],
      ['LRANGE', 's', '0', '-1'],
      ['LINDEX', 's', '0'],
      ['LINDEX', 's', 'x'],
      ['LPOS', 's', 'a'],
      ['LPOS', 's', 'a', 'COUNT', '0'],
    ],
  },
  {
    name: 'edits of a stream are WRONGTYPE',
    commands: [
      xadd(),
      ['LSET', 's', '0', 'v'],
      ['LSET', 's', 'x', 'v'],
      ['LINSERT', 's', 'BEFORE', 'a', 'b'],
      ['LREM', 's', '0', 'a'],
      ['LTRIM', 's', '0', '1'],
      ['XRANGE', 's', '-', '+'],
    ],
  },
  {
    name: 'stream reads of a list are WRONGTYPE',
    commands: [
      abc,
      ['XREVRANGE', 'l', '+', '-'],
      ['XREAD', 'COUNT', '1', 'STREAMS', 'l', '0'],
      ['XINFO', 'STREAM', 'l'],
      ['XINFO', 'GROUPS', 'l'],
      ['XINFO', 'CONSUMERS', 'l', 'g'],
    ],
  },
  {
    name: 'XGROUP on a list is WRONGTYPE, MKSTREAM or not',
    commands: [
      abc,
      ['XGROUP', 'CREATE', 'l', 'g', '$'],
      ['XGROUP', 'CREATE', 'l', 'g', '0', 'MKSTREAM'],
      ['XGROUP', 'SETID', 'l', 'g', '0'],
      ['XGROUP', 'DESTROY', 'l', 'g'],
      ['XGROUP', 'CREATECONSUMER', 'l', 'g', 'c'],
      ['XGROUP', 'DELCONSUMER', 'l', 'g', 'c'],
      all(),
    ],
  },
  {
    name: 'consumer-group commands on a list are WRONGTYPE',
    commands: [
      abc,
      ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'l', '>'],
      ['XPENDING', 'l', 'g'],
      ['XACK', 'l', 'g', '1-1'],
      ['XCLAIM', 'l', 'g', 'c', '0', '1-1'],
      ['XAUTOCLAIM', 'l', 'g', 'c', '0', '0'],
      ['XDEL', 'l', '1-1'],
      ['LLEN', 'l'],
    ],
  },
];

const keyspace: ConformanceCase[] = [
  { name: 'TYPE of a list is list', commands: [abc, xadd(), ['TYPE', 'l'], ['TYPE', 's']] },
  {
    name: 'EXISTS counts list keys',
    commands: [abc, rpush('m', 'x'), xadd(), ['EXISTS', 'l', 'm', 's', 'nokey', 'l']],
  },
  {
    name: 'DEL of a list, then list commands see a missing key',
    commands: [
      abc,
      ['DEL', 'l'],
      ['LLEN', 'l'],
      ['LPOP', 'l'],
      ['LRANGE', 'l', '0', '-1'],
      ...gone(),
      ['DEL', 'l'],
    ],
  },
  {
    name: 'DEL of a list lets the key become a stream, and back',
    commands: [
      abc,
      ['DEL', 'l'],
      xadd('l'),
      ['TYPE', 'l'],
      ['DEL', 'l'],
      rpush('l', 'x'),
      ['TYPE', 'l'],
    ],
  },
  {
    name: 'SCAN TYPE list returns only lists',
    commands: [abc, xadd(), ['SCAN', '0', 'TYPE', 'list'], ['SCAN', '0', 'TYPE', 'stream']],
  },
  {
    name: 'SCAN TYPE is case-insensitive and an emptied list is not returned',
    commands: [
      abc,
      rpush('m', 'x'),
      ['RPOP', 'm'],
      ['SCAN', '0', 'TYPE', 'LIST', 'COUNT', '100'],
      ['SCAN', '0', 'MATCH', 'm*', 'TYPE', 'list'],
    ],
  },
  {
    name: 'KEYS lists list keys with the others',
    commands: [abc, rpush('l2', 'x'), xadd(), ['KEYS', '*'], ['KEYS', 'l*'], ['KEYS', 'm*']],
    unordered: true,
  },
  {
    name: 'DBSIZE counts lists, and FLUSHDB removes them',
    commands: [
      abc,
      rpush('m', 'x'),
      xadd(),
      ['DBSIZE'],
      ['FLUSHDB'],
      ['DBSIZE'],
      ...gone(),
      ['LLEN', 'm'],
    ],
  },
  {
    name: 'RENAME moves a list',
    commands: [abc, ['RENAME', 'l', 'n'], ...gone(), all('n'), ['TYPE', 'n']],
  },
  {
    name: 'RENAME of a list over a stream replaces it',
    commands: [abc, xadd(), ['RENAME', 'l', 's'], ['TYPE', 's'], all('s'), ['DBSIZE']],
  },
  {
    name: 'RENAME of a stream over a list replaces it',
    commands: [abc, xadd(), ['RENAME', 's', 'l'], ['TYPE', 'l'], ['XLEN', 'l'], ['LLEN', 'l']],
  },
  {
    name: 'RENAME of a list onto itself, and RENAMENX',
    commands: [
      abc,
      rpush('m', 'x'),
      ['RENAME', 'l', 'l'],
      ['RENAMENX', 'l', 'm'],
      ['RENAMENX', 'l', 'n'],
      all('n'),
      all('m'),
      ...gone(),
    ],
  },
  {
    name: 'RENAME of an emptied list is "no such key"',
    commands: [rpush('l', 'x'), ['LPOP', 'l'], ['RENAME', 'l', 'n'], ...gone('n')],
  },
  {
    name: 'a list emptied by each command disappears',
    commands: [
      rpush('a', 'x'),
      ['LREM', 'a', '0', 'x'],
      rpush('b', 'x'),
      ['LTRIM', 'b', '1', '0'],
      rpush('c', 'x'),
      ['LMOVE', 'c', 'z', 'LEFT', 'LEFT'],
      rpush('d', 'x'),
      ['LMPOP', '1', 'd', 'LEFT'],
      rpush('e', 'x'),
      ['BLMPOP', '0', '1', 'e', 'RIGHT'],
      rpush('f', 'x'),
      ['BRPOPLPUSH', 'f', 'z', '0'],
      ['EXISTS', 'a', 'b', 'c', 'd', 'e', 'f'],
      ['KEYS', '*'],
      ['DBSIZE'],
    ],
  },
];

const arity: ConformanceCase[] = [
  {
    name: 'pushes without elements are arity errors',
    commands: [
      ['LPUSH', 'l'],
      ['RPUSH', 'l'],
      ['LPUSHX', 'l'],
      ['RPUSHX', 'l'],
      ['LPUSH'],
      ...gone(),
    ],
  },
  {
    name: 'pops, LLEN and LRANGE with the wrong number of arguments',
    commands: [
      ['LPOP'],
      ['RPOP'],
      ['LLEN'],
      ['LLEN', 'l', 'm'],
      ['LRANGE', 'l', '0'],
      ['LRANGE', 'l', '0', '1', '2'],
    ],
  },
  {
    name: 'LINDEX, LSET, LINSERT, LREM and LTRIM with the wrong number of arguments',
    commands: [
      ['LINDEX', 'l'],
      ['LINDEX', 'l', '0', '1'],
      ['LSET', 'l', '0'],
      ['LSET', 'l', '0', 'v', 'w'],
      ['LINSERT', 'l', 'BEFORE', 'a'],
      ['LINSERT', 'l', 'BEFORE', 'a', 'b', 'c'],
      ['LREM', 'l', '0'],
      ['LTRIM', 'l', '0'],
      ['LTRIM', 'l', '0', '1', '2'],
    ],
  },
  {
    name: 'LPOS, LMOVE, RPOPLPUSH and LMPOP with too few arguments',
    commands: [
      ['LPOS', 'l'],
      ['LMOVE', 'a', 'b', 'LEFT'],
      ['LMOVE', 'a', 'b', 'LEFT', 'LEFT', 'x'],
      ['RPOPLPUSH', 'a'],
      ['RPOPLPUSH', 'a', 'b', 'c'],
      ['LMPOP', '1', 'l'],
      ['LMPOP', '1'],
    ],
  },
  {
    name: 'blocking commands with the wrong number of arguments',
    commands: [
      ['BLPOP', 'l'],
      ['BRPOP'],
      ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT'],
      ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0', '1'],
      ['BRPOPLPUSH', 'a', 'b'],
      ['BRPOPLPUSH', 'a', 'b', '0', '1'],
      ['BLMPOP', '0', '1', 'l'],
      ['BLMPOP', '0'],
    ],
  },
  {
    name: 'arity errors name the command in lower case whatever the spelling',
    commands: [
      ['lpush', 'l'],
      ['LpUsH', 'l'],
      ['bLmPoP', '0'],
      ['rpoplpush', 'a'],
    ],
  },
  {
    name: 'command names are case-insensitive',
    commands: [
      ['rpush', 'l', 'a', 'b'],
      ['LpUsH', 'l', 'z'],
      ['lrange', 'l', '0', '-1'],
      ['Llen', 'l'],
      ['lPoP', 'l'],
      ['bRpOp', 'l', '0'],
    ],
  },
];

const values: ConformanceCase[] = [
  {
    name: 'empty strings are elements like any other',
    commands: [
      rpush('l', '', '', 'a'),
      ['LLEN', 'l'],
      ['LPOS', 'l', '', 'COUNT', '0'],
      ['LINSERT', 'l', 'BEFORE', 'a', ''],
      ['LPOP', 'l'],
      all(),
      ['LSET', 'l', '-1', ''],
      all(),
    ],
  },
  {
    name: 'binary-looking elements round-trip',
    commands: [
      rpush(
        'l',
        'a\u0000b',
        '\r\n',
        'tab\there',
        '"quoted"',
        'back\\slash',
        '\u00ff\u00e9',
        '\u{1f600}',
      ),
      all(),
      ['LINDEX', 'l', '1'],
      ['LPOS', 'l', '\u00ff\u00e9'],
      ['LREM', 'l', '0', 'a\u0000b'],
      ['RPOP', 'l'],
      all(),
    ],
  },
  {
    name: 'integer-looking elements are kept as written',
    commands: [
      rpush('l', '1', '-0', '01', I64_MAX, I64_OVER, '-1', '1e3', '0x10', ' 7'),
      all(),
      ['LPOS', 'l', '0'],
      ['LPOS', 'l', '-0'],
      ['LINDEX', 'l', '4'],
      ['LREM', 'l', '0', '1000'],
      ['LLEN', 'l'],
    ],
  },
  {
    name: 'long elements',
    commands: [
      rpush('l', 'x'.repeat(70_000), 'short', 'y'.repeat(100)),
      ['LLEN', 'l'],
      ['LINDEX', 'l', '0'],
      ['LPOS', 'l', 'y'.repeat(100)],
      ['RPOP', 'l', '2'],
    ],
  },
  {
    name: 'binary-looking and empty keys hold lists',
    commands: [
      rpush('key with spaces', 'a'),
      rpush('k\u0000ey', 'b'),
      rpush('', 'c'),
      ['LRANGE', 'key with spaces', '0', '-1'],
      ['LPOP', 'k\u0000ey'],
      ['TYPE', ''],
      ['LLEN', ''],
      ['KEYS', '*'],
    ],
    unordered: true,
  },
  {
    name: 'elements that look like stream IDs and keywords',
    commands: [
      rpush('l', '1-1', '0-0', '*', '$', '>', 'LEFT', 'COUNT'),
      ['LPOS', 'l', 'COUNT'],
      ['LMOVE', 'l', 'l', 'RIGHT', 'LEFT'],
      all(),
    ],
  },
];

export const cases: ConformanceCase[] = [
  ...pushes,
  ...pops,
  ...llenAndLrange,
  ...lindexAndLset,
  ...linsert,
  ...lrem,
  ...ltrim,
  ...lposBasics,
  ...lposLimits,
  ...lmove,
  ...rpoplpush,
  ...lmpop,
  ...blpop,
  ...blmove,
  ...blmpop,
  ...wrongType,
  ...keyspace,
  ...arity,
  ...values,
];
