// The generic keyspace, server and connection commands through the real table and dispatcher:
// every option and error of DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, DBSIZE, FLUSHALL, FLUSHDB,
// RENAME, RENAMENX, PING, ECHO and TIME, binary keys, files on disk and restarts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyOrder, keyId, scanHash, storageKey } from '../../src/broker/keyspace';
import { StreamGroups } from '../../src/broker/groups';
import { parseCursor } from '../../src/commands/generic';
import type { Reply } from '../../src/commands/reply';
import { streamDirName } from '../../storage/datadir';
import { StreamId } from '../../storage/id';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

type Key = string | Buffer;
const buf = (k: Key) => (typeof k === 'string' ? Buffer.from(k) : k);
const bulk = (k: Key): Reply => ({ t: 'bulk', v: buf(k) });
const int = (v: number): Reply => ({ t: 'int', v });
const simple = (v: string): Reply => ({ t: 'simple', v });
const err = (v: string) => expect.objectContaining({ t: 'error', v }) as Reply;
const OK = simple('OK');

let dataDir: string;
let s: InProcessSluice;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-generic-'));
  s = await openSluice({ dataDir });
});
afterEach(async () => {
  await s.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function restart(): Promise<void> {
  await s.close();
  s = await openSluice({ dataDir });
}

/** Creates (or extends) a stream with `count` entries, IDs following its last one. */
async function addStream(key: Key, count = 1, db = 0): Promise<void> {
  const value = await s.broker.keyspace.streamOrCreate(db, buf(key));
  await value.log.append((last) =>
    Array.from({ length: count }, (_, i) => ({
      id: new StreamId(last.ms + 1n + BigInt(i), 0n),
      fields: [Buffer.from('f'), Buffer.from(`v${i}`)],
    })),
  );
}

async function entryIds(key: Key, db = 0): Promise<string[]> {
  const value = s.broker.keyspace.stream(db, buf(key));
  if (!value) return [];
  const entries = await value.log.read(StreamId.ZERO, StreamId.MAX, 0, false);
  return entries.map((e) => e.id.toString());
}

/** The live stream directories of the data dir. */
async function streamDirs(): Promise<string[]> {
  const names = await fs.readdir(path.join(dataDir, 'streams'));
  return names.filter((n) => !n.startsWith('.')).sort();
}

const dirOf = (key: Key, db = 0) => streamDirName(storageKey(db, buf(key)));

/** The keys of an array reply, as latin1 strings, sorted. */
function keyList(reply: Reply): string[] {
  if (reply.t !== 'array') throw new Error(`not an array: ${JSON.stringify(reply)}`);
  return reply.v.map((r) => (r.t === 'bulk' ? r.v.toString('latin1') : '?')).sort();
}

const firstOf = (reply: Reply): Reply | undefined => (reply.t === 'array' ? reply.v[0] : undefined);

/** One SCAN call: the next cursor and the keys (latin1). */
async function scanOnce(...args: string[]): Promise<{ cursor: string; keys: string[] }> {
  const reply = await s.call('SCAN', ...args);
  if (reply.t !== 'array') throw new Error(`SCAN replied ${JSON.stringify(reply)}`);
  const [cursor, keys] = reply.v;
  if (cursor?.t !== 'bulk' || !keys) throw new Error('bad SCAN reply');
  return { cursor: cursor.v.toString(), keys: keyList(keys) };
}

/** A blocked wait on `key`, as XREAD BLOCK registers it; resolves with the wake reason. */
function waitOn(key: Key, db = 0): Promise<string> {
  const id = keyId(db, buf(key));
  const seen = s.broker.blocking.versionsOf([id]);
  return s.broker.blocking.wait([id], seen, 5000);
}

describe('DEL', () => {
  it('deletes the keys that exist and counts them', async () => {
    await addStream('a');
    await addStream('b');
    expect(await s.call('DEL', 'a', 'nope', 'b')).toEqual(int(2));
    expect(await s.call('EXISTS', 'a', 'b')).toEqual(int(0));
    expect(await s.call('DEL', 'a')).toEqual(int(0));
  });

  it('counts a key named twice once', async () => {
    await addStream('a');
    expect(await s.call('DEL', 'a', 'a')).toEqual(int(1));
  });

  it("removes the stream's directory from the data dir", async () => {
    await addStream('a', 5);
    await addStream('b', 5);
    expect(await streamDirs()).toEqual([dirOf('a'), dirOf('b')].sort());
    await s.call('DEL', 'a');
    expect(await streamDirs()).toEqual([dirOf('b')]);
    await restart();
    expect(await s.call('EXISTS', 'a', 'b')).toEqual(int(1));
  });

  it('a deleted stream comes back empty when written again', async () => {
    await addStream('a', 5);
    await s.call('DEL', 'a');
    await addStream('a', 1);
    expect(await entryIds('a')).toEqual(['1-0']);
  });

  it('wakes clients blocked on a deleted key', async () => {
    await addStream('a');
    const woken = waitOn('a');
    await s.call('DEL', 'a');
    expect(await woken).toBe('ready');
  });

  it('requires at least one key', async () => {
    expect(await s.call('DEL')).toEqual(err("ERR wrong number of arguments for 'del' command"));
  });
});

describe('UNLINK', () => {
  it('deletes like DEL, files included', async () => {
    await addStream('a', 3);
    await addStream('b');
    expect(await s.call('UNLINK', 'a', 'b', 'c', 'a')).toEqual(int(2));
    expect(await streamDirs()).toEqual([]);
    expect(await s.call('UNLINK')).toEqual(
      err("ERR wrong number of arguments for 'unlink' command"),
    );
  });
});

describe('EXISTS', () => {
  it('counts every argument naming an existing key, repeats included', async () => {
    await addStream('a');
    expect(await s.call('EXISTS', 'a', 'a', 'b', 'a')).toEqual(int(3));
    expect(await s.call('EXISTS', 'b')).toEqual(int(0));
    expect(await s.call('EXISTS')).toEqual(
      err("ERR wrong number of arguments for 'exists' command"),
    );
  });
});

describe('TYPE', () => {
  it('names a stream and answers none for a missing key', async () => {
    await addStream('a');
    expect(await s.call('TYPE', 'a')).toEqual(simple('stream'));
    expect(await s.call('TYPE', 'b')).toEqual(simple('none'));
  });

  it('takes exactly one key', async () => {
    const arity = err("ERR wrong number of arguments for 'type' command");
    expect(await s.call('TYPE')).toEqual(arity);
    expect(await s.call('TYPE', 'a', 'b')).toEqual(arity);
  });
});

describe('KEYS', () => {
  it('returns the keys matching a glob pattern', async () => {
    for (const k of ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'other']) await addStream(k);
    expect(keyList(await s.call('KEYS', 'h?llo'))).toEqual(['hallo', 'hello', 'hxllo']);
    expect(keyList(await s.call('KEYS', 'h*llo'))).toEqual(
      ['heeeello', 'hallo', 'hello', 'hllo', 'hxllo'].sort(),
    );
    expect(keyList(await s.call('KEYS', 'h[ae]llo'))).toEqual(['hallo', 'hello']);
    expect(keyList(await s.call('KEYS', 'h[^e]llo'))).toEqual(['hallo', 'hxllo']);
    expect(keyList(await s.call('KEYS', 'h[a-b]llo'))).toEqual(['hallo']);
    expect(keyList(await s.call('KEYS', '*'))).toHaveLength(6);
    expect(keyList(await s.call('KEYS', 'nothing*'))).toEqual([]);
  });

  it('the pattern * also returns the empty key', async () => {
    await addStream('');
    await addStream('x');
    expect(keyList(await s.call('KEYS', '*'))).toEqual(['', 'x']);
    expect(keyList(await s.call('KEYS', '**'))).toEqual(['x']);
  });

  it('only sees the current database', async () => {
    await addStream('zero');
    await addStream('one', 1, 1);
    const other = s.session();
    other.db = 1;
    expect(keyList(await s.callIn(other, 'KEYS', '*'))).toEqual(['one']);
    expect(keyList(await s.call('KEYS', '*'))).toEqual(['zero']);
  });

  it('takes exactly one pattern', async () => {
    const arity = err("ERR wrong number of arguments for 'keys' command");
    expect(await s.call('KEYS')).toEqual(arity);
    expect(await s.call('KEYS', 'a', 'b')).toEqual(arity);
  });
});

describe('SCAN', () => {
  it('a large COUNT returns every key and cursor 0 in one call', async () => {
    for (let i = 0; i < 20; i++) await addStream(`k${i}`);
    const { cursor, keys } = await scanOnce('0', 'COUNT', '1000');
    expect(cursor).toBe('0');
    expect(keys).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
  });

  it('an empty database returns cursor 0 and no keys', async () => {
    expect(await scanOnce('0')).toEqual({ cursor: '0', keys: [] });
  });

  it('iterating with a small COUNT returns every key exactly once', async () => {
    const all = Array.from({ length: 57 }, (_, i) => `key:${i}`);
    for (const k of all) await addStream(k);
    const seen: string[] = [];
    let cursor = '0';
    let calls = 0;
    do {
      const step = await scanOnce(cursor, 'COUNT', '4');
      expect(step.keys.length).toBeLessThanOrEqual(8);
      seen.push(...step.keys);
      cursor = step.cursor;
      calls++;
    } while (cursor !== '0');
    expect(calls).toBeGreaterThan(10);
    expect(seen.sort()).toEqual(all.sort());
  });

  it('without COUNT returns about 10 keys a call', async () => {
    for (let i = 0; i < 30; i++) await addStream(`k${i}`);
    const first = await scanOnce('0');
    expect(first.cursor).not.toBe('0');
    expect(first.keys.length).toBeGreaterThanOrEqual(10);
    expect(first.keys.length).toBeLessThan(30);
  });

  it('returns every key present for the whole scan while others come and go', async () => {
    const stable = Array.from({ length: 80 }, (_, i) => `stable:${i}`);
    for (const k of stable) await addStream(k);
    for (let i = 0; i < 40; i++) await addStream(`temp:${i}`);
    const seen = new Map<string, number>();
    let cursor = '0';
    let round = 0;
    do {
      const step = await scanOnce(cursor, 'COUNT', '3');
      for (const k of step.keys) seen.set(k, (seen.get(k) ?? 0) + 1);
      cursor = step.cursor;
      // Churn between calls: drop an old temporary key, add a new one.
      await s.call('DEL', `temp:${round}`);
      await addStream(`new:${round}`);
      round++;
    } while (cursor !== '0');
    for (const k of stable) expect(seen.get(k), k).toBe(1);
    for (const [k, n] of seen) expect(n, k).toBe(1);
  });

  it('MATCH filters the keys of each step after they are taken', async () => {
    for (let i = 0; i < 30; i++) await addStream(i % 3 === 0 ? `a:${i}` : `b:${i}`);
    const all = await scanOnce('0', 'MATCH', 'a:*', 'COUNT', '100');
    expect(all.keys).toEqual(Array.from({ length: 10 }, (_, i) => `a:${i * 3}`).sort());
    expect((await scanOnce('0', 'MATCH', '*', 'COUNT', '100')).keys).toHaveLength(30);
    const few = await scanOnce('0', 'MATCH', 'a:*', 'COUNT', '3');
    expect(few.keys.length).toBeLessThanOrEqual(3);
  });

  it('MATCH * also returns the empty key', async () => {
    await addStream('');
    expect((await scanOnce('0', 'MATCH', '*')).keys).toEqual(['']);
    expect((await scanOnce('0', 'MATCH', '**')).keys).toEqual([]);
  });

  it('TYPE keeps keys of that type, compared case-insensitively', async () => {
    await addStream('s1');
    await addStream('s2');
    expect((await scanOnce('0', 'TYPE', 'stream')).keys).toEqual(['s1', 's2']);
    expect((await scanOnce('0', 'TYPE', 'STREAM')).keys).toEqual(['s1', 's2']);
    expect((await scanOnce('0', 'TYPE', 'list')).keys).toEqual([]);
  });

  it('an unknown TYPE name matches nothing, without an error (Redis 7.0)', async () => {
    await addStream('s1');
    expect(await scanOnce('0', 'TYPE', 'nosuchtype')).toEqual({ cursor: '0', keys: [] });
  });

  it('options combine and repeat; the last of each wins', async () => {
    for (let i = 0; i < 10; i++) await addStream(`x${i}`);
    const step = await scanOnce('0', 'COUNT', '1', 'MATCH', 'y*', 'COUNT', '100', 'MATCH', 'x1');
    expect(step).toEqual({ cursor: '0', keys: ['x1'] });
  });

  it('rejects cursors strtoul does not fully read', async () => {
    for (const bad of ['abc', ' 0', '0 ', '1.5', '-', '+', '0x10', '18446744073709551616']) {
      expect(await s.call('SCAN', bad), bad).toEqual(err('ERR invalid cursor'));
    }
  });

  it('reads cursors as strtoul does: empty, signs, leading zeros, wrap-around', () => {
    expect(parseCursor(Buffer.from(''))).toBe(0n);
    expect(parseCursor(Buffer.from('+7'))).toBe(7n);
    expect(parseCursor(Buffer.from('007'))).toBe(7n);
    expect(parseCursor(Buffer.from('-0'))).toBe(0n);
    expect(parseCursor(Buffer.from('-1'))).toBe((1n << 64n) - 1n);
    expect(parseCursor(Buffer.from('-18446744073709551615'))).toBe(1n);
    expect(parseCursor(Buffer.from('18446744073709551615'))).toBe((1n << 64n) - 1n);
    expect(parseCursor(Buffer.from('12\0junk'))).toBe(12n);
  });

  it('a cursor past the last key ends the scan', async () => {
    await addStream('a');
    expect(await scanOnce('18446744073709551615')).toEqual({ cursor: '0', keys: [] });
    expect(await scanOnce('-1')).toEqual({ cursor: '0', keys: [] });
    expect(await scanOnce('')).toEqual({ cursor: '0', keys: ['a'] });
  });

  it('checks COUNT: an integer of at least 1', async () => {
    expect(await s.call('SCAN', '0', 'COUNT', 'abc')).toEqual(
      err('ERR value is not an integer or out of range'),
    );
    expect(await s.call('SCAN', '0', 'COUNT', '0')).toEqual(err('ERR syntax error'));
    expect(await s.call('SCAN', '0', 'COUNT', '-1')).toEqual(err('ERR syntax error'));
    expect(await s.call('SCAN', '0', 'COUNT', '9223372036854775808')).toEqual(
      err('ERR value is not an integer or out of range'),
    );
  });

  it('an option without its value or an unknown option is a syntax error', async () => {
    for (const args of [['COUNT'], ['MATCH'], ['TYPE'], ['FOO', 'bar'], ['COUNT', '5', 'x']]) {
      expect(await s.call('SCAN', '0', ...args), args.join(' ')).toEqual(err('ERR syntax error'));
    }
  });

  it('checks the cursor before the options', async () => {
    expect(await s.call('SCAN', 'x', 'COUNT', '0')).toEqual(err('ERR invalid cursor'));
    expect(await s.call('SCAN')).toEqual(err("ERR wrong number of arguments for 'scan' command"));
  });
});

describe('SCAN order (KeyOrder)', () => {
  it('keeps keys sorted by hash through random adds and removes', () => {
    const order = new KeyOrder();
    const live = new Set<string>();
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      const id = `k${rand(3000)}`;
      if (live.has(id)) {
        order.remove(id);
        live.delete(id);
      } else {
        order.add(id);
        live.add(id);
      }
    }
    const sorted = [...live].sort((a, b) => scanHash(a) - scanHash(b) || (a < b ? -1 : 1));
    expect(order.size).toBe(live.size);
    expect(order.scan(0, 1_000_000)).toEqual({ ids: sorted, next: 0 });
    for (let probe = 0; probe < 50; probe++) {
      const cursor = rand(2 ** 30) * 2 ** 18;
      const from = sorted.findIndex((id) => scanHash(id) >= cursor);
      const step = order.scan(cursor, 7);
      const want = from < 0 ? [] : sorted.slice(from, from + 7);
      expect(step.ids).toEqual(want);
      const last = want[want.length - 1];
      const more = from >= 0 && from + 7 < sorted.length;
      expect(step.next).toBe(more && last !== undefined ? scanHash(last) + 1 : 0);
    }
  });

  it('keys sharing a hash always come back in the same call', () => {
    const order = new KeyOrder((id) => id.length);
    for (const id of ['a', 'b', 'cc', 'dd', 'eee']) order.add(id);
    expect(order.scan(0, 1)).toEqual({ ids: ['a', 'b'], next: 2 });
    expect(order.scan(2, 1)).toEqual({ ids: ['cc', 'dd'], next: 3 });
    expect(order.scan(3, 1)).toEqual({ ids: ['eee'], next: 0 });
    const same = new KeyOrder(() => 5);
    for (let i = 0; i < 1500; i++) same.add(`x${i}`);
    expect(same.scan(0, 1).ids).toHaveLength(1500);
    for (let i = 0; i < 1500; i++) same.remove(`x${i}`);
    expect(same.scan(0, 10)).toEqual({ ids: [], next: 0 });
  });

  it('hashes are 48-bit integers', () => {
    for (const id of ['', 'a', '\u00ff\u0000', 'x'.repeat(10_000)]) {
      const h = scanHash(id);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 48).toBe(true);
    }
  });
});

