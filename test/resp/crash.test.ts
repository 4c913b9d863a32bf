// kill -9 through RESP: a real Sluice child process under fsync 'always' takes pipelined XADDs from
// several producers, and lone XADDs from more (which the server stages together across clients,
// src/resp/coalesce.ts), while a consumer-group consumer reads (XREADGROUP) and acknowledges
// (XACK), and is killed at random moments, again and again. After each restart every XADD that was
// answered is there with its ID, every XACK that was answered is out of the pending list, every
// entry delivered and not acknowledged is still pending, and nothing is duplicated: neither an
// entry in the stream nor a delivery of a new entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { startSluice, type SluiceProcess } from '../../src/index';
import { mulberry32, randInt, type Rand } from '../conformance/harness';
import { RespClient } from '../helpers/resp-client';
import { eventually } from './fixture';

const KILLS = 8;
/** XADDs in flight per producer connection: deep pipelines, then lone calls (depth 1). */
const PIPELINE_DEPTHS = [32, 32, 32, ...Array.from({ length: 12 }, () => 1)];
const PRODUCERS = PIPELINE_DEPTHS.length;
/** How long traffic runs before a kill: a random moment in this range. */
const MIN_RUN_MS = 50;
const MAX_RUN_MS = 600;
const SEED = Number(process.env['CRASH_SEED'] ?? 20_261_201);

const KEY = 'crash:s';
const GROUP = 'g';

/** What the clients saw answered, across every run: the truth a restart is checked against. */
interface Ledger {
  /** `producer:seq` -> the ID XADD answered. */
  readonly added: Map<string, string>;
  /** IDs XREADGROUP delivered with `>` (each at most once, ever). */
  readonly delivered: Set<string>;
  /** IDs whose XACK was sent, and those whose XACK was answered. */
  readonly ackSent: Set<string>;
  readonly acked: Set<string>;
  duplicateDeliveries: string[];
}

let broker: SluiceProcess;

beforeAll(async () => {
  broker = await startSluice({ fsync: 'always' });
});

afterAll(async () => {
  await broker?.destroy();
});

const text = (r: Reply | undefined): string =>
  r?.t === 'bulk' ? r.v.toString() : r?.t === 'simple' ? r.v : '';
const items = (r: Reply | undefined): readonly Reply[] =>
  r?.t === 'array' ? r.v : r?.t === 'map' ? r.v.flat() : [];

