// SWAPDB across kill -9 and restarts of a real Sluice process (RESP, fsync 'no': SWAPDB's
// record is fdatasync'd by itself). One client writes lists and streams in several databases
// and swaps them again and again, so streams are created under every mapping; the process is
// killed at random moments. After each restart every database holds exactly what the answered
// commands left there (plus, or not, the one command in flight; an XADD in flight that was
// creating its stream may leave it empty), then a clean stop and restart change nothing.
import { afterAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { startSluice, type SluiceProcess } from '../../src/index';
import { mulberry32, pick, randInt, type Rand } from '../conformance/harness';
import { RespClient } from '../helpers/resp-client';
import { plain } from '../resp/fixture';

const KILLS = 6;
const SEED = Number(process.env['CRASH_SEED'] ?? 20_260_407);
/** The databases written and swapped (15: the last of the default 16). */
const DBS = [0, 1, 2, 15];

type Value = { type: 'list'; items: string[] } | { type: 'stream'; items: string[] };
type Db = Map<string, Value>;

/** What the answered commands left in each database. */
class Model {
  constructor(readonly dbs: Db[] = Array.from({ length: 16 }, () => new Map())) {}

  clone(): Model {
    return new Model(
      this.dbs.map((db) => new Map([...db].map(([k, v]) => [k, { ...v, items: [...v.items] }]))),
    );
  }

  apply(db: number, cmd: readonly string[]): void {
    const keys = this.dbs[db] as Db;
    const [name, key] = cmd as [string, string];
    const value = keys.get(key);
    if (name === 'SWAPDB') {
      const [a, b] = [Number(cmd[1]), Number(cmd[2])];
      [this.dbs[a], this.dbs[b]] = [this.dbs[b] as Db, this.dbs[a] as Db];
    } else if (name === 'RPUSH') {
      if (value) value.items.push(cmd[2] as string);
      else keys.set(key, { type: 'list', items: [cmd[2] as string] });
    } else if (name === 'LPOP') {
      value?.items.shift();
      if (value?.items.length === 0) keys.delete(key);
    } else if (name === 'XADD') {
      if (value) value.items.push(cmd[2] as string);
      else keys.set(key, { type: 'stream', items: [cmd[2] as string] });
    } else if (name === 'DEL') {
      keys.delete(key);
    }
  }

  /** As read back by `read()`. */
  view(): unknown[] {
    return DBS.flatMap((db) =>
      [...(this.dbs[db] as Db)]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, v]) => [db, key, v.type, v.items]),
    );
  }
}

/** Lists (l*) and streams (s*) on a few keys each, and swaps (of a database with itself, too). */
function nextCommand(rand: Rand, n: number): string[] {
  const r = rand();
  if (r < 0.3) return ['RPUSH', `l${randInt(rand, 3)}`, `v${n}`];
  if (r < 0.4) return ['LPOP', `l${randInt(rand, 3)}`];
  if (r < 0.75) return ['XADD', `s${randInt(rand, 6)}`, `${n}-1`, 'f', `${n}`];
  if (r < 0.8) return ['DEL', pick(rand, ['l0', 'l1', 's0', 's1', 's2'])];
  return ['SWAPDB', String(pick(rand, DBS)), String(pick(rand, DBS))];
}

/** Every database's keys, types and contents (list values, stream IDs). */
async function read(port: number): Promise<unknown[]> {
  const c = await RespClient.connect(port);
  try {
    const out: unknown[] = [];
    for (const db of DBS) {
      await c.call('SELECT', String(db));
      const keys = (plain(await c.call('KEYS', '*')) as string[]).sort();
      for (const key of keys) {
        const type = plain(await c.call('TYPE', key)) as string;
        const items =
          type === 'list'
            ? (plain(await c.call('LRANGE', key, '0', '-1')) as string[])
            : (plain(await c.call('XRANGE', key, '-', '+')) as [string, unknown][]).map(
                ([id]) => id,
              );
        out.push([db, key, type, items]);
      }
    }
    return out;
  } finally {
    await c.close();
  }
}

interface Traffic {
  /** The command sent and not answered when the connection died, if any. */
  inFlight: { db: number; cmd: string[] } | null;
  swaps: number;
}

/** Sends commands one at a time until the connection dies; the model follows each answer. */
async function traffic(port: number, model: Model, rand: Rand, next: { n: number }) {
  const client = await RespClient.connect(port);
  const t: Traffic = { inFlight: null, swaps: 0 };
  let selected = 0;
  const done = (async () => {
    for (;;) {
      const db = pick(rand, DBS);
      if (db !== selected) {
        expect(await client.call('SELECT', String(db))).toEqual({ t: 'simple', v: 'OK' });
        selected = db;
      }
      const cmd = nextCommand(rand, ++next.n);
      t.inFlight = { db, cmd };
      const reply: Reply = await client.call(...cmd);
      if (reply.t === 'error') throw new Error(`${cmd.join(' ')} answered ${reply.v}`);
      model.apply(db, cmd);
      if (cmd[0] === 'SWAPDB') t.swaps++;
      t.inFlight = null;
    }
  })().catch((err: unknown) => err);
  return { t, done, client };
}

let broker: SluiceProcess | undefined;

afterAll(async () => {
  await broker?.destroy();
});

describe('SWAPDB survives kill -9', () => {
  it('lists and streams stay in their swapped databases across kills and restarts', async () => {
    broker = await startSluice({ fsync: 'no' });
    const rand = mulberry32(SEED);
    let model = new Model();
    const next = { n: 0 };
    let swaps = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { t, done, client } = await traffic(broker.respPort, model, rand, next);
      await new Promise((resolve) => setTimeout(resolve, 150 + randInt(rand, 350)));
      await broker.kill();
      const ended = await done;
      expect(String(ended)).not.toMatch(/answered/);
      await client.close();
      swaps += t.swaps;
      await broker.restart();
      const found = await read(broker.respPort);
      const candidates = [model];
      if (t.inFlight) {
        const { db, cmd } = t.inFlight;
        const applied = model.clone();
        applied.apply(db, cmd);
        candidates.push(applied);
        // An XADD that created its stream can leave it empty: the directory is made first.
        if (cmd[0] === 'XADD' && !model.dbs[db]?.has(cmd[1] as string)) {
          const created = model.clone();
          created.dbs[db]?.set(cmd[1] as string, { type: 'stream', items: [] });
          candidates.push(created);
        }
      }
      const match = candidates.find((m) => JSON.stringify(m.view()) === JSON.stringify(found));
      expect(found, `after kill ${kill + 1}`).toEqual(match?.view() ?? model.view());
      model = match ?? model;
    }
    expect(swaps).toBeGreaterThan(10);
    await broker.stop();
    await broker.restart();
    expect(await read(broker.respPort)).toEqual(model.view());
  }, 120_000);
});