describe('DBSIZE', () => {
  it('counts the keys of the current database', async () => {
    expect(await s.call('DBSIZE')).toEqual(int(0));
    await addStream('a');
    await addStream('b');
    await addStream('c', 1, 3);
    expect(await s.call('DBSIZE')).toEqual(int(2));
    const other = s.session();
    other.db = 3;
    expect(await s.callIn(other, 'DBSIZE')).toEqual(int(1));
    expect(await s.call('DBSIZE', 'x')).toEqual(
      err("ERR wrong number of arguments for 'dbsize' command"),
    );
  });
});

describe('FLUSHDB', () => {
  it('empties the current database only, files included', async () => {
    await addStream('a', 3);
    await addStream('b', 1, 2);
    expect(await s.call('FLUSHDB')).toEqual(OK);
    expect(await s.call('DBSIZE')).toEqual(int(0));
    expect(await streamDirs()).toEqual([dirOf('b', 2)]);
    const other = s.session();
    other.db = 2;
    expect(await s.callIn(other, 'EXISTS', 'b')).toEqual(int(1));
  });

  it('takes ASYNC or SYNC in any case', async () => {
    for (const mode of ['ASYNC', 'sync', 'Async', 'SYNC']) {
      await addStream('a');
      expect(await s.call('FLUSHDB', mode)).toEqual(OK);
      expect(await s.call('DBSIZE')).toEqual(int(0));
    }
  });

  it('anything else is a syntax error', async () => {
    await addStream('a');
    expect(await s.call('FLUSHDB', 'now')).toEqual(err('ERR syntax error'));
    expect(await s.call('FLUSHDB', 'ASYNC', 'SYNC')).toEqual(err('ERR syntax error'));
    expect(await s.call('DBSIZE')).toEqual(int(1));
  });

  it('wakes clients blocked on the flushed keys', async () => {
    await addStream('a');
    const woken = waitOn('a');
    await s.call('FLUSHDB');
    expect(await woken).toBe('ready');
  });
});

