// Records and frames: every record kind round-trips through encodeFrame, checkFrame,
// forEachRecord and its decoder; IDs at the edges of the u64 space survive a real store and its
// restarts; a frame with a corrupt length is never accepted.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ID_BYTES, StreamId, U64_MAX } from '../../storage/id';
import {
  checkFrame,
  encodeFrame,
  FLAG_DATA_ONLY,
  FLAG_HAS_DATA,
  FRAME_HEADER_BYTES,
  forEachRecord,
  RECORD_HEADER_BYTES,
  type EncodedCommand,
  type FrameCheck,
  type FrameHeader,
} from '../../storage/frame';
import {
  command,
  decodeDelIds,
  decodeFields,
  encodeCounters,
  encodeData,
  encodeDel,
  encodeExt,
  encodeHeader,
  EXT_KIND_MAX,
  EXT_KIND_MIN,
  KIND_COUNTERS,
  KIND_DATA,
  KIND_DEL,
  KIND_HEADER,
  KIND_TRIM,
  readCounters,
  recordBodyValid,
  type Counters,
  type StreamEntry,
} from '../../storage/records';
import { MAX_FRAME_BYTES } from '../../storage/limits';
import { StorageError } from '../../storage/errors';
import { Store } from '../../storage/store';

const b = (s: string) => Buffer.from(s);
const id = (ms: bigint | number, seq: bigint | number) => new StreamId(BigInt(ms), BigInt(seq));
const ids = (entries: readonly StreamEntry[]) => entries.map((e) => e.id.toString());

function sampleCounters(): Counters {
  return {
    lastId: id(U64_MAX, U64_MAX - 1n),
    entriesAdded: U64_MAX,
    maxDeletedId: id(2n ** 48n, 7),
    firstId: id(1, U64_MAX),
    length: Number.MAX_SAFE_INTEGER,
  };
}

interface Visited {
  kind: number;
  body: Buffer;
  start: number;
  end: number;
}

/** Checks a frame and returns its header and records (bodies copied). */
function open(frame: Buffer, at = 0): { header: FrameHeader; records: Visited[]; buf: Buffer } {
  const check = checkFrame(frame, at, frame.length);
  if (!check.ok) throw new Error(`frame does not check: ${check.problem}`);
  const records: Visited[] = [];
  forEachRecord(frame, at, check.header, (kind, start, end) => {
    expect(recordBodyValid(frame, kind, start, end)).toBe(true);
    records.push({ kind, body: Buffer.from(frame.subarray(start, end)), start, end });
  });
  expect(records.length).toBe(check.header.count);
  return { header: check.header, records, buf: frame };
}

function entry(ms: number | bigint, seq: number | bigint, ...fields: Buffer[]): StreamEntry {
  return { id: id(ms, seq), fields };
}

function dataCommand(entries: StreamEntry[]): EncodedCommand {
  return command(entries.map(encodeData), entries);
}

