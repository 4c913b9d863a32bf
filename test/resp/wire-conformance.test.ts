// The conformance suites over the wire: every family's scripts (generic, streams, groups,
// lists) go to a real redis-server and to Sluice through its RESP listener, in RESP2 and in
// RESP3 (HELLO 3), and the replies are compared by the harness after normalising generated IDs
// and times. Cases run concurrently on a few lanes, each a redis-server and a Sluice of its own,
// so the whole suite stays well under a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import {
  redisExecutor,
  runCase,
  type ClosableExecutor,
  type ConformanceCase,
  type RespVersion,
} from '../conformance/harness';
import { conformanceFamilies, startLocalSluice, type LocalSluice } from './fixture';

/** Lanes run cases in parallel; vitest runs at most 5 concurrent tests per file by default. */
const LANES = 4;

interface Lane {
  readonly redis: RedisServer;
  readonly sluice: LocalSluice;
  readonly redisSide: Map<RespVersion, ClosableExecutor>;
  readonly sluiceSide: Map<RespVersion, ClosableExecutor>;
}

const lanes: Lane[] = [];
const freeLanes: Lane[] = [];
const waiting: ((lane: Lane) => void)[] = [];

async function openLane(): Promise<Lane> {
  const [redis, sluice] = await Promise.all([startRedis(), startLocalSluice()]);
  const lane: Lane = { redis, sluice, redisSide: new Map(), sluiceSide: new Map() };
  for (const resp of [2, 3] as const) {
    lane.redisSide.set(resp, await redisExecutor(redis.port, resp));
    lane.sluiceSide.set(resp, await redisExecutor(sluice.port, resp));
  }
  return lane;
}

function takeLane(): Promise<Lane> {
  const lane = freeLanes.pop();
  if (lane !== undefined) return Promise.resolve(lane);
  return new Promise((resolve) => waiting.push(resolve));
}

function giveBack(lane: Lane): void {
  const next = waiting.shift();
  if (next !== undefined) next(lane);
  else freeLanes.push(lane);
}

/** Runs one case on a free lane (FLUSHALL on both sides first); the harness's report or null. */
async function runOnLane(c: ConformanceCase, resp: RespVersion): Promise<string | null> {
  const lane = await takeLane();
  try {
    return await runCase(c, lane.redisSide.get(resp)!, lane.sluiceSide.get(resp)!, { resp });
  } finally {
    giveBack(lane);
  }
}

beforeAll(async () => {
  lanes.push(...(await Promise.all(Array.from({ length: LANES }, openLane))));
  freeLanes.push(...lanes);
});

afterAll(async () => {
  await Promise.all(
    lanes.map(async (lane) => {
      for (const e of [...lane.redisSide.values(), ...lane.sluiceSide.values()]) await e.close();
      await Promise.all([lane.sluice.close(), lane.redis.stop()]);
    }),
  );
});

describe.each(conformanceFamilies)('over RESP, Sluice replies as redis-server: %s', (_, cases) => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  describe.each([2, 3] as const)('RESP%i', (resp) => {
    it.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      expect(await runOnLane(c, resp)).toBeNull();
    });
  });
});