describe('FLUSHALL', () => {
  it('empties every database and removes every stream directory', async () => {
    for (let db = 0; db < 4; db++) for (let i = 0; i < 5; i++) await addStream(`k${i}`, 2, db);
    expect(await streamDirs()).toHaveLength(20);
    const woken = waitOn('k1', 3);
    expect(await s.call('FLUSHALL')).toEqual(OK);
    expect(await woken).toBe('ready');
    expect(await streamDirs()).toEqual([]);
    for (let db = 0; db < 4; db++) expect(s.broker.keyspace.size(db)).toBe(0);
    await restart();
    expect(await s.call('DBSIZE')).toEqual(int(0));
  });

  it('takes ASYNC or SYNC, and nothing else', async () => {
    await addStream('a');
    expect(await s.call('FLUSHALL', 'x')).toEqual(err('ERR syntax error'));
    expect(await s.call('FLUSHALL', 'SYNC', 'x')).toEqual(err('ERR syntax error'));
    expect(await s.call('FLUSHALL', 'async')).toEqual(OK);
    expect(await s.call('FLUSHALL', 'SYNC')).toEqual(OK);
  });

  it('also deletes a key renamed into place while the flush waited for locks', async () => {
    await addStream('a', 2);
    // RENAME holds the locks of a and b when FLUSHALL looks at the keys; it must not survive.
    const renaming = s.call('RENAME', 'a', 'b');
    const flushing = s.call('FLUSHALL');
    expect(await renaming).toEqual(OK);
    expect(await flushing).toEqual(OK);
    expect(await s.call('DBSIZE')).toEqual(int(0));
    expect(await streamDirs()).toEqual([]);
  });

  it('keys written after a flush are kept', async () => {
    await addStream('a');
    await s.call('FLUSHALL');
    await addStream('a', 2);
    expect(await entryIds('a')).toEqual(['1-0', '2-0']);
  });
});

