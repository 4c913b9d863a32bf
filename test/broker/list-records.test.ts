// The journal records of list changes (src/broker/list-records.ts): every op round-trips
// through encodeOp and decodeOp with keys and values of any bytes, short ones (written byte by
// byte) and long ones (written by Buffer#write) alike.
import { describe, expect, it } from 'vitest';
import { decodeOp, encodeOp, Side, type ListOp } from '../../src/broker/list-records';

/** A latin1 string (one char per byte, as the keyspace holds them) of `n` bytes from `seed`. */
function bytes(n: number, seed: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((seed + i * 37) & 0xff);
  return s;
}

const LENGTHS = [0, 1, 2, 15, 16, 17, 31, 200];

describe('list records', () => {
  it('push round-trips keys and values of every length and byte', () => {
    for (const [k, keyLength] of LENGTHS.entries()) {
      const values = LENGTHS.map((n, i) => bytes(n, 251 * i + k));
      const op: ListOp = { op: 'push', db: 3, key: bytes(keyLength, k), side: Side.Right, values };
      expect(decodeOp(encodeOp(op))).toEqual(op);
    }
  });

  it('every byte value survives in a short value and in a long one', () => {
    const all = bytes(256, 0);
    const values = Array.from({ length: 16 }, (_, i) => all.slice(i * 16, i * 16 + 16));
    const op: ListOp = { op: 'push', db: 0, key: all, side: Side.Left, values: [...values, all] };
    expect(decodeOp(encodeOp(op))).toEqual(op);
  });

  it('the other ops round-trip their strings', () => {
    const ops: ListOp[] = [
      { op: 'set', db: 1, key: bytes(5, 1), index: 2, value: bytes(16, 200) },
      { op: 'insert', db: 1, key: bytes(17, 2), index: 4, value: bytes(3, 250) },
      { op: 'rem', db: 2, key: bytes(1, 3), count: -1, value: bytes(40, 128) },
      { op: 'move', db: 0, src: bytes(8, 9), dst: bytes(20, 10), from: Side.Left, to: Side.Right },
      { op: 'rename', db: 0, from: bytes(16, 11), to: bytes(0, 12) },
    ];
    for (const op of ops) expect(decodeOp(encodeOp(op))).toEqual(op);
  });
});
