// The PUBLISH bench's subscriber (bench/message-counter.ts): counts `message` pushes in a RESP2
// byte stream cut anywhere, skips subscription replies, and refuses anything else.
import { describe, expect, it } from 'vitest';
import { MessageCounter } from '../../bench/message-counter';

const push = (...items: string[]) =>
  `*${items.length}\r\n` + items.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('');
const SUBSCRIBED = '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n';
const STREAM = Buffer.from(
  SUBSCRIBED +
    push('message', 'ch', 'msg') +
    push('message', 'ch', '') +
    push('messagf', 'ch', 'not one') +
    push('message', 'ch', 'with\r\n*3 inside') +
    push('message', 'c', 'x'.repeat(300)),
);

describe('MessageCounter', () => {
  it('counts the messages of a stream fed whole', () => {
    const c = new MessageCounter();
    c.feed(STREAM);
    expect(c.messages).toBe(4);
    expect(c.frames).toBe(6);
  });

  it('counts the same with the stream cut at every byte, and byte by byte', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      const c = new MessageCounter();
      c.feed(STREAM.subarray(0, at));
      c.feed(STREAM.subarray(at));
      expect([at, c.messages, c.frames]).toEqual([at, 4, 6]);
    }
    const c = new MessageCounter();
    for (let i = 0; i < STREAM.length; i++) c.feed(STREAM.subarray(i, i + 1));
    expect(c.messages).toBe(4);
  });

  it('refuses what is not a pub/sub push of three items', () => {
    expect(() => new MessageCounter().feed(Buffer.from('+OK\r\n'))).toThrow(/expected '\*'/);
    expect(() => new MessageCounter().feed(Buffer.from(push('pmessage', 'p', 'c', 'm')))).toThrow(
      /4 items/,
    );
    expect(() => new MessageCounter().feed(Buffer.from('*3\r\n:1\r\n'))).toThrow(/expected '\$'/);
    expect(() => new MessageCounter().feed(Buffer.from('*3\r\n$x\r\n'))).toThrow(/length byte/);
  });
});