describe('RENAME', () => {
  it('moves a stream with its entries and files to the new key', async () => {
    await addStream('a', 3);
    expect(await s.call('RENAME', 'a', 'b')).toEqual(OK);
    expect(await s.call('EXISTS', 'a')).toEqual(int(0));
    expect(await s.call('TYPE', 'b')).toEqual(simple('stream'));
    expect(await entryIds('b')).toEqual(['1-0', '2-0', '3-0']);
    expect(await streamDirs()).toEqual([dirOf('b')]);
    await restart();
    expect(await entryIds('b')).toEqual(['1-0', '2-0', '3-0']);
    expect(await s.call('EXISTS', 'a')).toEqual(int(0));
  });

  it('overwrites an existing destination', async () => {
    await addStream('a', 2);
    await addStream('b', 5);
    expect(await s.call('RENAME', 'a', 'b')).toEqual(OK);
    expect(await entryIds('b')).toEqual(['1-0', '2-0']);
    expect(await s.call('DBSIZE')).toEqual(int(1));
    expect(await streamDirs()).toEqual([dirOf('b')]);
  });

  it('keeps the ID generator: new entries go after the old last ID', async () => {
    await addStream('a', 4);
    await s.call('RENAME', 'a', 'b');
    await addStream('b', 1);
    expect(await entryIds('b')).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0']);
  });

  it('a missing source is an error, even when renamed onto itself', async () => {
    expect(await s.call('RENAME', 'a', 'b')).toEqual(err('ERR no such key'));
    expect(await s.call('RENAME', 'a', 'a')).toEqual(err('ERR no such key'));
  });

  it('renaming a key onto itself changes nothing', async () => {
    await addStream('a', 2);
    expect(await s.call('RENAME', 'a', 'a')).toEqual(OK);
    expect(await entryIds('a')).toEqual(['1-0', '2-0']);
  });

  it('wakes clients blocked on the old and the new key', async () => {
    await addStream('a');
    const onOld = waitOn('a');
    const onNew = waitOn('b');
    await s.call('RENAME', 'a', 'b');
    expect(await onOld).toBe('ready');
    expect(await onNew).toBe('ready');
  });

  it('renames within the current database', async () => {
    await addStream('a', 1, 5);
    const other = s.session();
    other.db = 5;
    expect(await s.callIn(other, 'RENAME', 'a', 'b')).toEqual(OK);
    expect(await entryIds('b', 5)).toEqual(['1-0']);
    expect(await s.call('EXISTS', 'a', 'b')).toEqual(int(0));
    expect(await streamDirs()).toEqual([dirOf('b', 5)]);
  });

  it("moves the stream's consumer-group state and restores it across a restart", async () => {
    // The groups live in the log: the renamed log restores them into a new StreamGroups made
    // by the keyspace's factory for the new key, from the checkpoint written at close.
    const marker = Buffer.from('groups-of-a');
    const snapshot = vi.spyOn(StreamGroups.prototype, 'snapshot').mockReturnValue(marker);
    const restored: (Buffer | null)[] = [];
    const restore = vi.spyOn(StreamGroups.prototype, 'restore').mockImplementation((snap) => {
      restored.push(snap);
    });
    try {
      await addStream('a', 2);
      const before = s.broker.keyspace.stream(0, Buffer.from('a'))?.groups;
      restored.length = 0;
      await s.call('RENAME', 'a', 'b');
      const after = s.broker.keyspace.stream(0, Buffer.from('b'))?.groups;
      expect(after).toBeInstanceOf(StreamGroups);
      expect(after).not.toBe(before);
      expect(restored).toEqual([marker]);
      restored.length = 0;
      await restart();
      expect(restored).toEqual([marker]);
      expect(s.broker.keyspace.stream(0, Buffer.from('b'))?.groups).toBeInstanceOf(StreamGroups);
    } finally {
      snapshot.mockRestore();
      restore.mockRestore();
    }
  });

  it('keeps consumer groups, consumers and pending entries, also after a restart', async () => {
    await addStream('a', 3);
    expect(await s.call('XGROUP', 'CREATE', 'a', 'g', '0')).toEqual(OK);
    await s.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 'a', '>');
    const pending = await s.call('XPENDING', 'a', 'g');
    const groups = await s.call('XINFO', 'GROUPS', 'a');
    expect(firstOf(pending)).toEqual(int(2));
    expect(await s.call('RENAME', 'a', 'b')).toEqual(OK);
    expect(await s.call('XPENDING', 'b', 'g')).toEqual(pending);
    expect(await s.call('XINFO', 'GROUPS', 'b')).toEqual(groups);
    await s.call('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 'b', '>');
    const after = await s.call('XPENDING', 'b', 'g');
    expect(firstOf(after)).toEqual(int(3));
    await restart();
    expect(await s.call('XPENDING', 'b', 'g')).toEqual(after);
    expect(await s.call('XPENDING', 'a', 'g')).toEqual(
      err("NOGROUP No such key 'a' or consumer group 'g'"),
    );
  });

  it('takes exactly two keys', async () => {
    expect(await s.call('RENAME', 'a')).toEqual(
      err("ERR wrong number of arguments for 'rename' command"),
    );
  });
});