/** XADDs with sequence numbers, `depth` in flight, until the connection dies (then rejects). */
async function produce(
  client: RespClient,
  producer: number,
  next: { seq: number },
  ledger: Ledger,
  depth: number,
) {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  while (failure === null) {
    const seq = next.seq++;
    const p: Promise<void> = client
      .call('XADD', KEY, '*', 'p', String(producer), 'seq', String(seq))
      .then((r) => {
        if (r.t !== 'bulk') throw new Error(`XADD answered ${JSON.stringify(r)}`);
        ledger.added.set(`${producer}:${seq}`, r.v.toString());
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= depth) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  throw failure;
}

/** Reads new entries for the group and acknowledges them, until the connection dies. */
async function consume(client: RespClient, ledger: Ledger, rand: Rand) {
  for (;;) {
    const r = await client.call(
      'XREADGROUP',
      'GROUP',
      GROUP,
      'c',
      'COUNT',
      '50',
      'BLOCK',
      '20',
      'STREAMS',
      KEY,
      '>',
    );
    const ids: string[] = [];
    for (const stream of r.t === 'nullarray' || r.t === 'null' ? [] : items(r)) {
      for (const entry of items(items(stream)[1])) ids.push(text(items(entry)[0]));
    }
    for (const id of ids) {
      if (ledger.delivered.has(id)) ledger.duplicateDeliveries.push(id);
      ledger.delivered.add(id);
    }
    // Leave some unacknowledged: they must stay pending through every crash.
    const toAck = ids.filter(() => rand() < 0.8);
    if (toAck.length === 0) continue;
    for (const id of toAck) ledger.ackSent.add(id);
    const n = await client.call('XACK', KEY, GROUP, ...toAck);
    if (n.t !== 'int' || Number(n.v) !== toAck.length) throw new Error(`XACK answered ${n.t}`);
    for (const id of toAck) ledger.acked.add(id);
  }
}

/** Runs traffic for a random while, then kills the broker; resolves once every loop stopped. */
async function runUntilKilled(ledger: Ledger, rand: Rand, seqs: { seq: number }[]) {
  const clients = await Promise.all(
    Array.from({ length: PRODUCERS + 1 }, () => RespClient.connect(broker.respPort)),
  );
  // Each loop ends with the error that stopped it (caught at once: no unhandled rejection).
  const loops = [
    ...seqs.map((next, p) => produce(clients[p]!, p, next, ledger, PIPELINE_DEPTHS[p]!)),
    consume(clients[PRODUCERS]!, ledger, rand),
  ].map((loop) =>
    loop.then(
      () => null,
      (err: unknown) => err,
    ),
  );
  // A restarted broker can be slow to warm up: kill only once this run had an XADD answered.
  const before = ledger.added.size;
  await eventually('an answered XADD', () => ledger.added.size > before, 20_000);
  await new Promise((resolve) => setTimeout(resolve, MIN_RUN_MS + randInt(rand, MAX_RUN_MS)));
  await broker.kill();
  for (const stopped of await Promise.all(loops)) {
    // Every loop must end because its connection closed, not because a reply was wrong.
    expect(String(stopped)).not.toMatch(/answered/);
  }
  await Promise.all(clients.map((c) => c.close()));
}

/** Checks the restarted broker against everything the clients saw acknowledged. */
async function verify(ledger: Ledger): Promise<void> {
  const client = await RespClient.connect(broker.respPort);
  try {
    const stored = new Map<string, string[]>();
    for (const entry of items(await client.call('XRANGE', KEY, '-', '+'))) {
      const [id, fields] = items(entry);
      const f = items(fields).map(text);
      const tag = `${f[1]}:${f[3]}`;
      stored.set(tag, [...(stored.get(tag) ?? []), text(id)]);
    }
    const duplicated = [...stored].filter(([, ids]) => ids.length > 1);
    expect(duplicated).toEqual([]);
    const lost = [...ledger.added].filter(([tag, id]) => stored.get(tag)?.[0] !== id);
    expect(lost).toEqual([]);

    const pel = items(await client.call('XPENDING', KEY, GROUP, '-', '+', '1000000'));
    const pending = new Set(pel.map((e) => text(items(e)[0])));
    expect([...ledger.acked].filter((id) => pending.has(id))).toEqual([]);
    const unacked = [...ledger.delivered].filter((id) => !ledger.ackSent.has(id));
    expect(unacked.filter((id) => !pending.has(id))).toEqual([]);
    expect(ledger.duplicateDeliveries).toEqual([]);
  } finally {
    await client.close();
  }
}

describe('kill -9 under fsync always, through RESP', () => {
  it(`keeps every answered XADD and XACK and duplicates nothing, over ${KILLS} kills`, async () => {
    const setup = await RespClient.connect(broker.respPort);
    expect(await setup.call('XGROUP', 'CREATE', KEY, GROUP, '$', 'MKSTREAM')).toEqual({
      t: 'simple',
      v: 'OK',
    });
    await setup.close();
    const rand = mulberry32(SEED);
    const ledger: Ledger = {
      added: new Map(),
      delivered: new Set(),
      ackSent: new Set(),
      acked: new Set(),
      duplicateDeliveries: [],
    };
    const seqs = Array.from({ length: PRODUCERS }, () => ({ seq: 0 }));
    for (let kill = 1; kill <= KILLS; kill++) {
      const before = ledger.added.size;
      await runUntilKilled(ledger, rand, seqs);
      await broker.restart();
      await verify(ledger);
      // Each run must have done some work, or the kill proved nothing.
      expect(ledger.added.size, `run ${kill} (seed ${SEED})`).toBeGreaterThan(before);
    }
    expect(ledger.acked.size).toBeGreaterThan(0);
  }, 180_000);
});
