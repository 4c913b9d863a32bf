// Pipelined runs of XADD, LPUSH/RPUSH and LPOP/RPOP on one key are staged as one batch (one
// lock, one storage command). Each script here goes to a real redis-server and to Sluice as ONE
// write, so the whole run sits in the connection's queue together, and the replies (IDs
// normalised) must be the same bytes: errors in the middle of a run, wrong types, trims, CLIENT
// REPLY, MULTI, a client blocked on the key, keyspace notifications.
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../helpers/resp-client';
import {
  normaliseIdsInText,
  RawConnection,
  rawSession,
  redisAndSluice,
  ReplyStream,
  plain,
} from './fixture';

const servers = redisAndSluice();
const ports = () => [servers.redis.port, servers.sluice.port] as const;

/** The commands as one pipeline: one TCP write. */
const pipeline = (commands: readonly (readonly string[])[]) =>
  Buffer.concat(commands.map((c) => encodeCommand([...c])));

const xadds = (key: string, ids: readonly string[]) =>
  ids.map((id, i) => ['XADD', key, id, 'n', String(i), 'v', `value-${i}`]);

/** Each script step is one write; the replies of both servers, IDs normalised. */
async function both(steps: readonly (readonly (readonly string[])[])[], resp: 2 | 3) {
  const prelude = resp === 3 ? [encodeCommand(['HELLO', '3'])] : [];
  const [want, got] = await Promise.all(
    ports().map((port) =>
      rawSession(port, steps.map(pipeline), { prelude, replies: steps.map((s) => s.length) }),
    ),
  );
  return { want: normaliseIdsInText(want!.reply), got: normaliseIdsInText(got!.reply) };
}

beforeEach(async () => {
  for (const port of ports()) await rawSession(port, [pipeline([['FLUSHALL']])]);
});

