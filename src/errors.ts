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

export const Errors = {
  syntax: () => e('ERR syntax error'),
  wrongType: () => e('WRONGTYPE Operation against a key holding the wrong kind of value', 409),
  arity: (name: string) => e(`ERR wrong number of arguments for '${name.toLowerCase()}' command`),
  unknownCommand: (name: Buffer | string, args: readonly Buffer[]) =>
    e(
      `ERR unknown command '${show(name)}', with args beginning with: ` +
        args.map((a) => `'${show(a)}' `).join(''),
    ),
  unknownSubcommand: (sub: Buffer | string, container: string) =>
    e(`ERR unknown subcommand '${show(sub)}'. Try ${container.toUpperCase()} HELP.`),
  notInteger: () => e('ERR value is not an integer or out of range'),
  notFloat: () => e('ERR value is not a valid float'),
  timeoutNotFloat: () => e('ERR timeout is not a float or out of range'),
  timeoutNegative: () => e('ERR timeout is negative'),
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
  /** Any other message Redis uses once; prefer a named entry for anything reused. */
  other: (text: string, status = 400) => e(text, status),
} as const;
