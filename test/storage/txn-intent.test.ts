// The intent files (storage/txn-intent.ts): a record round-trips, a torn one is ignored (the one
// before it, in the other file, counts), and finishIntent takes each part of the latest
// through the decision table: applied, redone, undone, dropped, gone, mismatch.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeIntent,
  encodeIntent,
  finishIntent,
  IntentFile,
  metaFingerprint,
  INTENT_FILES,
  META_UNIT,
  type IntentPart,
} from '../../storage/txn-intent';
import { frameCrc } from '../../storage/frame';
import { silentLogger } from '../../storage/errors';
import { encodeMeta } from '../../storage/meta';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-intent-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const b = (s: string) => Buffer.from(s);

/** A stream directory with a meta file and one segment holding `content`. */
async function stream(name: string, content: string): Promise<{ dir: string; file: string }> {
  const dir = path.join(root, 'streams', name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'meta'), encodeMeta(b(name)));
  const file = path.join(dir, '00000000.seg');
  await fs.writeFile(file, b(content));
  return { dir, file };
}

async function writeIntent(parts: IntentPart[]): Promise<void> {
  const intent = new IntentFile(root, true);
  intent.write(parts);
  intent.close();
}

const txn = (i: number) => path.join(root, INTENT_FILES[i] as string);

describe('intent record', () => {
  it('round-trips parts with their paths, identities, offsets and bytes', () => {
    const parts: IntentPart[] = [
      {
        file: path.join(root, 'streams', 'k-73', '00000001.seg'),
        identity: b('id'),
        offset: 5,
        bytes: b('abc'),
      },
      {
        file: path.join(root, 'journal', 'wal.1.0'),
        identity: Buffer.alloc(0),
        offset: 2 ** 40,
        bytes: b(''),
      },
    ];
    expect(decodeIntent(root, encodeIntent(root, 7, parts))).toEqual({ seq: 7, parts });
  });

  it('a record cut short or with a flipped byte is torn', () => {
    const parts = [{ file: path.join(root, 'f'), identity: b('x'), offset: 0, bytes: b('hello') }];
    const buf = encodeIntent(root, 1, parts);
    for (let cut = 0; cut < buf.length; cut++)
      expect(decodeIntent(root, buf.subarray(0, cut))).toBeNull();
    for (let at = 0; at < buf.length; at++) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] as number) ^ 0x10;
      expect(decodeIntent(root, bad)).toBeNull();
    }
  });

  it('a shorter intent over a longer one is read alone (the rest is stale bytes)', async () => {
    const { file } = await stream('k-01', '');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const intent = new IntentFile(root, false);
    // Intents go to txn.1, txn.0, txn.1...: the third over the first.
    intent.write([{ file, identity, offset: 0, bytes: Buffer.alloc(500, 1) }]);
    intent.write([]);
    intent.write([{ file, identity, offset: 0, bytes: b('xy') }]);
    intent.close();
    const got = decodeIntent(root, await fs.readFile(txn(1)));
    expect(got?.seq).toBe(3);
    expect(got?.parts.map((p) => p.bytes.toString())).toEqual(['xy']);
  });

  it("a large intent's stale bytes are cut once a much shorter one follows it", async () => {
    const { file } = await stream('k-01', '');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const intent = new IntentFile(root, false);
    const part = (n: number) => [{ file, identity, offset: 0, bytes: Buffer.alloc(n, 7) }];
    intent.write(part(3 * 1024 * 1024)); // txn.1
    intent.write([]); // txn.0
    intent.write(part(600 * 1024)); // txn.1: 2.4 MB left stale behind it: cut
    const cut = (await fs.stat(txn(1))).size;
    expect(cut).toBeLessThan(601 * 1024);
    intent.write([]);
    intent.write(part(10)); // txn.1: less than 1 MB stale behind it: kept as it is
    intent.close();
    expect((await fs.stat(txn(1))).size).toBe(cut);
    const got = decodeIntent(root, await fs.readFile(txn(1)));
    expect(got?.seq).toBe(5);
    expect(got?.parts.map((p) => p.bytes.length)).toEqual([10]);
  });
});