describe('records: every kind round-trips through a frame', () => {
  it('HEADER keeps the segment number and every counter', () => {
    const c = sampleCounters();
    const { header, records } = open(encodeFrame([command([encodeHeader(123456789, c)])]));
    expect(header.flags).toBe(0);
    expect(header.count).toBe(1);
    expect(header.firstId.isZero() && header.lastId.isZero()).toBe(true);
    const rec = records[0]!;
    expect(rec.kind).toBe(KIND_HEADER);
    expect(rec.body.readBigUInt64LE(0)).toBe(123456789n);
    expect(readCounters(rec.body, 8)).toEqual(c);
  });

  it('DATA keeps binary, non-UTF-8 and empty fields, order and duplicate names', () => {
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const fields = [
      b('name'),
      all,
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80, 0xc3]), // not UTF-8: must stay bytes
      Buffer.alloc(0),
      Buffer.alloc(0), // empty field name
      b('v'),
      b('name'), // duplicate field name, kept in place
      b('second'),
      Buffer.from([0]),
      Buffer.alloc(70_000, 0xab), // over 64 KiB: msgpack's bin32 form
    ];
    const e = { id: id(5, 6), fields };
    const { header, records, buf } = open(encodeFrame([dataCommand([e])]));
    expect(header.flags).toBe(FLAG_HAS_DATA | FLAG_DATA_ONLY);
    expect(header.firstId.equals(e.id) && header.lastId.equals(e.id)).toBe(true);
    const rec = records[0]!;
    expect(rec.kind).toBe(KIND_DATA);
    expect(StreamId.read(buf, rec.start).equals(e.id)).toBe(true);
    const decoded = decodeFields(buf, rec.start, rec.end);
    expect(decoded.length).toBe(fields.length);
    decoded.forEach((f, i) => {
      expect(Buffer.isBuffer(f)).toBe(true);
      expect(f.equals(fields[i]!)).toBe(true);
    });
  });

  it('DATA with no fields at all round-trips as an empty list', () => {
    const { records, buf } = open(encodeFrame([dataCommand([entry(1, 1)])]));
    expect(decodeFields(buf, records[0]!.start, records[0]!.end)).toEqual([]);
  });

  it('DATA fields are the bytes msgpackr packs, for every size class of count and length', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
    const lengths = [0, 1, 0xff, 0x100, 0xffff, 0x10000, 70_000];
    const counts = [0, 1, 15, 16, 0xffff, 0x10000];
    for (const n of counts) {
      const fields = Array.from({ length: n }, (_, i) =>
        Buffer.alloc(n > 16 ? i % 3 : (lengths[i % lengths.length] as number), i & 0xff),
      );
      const rec = encodeData({ id: new StreamId(7n, 9n), fields });
      const body = rec.subarray(RECORD_HEADER_BYTES + ID_BYTES);
      expect(body.equals(packr.pack(fields))).toBe(true);
    }
    for (const len of lengths) {
      const fields = [Buffer.alloc(len, 0x61), Buffer.from('v')];
      const rec = encodeData({ id: new StreamId(7n, 9n), fields });
      expect(rec.subarray(RECORD_HEADER_BYTES + ID_BYTES).equals(packr.pack(fields))).toBe(true);
    }
  });

  it('DATA fields decode the same by hand as msgpackr decodes them, for every form', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
    const idBytes = Buffer.alloc(ID_BYTES);
    const decodeBody = (body: Buffer) =>
      decodeFields(Buffer.concat([idBytes, body]), 0, ID_BYTES + body.length);
    const lengths = [0, 1, 0xff, 0x100, 0xffff, 0x10000];
    for (const n of [0, 1, 15, 16, 0x10000]) {
      const fields = Array.from({ length: n }, (_, i) =>
        Buffer.alloc(n > 16 ? i % 3 : (lengths[i % lengths.length] as number), i & 0xff),
      );
      const got = decodeBody(packr.pack(fields));
      expect(got.length).toBe(n);
      got.forEach((f, i) => expect(f.equals(fields[i]!)).toBe(true));
    }
    // Wider length forms than needed are still msgpack: bin16 for 1 byte, array16 for 1 item.
    expect(decodeBody(Buffer.from([0xdc, 0, 1, 0xc5, 0, 1, 0x7a]))).toEqual([Buffer.from('z')]);
    // A str instead of a bin, a short body or trailing bytes: msgpackr decides, and refuses.
    expect(() => decodeBody(Buffer.from([0x91, 0xa1, 0x7a]))).toThrow(/not an array/);
    expect(() => decodeBody(Buffer.from([0x92, 0xc4, 1, 0x7a]))).toThrow();
    expect(() => decodeBody(Buffer.from([0x91, 0xc4, 1, 0x7a, 0x7a]))).toThrow();
  });

  it('several DATA records in one frame set firstId and lastId from the first and last', () => {
    const cmds = [
      dataCommand([entry(1, 0, b('a'), b('1')), entry(1, 1, b('a'), b('2'))]),
      dataCommand([entry(U64_MAX, U64_MAX, b('z'), b('9'))]),
    ];
    const { header, records, buf } = open(encodeFrame(cmds));
    expect(header.count).toBe(3);
    expect(header.firstId.toString()).toBe('1-0');
    expect(header.lastId.equals(StreamId.MAX)).toBe(true);
    expect(records.map((r) => StreamId.read(buf, r.start).toString())).toEqual([
      '1-0',
      '1-1',
      `${U64_MAX}-${U64_MAX}`,
    ]);
  });

  it('DEL keeps its counters and every deleted ID, including the edges of the ID space', () => {
    const c = sampleCounters();
    const gone = [StreamId.ZERO, id(0, 1), id(2n ** 48n, 0), id(U64_MAX, 0), StreamId.MAX];
    const { header, records, buf } = open(encodeFrame([command([encodeDel(c, gone)])]));
    expect(header.flags).toBe(0);
    const rec = records[0]!;
    expect(rec.kind).toBe(KIND_DEL);
    expect(readCounters(buf, rec.start)).toEqual(c);
    expect(decodeDelIds(buf, rec.start).map(String)).toEqual(gone.map(String));
  });

  it('IDs write as two u64 LE at every size, around 2^32 and 2^53 too', () => {
    const parts = [
      0n,
      1n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      U64_MAX,
    ];
    for (const ms of parts) {
      for (const seq of parts) {
        const buf = Buffer.alloc(ID_BYTES);
        new StreamId(ms, seq).write(buf, 0);
        expect([buf.readBigUInt64LE(0), buf.readBigUInt64LE(8)]).toEqual([ms, seq]);
      }
    }
  });

  it('DEL of no IDs is still a valid record', () => {
    const { records, buf } = open(encodeFrame([command([encodeDel(sampleCounters(), [])])]));
    expect(decodeDelIds(buf, records[0]!.start)).toEqual([]);
  });

  it('TRIM and COUNTERS keep every counter', () => {
    const c = sampleCounters();
    for (const kind of [KIND_TRIM, KIND_COUNTERS]) {
      const { records, buf } = open(encodeFrame([command([encodeCounters(kind, c)])]));
      expect(records[0]!.kind).toBe(kind);
      expect(readCounters(buf, records[0]!.start)).toEqual(c);
    }
  });

  it('EXT kinds 64..127 keep their opaque bodies, empty ones included', () => {
    for (let kind = EXT_KIND_MIN; kind <= EXT_KIND_MAX; kind++) {
      const body = kind % 2 === 0 ? Buffer.alloc(0) : Buffer.from([kind, 0, 0xff, kind]);
      const { records } = open(encodeFrame([command([encodeExt(kind, body)])]));
      expect(records[0]!.kind).toBe(kind);
      expect(records[0]!.body.equals(body)).toBe(true);
    }
  });

  it('EXT kinds outside 64..127 are refused when encoding and invalid when read', () => {
    for (const kind of [0, 6, 63, 128, 255]) {
      expect(() => encodeExt(kind, b('x'))).toThrow(RangeError);
      expect(recordBodyValid(Buffer.alloc(8), kind, 0, 8)).toBe(false);
    }
  });

  it('a frame mixing every kind keeps the record order and sets only HAS_DATA', () => {
    const c = sampleCounters();
    const e = entry(9, 9, b('k'), b('v'));
    const frame = encodeFrame([
      command([encodeHeader(3, c)]),
      command([encodeData(e), encodeCounters(KIND_TRIM, c)], [e]),
      command([encodeDel(c, [id(9, 9)])]),
      command([encodeCounters(KIND_COUNTERS, c)]),
      command([encodeExt(100, b('group'))]),
    ]);
    const { header, records } = open(frame);
    expect(header.flags).toBe(FLAG_HAS_DATA);
    expect(header.firstId.equals(e.id) && header.lastId.equals(e.id)).toBe(true);
    expect(records.map((r) => r.kind)).toEqual([
      KIND_HEADER,
      KIND_DATA,
      KIND_TRIM,
      KIND_DEL,
      KIND_COUNTERS,
      100,
    ]);
  });

  it('forEachRecord stops when the visitor returns false', () => {
    const frame = encodeFrame([dataCommand([entry(1, 0), entry(1, 1), entry(1, 2)])]);
    const check = checkFrame(frame, 0, frame.length);
    expect(check.ok).toBe(true);
    let seen = 0;
    if (check.ok) forEachRecord(frame, 0, check.header, () => ++seen < 2);
    expect(seen).toBe(2);
  });

  it('a frame checks at any offset inside a larger buffer', () => {
    const frame = encodeFrame([dataCommand([entry(4, 4, b('f'), b('v'))])]);
    const buf = Buffer.concat([Buffer.alloc(13, 0x77), frame, Buffer.alloc(5, 0x77)]);
    const { header } = open(buf, 13);
    expect(header.len).toBe(frame.length);
  });
});

