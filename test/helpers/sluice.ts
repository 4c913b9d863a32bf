// An in-process Sluice for tests: a broker on a temporary data directory and a session that
// runs commands through the real command table and dispatcher.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Broker, type BrokerOptions } from '../../src/broker/broker';
import { buildCommandTable, Dispatcher, type Session } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';

export interface InProcessSluice {
  readonly broker: Broker;
  readonly dispatcher: Dispatcher;
  readonly dataDir: string;
  session(): Session;
  /** Runs a command in the default session. */
  call(...args: (string | Buffer)[]): Promise<Reply>;
  /** Runs a command in the given session. */
  callIn(session: Session, ...args: (string | Buffer)[]): Promise<Reply>;
  close(): Promise<void>;
}

let sessionIds = 0;

export async function openSluice(
  options: Partial<BrokerOptions> & { maxBlockMs?: number } = {},
): Promise<InProcessSluice> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-t-')));
  const broker = await Broker.open({ fsync: 'no', ...options, dataDir });
  const dispatcher = new Dispatcher(buildCommandTable(), broker, {
    maxBlockMs: options.maxBlockMs ?? Infinity,
  });
  const session = (): Session => ({ id: ++sessionIds, db: 0, name: null, resp: 2 });
  const main = session();
  const toBuf = (a: string | Buffer) => (typeof a === 'string' ? Buffer.from(a) : a);
  return {
    broker,
    dispatcher,
    dataDir,
    session,
    call: (...args) => dispatcher.execute(main, args.map(toBuf)),
    callIn: (s, ...args) => dispatcher.execute(s, args.map(toBuf)),
    async close() {
      await broker.close();
      if (!options.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
