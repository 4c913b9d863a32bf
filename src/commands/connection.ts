// Rows for the commands a RESP connection runs itself (src/resp/commands.ts): they are in the
// table so COMMAND lists them and arity is checked in one place, but their state is the
// connection's, so through the HTTP command API they answer an error.
import { Errors } from '../errors';
import { defineRow, type CommandRow, type Flag, type Handler, type RowSpec } from './table';

const respOnly: Handler = (_ctx, args) => {
  const name = (args[0] as Buffer).toString('latin1').toUpperCase();
  const hint = name.includes('SUBSCRIBE') ? ' (over HTTP, use GET /v1/subscribe)' : '';
  throw Errors.other(`ERR ${name} is only available over the Redis protocol${hint}`);
};

const row = (name: string, spec: RowSpec): CommandRow =>
  defineRow(name, { handler: respOnly, ...spec });

const CONN: readonly Flag[] = ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'];
const TX: readonly Flag[] = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];
const SUB: readonly Flag[] = ['pubsub', 'noscript', 'loading', 'stale'];

export const connectionRows: CommandRow[] = [
  row('auth', {
    arity: -2,
    flags: CONN,
    group: 'connection',
    summary: 'Authenticates the connection.',
    since: '1.0.0',
  }),
  row('hello', {
    arity: -1,
    flags: CONN,
    group: 'connection',
    summary: 'Handshakes with the Redis server.',
    since: '6.0.0',
  }),
  row('select', {
    arity: 2,
    flags: ['loading', 'stale', 'fast'],
    group: 'connection',
    summary: 'Changes the selected database.',
    since: '1.0.0',
  }),
  row('quit', {
    arity: -1,
    flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'],
    group: 'connection',
    summary: 'Closes the connection.',
    since: '1.0.0',
  }),
  row('reset', {
    arity: 1,
    flags: CONN,
    group: 'connection',
    summary: 'Resets the connection.',
    since: '6.2.0',
  }),
  row('client', {
    arity: -2,
    flags: [],
    group: 'connection',
    summary: 'A container for client connection commands.',
    since: '2.4.0',
  }),
  row('multi', {
    arity: 1,
    flags: TX,
    group: 'transactions',
    summary: 'Starts a transaction.',
    since: '1.2.0',
  }),
  row('exec', {
    arity: 1,
    flags: ['noscript', 'loading', 'stale'],
    group: 'transactions',
    summary: 'Executes all commands in a transaction.',
    since: '1.2.0',
  }),
  row('discard', {
    arity: 1,
    flags: TX,
    group: 'transactions',
    summary: 'Discards a transaction.',
    since: '2.0.0',
  }),
  row('watch', {
    arity: -2,
    flags: TX,
    keyRange: [1, -1, 1],
    group: 'transactions',
    summary: 'Monitors changes to keys to determine the execution of a transaction.',
    since: '2.2.0',
  }),
  row('unwatch', {
    arity: 1,
    flags: TX,
    group: 'transactions',
    summary: 'Forgets about watched keys of a transaction.',
    since: '2.2.0',
  }),
  row('subscribe', {
    arity: -2,
    flags: SUB,
    group: 'pubsub',
    summary: 'Listens for messages published to channels.',
    since: '2.0.0',
  }),
  row('unsubscribe', {
    arity: -1,
    flags: SUB,
    group: 'pubsub',
    summary: 'Stops listening to messages posted to channels.',
    since: '2.0.0',
  }),
  row('psubscribe', {
    arity: -2,
    flags: SUB,
    group: 'pubsub',
    summary: 'Listens for messages published to channels that match one or more patterns.',
    since: '2.0.0',
  }),
  row('punsubscribe', {
    arity: -1,
    flags: SUB,
    group: 'pubsub',
    summary: 'Stops listening to messages published to channels that match one or more patterns.',
    since: '2.0.0',
  }),
  row('ssubscribe', {
    arity: -2,
    flags: SUB,
    keyRange: [1, -1, 1],
    group: 'pubsub',
    summary: 'Listens for messages published to shard channels.',
    since: '7.0.0',
  }),
  row('sunsubscribe', {
    arity: -1,
    flags: SUB,
    keyRange: [1, -1, 1],
    group: 'pubsub',
    summary: 'Stops listening to messages posted to shard channels.',
    since: '7.0.0',
  }),
];