describe('records: malformed bodies are detected', () => {
  it('bodies of the wrong length for their kind are invalid', () => {
    const buf = Buffer.alloc(200);
    expect(recordBodyValid(buf, KIND_HEADER, 0, 71)).toBe(false);
    expect(recordBodyValid(buf, KIND_HEADER, 0, 73)).toBe(false);
    expect(recordBodyValid(buf, KIND_DATA, 0, 16)).toBe(false); // an ID and no fields
    expect(recordBodyValid(buf, KIND_TRIM, 0, 63)).toBe(false);
    expect(recordBodyValid(buf, KIND_COUNTERS, 0, 65)).toBe(false);
    expect(recordBodyValid(buf, KIND_DEL, 0, 67)).toBe(false);
    buf.writeUInt32LE(2, 64); // two IDs announced, one present
    expect(recordBodyValid(buf, KIND_DEL, 0, 68 + 16)).toBe(false);
    expect(recordBodyValid(buf, KIND_DEL, 0, 68 + 32)).toBe(true);
  });

  it('DATA fields that are not a list of binary strings are rejected on decode', () => {
    const e = encodeData(entry(1, 1, b('f'), b('v')));
    const bodyStart = 5;
    e[bodyStart + 16] = 0xc0; // msgpack nil instead of the array
    expect(() => decodeFields(e, bodyStart, bodyStart + 17)).toThrow(/not an array/);
  });
});

