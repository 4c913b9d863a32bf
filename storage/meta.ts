// The `meta` file of a stream directory: the stream's real key (directory names are only an
// encoding of it). Written once, atomically, before the directory is renamed into place.
//
// Layout, little-endian, version 1:
//   off  size  field
//   0    4     magic    "SMET"
//   4    1     version  1
//   5    3     salt     random at each encoding, so that two incarnations of one key (a stream
//                         dropped and created again) never hold the same bytes (txn-intent.ts
//                         tells them apart); zero in directories written before it
//   8    4     keyLen   u32
//   12   4     crc      u32: zlib.crc32 of bytes [0,12) then the key
//   16   n     key      the key's bytes
// Recovery: a missing or bad meta file is corruption of that stream directory (the key cannot
// be known), handled like any other by --on-corruption.
import { randomFillSync } from 'node:crypto';
import zlib from 'node:zlib';

const MAGIC = Buffer.from('SMET');
const VERSION = 1;

export function encodeMeta(key: Buffer): Buffer {
  const buf = Buffer.alloc(16 + key.length);
  MAGIC.copy(buf, 0);
  buf[4] = VERSION;
  randomFillSync(buf, 5, 3);
  buf.writeUInt32LE(key.length, 8);
  key.copy(buf, 16);
  buf.writeUInt32LE(zlib.crc32(key, zlib.crc32(buf.subarray(0, 12))), 12);
  return buf;
}

export function decodeMeta(buf: Buffer): Buffer | null {
  if (buf.length < 16 || !buf.subarray(0, 4).equals(MAGIC) || buf[4] !== VERSION) return null;
  const len = buf.readUInt32LE(8);
  if (buf.length !== 16 + len) return null;
  const key = buf.subarray(16);
  if (zlib.crc32(key, zlib.crc32(buf.subarray(0, 12))) !== buf.readUInt32LE(12)) return null;
  return Buffer.from(key);
}
