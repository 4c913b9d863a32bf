// Sends every family's scripted cases to a real redis-server and to Sluice's command table,
// comparing replies exactly (generated IDs and times normalised), in RESP2 shape and in RESP3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { openSluice, type InProcessSluice } from '../helpers/sluice';
import type { Session } from '../../src/commands';
import {
  defineCase,
  redisExecutor,
  runCase,
  type ClosableExecutor,
  type Executor,
  type RespVersion,
} from './harness';
import { cases as genericCases } from './generic.cases';
import { cases as streamCases, casesNeedingLists } from './streams.cases';
import { cases as groupCases } from './groups.cases';
import { cases as listCases } from './lists.cases';
import { cases as serverCases } from './server.cases';

interface DataCase {
  readonly name: string;
  readonly commands: readonly (readonly string[])[];
  readonly unordered?: boolean;
}

const families: Array<[string, readonly DataCase[]]> = [
  ['generic', genericCases],
  ['streams', [...streamCases, ...casesNeedingLists]],
  ['groups', groupCases],
  ['lists', listCases],
  ['server', serverCases],
];

let redis: RedisServer;
let sluice: InProcessSluice;
const redisSide = new Map<RespVersion, ClosableExecutor>();
const sluiceSide = new Map<RespVersion, Executor>();

beforeAll(async () => {
  redis = await startRedis();
  sluice = await openSluice();
  for (const resp of [2, 3] as const) {
    redisSide.set(resp, await redisExecutor(redis.port, resp));
    const session: Session = { ...sluice.session(), resp };
    sluiceSide.set(resp, { call: (args) => sluice.callIn(session, ...args) });
  }
});

afterAll(async () => {
  for (const e of redisSide.values()) await e.close();
  await sluice?.close();
  await redis?.stop();
});

describe.each(families)('conformance with redis-server: %s', (_family, cases) => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  describe.each([2, 3] as const)('RESP%i', (resp) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const script = defineCase(
        c.name,
        c.commands.map((cmd) => [...cmd]),
        { unordered: c.unordered },
      );
      const diff = await runCase(script, redisSide.get(resp)!, sluiceSide.get(resp)!, { resp });
      expect(diff).toBeNull();
    });
  });
});