function expectNotAccepted(check: FrameCheck, allowed: readonly string[]): void {
  expect(check.ok).toBe(false);
  if (!check.ok) expect(allowed).toContain(check.problem);
}

describe('frames: a corrupt frame is never accepted', () => {
  const frame = encodeFrame([
    dataCommand([entry(1, 0, b('field'), b('value')), entry(1, 1, b('f'), b('v'))]),
  ]);

  it('every single-bit flip of the length field is BAD_LENGTH or BAD_CRC', () => {
    // Enough bytes after the frame that no flipped length can claim "end of file" (SHORT).
    const roomy = Buffer.alloc(frame.length + 2 ** 25 + 1024);
    for (let bit = 0; bit < 32; bit++) {
      frame.copy(roomy, 0);
      roomy.writeUInt32LE((frame.readUInt32LE(0) ^ (1 << bit)) >>> 0, 0);
      expectNotAccepted(checkFrame(roomy, 0, roomy.length), ['BAD_LENGTH', 'BAD_CRC']);
    }
  });

  it('every value of the low length bytes is BAD_LENGTH or BAD_CRC, or SHORT at the end', () => {
    const roomy = Buffer.alloc(frame.length + 70_000);
    for (let byte = 0; byte < 2; byte++) {
      for (let v = 0; v < 256; v++) {
        if (v === frame[byte]) continue;
        for (const buf of [roomy, Buffer.alloc(frame.length)]) {
          frame.copy(buf, 0);
          buf[byte] = v;
          const allowed =
            buf === roomy ? ['BAD_LENGTH', 'BAD_CRC'] : ['BAD_LENGTH', 'BAD_CRC', 'SHORT'];
          expectNotAccepted(checkFrame(buf, 0, buf.length), allowed);
        }
      }
    }
  });

  it('lengths below the header or above MAX_FRAME_BYTES are BAD_LENGTH', () => {
    const buf = Buffer.from(frame);
    for (const len of [1, FRAME_HEADER_BYTES - 1, MAX_FRAME_BYTES + 1, 0xffffffff]) {
      buf.writeUInt32LE(len, 0);
      expectNotAccepted(checkFrame(buf, 0, buf.length), ['BAD_LENGTH']);
    }
  });

  it('every single-bit flip anywhere in the frame is detected', () => {
    const buf = Buffer.from(frame);
    for (let i = 0; i < frame.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        buf[i] = frame[i]! ^ (1 << bit);
        expect(checkFrame(buf, 0, buf.length).ok).toBe(false);
        buf[i] = frame[i]!;
      }
    }
    expect(checkFrame(buf, 0, buf.length).ok).toBe(true);
  });

  it('a frame cut at any byte is SHORT, and zeros are ZERO', () => {
    for (let cut = 0; cut < frame.length; cut++) {
      expectNotAccepted(checkFrame(frame.subarray(0, cut), 0, cut), ['SHORT']);
    }
    expectNotAccepted(checkFrame(Buffer.alloc(64), 0, 64), ['ZERO']);
  });

  it('a wrong magic or version byte with a matching CRC is still refused', () => {
    for (const [at, problem] of [
      [8, 'BAD_MAGIC'],
      [9, 'BAD_VERSION'],
    ] as const) {
      const buf = Buffer.from(frame);
      buf[at] = 0x7f;
      expectNotAccepted(checkFrame(buf, 0, buf.length), [problem]);
    }
  });
});

