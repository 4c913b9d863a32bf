// The coalescer's one durability wait for a batch of lone calls (src/resp/coalesce.ts): no
// client is answered before the batch's writes are durable, each then gets its own staged
// reply marked durable, and when the wait fails each gets its reply back with its own wait, to
// answer with the failure. A fake dispatcher and fake connections, so the wait's outcome is
// the test's to choose.
import { describe, expect, it } from 'vitest';
import { Coalescer, type Deferring } from '../../src/resp/coalesce';
import type { Dispatcher, Session } from '../../src/commands';
import type { Staged } from '../../src/commands/dispatch';
import type { DurableSource } from '../../src/commands/context';
import { bulk } from '../../src/commands/reply';
import type { CommandRow } from '../../src/commands/table';

const ROW = { name: 'xadd', firstKey: 1, lastKey: 1, keyStep: 1 } as CommandRow;
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A source whose seq 1 becomes durable, or fails, when the test says. */
class Source implements DurableSource {
  asked = 0;
  settle: (err?: Error) => void = () => {};
  whenDurable(): Promise<void> {
    this.asked++;
    return new Promise((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
  }
}

interface Resumed {
  readonly staged: Staged | null;
  readonly durable: boolean;
}

function client(id: number): Deferring & { resumed: Resumed[] } {
  const session = { id, db: 0, name: null, resp: 2 } as Session;
  const resumed: Resumed[] = [];
  return {
    session,
    closed: false,
    resumed,
    resumeDeferred: (_args, staged, durable) => resumed.push({ staged, durable }),
  };
}

function setup(source: Source) {
  const staged = (i: number): Staged => ({
    reply: bulk(`${i}-0`),
    durable: [{ source, seq: 1 }],
    cmd: 'xadd',
    t0: 0,
    rejected: false,
    statName: 'xadd',
  });
  // Only what the coalescer asks of a dispatcher (a test double, hence the cast).
  const dispatcher = {
    batchesNow: () => true,
    stageBatch: (_row: CommandRow, _s: Session, calls: readonly unknown[]) =>
      calls.map((_, i) => staged(i)),
  } as unknown as Dispatcher;
  const coalescer = new Coalescer(dispatcher);
  const clients = [client(1), client(2), client(3)];
  for (const c of clients) coalescer.defer(c, ROW, [Buffer.from('XADD'), Buffer.from('s')]);
  return clients;
}

describe('Coalescer durability wait', () => {
  it('answers nobody before the batch is durable, then everyone, marked durable', async () => {
    const source = new Source();
    const clients = setup(source);
    await turn();
    await turn();
    expect(source.asked).toBe(1);
    expect(clients.map((c) => c.resumed.length)).toEqual([0, 0, 0]);
    source.settle();
    await turn();
    for (const [i, c] of clients.entries()) {
      expect(c.resumed).toHaveLength(1);
      expect(c.resumed[0]?.durable).toBe(true);
      expect(c.resumed[0]?.staged?.durable).toEqual([]);
      expect(c.resumed[0]?.staged?.reply).toEqual(bulk(`${i}-0`));
    }
  });

  it('hands each call back with its own wait when the batch write failed', async () => {
    const source = new Source();
    const clients = setup(source);
    await turn();
    source.settle(new Error('EIO'));
    await turn();
    for (const c of clients) {
      expect(c.resumed).toHaveLength(1);
      expect(c.resumed[0]?.durable).toBe(false);
      expect(c.resumed[0]?.staged?.durable).toEqual([{ source, seq: 1 }]);
    }
  });
});
