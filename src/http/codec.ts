// Values and replies on the wire. JSON is the default and MessagePack
// (`application/vnd.msgpack`) the alternative, both ways. Keys, fields and values are bytes:
// in JSON a value that is valid UTF-8 is a plain string and any other is `{"base64": "..."}`,
// so every byte survives the round trip; MessagePack carries them as `bin` when they are not
// UTF-8. Requests may send either form for any value.
import { isUtf8 } from 'node:buffer';
import { pack, unpack } from 'msgpackr';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from '../commands/reply';

export const MSGPACK_TYPES = [
  'application/vnd.msgpack',
  'application/msgpack',
  'application/x-msgpack',
] as const;
export const MSGPACK = MSGPACK_TYPES[0];

/** A byte string as JSON or MessagePack carries it. */
export type WireValue = string | { base64: string } | Buffer | Uint8Array;

/** Bytes for the wire: a string when valid UTF-8, else marked base64 (JSON) or raw (msgpack). */
export function wireValue(b: Buffer, msgpack: boolean): WireValue {
  if (isUtf8(b)) return b.toString('utf8');
  return msgpack ? b : { base64: b.toString('base64') };
}

/** Bytes from a request value; null when it is not a string, {base64} or binary. */
export function bytesOf(v: unknown): Buffer | null {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'number' && Number.isFinite(v)) return Buffer.from(String(v));
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v !== null && typeof v === 'object' && 'base64' in v) {
    const s = (v as { base64: unknown }).base64;
    if (typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s)) return Buffer.from(s, 'base64');
  }
  return null;
}

/** True when the client asked for MessagePack replies (Accept), or sent MessagePack. */
export function wantsMsgpack(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  if (MSGPACK_TYPES.some((t) => accept.includes(t))) return true;
  if (accept.includes('application/json')) return false;
  const type = request.headers['content-type'] ?? '';
  return MSGPACK_TYPES.some((t) => type.startsWith(t));
}

/** Sends `body` as JSON or MessagePack, as the request negotiated. */
export function send(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown) {
  if (wantsMsgpack(request)) {
    return reply.code(status).type(MSGPACK).send(pack(body));
  }
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export function decodeMsgpack(body: Buffer): unknown {
  return unpack(body);
}

/**
 * A reply as a RESP2 client sees it (the Upstash REST shape): maps are flat arrays, both nulls
 * are null, simple strings and bulks are strings, doubles are strings as RESP2 sends them.
 * `base64` encodes every bulk and simple string but "OK" (Upstash-Encoding: base64).
 */
export function replyToWire(r: Reply, msgpack: boolean, base64 = false): unknown {
  switch (r.t) {
    case 'simple':
      // @upstash/redis decodes every string but "OK" (its SET reply) from base64.
      return base64 && r.v !== 'OK' ? Buffer.from(r.v).toString('base64') : r.v;
    case 'error':
      return { error: r.v };
    case 'int':
      return typeof r.v === 'bigint' && r.v > BigInt(Number.MAX_SAFE_INTEGER)
        ? r.v.toString()
        : Number(r.v);
    case 'bulk':
      return base64 ? r.v.toString('base64') : wireValue(r.v, msgpack);
    case 'double':
      return base64 ? Buffer.from(String(r.v)).toString('base64') : String(r.v);
    case 'null':
    case 'nullarray':
      return null;
    case 'map':
      return r.v.flatMap(([k, v]) => [
        replyToWire(k, msgpack, base64),
        replyToWire(v, msgpack, base64),
      ]);
    default:
      return r.v.map((x) => replyToWire(x, msgpack, base64));
  }
}