describe('StreamId.parse', () => {
  it('accepts complete ms-seq IDs across the whole u64 range', () => {
    const max = `${U64_MAX}`;
    for (const [text, want] of [
      ['0-0', '0-0'],
      ['0-1', '0-1'],
      [`${2n ** 48n}-0`, `${2n ** 48n}-0`],
      [`${2n ** 53n + 1n}-${2n ** 53n + 1n}`, `${2n ** 53n + 1n}-${2n ** 53n + 1n}`],
      [`${max}-${max}`, `${max}-${max}`],
    ]) {
      expect(StreamId.parse(text!)?.toString()).toBe(want);
    }
  });

  it('keeps values above 2^53 exact', () => {
    const parsed = StreamId.parse('9007199254740993-18446744073709551615')!;
    expect(parsed.ms).toBe(9007199254740993n);
    expect(parsed.seq).toBe(U64_MAX);
  });

  it('rejects anything that is not two unsigned decimal u64 joined by one dash', () => {
    const bad = [
      '',
      '-',
      '1',
      '1-',
      '-1',
      '-1-0',
      '1--1',
      '1-2-3',
      ' 1-2',
      '1-2 ',
      '1-2\n',
      '+1-2',
      '1-+2',
      '0x10-0',
      '1e3-0',
      '1.5-0',
      '1_000-0',
      '١-0', // Arabic-Indic digit one
      '*',
      '1-*',
      `${U64_MAX + 1n}-0`,
      `0-${U64_MAX + 1n}`,
      `${'9'.repeat(21)}-0`,
      `0-${'0'.repeat(21)}`,
    ];
    for (const text of bad) expect(StreamId.parse(text), JSON.stringify(text)).toBeNull();
  });

  it('next and prev carry across the seq boundary and stop at the ends', () => {
    expect(id(0, U64_MAX).next()?.toString()).toBe('1-0');
    expect(id(1, 0).prev()?.toString()).toBe(`0-${U64_MAX}`);
    expect(StreamId.MAX.next()).toBeNull();
    expect(StreamId.ZERO.prev()).toBeNull();
  });
});

