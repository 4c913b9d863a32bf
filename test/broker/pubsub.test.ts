// PubSub (src/broker/pubsub.ts): subscriptions of three kinds, delivery once per matching
// subscription, receivers counts as Redis replies them, and removal; then random operation
// sequences checked against a plain model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/broker/glob';
import { PubSub, type PubSubMessage, type Subscriber } from '../../src/broker/pubsub';

const b = (s: string) => Buffer.from(s, 'latin1');

interface Probe extends Subscriber {
  readonly got: PubSubMessage[];
}

let ids = 0;
function probe(onDeliver?: (m: PubSubMessage) => void): Probe {
  const got: PubSubMessage[] = [];
  return {
    id: ++ids,
    got,
    deliver(m) {
      got.push(m);
      onDeliver?.(m);
    },
  };
}

const text = (x: Buffer) => x.toString('latin1');
const summary = (m: PubSubMessage) =>
  m.kind === 'pmessage'
    ? `pmessage ${text(m.pattern)} ${text(m.channel)} ${text(m.payload)}`
    : `${m.kind} ${text(m.channel)} ${text(m.payload)}`;

describe('PUBLISH', () => {
  it('returns 0 and delivers nothing when nobody listens', () => {
    const ps = new PubSub();
    expect(ps.publish(b('news'), b('hi'))).toBe(0);
    expect(ps.delivered).toBe(0);
  });

  it('delivers the channel and payload to each channel subscriber and counts them', () => {
    const ps = new PubSub();
    const [x, y] = [probe(), probe()];
    ps.subscribe(x, 'channel', b('news'));
    ps.subscribe(y, 'channel', b('news'));
    expect(ps.publish(b('news'), b('hi'))).toBe(2);
    expect(x.got.map(summary)).toEqual(['message news hi']);
    expect(y.got.map(summary)).toEqual(['message news hi']);
    expect(ps.publish(b('other'), b('hi'))).toBe(0);
  });

  it('reaches a client once per matching subscription: a channel and two patterns, three', () => {
    const ps = new PubSub();
    const x = probe();
    ps.subscribe(x, 'channel', b('news.eu'));
    ps.subscribe(x, 'pattern', b('news.*'));
    ps.subscribe(x, 'pattern', b('*'));
    ps.subscribe(x, 'pattern', b('sport.*'));
    expect(ps.publish(b('news.eu'), b('m'))).toBe(3);
    expect(x.got.map(summary)).toEqual([
      'message news.eu m',
      'pmessage news.* news.eu m',
      'pmessage * news.eu m',
    ]);
  });

  it('counts each subscriber of a matching pattern', () => {
    const ps = new PubSub();
    const subs = [probe(), probe(), probe()];
    for (const s of subs) ps.subscribe(s, 'pattern', b('a?c'));
    expect(ps.publish(b('abc'), b('m'))).toBe(3);
    expect(ps.publish(b('abbc'), b('m'))).toBe(0);
  });

  it('a subscriber cut off during delivery still counts, and the others still get it', () => {
    const ps = new PubSub();
    const cut: Probe = probe(() => ps.removeAll(cut));
    const other = probe();
    ps.subscribe(cut, 'channel', b('c'));
    ps.subscribe(other, 'channel', b('c'));
    ps.subscribe(cut, 'pattern', b('c*'));
    expect(ps.publish(b('c'), b('m'))).toBe(2);
    expect(other.got).toHaveLength(1);
    expect(cut.got.map(summary)).toEqual(['message c m']);
    expect(ps.subscribers('channel', b('c'))).toBe(1);
    expect(ps.patternCount).toBe(0);
    const lone: Probe = probe(() => ps.removeAll(lone));
    ps.subscribe(lone, 'shard', b('s'));
    expect(ps.spublish(b('s'), b('m'))).toBe(1);
    expect(ps.spublish(b('s'), b('m'))).toBe(0);
  });

  it('names and payloads are bytes: non-UTF-8 names match exactly', () => {
    const ps = new PubSub();
    const x = probe();
    const name = Buffer.from([0xff, 0x00, 0x80]);
    ps.subscribe(x, 'channel', name);
    expect(ps.publish(Buffer.from([0xff, 0x00, 0x81]), b('m'))).toBe(0);
    expect(ps.publish(Buffer.from(name), Buffer.from([0xfe]))).toBe(1);
    const m = x.got[0] as PubSubMessage;
    expect(m.channel.equals(name) && m.payload.equals(Buffer.from([0xfe]))).toBe(true);
    expect(ps.activeNames('channel', null)[0]?.equals(name)).toBe(true);
  });
});