const CASES: ReadonlyArray<readonly [string, readonly (readonly (readonly string[])[])[]]> = [
  [
    'XADD runs with explicit and automatic IDs, and errors in the middle',
    [
      [['XADD', 's', '1-1', 'a', '1']],
      [
        ...xadds('s', ['2-1', '2-2', '2-2', '1-5', '3-0', '*', '*', '3-*', '0-0', '*']),
        ['XADD', 's', '9-9', 'odd'],
        ['xadd', 's', '9-9', 'even', 'pair'],
        ['XaDd', 's', 'NOMKSTREAM', '10-0', 'f', 'v'],
        ['XADD', 's', '18446744073709551615-18446744073709551615', 'f', 'v'],
        ['XADD', 's', '*', 'f', 'v'],
        ['XLEN', 's'],
        ['XRANGE', 's', '-', '+'],
      ],
    ],
  ],
  [
    'an XADD run creating its stream, then one with trims, then one on another key',
    [
      [
        ...xadds('t', ['1-0', '2-0', '3-0']),
        ...Array.from({ length: 6 }, (_, i) => [
          'XADD',
          't',
          'MAXLEN',
          '2',
          `${4 + i}-0`,
          'f',
          'v',
        ]),
        ...xadds('u', ['1-0', '2-0']),
        ...xadds('t', ['20-0', '21-0']),
        ['XLEN', 't'],
        ['XRANGE', 't', '-', '+'],
        ['XRANGE', 'u', '-', '+'],
      ],
    ],
  ],
  [
    'runs on a key of the other type are refused one by one',
    [
      [
        ['RPUSH', 'l', 'x'],
        ['XADD', 's', '1-0', 'f', 'v'],
      ],
      [
        ...xadds('l', ['1-0', '2-0', '*']),
        ['LPUSH', 's', 'a'],
        ['LPUSH', 's', 'b'],
        ['RPOP', 's'],
        ['RPOP', 's'],
        ['LRANGE', 'l', '0', '-1'],
      ],
    ],
  ],
  [
    'LPUSH and RPUSH runs answer each length; pop runs go past the end',
    [
      [
        ['LPUSH', 'q', 'a'],
        ['LPUSH', 'q', 'b', 'c'],
        ['lpush', 'q', 'd'],
        ['RPUSH', 'q', 'e'],
        ['RPUSH', 'q', 'f', 'g', 'h'],
        ['LRANGE', 'q', '0', '-1'],
        ['RPOP', 'q'],
        ['RPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['EXISTS', 'q'],
        ['RPUSH', 'q', '1', '2', '3'],
        ['RPOP', 'q'],
        ['RPOP', 'q', '1'],
        ['RPOP', 'q'],
        ['RPOP', 'q'],
        ['RPOP', 'q', '0'],
        ['LPUSH', 'q'],
        ['LPOP', 'q', 'x'],
      ],
    ],
  ],
  [
    'CLIENT REPLY OFF and SKIP inside runs',
    [
      [
        ['CLIENT', 'REPLY', 'SKIP'],
        ...xadds('s', ['1-0', '2-0', '3-0']),
        ['CLIENT', 'REPLY', 'OFF'],
        ['RPUSH', 'q', 'a'],
        ['RPUSH', 'q', 'b'],
        ['CLIENT', 'REPLY', 'ON'],
        ['RPUSH', 'q', 'c'],
        ['RPUSH', 'q', 'd'],
        ['CLIENT', 'REPLY', 'SKIP'],
        ['RPOP', 'q'],
        ['RPOP', 'q'],
        ['LRANGE', 'q', '0', '-1'],
        ['XLEN', 's'],
      ],
    ],
  ],
  [
    'runs inside MULTI are queued, and run in EXEC',
    [
      [
        ['MULTI'],
        ...xadds('s', ['1-0', '2-0', '1-0', '3-0']),
        ['RPUSH', 'q', 'a'],
        ['RPUSH', 'q', 'b'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['LPOP', 'q'],
        ['EXEC'],
        ['XLEN', 's'],
      ],
    ],
  ],
];

describe('pipelined runs of one command on one key, against redis-server', () => {
  for (const resp of [2, 3] as const) {
    for (const [name, steps] of CASES) {
      it(`${name} (RESP${resp})`, async () => {
        const { want, got } = await both(steps, resp);
        expect(got).toBe(want);
      });
    }
  }

  it('a client blocked on the list is served after the first push of a run', async () => {
    const [want, got] = await blockedDuringRun({
      block: ['BLPOP', 'q', '0'],
      run: [
        ['LPUSH', 'q', 'a'],
        ['LPUSH', 'q', 'b'],
        ['LPUSH', 'q', 'c'],
        ['LRANGE', 'q', '0', '-1'],
      ],
    });
    expect(got).toEqual(want);
  });

  it('a client blocked in XREAD sees only the first XADD of a run', async () => {
    const [want, got] = await blockedDuringRun({
      setup: [['XADD', 's', '1-0', 'f', 'v']],
      block: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'],
      run: xadds('s', ['2-0', '3-0', '4-0']),
    });
    expect(got).toEqual(want);
  });

  it('a client blocked in XREADGROUP sees only the first XADD of a run', async () => {
    const [want, got] = await blockedDuringRun({
      setup: [['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM']],
      block: ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>'],
      run: xadds('s', ['2-0', '3-0', '4-0']),
      // The blocked read's delivery, once it has answered (Sluice serves it after the run).
      after: [['XPENDING', 's', 'g']],
    });
    expect(got).toEqual(want);
  });

  it('a client blocked in XREADGROUP is served before the next pipelined command', async () => {
    const [want, got] = await blockedDuringRun({
      setup: [['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM']],
      block: ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>'],
      run: [
        ['XADD', 's', '1-0', 'f', 'v'],
        ['XPENDING', 's', 'g'],
        ['XLEN', 's'],
        ['XADD', 's', '2-0', 'f', 'v'],
        ['XPENDING', 's', 'g'],
      ],
    });
    expect(got).toEqual(want);
  });

  it('keyspace notifications of a run arrive one per command, as Redis sends them', async () => {
    const results: unknown[] = [];
    for (const port of ports()) {
      await rawSession(port, [pipeline([['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']])]);
      const sub = await ReplyStream.connect(port);
      await sub.call('PSUBSCRIBE', '__key*__:*', 'marker');
      await sub.next();
      await rawSession(port, [
        pipeline([
          ['RPUSH', 'q', 'a'],
          ['RPUSH', 'q', 'b'],
          ['RPOP', 'q'],
          ['RPOP', 'q'],
          ['RPOP', 'q'],
          ...xadds('s', ['1-0', '2-0']),
          ['PUBLISH', 'marker', 'end'],
        ]),
      ]);
      const messages: unknown[] = [];
      for (;;) {
        const m = plain(await sub.next()) as unknown[];
        if (m[2] === 'marker') break;
        messages.push(m);
      }
      results.push(messages);
      await sub.close();
      await rawSession(port, [pipeline([['CONFIG', 'SET', 'notify-keyspace-events', '']])]);
    }
    expect(results[1]).toEqual(results[0]);
  });
});

interface BlockedRun {
  readonly setup?: readonly (readonly string[])[];
  readonly block: readonly string[];
  readonly run: readonly (readonly string[])[];
  readonly after?: readonly (readonly string[])[];
}

/**
 * On each server: `setup`, then a client blocks with `block`, then another pipelines `run` in
 * one write; what the run, the blocked client and then `after` got, redis-server's first.
 */
async function blockedDuringRun(t: BlockedRun): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const port of ports()) {
    if (t.setup) await rawSession(port, [pipeline(t.setup)]);
    const blocked = await ReplyStream.connect(port);
    blocked.send(...t.block);
    await waitBlocked(port, 1);
    const run = await rawSession(port, [pipeline(t.run)]);
    const served = plain(await blocked.next());
    const after = t.after ? (await rawSession(port, [pipeline(t.after)])).reply : null;
    results.push({ run: run.reply, served, after });
    await blocked.close();
  }
  return results;
}

/** Waits until `port`'s server reports `n` blocked clients. */
async function waitBlocked(port: number, n: number): Promise<void> {
  const probe = await RawConnection.connect(port);
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const before = probe.received.length;
      probe.send(encodeCommand(['INFO', 'clients']));
      await probe.waitFor((r) => r.length > before && r.toString('latin1').endsWith('\r\n\r\n'));
      const text = probe.received.subarray(before).toString('latin1');
      if (text.includes(`blocked_clients:${n}\r\n`)) return;
      if (Date.now() > deadline) throw new Error('the client did not block');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await probe.destroy();
  }
}