describe('IDs at the edges through a real store', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-records-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const edgeIds = [
    id(0, 1),
    id(0, U64_MAX),
    id(1, 0),
    id(2n ** 48n - 1n, U64_MAX),
    id(2n ** 48n, 0),
    id(2n ** 48n, 1),
    id(2n ** 53n + 1n, 0),
    id(2n ** 63n, 2n ** 63n),
    id(U64_MAX - 1n, U64_MAX),
    id(U64_MAX, 0),
    id(U64_MAX, U64_MAX - 1n),
    StreamId.MAX,
  ];
  const key = b('edge');
  const fieldsOf = (x: StreamId) => [b('id'), b(x.toString()), Buffer.from([0xff, 0x00])];

  async function expectAll(store: Store, want: readonly StreamId[]) {
    const log = store.get(key)!;
    const fwd = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
    expect(ids(fwd)).toEqual(want.map(String));
    for (const e of fwd) expect(e.fields[1]!.toString()).toBe(e.id.toString());
    const rev = await log.read(StreamId.ZERO, StreamId.MAX, 0, true);
    expect(ids(rev)).toEqual(want.map(String).reverse());
    for (const x of want) {
      expect(ids(await log.read(x, x, 0, false))).toEqual([x.toString()]);
    }
    expect(log.lastId.equals(StreamId.MAX)).toBe(true);
  }

  it('append, read back, restart and read back keep every edge ID exact', async () => {
    const opts = { fsync: 'always', segmentBytes: 4096 } as const;
    let store = await Store.open(tmp, opts);
    const log = await store.create(key);
    const [first, second, ...rest] = edgeIds;
    await log.append(() => [{ id: first!, fields: fieldsOf(first!) }]);
    await log.append(() => [{ id: second!, fields: fieldsOf(second!) }]);
    await log.append(() => rest.map((x) => ({ id: x, fields: fieldsOf(x) })));
    await expectAll(store, edgeIds);
    expect(log.entriesAdded).toBe(BigInt(edgeIds.length));
    await store.close();
    store = await Store.open(tmp, opts);
    await expectAll(store, edgeIds);
    await store.close();
    // A full scan (no checkpoint) rebuilds the same state from the records alone.
    const dir = path.join(tmp, 'streams', `k-${key.toString('hex')}`);
    for (const n of await fs.readdir(dir)) {
      if (n.startsWith('checkpoint.')) await fs.rm(path.join(dir, n));
    }
    store = await Store.open(tmp, opts);
    expect(store.reports.get(key.toString('latin1'))!.fromCheckpoint).toBe(false);
    await expectAll(store, edgeIds);
    await store.close();
  });

  it('nothing can be appended after MAX, and deleting an edge ID survives restarts', async () => {
    const opts = { fsync: 'always', segmentBytes: 4096 } as const;
    let store = await Store.open(tmp, opts);
    const log = await store.create(key);
    await log.append(() => edgeIds.map((x) => ({ id: x, fields: fieldsOf(x) })));
    const refused = await log
      .append(() => [{ id: StreamId.MAX, fields: [b('f'), b('v')] }])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe('INVALID');
    expect(await log.delete([StreamId.MAX, id(2n ** 53n + 1n, 0)])).toBe(2);
    expect(await log.trim({ minId: id(2n ** 48n, 1), approx: false, limit: 0 })).toBe(5);
    await store.close();
    store = await Store.open(tmp, opts);
    const again = store.get(key)!;
    expect(again.maxDeletedId.equals(StreamId.MAX)).toBe(true);
    expect(again.lastId.equals(StreamId.MAX)).toBe(true);
    expect(again.firstId.toString()).toBe(`${2n ** 48n}-1`);
    const left = await again.read(StreamId.ZERO, StreamId.MAX, 0, false);
    expect(ids(left)).toEqual(
      edgeIds
        .slice(5, -1)
        .filter((x) => x.ms !== 2n ** 53n + 1n)
        .map(String),
    );
    expect(again.length).toBe(left.length);
    await store.close();
  });

  it('an entry larger than a read chunk survives rolls, reads and restarts', async () => {
    const opts = { fsync: 'always', segmentBytes: 4096 } as const;
    let store = await Store.open(tmp, opts);
    const log = await store.create(key);
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await log.append(() => [{ id: id(1, 0), fields: [b('small'), b('x')] }]);
    await log.append(() => [{ id: id(2, 0), fields: [b('big'), big] }]);
    await log.append(() => [{ id: id(3, 0), fields: [b('small'), b('y')] }]);
    for (let round = 0; round < 2; round++) {
      const all = await store.get(key)!.read(StreamId.ZERO, StreamId.MAX, 0, false);
      expect(ids(all)).toEqual(['1-0', '2-0', '3-0']);
      expect(all[1]!.fields[1]!.equals(big)).toBe(true);
      const back = await store.get(key)!.read(id(2, 0), id(2, 0), 1, true);
      expect(back[0]!.fields[1]!.equals(big)).toBe(true);
      await store.close();
      store = await Store.open(tmp, opts);
    }
    await store.close();
  });
});

describe('StreamId on disk', () => {
  const edges = [
    0n,
    1n,
    255n,
    256n,
    2n ** 31n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 32n + 1n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 63n,
    U64_MAX - 1n,
    U64_MAX,
  ];

  it('writes ms and seq as u64 little-endian, as writeBigUInt64LE, at every edge', () => {
    for (const ms of edges) {
      for (const seq of edges) {
        const got = Buffer.alloc(ID_BYTES + 3, 0xee);
        new StreamId(ms, seq).write(got, 3);
        const want = Buffer.alloc(ID_BYTES + 3, 0xee);
        want.writeBigUInt64LE(ms, 3);
        want.writeBigUInt64LE(seq, 11);
        expect(got.equals(want), `${ms}-${seq}`).toBe(true);
        expect(StreamId.read(got, 3).equals(new StreamId(ms, seq))).toBe(true);
      }
    }
  });

  it('refuses to write past the end of the buffer', () => {
    expect(() => new StreamId(1n, 1n).write(Buffer.alloc(ID_BYTES - 1), 0)).toThrow(RangeError);
    expect(() => new StreamId(1n, 1n).write(Buffer.alloc(ID_BYTES), 1)).toThrow(RangeError);
  });
});