describe('shard channels', () => {
  it('are apart from channels and patterns: PUBLISH and SPUBLISH reach only their own', () => {
    const ps = new PubSub();
    const [chan, pat, shard] = [probe(), probe(), probe()];
    ps.subscribe(chan, 'channel', b('x'));
    ps.subscribe(pat, 'pattern', b('*'));
    ps.subscribe(shard, 'shard', b('x'));
    expect(ps.spublish(b('x'), b('m'))).toBe(1);
    expect(shard.got.map(summary)).toEqual(['smessage x m']);
    expect(chan.got).toHaveLength(0);
    expect(pat.got).toHaveLength(0);
    expect(ps.publish(b('x'), b('n'))).toBe(2);
    expect(shard.got).toHaveLength(1);
    expect(ps.activeNames('shard', null).map(String)).toEqual(['x']);
    expect(ps.subscribers('shard', b('x'))).toBe(1);
  });
});

describe('SUBSCRIBE and UNSUBSCRIBE', () => {
  it('subscribing twice to one name is one subscription', () => {
    const ps = new PubSub();
    const x = probe();
    expect(ps.subscribe(x, 'channel', b('a'))).toBe(true);
    expect(ps.subscribe(x, 'channel', b('a'))).toBe(false);
    expect(ps.publish(b('a'), b('m'))).toBe(1);
    expect(ps.countOf(x, 'channel')).toBe(1);
  });

  it('unsubscribe tells whether the subscription existed, and the name goes once unused', () => {
    const ps = new PubSub();
    const [x, y] = [probe(), probe()];
    ps.subscribe(x, 'channel', b('a'));
    ps.subscribe(y, 'channel', b('a'));
    expect(ps.unsubscribe(x, 'channel', b('a'))).toBe(true);
    expect(ps.unsubscribe(x, 'channel', b('a'))).toBe(false);
    expect(ps.unsubscribe(x, 'pattern', b('a'))).toBe(false);
    expect(ps.publish(b('a'), b('m'))).toBe(1);
    expect(x.got).toHaveLength(0);
    ps.unsubscribe(y, 'channel', b('a'));
    expect(ps.activeNames('channel', null)).toEqual([]);
  });

  it('removeAll drops every subscription of one subscriber and leaves the others', () => {
    const ps = new PubSub();
    const [x, y] = [probe(), probe()];
    for (const s of [x, y]) {
      ps.subscribe(s, 'channel', b('a'));
      ps.subscribe(s, 'pattern', b('a*'));
      ps.subscribe(s, 'shard', b('a'));
    }
    ps.removeAll(x);
    expect(ps.countOf(x, 'classic')).toBe(0);
    expect(ps.countOf(x, 'shard')).toBe(0);
    expect(ps.publish(b('a'), b('m'))).toBe(2);
    expect(ps.spublish(b('a'), b('m'))).toBe(1);
    expect(x.got).toHaveLength(0);
    expect(ps.subscriberCount).toBe(1);
  });

  it('countOf classic is channels plus patterns; subscriptionsOf keeps subscription order', () => {
    const ps = new PubSub();
    const x = probe();
    for (const n of ['c', 'a', 'b']) ps.subscribe(x, 'channel', b(n));
    ps.subscribe(x, 'pattern', b('p*'));
    ps.subscribe(x, 'shard', b('s'));
    expect(ps.countOf(x, 'classic')).toBe(4);
    expect(ps.countOf(x, 'shard')).toBe(1);
    expect(ps.subscriptionsOf(x, 'channel').map(String)).toEqual(['c', 'a', 'b']);
  });
});

