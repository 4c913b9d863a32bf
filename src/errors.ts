// The error catalog: every error a client can get, with Redis's exact text and an HTTP status.
// Handlers and the broker throw CommandError values made here; front ends format them (RESP as
// `-<text>`, HTTP as {error, code, statusCode}). The code is the text's first word.

export class CommandError extends Error {
  constructor(
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'CommandError';
  }

  /** Redis's error prefix: ERR, WRONGTYPE, NOGROUP, BUSYGROUP... */
  get code(): string {
    const space = this.message.indexOf(' ');
    return space < 0 ? this.message : this.message.slice(0, space);
  }
}

const e = (text: string, status = 400) => new CommandError(text, status);
const show = (b: Buffer | string) => (typeof b === 'string' ? b : b.toString('latin1'));

/** processCommand's list of an unknown command's arguments: quoted, while under 128 bytes. */
function argsText(args: readonly Buffer[]): string {
  let out = '';
  for (let i = 0; i < args.length && out.length < 128; i++) {
    out += `'${show(args[i] as Buffer).slice(0, 128 - out.length)}' `;
  }
  return out;
}

export const Errors = {
  syntax: () => e('ERR syntax error'),
  wrongType: () => e('WRONGTYPE Operation against a key holding the wrong kind of value', 409),
  arity: (name: string) => e(`ERR wrong number of arguments for '${name.toLowerCase()}' command`),
  unknownCommand: (name: Buffer | string, args: readonly Buffer[]) =>
    e(
      `ERR unknown command '${show(name).slice(0, 128)}', with args beginning with: ` +
        argsText(args),
    ),
  unknownSubcommand: (sub: Buffer | string, container: string) =>
    e(`ERR unknown subcommand '${show(sub)}'. Try ${container.toUpperCase()} HELP.`),
  notInteger: () => e('ERR value is not an integer or out of range'),
  notFloat: () => e('ERR value is not a valid float'),
  timeoutNotFloat: () => e('ERR timeout is not a float or out of range'),
  timeoutNegative: () => e('ERR timeout is negative'),
  timeoutNotInteger: () => e('ERR timeout is not an integer or out of range'),
  noShutdown: () => e('ERR No shutdown in progress.'),
  shutdownFailed: () => e('ERR Errors trying to SHUTDOWN. Check logs.', 500),
  notInMulti: () => e('ERR Command not allowed inside a transaction'),
  noSuchKey: () => e('ERR no such key', 404),
  invalidStreamId: () => e('ERR Invalid stream ID specified as stream command argument'),
  xaddIdTooSmall: () =>
    e('ERR The ID specified in XADD is equal or smaller than the target stream top item'),
  xaddIdZero: () => e('ERR The ID specified in XADD must be greater than 0-0'),
  streamExhausted: () =>
    e('ERR The stream has exhausted the last possible ID, unable to add more items'),
  noGroup: (key: Buffer | string, group: Buffer | string, cmd: string) =>
    e(
      `NOGROUP No such key '${show(key)}' or consumer group '${show(group)}' in ${cmd} ` +
        'with GROUP option',
      404,
    ),
  busyGroup: () => e('BUSYGROUP Consumer Group name already exists', 409),
  /** A storage write failed: the stream refuses writes until the operator acts. */
  storage: (detail: string) => e(`ERR ${detail}`, 503),
  // databases (SELECT, SWAPDB)
  dbIndexOutOfRange: () => e('ERR DB index is out of range'),
  invalidDbIndex: (which: 'first' | 'second') => e(`ERR invalid ${which} DB index`),
  /** Any other message Redis uses once; prefer a named entry for anything reused. */
  other: (text: string, status = 400) => e(text, status),
  // lists
  mustBePositive: () => e('ERR value is out of range, must be positive'),
  indexOutOfRange: () => e('ERR index out of range'),
  numkeysPositive: () => e('ERR numkeys should be greater than 0'),
  countPositive: () => e('ERR count should be greater than 0'),
  lposRankZero: () =>
    e(
      "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or " +
        'use negative to start from the end of the list',
    ),
  lposCountNegative: () => e("ERR COUNT can't be negative"),
  lposMaxlenNegative: () => e("ERR MAXLEN can't be negative"),
  // generic (keyspace) commands
  invalidCursor: () => e('ERR invalid cursor'),
  // consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO)
  xgroupNoKey: () =>
    e(
      'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want ' +
        'to use the MKSTREAM option to create an empty stream automatically.',
      404,
    ),
  /** XGROUP and XINFO CONSUMERS. */
  noGroupForKey: (group: Buffer | string, key: Buffer | string) =>
    e(`NOGROUP No such consumer group '${show(group)}' for key name '${show(key)}'`, 404),
  /** XPENDING, XCLAIM, XAUTOCLAIM. */
  noKeyOrGroup: (key: Buffer | string, group: Buffer | string) =>
    e(`NOGROUP No such key '${show(key)}' or consumer group '${show(group)}'`, 404),
  entriesReadInvalid: () => e('ERR value for ENTRIESREAD must be positive or -1'),
  /** addReplySubcommandSyntaxError: `sub` as the client typed it. */
  subcommandSyntax: (sub: Buffer | string, container: string) =>
    e(
      `ERR unknown subcommand or wrong number of arguments for '${show(sub)}'. ` +
        `Try ${container.toUpperCase()} HELP.`,
    ),
  xreadgroupNoGroup: () => e('ERR Missing GROUP option for XREADGROUP'),
  xreadgroupDollarId: () =>
    e(
      'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history ' +
        'of this consumer by specifying a proper ID, or use the > ID to get new messages. ' +
        'The $ ID would just return an empty result set.',
    ),
  blockTimeoutNotInteger: () => e('ERR timeout is not an integer or out of range'),
  unblockedStreamGone: () => e('UNBLOCKED the stream key no longer exists', 409),
  unblockedGroupGone: () =>
    e('NOGROUP the consumer group this client was blocked on no longer exists', 404),
  claimMinIdle: (cmd: 'XCLAIM' | 'XAUTOCLAIM') =>
    e(`ERR Invalid min-idle-time argument for ${cmd}`),
  xclaimOptionValue: (option: 'IDLE' | 'TIME' | 'RETRYCOUNT') =>
    e(`ERR Invalid ${option} option argument for XCLAIM`),
  xclaimUnknownOption: (option: Buffer | string) =>
    e(`ERR Unrecognized XCLAIM option '${show(option)}'`),
  xautoclaimCount: () => e('ERR COUNT must be > 0'),
  // streams (XADD, XTRIM, XRANGE, XREVRANGE, XDEL, XSETID, XREAD)
  xaddTooLarge: () => e('ERR Elements are too large to be stored'),
  trimStrategiesTogether: () =>
    e('ERR syntax error, MAXLEN and MINID options at the same time are not compatible'),
  maxlenNegative: () => e('ERR The MAXLEN argument must be >= 0.'),
  limitNegative: () => e('ERR The LIMIT argument must be >= 0.'),
  limitWithoutStrategy: () =>
    e('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy'),
  limitWithoutApprox: () =>
    e('ERR syntax error, LIMIT cannot be used without the special ~ option'),
  xtrimNoStrategy: () => e('ERR syntax error, XTRIM must be called with a trimming strategy'),
  rangeStartInvalid: () => e('ERR invalid start ID for the interval'),
  rangeEndInvalid: () => e('ERR invalid end ID for the interval'),
  xreadUnbalanced: () =>
    e(
      "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be " +
        'specified.',
    ),
  xreadGroupOption: () =>
    e('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.'),
  xreadNoackOption: () =>
    e('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.'),
  xreadGreaterId: () =>
    e(
      'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> ' +
        '<consumer> option.',
    ),
  xsetidEntriesAddedNegative: () => e('ERR entries_added must be positive'),
  xsetidBelowGivenMaxDeleted: () =>
    e('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id'),
  xsetidBelowTopItem: () =>
    e('ERR The ID specified in XSETID is smaller than the target stream top item'),
  xsetidEntriesAddedBelowLength: () =>
    e('ERR The entries_added specified in XSETID is smaller than the target stream length'),
  /** Redis 7.2's text; 7.0 accepts such an ID (see broker/streams.ts xsetid). */
  xsetidBelowMaxDeleted: () =>
    e('ERR The ID specified in XSETID is smaller than current max_deleted_entry_id'),
  /** Sluice only: entries above the ID were trimmed but are still in the log's files. */
  xsetidBelowStoredEntry: () =>
    e('ERR The ID specified in XSETID is smaller than an entry the stream once held'),
} as const;
