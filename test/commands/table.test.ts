import { describe, expect, it } from 'vitest';
import { commandName } from '../../src/commands/table';

describe('commandName', () => {
  it('is toString().toLowerCase() for every name, cached or not, of any bytes', () => {
    const names = ['PING', 'ping', 'PiNg', 'XADD', 'x', 'LPUSHX', 'PUBLISH', 'XREADGROUP', ''];
    names.push('XAUTOCLAIM', 'xautoclaiM', 'UNSUBSCRIBE', 'a', 'z', 'za', 'az', 'zzzzzzzzzz');
    // Bytes that OR 0x20 onto a letter without being one: they must not hit a letter's entry.
    const tricky = [
      Buffer.from([0x50, 0x49, 0x4e, 0x07]),
      Buffer.from('P@NG'),
      Buffer.from('[ing'),
    ];
    for (let seed = 0; seed < 3000; seed++) {
      const len = 1 + (seed % 12);
      tricky.push(Buffer.from(Array.from({ length: len }, (_, i) => (seed * 31 + i * 97) & 0xff)));
    }
    for (let round = 0; round < 2; round++) {
      for (const b of [...names.map((n) => Buffer.from(n)), ...tricky]) {
        expect(commandName(b)).toBe(b.toString('latin1').toLowerCase());
      }
    }
  });

  it('gives each name of letters its own entry, whatever its case and length', () => {
    let x = 7;
    const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 3000; i++) {
      const len = 1 + (rand() % 10);
      const letters = Array.from({ length: len }, () => (rand() % 26) + (rand() % 2 ? 0x41 : 0x61));
      const b = Buffer.from(letters);
      expect(commandName(b)).toBe(b.toString('latin1').toLowerCase());
      expect(commandName(b)).toBe(b.toString('latin1').toLowerCase());
    }
  });
});