describe('RENAMENX', () => {
  it('renames when the destination is free and answers 1', async () => {
    await addStream('a', 2);
    expect(await s.call('RENAMENX', 'a', 'b')).toEqual(int(1));
    expect(await entryIds('b')).toEqual(['1-0', '2-0']);
  });

  it('answers 0 and changes nothing when the destination exists', async () => {
    await addStream('a', 2);
    await addStream('b', 3);
    expect(await s.call('RENAMENX', 'a', 'b')).toEqual(int(0));
    expect(await entryIds('a')).toEqual(['1-0', '2-0']);
    expect(await entryIds('b')).toEqual(['1-0', '2-0', '3-0']);
  });

  it('answers 0 for a key renamed onto itself, and errors when the source is missing', async () => {
    await addStream('a');
    expect(await s.call('RENAMENX', 'a', 'a')).toEqual(int(0));
    expect(await s.call('RENAMENX', 'x', 'y')).toEqual(err('ERR no such key'));
    expect(await s.call('RENAMENX', 'x')).toEqual(
      err("ERR wrong number of arguments for 'renamenx' command"),
    );
  });
});

describe('blocked XREADGROUP when its key goes away', () => {
  const gone = err('UNBLOCKED the stream key no longer exists');

  /** Blocks a reader on `key`; the reply is wrapped so awaiting the setup does not await it. */
  async function blockedReader(key: string): Promise<{ reply: Promise<Reply> }> {
    await s.call('XGROUP', 'CREATE', key, 'g', '$', 'MKSTREAM');
    const reader = s.session();
    const reply = s.callIn(
      reader,
      'XREADGROUP',
      'GROUP',
      'g',
      'c',
      'BLOCK',
      '0',
      'STREAMS',
      key,
      '>',
    );
    while (s.broker.blocking.blockedCount === 0) await new Promise((r) => setTimeout(r, 1));
    return { reply };
  }

  it('DEL ends it with the UNBLOCKED error', async () => {
    const { reply } = await blockedReader('a');
    await s.call('DEL', 'a');
    expect(await reply).toEqual(gone);
  });

  it('RENAME away ends it with the UNBLOCKED error', async () => {
    const { reply } = await blockedReader('a');
    await s.call('RENAME', 'a', 'b');
    expect(await reply).toEqual(gone);
  });

  it('FLUSHALL ends it with the UNBLOCKED error', async () => {
    const { reply } = await blockedReader('a');
    await s.call('FLUSHALL');
    expect(await reply).toEqual(gone);
  });
});