describe('PUBSUB introspection', () => {
  it('activeNames lists names with subscribers, optionally those matching a glob', () => {
    const ps = new PubSub();
    const x = probe();
    for (const n of ['news.eu', 'news.us', 'sport']) ps.subscribe(x, 'channel', b(n));
    expect(ps.activeNames('channel', null).map(String).sort()).toEqual([
      'news.eu',
      'news.us',
      'sport',
    ]);
    expect(ps.activeNames('channel', b('news.*')).map(String).sort()).toEqual([
      'news.eu',
      'news.us',
    ]);
    expect(ps.activeNames('channel', b('[s]*')).map(String)).toEqual(['sport']);
  });

  it('patternCount counts distinct patterns with at least one subscriber', () => {
    const ps = new PubSub();
    const [x, y] = [probe(), probe()];
    ps.subscribe(x, 'pattern', b('a*'));
    ps.subscribe(y, 'pattern', b('a*'));
    ps.subscribe(y, 'pattern', b('b*'));
    expect(ps.patternCount).toBe(2);
    ps.removeAll(y);
    expect(ps.patternCount).toBe(1);
  });

  it('delivered counts every message handed to a subscriber', () => {
    const ps = new PubSub();
    const x = probe();
    ps.subscribe(x, 'channel', b('a'));
    ps.subscribe(x, 'pattern', b('*'));
    ps.subscribe(x, 'shard', b('a'));
    ps.publish(b('a'), b('m'));
    ps.spublish(b('a'), b('m'));
    expect(ps.delivered).toBe(3);
  });
});

// ---- random sequences against a model ----------------------------------------------------

type Kind = 'channel' | 'pattern' | 'shard';
type Op =
  | { op: 'sub'; unsub: boolean; who: number; kind: Kind; name: string }
  | { op: 'removeAll'; who: number }
  | { op: 'publish'; command: 'publish' | 'spublish'; channel: string };

const NAMES = ['a', 'b', 'ab', 'a*', '*b', '?', '[ab]', 'a\\*'];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('sub' as const),
    unsub: fc.boolean(),
    who: fc.integer({ min: 0, max: 3 }),
    kind: fc.constantFrom<Kind>('channel', 'pattern', 'shard'),
    name: fc.constantFrom(...NAMES),
  }),
  fc.record({ op: fc.constant('removeAll' as const), who: fc.integer({ min: 0, max: 3 }) }),
  fc.record({
    op: fc.constant('publish' as const),
    command: fc.constantFrom('publish' as const, 'spublish' as const),
    channel: fc.constantFrom('a', 'b', 'ab', 'a*', 'abb', ''),
  }),
);

/** What each subscriber should get for one publish, from its set of subscriptions. */
function expected(model: Set<string>[], op: 'publish' | 'spublish', channel: string): string[][] {
  return model.map((subs) => {
    const out: string[] = [];
    const has = (kind: Kind, name: string) => subs.has(`${kind} ${name}`);
    if (op === 'spublish') return has('shard', channel) ? [`smessage ${channel}`] : [];
    if (has('channel', channel)) out.push(`message ${channel}`);
    for (const s of subs) {
      const [kind, name] = [s.slice(0, s.indexOf(' ')), s.slice(s.indexOf(' ') + 1)];
      if (kind === 'pattern' && globMatch(b(name), b(channel))) out.push(`pmessage ${name}`);
    }
    return out.sort();
  });
}

function checkPublish(
  ps: PubSub,
  subs: readonly Probe[],
  model: Set<string>[],
  op: 'publish' | 'spublish',
  channel: string,
): void {
  for (const s of subs) s.got.length = 0;
  const want = expected(model, op, channel);
  const receivers = ps[op](b(channel), b('m'));
  const got = subs.map((s) =>
    s.got
      .map((m) =>
        m.kind === 'pmessage'
          ? `pmessage ${m.pattern.toString('latin1')}`
          : `${m.kind} ${m.channel.toString('latin1')}`,
      )
      .sort(),
  );
  expect(got).toEqual(want);
  expect(receivers).toBe(want.flat().length);
}

function applyOp(ps: PubSub, subs: readonly Probe[], model: Set<string>[], o: Op): void {
  if (o.op === 'publish') return checkPublish(ps, subs, model, o.command, o.channel);
  const mine = model[o.who] as Set<string>;
  const sub = subs[o.who] as Probe;
  if (o.op === 'removeAll') {
    ps.removeAll(sub);
    mine.clear();
    return;
  }
  const key = `${o.kind} ${o.name}`;
  const had = mine.has(key);
  if (!o.unsub) {
    expect(ps.subscribe(sub, o.kind, b(o.name))).toBe(!had);
    mine.add(key);
  } else {
    expect(ps.unsubscribe(sub, o.kind, b(o.name))).toBe(had);
    mine.delete(key);
  }
}

describe('PubSub against a model', () => {
  it('random subscribe, unsubscribe, removeAll and publish sequences match the model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const ps = new PubSub();
        const subs = [probe(), probe(), probe(), probe()];
        const model = subs.map(() => new Set<string>());
        for (const o of ops) applyOp(ps, subs, model, o);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
