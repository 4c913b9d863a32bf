// The one-entry caches on the per-command path: keyId (src/broker/keyspace.ts) and the channel
// name PUBLISH looks up (src/broker/pubsub.ts) hand out the last string made when the bytes
// match, so they must tell apart every pair of arguments that differ in any way.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLatin1Of, keyId } from '../../src/broker/keyspace';
import { PubSub, type PubSubMessage } from '../../src/broker/pubsub';

const plainId = (db: number, key: Buffer) => String.fromCharCode(db) + key.toString('latin1');

describe('keyId', () => {
  it('is the database code unit followed by the key as latin1, asked once or many times', () => {
    const key = Buffer.from([0x61, 0x00, 0xff, 0x80]);
    expect(keyId(3, key)).toBe('\u0003a\u0000\u00ff\u0080');
    expect(keyId(3, key)).toBe('\u0003a\u0000\u00ff\u0080');
    expect(keyId(4, key)).toBe('\u0004a\u0000\u00ff\u0080');
  });

  it('tells apart keys sharing a prefix, a length, or the same bytes in another database', () => {
    const seq: Array<[number, string]> = [
      [0, 'ab'],
      [0, 'ac'],
      [0, 'a'],
      [0, 'abc'],
      [1, 'abc'],
      [0, 'abc'],
      [0, ''],
      [1, ''],
      [0, 'x'.repeat(65)],
      [0, 'x'.repeat(65)],
      [0, 'x'.repeat(64)],
    ];
    for (const [db, k] of seq) expect(keyId(db, Buffer.from(k))).toBe(plainId(db, Buffer.from(k)));
  });

  it('sees a buffer changed in place since the last call', () => {
    const key = Buffer.from('queue');
    expect(keyId(0, key)).toBe('\u0000queue');
    key[0] = 0x51;
    expect(keyId(0, key)).toBe('\u0000Queue');
  });

  it('agrees with the plain definition over random sequences of calls', () => {
    const call = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 80 }));
    fc.assert(
      fc.property(fc.array(call, { maxLength: 30 }), (calls) => {
        for (const [db, bytes] of calls) {
          const key = Buffer.from(bytes);
          if (keyId(db, key) !== plainId(db, key)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('isLatin1Of compares a prefix-skipped string with bytes', () => {
    expect(isLatin1Of('\u0001ab', 1, Buffer.from('ab'))).toBe(true);
    expect(isLatin1Of('\u0001ab', 1, Buffer.from('a'))).toBe(false);
    expect(isLatin1Of('ab', 0, Buffer.from('ac'))).toBe(false);
    expect(isLatin1Of('\u00ff', 0, Buffer.from([0xff]))).toBe(true);
    expect(isLatin1Of('\u0100', 0, Buffer.from([0x00]))).toBe(false);
  });
});

describe('PUBLISH channel lookup', () => {
  it('reaches the channel named by the bytes of each call, one after another', () => {
    const ps = new PubSub();
    const got: string[] = [];
    const sub = (name: string) => ({
      id: got.length + 1000,
      deliver: (m: PubSubMessage) => got.push(`${name}:${m.payload.toString()}`),
    });
    for (const name of ['ab', 'ac', 'a', 'x'.repeat(70)]) {
      ps.subscribe(sub(name), 'channel', Buffer.from(name));
    }
    const channel = Buffer.from('ab');
    expect(ps.publish(channel, Buffer.from('1'))).toBe(1);
    channel[1] = 0x63; // now "ac", the same Buffer
    expect(ps.publish(channel, Buffer.from('2'))).toBe(1);
    expect(ps.publish(Buffer.from('a'), Buffer.from('3'))).toBe(1);
    expect(ps.publish(Buffer.from('abc'), Buffer.from('4'))).toBe(0);
    expect(ps.publish(Buffer.from('x'.repeat(70)), Buffer.from('5'))).toBe(1);
    expect(ps.publish(Buffer.from('x'.repeat(69)), Buffer.from('6'))).toBe(0);
    expect(got).toEqual(['ab:1', 'ac:2', 'a:3', `${'x'.repeat(70)}:5`]);
  });
});
