// The pub/sub commands of the table: PUBLISH, SPUBLISH and PUBSUB's introspection, as Redis
// 7.0 replies. Subscribing belongs to a connection (RESP) or an event stream (HTTP SSE), which
// call the broker's PubSub directly; messages are never stored.
import { Errors } from '../errors';
import type { Ctx } from './context';
import { helpReply } from './groups';
import { arr, bulk, int, type Reply } from './reply';
import { defineRow, type CommandRow, type Flag, type Handler, type RowSpec } from './table';

const publish: Handler = (ctx, args) =>
  int(ctx.broker.pubsub.publish(args[1] as Buffer, args[2] as Buffer));

const spublish: Handler = (ctx, args) =>
  int(ctx.broker.pubsub.spublish(args[1] as Buffer, args[2] as Buffer));

/** CHANNELS and SHARDCHANNELS take at most one pattern. */
function names(kind: 'channel' | 'shard'): Handler {
  return (ctx: Ctx, args) => {
    if (args.length > 3) throw Errors.subcommandSyntax(args[1] as Buffer, 'pubsub');
    return arr(ctx.broker.pubsub.activeNames(kind, args[2] ?? null).map((b) => bulk(b)));
  };
}

function numsub(kind: 'channel' | 'shard'): Handler {
  return (ctx, args) => {
    const out: Reply[] = [];
    for (const ch of args.slice(2))
      out.push(bulk(ch), int(ctx.broker.pubsub.subscribers(kind, ch)));
    return arr(out);
  };
}

const PUBSUB_HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  '    Return the currently active shard level channels matching a <pattern> ' + "(default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

type Spec = Omit<RowSpec, 'group'>;

const row = (name: string, spec: Spec): CommandRow => defineRow(name, { group: 'pubsub', ...spec });

const INTROSPECT: readonly Flag[] = ['pubsub', 'loading', 'stale'];

export const pubsubRows: CommandRow[] = [
  row('publish', {
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    handler: publish,
    summary: 'Posts a message to a channel.',
    since: '2.0.0',
  }),
  row('spublish', {
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    keyRange: [1, 1, 1],
    handler: spublish,
    summary: 'Post a message to a shard channel',
    since: '7.0.0',
  }),
  {
    ...row('pubsub', {
      arity: -2,
      flags: [],
      summary: 'A container for Pub/Sub commands.',
      since: '2.8.0',
    }),
    subcommands: [
      row('pubsub|channels', {
        arity: -2,
        flags: INTROSPECT,
        handler: names('channel'),
        summary: 'Returns the active channels.',
        since: '2.8.0',
      }),
      row('pubsub|numpat', {
        arity: 2,
        flags: INTROSPECT,
        handler: (ctx) => int(ctx.broker.pubsub.patternCount),
        summary: 'Returns a count of unique pattern subscriptions.',
        since: '2.8.0',
      }),
      row('pubsub|numsub', {
        arity: -2,
        flags: INTROSPECT,
        handler: numsub('channel'),
        summary: 'Returns a count of subscribers to channels.',
        since: '2.8.0',
      }),
      row('pubsub|shardchannels', {
        arity: -2,
        flags: INTROSPECT,
        handler: names('shard'),
        summary: 'Returns the active shard channels.',
        since: '7.0.0',
      }),
      row('pubsub|shardnumsub', {
        arity: -2,
        flags: INTROSPECT,
        handler: numsub('shard'),
        summary: 'Returns the count of subscribers of shard channels.',
        since: '7.0.0',
      }),
      row('pubsub|help', {
        arity: 2,
        flags: ['loading', 'stale'],
        handler: () => helpReply('PUBSUB', PUBSUB_HELP),
        summary: 'Returns helpful text about the different subcommands.',
        since: '6.2.0',
      }),
    ],
  },
];