describe('binary keys', () => {
  const keys = [
    Buffer.from('a\0b'),
    Buffer.from([0xff, 0xfe, 0x80, 0x00]),
    Buffer.from('\0'),
    Buffer.alloc(10 * 1024, 0xab),
    Buffer.concat([Buffer.alloc(10 * 1024, 0x61), Buffer.from([0])]),
  ];
  const latin1 = (k: Buffer) => k.toString('latin1');

  it('every command treats keys as bytes', async () => {
    for (const k of keys) await addStream(k, 2);
    expect(await s.call('EXISTS', ...keys)).toEqual(int(keys.length));
    expect(await s.call('TYPE', keys[1] as Buffer)).toEqual(simple('stream'));
    expect(keyList(await s.call('KEYS', '*'))).toEqual(keys.map(latin1).sort());
    expect((await scanOnce('0', 'COUNT', '100')).keys).toEqual(keys.map(latin1).sort());
    expect(keyList(await s.call('KEYS', Buffer.from([0xff, 0x2a])))).toEqual([
      latin1(keys[1] as Buffer),
    ]);
    expect(await s.call('DBSIZE')).toEqual(int(keys.length));
  });

  it('survive a rename and a restart', async () => {
    for (const k of keys) await addStream(k, 2);
    const [a, b, , long] = keys as [Buffer, Buffer, Buffer, Buffer];
    const renamed = Buffer.concat([long, Buffer.from([0xff])]);
    expect(await s.call('RENAME', long, renamed)).toEqual(OK);
    expect(await s.call('RENAME', a, b)).toEqual(OK);
    await restart();
    expect(await s.call('EXISTS', a, long)).toEqual(int(0));
    expect(await entryIds(renamed)).toEqual(['1-0', '2-0']);
    expect(await entryIds(b)).toEqual(['1-0', '2-0']);
    expect(await s.call('DEL', ...keys, renamed)).toEqual(int(keys.length - 2 + 1));
    expect(await streamDirs()).toEqual([]);
  });
});

