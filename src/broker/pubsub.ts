// Pub/sub: fire and forget, never stored. Subscriptions to channels, patterns (Redis glob
// rules) and shard channels; PUBLISH returns how many receivers got the message, and a client
// gets a message once per matching subscription, as Redis does (a client subscribed to the
// channel and to two patterns that match it gets three messages). Nothing here survives a
// restart, by design: a subscriber that is not connected misses what is published.
import { globMatch } from './glob';
import { Latin1Memo } from './keyspace';

export type PubSubMessage = (
  | { readonly kind: 'message'; readonly channel: Buffer; readonly payload: Buffer }
  | {
      readonly kind: 'pmessage';
      readonly pattern: Buffer;
      readonly channel: Buffer;
      readonly payload: Buffer;
    }
  | { readonly kind: 'smessage'; readonly channel: Buffer; readonly payload: Buffer }
) & {
  /**
   * A keyspace notification that Redis fires after the reply of the command causing it: the
   * session of that command, which gets the message after its reply (RESP3 pushes).
   */
  readonly afterReplyOf?: number;
};

/** A connection (RESP) or stream (SSE) that receives messages. */
export interface Subscriber {
  readonly id: number;
  /** Called synchronously by publish; must not throw (queue or drop, e.g. slow consumers). */
  deliver(msg: PubSubMessage): void;
}

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** Names are latin1 strings (1:1 with the bytes) so maps compare them by value. */
class Registry {
  /** name -> subscribers, in subscription order. */
  readonly byName = new Map<string, Set<Subscriber>>();
  /** subscriber -> names, in subscription order. */
  readonly bySub = new Map<Subscriber, Set<string>>();

  add(sub: Subscriber, name: string): boolean {
    let names = this.bySub.get(sub);
    if (!names) this.bySub.set(sub, (names = new Set()));
    if (names.has(name)) return false;
    names.add(name);
    let subs = this.byName.get(name);
    if (!subs) this.byName.set(name, (subs = new Set()));
    subs.add(sub);
    return true;
  }

  remove(sub: Subscriber, name: string): boolean {
    const names = this.bySub.get(sub);
    if (!names?.delete(name)) return false;
    if (names.size === 0) this.bySub.delete(sub);
    const subs = this.byName.get(name);
    subs?.delete(sub);
    if (subs?.size === 0) this.byName.delete(name);
    return true;
  }

  namesOf(sub: Subscriber): string[] {
    return [...(this.bySub.get(sub) ?? [])];
  }

  countOf(sub: Subscriber): number {
    return this.bySub.get(sub)?.size ?? 0;
  }
}

const toBuf = (s: string) => Buffer.from(s, 'latin1');

/** Delivers to a snapshot of `subs` (deliveries may unsubscribe); returns how many got it. */
function deliverAll(subs: Set<Subscriber>, msg: PubSubMessage): number {
  if (subs.size === 1) {
    for (const s of subs) s.deliver(msg);
    return 1;
  }
  // A copy: who receives is decided before anyone is delivered to.
  const list = [...subs];
  for (const s of list) s.deliver(msg);
  return list.length;
}

/** The pattern subscribers of `channel` get the message; returns how many. */
function deliverToPatterns(
  patterns: Map<string, Set<Subscriber>>,
  channel: Buffer,
  payload: Buffer,
  afterReplyOf: number | undefined,
): number {
  let receivers = 0;
  for (const [pattern, psubs] of [...patterns]) {
    const pat = toBuf(pattern);
    if (!globMatch(pat, channel)) continue;
    const msg = { kind: 'pmessage', pattern: pat, channel, payload, afterReplyOf } as const;
    receivers += deliverAll(psubs, msg);
  }
  return receivers;
}

export class PubSub {
  private readonly registries: Record<SubscriptionKind, Registry> = {
    channel: new Registry(),
    pattern: new Registry(),
    shard: new Registry(),
  };
  /** Messages delivered since start (INFO, metrics). */
  delivered = 0;

  /** True when the subscription is new. */
  subscribe(sub: Subscriber, kind: SubscriptionKind, name: Buffer): boolean {
    return this.registries[kind].add(sub, name.toString('latin1'));
  }

  /** True when the subscription existed. */
  unsubscribe(sub: Subscriber, kind: SubscriptionKind, name: Buffer): boolean {
    return this.registries[kind].remove(sub, name.toString('latin1'));
  }

  /** The subscriber's names of one kind, oldest first. */
  subscriptionsOf(sub: Subscriber, kind: SubscriptionKind): Buffer[] {
    return this.registries[kind].namesOf(sub).map(toBuf);
  }

  /** Redis's clientSubscriptionsCount: channels plus patterns (shard channels apart). */
  countOf(sub: Subscriber, kind: SubscriptionKind | 'classic'): number {
    if (kind !== 'classic') return this.registries[kind].countOf(sub);
    return this.registries.channel.countOf(sub) + this.registries.pattern.countOf(sub);
  }

  /** Drops every subscription of a subscriber that went away. */
  removeAll(sub: Subscriber): void {
    for (const reg of Object.values(this.registries)) {
      for (const name of reg.namesOf(sub)) reg.remove(sub, name);
    }
  }

  /**
   * PUBLISH: channel subscribers, then pattern subscribers; returns the receivers. Counted as
   * delivered, like Redis: a subscriber that a delivery cuts off (slow consumer) and leaves
   * its sets during the loop still counts, and nobody's set changes under the iteration.
   */
  publish(channel: Buffer, payload: Buffer, afterReplyOf?: number): number {
    let receivers = 0;
    const subs = this.registries.channel.byName.get(this.channelNames.of(channel));
    if (subs) receivers += deliverAll(subs, { kind: 'message', channel, payload, afterReplyOf });
    const patterns = this.registries.pattern.byName;
    if (patterns.size > 0) {
      receivers += deliverToPatterns(patterns, channel, payload, afterReplyOf);
    }
    this.delivered += receivers;
    return receivers;
  }

  /** PUBLISH's channel as the registries key it: most publishers keep to a few channels. */
  private readonly channelNames = new Latin1Memo();

  /** SPUBLISH: shard channel subscribers only. */
  spublish(channel: Buffer, payload: Buffer): number {
    const subs = this.registries.shard.byName.get(channel.toString('latin1'));
    if (!subs) return 0;
    const receivers = deliverAll(subs, { kind: 'smessage', channel, payload });
    this.delivered += receivers;
    return receivers;
  }

  /** PUBSUB CHANNELS / SHARDCHANNELS: active names, optionally those matching a pattern. */
  activeNames(kind: 'channel' | 'shard', pattern: Buffer | null): Buffer[] {
    const out: Buffer[] = [];
    for (const name of this.registries[kind].byName.keys()) {
      const b = toBuf(name);
      if (!pattern || globMatch(pattern, b)) out.push(b);
    }
    return out;
  }

  /** PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one name. */
  subscribers(kind: 'channel' | 'shard', name: Buffer): number {
    return this.registries[kind].byName.get(name.toString('latin1'))?.size ?? 0;
  }

  /** PUBSUB NUMPAT: patterns with at least one subscriber. */
  get patternCount(): number {
    return this.registries.pattern.byName.size;
  }

  /** Subscribers holding at least one subscription of any kind (metrics). */
  get subscriberCount(): number {
    const all = new Set<Subscriber>();
    for (const reg of Object.values(this.registries)) for (const s of reg.bySub.keys()) all.add(s);
    return all.size;
  }
}