describe('finishIntent', () => {
  it('TXN_NONE: no intent file, or an empty one, does nothing', async () => {
    expect(await finishIntent(root, silentLogger)).toEqual([]);
    await fs.writeFile(txn(0), '');
    await fs.writeFile(txn(1), encodeIntent(root, 1, []));
    expect(await finishIntent(root, silentLogger)).toEqual([]);
  });

  it('TXN_TORN: a torn intent leaves every file as it is', async () => {
    const { file } = await stream('k-01', 'head');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const buf = encodeIntent(root, 1, [{ file, identity, offset: 4, bytes: b('tail') }]);
    await fs.writeFile(txn(1), buf.subarray(0, buf.length - 1));
    expect(await finishIntent(root, silentLogger)).toEqual([]);
    expect(await fs.readFile(file, 'utf8')).toBe('head');
  });

  it('TXN_TORN: a torn intent leaves the one before it, in the other file, to count', async () => {
    const { file } = await stream('k-01', 'head+early');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const undo = { file, identity, offset: 4, bytes: b(''), undo: true };
    await fs.writeFile(txn(1), encodeIntent(root, 1, [undo]));
    const redo = encodeIntent(root, 2, [{ file, identity, offset: 10, bytes: b('+late') }]);
    await fs.writeFile(txn(0), redo.subarray(0, 20));
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_UNDONE']);
    expect(await fs.readFile(file, 'utf8')).toBe('head');
    // Whole, the later one counts: the unit is finished instead.
    await fs.writeFile(file, 'head+early');
    await fs.writeFile(txn(0), redo);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_REDONE']);
    expect(await fs.readFile(file, 'utf8')).toBe('head+early+late');
  });

  it('PART_UNDONE: an undo part cuts its file back; one ending there is applied', async () => {
    const { file } = await stream('k-01', 'head+early');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    await writeIntent([{ file, identity, offset: 4, bytes: b(''), undo: true }]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_UNDONE']);
    expect(await fs.readFile(file, 'utf8')).toBe('head');
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_APPLIED']);
  });

  it('reset() empties both files: what they held is not done again', async () => {
    const { file } = await stream('k-01', 'head+later');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    await writeIntent([{ file, identity, offset: 4, bytes: b(''), undo: true }]);
    const intent = new IntentFile(root, true);
    intent.reset();
    intent.close();
    expect(await finishIntent(root, silentLogger)).toEqual([]);
    expect(await fs.readFile(file, 'utf8')).toBe('head+later');
  });

  it('PART_REDONE: a file ending inside its part, at any byte of it, gets the rest', async () => {
    const whole = 'head+unit-bytes';
    for (let end = 4; end < whole.length; end++) {
      const { file } = await stream('k-01', whole.slice(0, end));
      const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
      await writeIntent([{ file, identity, offset: 4, bytes: b(whole.slice(4)) }]);
      expect(await finishIntent(root, silentLogger)).toEqual(['PART_REDONE']);
      expect(await fs.readFile(file, 'utf8')).toBe(whole);
      // Finished once, the same intent finds it applied at the next start.
      expect(await finishIntent(root, silentLogger)).toEqual(['PART_APPLIED']);
    }
  });

  it('PART_REDONE: a file grown ahead (zeros after part of its part) gets the rest', async () => {
    const whole = 'head+unit-bytes';
    for (let end = 4; end < whole.length; end++) {
      const { file } = await stream('k-01', whole.slice(0, end));
      await fs.truncate(file, 4096);
      const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
      await writeIntent([{ file, identity, offset: 4, bytes: b(whole.slice(4)) }]);
      expect(await finishIntent(root, silentLogger)).toEqual(['PART_REDONE']);
      expect(await fs.readFile(file, 'utf8')).toBe(whole);
    }
  });

  it('PART_MISMATCH: other bytes before the zeros are not overwritten', async () => {
    const { file } = await stream('k-01', 'head+unit-bytez');
    await fs.truncate(file, 4096);
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    await writeIntent([{ file, identity, offset: 4, bytes: b('+unit-bytes') }]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_MISMATCH']);
    expect((await fs.readFile(file)).subarray(0, 15).toString()).toBe('head+unit-bytez');
  });

  it('PART_APPLIED: an undo part finding only zeros after its offset cuts them', async () => {
    const { file } = await stream('k-01', 'head');
    await fs.truncate(file, 4096);
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    await writeIntent([{ file, identity, offset: 4, bytes: b(''), undo: true }]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_APPLIED']);
    expect(await fs.readFile(file, 'utf8')).toBe('head');
  });

  it('PART_APPLIED: a file holding its part, and more after it, is left alone', async () => {
    const { file } = await stream('k-01', 'head+unit+later');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    await writeIntent([{ file, identity, offset: 4, bytes: b('+unit') }]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_APPLIED']);
    expect(await fs.readFile(file, 'utf8')).toBe('head+unit+later');
  });

  it('PART_GONE: a stream dropped, or dropped and created again, is not written to', async () => {
    const { dir, file } = await stream('k-01', 'head');
    const identity = (await metaFingerprint(dir)) as Buffer;
    const journal = path.join(root, 'journal', 'wal.1.0');
    await writeIntent([
      { file, identity, offset: 4, bytes: b('+unit') },
      { file: journal, identity: Buffer.alloc(0), offset: 0, bytes: b('x') },
    ]);
    // Created again under the same key: another meta file (another salt), another fingerprint.
    await fs.rm(dir, { recursive: true });
    await stream('k-01', 'head');
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_GONE', 'PART_GONE']);
    expect(await fs.readFile(file, 'utf8')).toBe('head');
  });

  it('PART_MISMATCH: other bytes at the offset, or a file ending before it, are kept', async () => {
    const { file } = await stream('k-01', 'head+other');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const other = path.join(root, 'journal', 'wal.1.0');
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.writeFile(other, 'ab');
    await writeIntent([
      { file, identity, offset: 4, bytes: b('+unit') },
      { file: other, identity: Buffer.alloc(0), offset: 3, bytes: b('cd') },
    ]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_MISMATCH', 'PART_MISMATCH']);
    expect(await fs.readFile(file, 'utf8')).toBe('head+other');
    expect(await fs.readFile(other, 'utf8')).toBe('ab');
  });
});

describe('finishIntent: a stream directory the unit dropped', () => {
  it('PART_DROPPED: still there, it is renamed aside; another incarnation is kept', async () => {
    const { dir } = await stream('k-01', 'head');
    const identity = (await metaFingerprint(dir)) as Buffer;
    const drop = { file: dir, identity, offset: 0, bytes: b(''), drop: true };
    await writeIntent([drop]);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_DROPPED']);
    const names = await fs.readdir(path.join(root, 'streams'));
    expect(names).not.toContain('k-01');
    expect(names.filter((n) => n.startsWith('.del-k-01-'))).toHaveLength(1);
    // Created again since (another meta, another fingerprint): not touched.
    await stream('k-01', 'new');
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_GONE']);
    expect(await fs.readdir(path.join(root, 'streams'))).toContain('k-01');
  });
});

describe('finishIntent: a stream directory the unit renamed', () => {
  it('PART_RENAMED: one holding meta.unit takes it as its meta; done already, gone', async () => {
    const { dir } = await stream('k-02', 'head');
    const identity = (await metaFingerprint(dir)) as Buffer;
    await fs.writeFile(path.join(dir, META_UNIT), encodeMeta(b('k-02')));
    const rename = { file: dir, identity, offset: 0, bytes: b(''), rename: true };
    await writeIntent([rename]);
    const [got] = decodeIntent(root, await fs.readFile(txn(1)))?.parts ?? [];
    expect(got?.rename).toBe(true);
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_RENAMED']);
    expect(await fs.readdir(dir)).not.toContain(META_UNIT);
    // Its meta is another file now (another fingerprint): the same intent again does nothing.
    expect(await finishIntent(root, silentLogger)).toEqual(['PART_GONE']);
  });

  it('an intent of version 1 (before renames) is still read', async () => {
    const { file } = await stream('k-01', 'head');
    const identity = (await metaFingerprint(path.dirname(file))) as Buffer;
    const v2 = encodeIntent(root, 7, [{ file, identity, offset: 4, bytes: b('+x') }]);
    v2[9] = 1;
    v2.writeUInt32LE(frameCrc(v2, 0, v2.length), 4);
    expect(decodeIntent(root, v2)?.parts.map((p) => p.bytes.toString())).toEqual(['+x']);
    const renamed = encodeIntent(root, 8, [
      { file, identity, offset: 0, bytes: b(''), rename: true },
    ]);
    renamed[9] = 1;
    renamed.writeUInt32LE(frameCrc(renamed, 0, renamed.length), 4);
    expect(decodeIntent(root, renamed)).toBeNull();
  });
});
