import { describe, expect, it } from 'vitest';
import { commandName } from '../../src/commands/table';

describe('commandName', () => {
  it('is toString().toLowerCase() for every name, cached or not, of any bytes', () => {
    const names = ['PING', 'ping', 'PiNg', 'XADD', 'x', 'LPUSHX', 'PUBLISH', 'XREADGROUP', ''];
    // Bytes that OR 0x20 onto a letter without being one: they must not hit a letter's entry.
    const tricky = [
      Buffer.from([0x50, 0x49, 0x4e, 0x07]),
      Buffer.from('P@NG'),
      Buffer.from('[ing'),
    ];
    for (let seed = 0; seed < 3000; seed++) {
      const len = 1 + (seed % 7);
      tricky.push(Buffer.from(Array.from({ length: len }, (_, i) => (seed * 31 + i * 97) & 0xff)));
    }
    for (let round = 0; round < 2; round++) {
      for (const b of [...names.map((n) => Buffer.from(n)), ...tricky]) {
        expect(commandName(b)).toBe(b.toString('latin1').toLowerCase());
      }
    }
  });
});