describe('PING', () => {
  it('answers PONG, or its argument as a bulk string', async () => {
    expect(await s.call('PING')).toEqual(simple('PONG'));
    expect(await s.call('PING', 'hello')).toEqual(bulk('hello'));
    expect(await s.call('PING', '')).toEqual(bulk(''));
    expect(await s.call('PING', 'a', 'b')).toEqual(
      err("ERR wrong number of arguments for 'ping' command"),
    );
  });
});

describe('ECHO', () => {
  it('answers its argument, bytes as given', async () => {
    const bytes = Buffer.from([0, 0xff, 0x0a]);
    expect(await s.call('ECHO', bytes)).toEqual(bulk(bytes));
    expect(await s.call('ECHO')).toEqual(err("ERR wrong number of arguments for 'echo' command"));
    expect(await s.call('ECHO', 'a', 'b')).toEqual(
      err("ERR wrong number of arguments for 'echo' command"),
    );
  });
});

describe('TIME', () => {
  it('answers Unix seconds and microseconds as two bulk strings', async () => {
    const before = Date.now();
    const reply = await s.call('TIME');
    const after = Date.now();
    if (reply.t !== 'array') throw new Error('not an array');
    const [secs, micros] = reply.v.map((r) => (r.t === 'bulk' ? r.v.toString() : ''));
    expect(secs).toMatch(/^\d+$/);
    expect(micros).toMatch(/^\d{1,6}$/);
    const ms = Number(secs) * 1000 + Number(micros) / 1000;
    expect(ms).toBeGreaterThanOrEqual(before - 1);
    expect(ms).toBeLessThanOrEqual(after + 1);
    expect(await s.call('TIME', 'x')).toEqual(
      err("ERR wrong number of arguments for 'time' command"),
    );
  });
});
