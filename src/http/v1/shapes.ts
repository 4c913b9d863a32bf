// What the /v1 resource routes share: names taken from paths, bytes and entry fields taken from
// bodies, and command Replies mapped to the friendly JSON / MessagePack shapes of http-api.md
// 6.2 (ids as strings, counters as numbers, values as wireValue so every byte survives).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Latin1Bulk, type Reply } from '../../commands/reply';
import { bytesOf, replyToWire, send, wantsMsgpack, wireValue } from '../codec';
import { badRequest, sendCommandError } from '../errors';

/**
 * A path segment that starts with this is base64 (standard or URL-safe alphabet) of the name's
 * bytes; any other segment is the name's UTF-8, percent-decoded. Fastify refuses percent escapes
 * that do not decode as UTF-8 (FST_ERR_BAD_URL), so names of other bytes need this form, and a
 * name that itself starts with `base64:` must be sent in it too.
 */
export const NAME_BASE64_PREFIX = 'base64:';
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The bytes of a key, group or consumer name given in a path (already percent-decoded). */
export function nameParam(segment: string, what = 'key'): Buffer {
  if (!segment.startsWith(NAME_BASE64_PREFIX)) return Buffer.from(segment, 'utf8');
  const b64 = segment.slice(NAME_BASE64_PREFIX.length);
  if (!BASE64.test(b64)) throw badRequest(`${what} after '${NAME_BASE64_PREFIX}' is not base64`);
  return Buffer.from(b64, 'base64');
}

/** A request value as bytes: a string, a number, {base64: "..."} or MessagePack bin. */
export function bytesParam(v: unknown, what: string): Buffer {
  const b = bytesOf(v);
  if (b === null) throw badRequest(`${what} must be a string, {"base64": "..."} or binary`);
  return b;
}

/** Several values as bytes; `what` names the array in errors. */
export function bytesList(v: unknown, what: string, nonEmpty = true): Buffer[] {
  if (!Array.isArray(v)) throw badRequest(`${what} must be an array`);
  if (nonEmpty && v.length === 0) throw badRequest(`${what} must not be empty`);
  return v.map((x, i) => bytesParam(x, `${what}[${i}]`));
}

/** Field names (keys of `{f: v}`) already made bytes for earlier entries of one request. */
export type FieldNames = Map<string, Buffer>;
/** A request's entries rarely use more names than this; past it names are not kept. */
const FIELD_NAMES_KEPT = 64;

/**
 * Entry fields from a request: an object `{f: v}` (its key order) or a flat array
 * `[f1, v1, f2, v2...]` (any bytes, duplicates kept). At least one pair. The entries of a batch
 * share `names`: the bytes of a name seen before are reused (the args are never written to),
 * which halves the cost of 100 two-field entries (Buffer.from of a short string is most of it).
 */
export function fieldArgs(fields: unknown, names?: FieldNames): Buffer[] {
  if (Array.isArray(fields)) {
    if (fields.length === 0 || fields.length % 2 !== 0) {
      throw badRequest('fields must be a non-empty flat array [field, value, ...] of even length');
    }
    return fields.map((x, i) => bytesOf(x) ?? bytesParam(x, `fields[${i}]`));
  }
  if (fields === null || typeof fields !== 'object' || Buffer.isBuffer(fields)) {
    throw badRequest('fields must be an object or a flat array [field, value, ...]');
  }
  // A loop, and error labels made only for an error: this runs for every entry of a batch.
  const out: Buffer[] = [];
  const record = fields as Record<string, unknown>;
  for (const f in record) {
    if (!Object.hasOwn(record, f)) continue;
    const v = record[f];
    let name = names?.get(f);
    if (name === undefined) {
      name = Buffer.from(f, 'utf8');
      if (names && names.size < FIELD_NAMES_KEPT) names.set(f, name);
    }
    out.push(name, bytesOf(v) ?? bytesParam(v, `fields.${f}`));
  }
  if (out.length === 0) throw badRequest('fields must not be empty');
  return out;
}

/** How replies are written for one request. */
export interface Out {
  readonly msgpack: boolean;
  /** `array` (default): [f1, v1, ...], exact; `object`: {f: v}, last duplicate wins. */
  readonly fieldsAs: 'array' | 'object';
}

export function outOf(request: FastifyRequest): Out {
  const q = request.query as { fieldsAs?: unknown } | undefined;
  return {
    msgpack: wantsMsgpack(request),
    fieldsAs: q?.fieldsAs === 'object' ? 'object' : 'array',
  };
}

const items = (r: Reply): readonly Reply[] => (r.t === 'array' || r.t === 'set' ? r.v : []);
const bytes = (r: Reply): Buffer =>
  r.t === 'bulk' ? r.v : Buffer.from(r.t === 'simple' ? r.v : '', 'utf8');

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A bulk or simple reply as text (ids, cursors, type names). */
export function textOut(r: Reply): string | null {
  if (r.t === 'null' || r.t === 'nullarray') return null;
  // An ID's reply keeps its text: latin1, the same as UTF-8 while it is ASCII (always, for IDs).
  if (r instanceof Latin1Bulk && isAscii(r.text)) return r.text;
  return bytes(r).toString('utf8');
}

/** A value (bulk) as the wire carries it; null for nil. */
export const valueOut = (r: Reply, out: Out): unknown =>
  r.t === 'null' || r.t === 'nullarray' ? null : wireValue(bytes(r), out.msgpack);

/** An integer reply as a number (a string beyond 2^53). */
export const intOut = (r: Reply): unknown => replyToWire(r, false);

function fieldsOut(r: Reply, out: Out): unknown {
  if (r.t === 'null' || r.t === 'nullarray') return null;
  const flat = items(r);
  if (out.fieldsAs === 'array') return flat.map((f) => valueOut(f, out));
  const obj: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    // defineProperty: a field named __proto__ is data, not the object's prototype.
    Object.defineProperty(obj, bytes(flat[i] as Reply).toString('utf8'), {
      value: valueOut(flat[i + 1] as Reply, out),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return obj;
}

/** [id, [f, v...]] as {id, fields}; fields null for an entry deleted while pending. */
export function entryOut(r: Reply, out: Out): { id: string | null; fields: unknown } {
  const [id, fields] = items(r);
  return { id: id ? textOut(id) : null, fields: fields ? fieldsOut(fields, out) : null };
}

export const entriesOut = (r: Reply, out: Out) => items(r).map((e) => entryOut(e, out));

/** XREAD/XREADGROUP's RESP2 [[key, entries]...] (nil on timeout) as [{key, entries}]. */
export function streamsOut(r: Reply, out: Out) {
  return items(r).map((pair) => {
    const [key, entries] = items(pair);
    return { key: valueOut(key as Reply, out), entries: entriesOut(entries as Reply, out) };
  });
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A field map (XINFO) as an object with camelCase names; integers as numbers, bulks as values.
 * `special` maps some fields (by their Redis name) their own way.
 */
export function infoOut(
  r: Reply,
  out: Out,
  special: Readonly<Record<string, (v: Reply) => unknown>> = {},
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const pairs = r.t === 'map' ? r.v : [];
  for (const [k, v] of pairs) {
    const name = bytes(k).toString('utf8');
    const fn = special[name];
    obj[camel(name)] = fn ? fn(v) : v.t === 'int' ? intOut(v) : valueOut(v, out);
  }
  return obj;
}

/**
 * Answers a command's reply: an error reply with its catalog status, anything else as
 * `body(r)` with `status`.
 */
export function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  r: Reply,
  status: number,
  body: (r: Reply) => unknown,
) {
  if (r.t === 'error') return sendCommandError(request, reply, r);
  return send(request, reply, status, body(r));
}

/** The body of a POST whose fields are all optional: none at all reads as {}. */
export async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

// ---- schema pieces (validation and /openapi.json) ---------------------------------------------

/** Any bytes: a string, {base64} or MessagePack bin (checked by bytesParam, not by the schema). */
export const BYTES = {
  description: 'bytes: a UTF-8 string, {"base64": "..."}, or MessagePack bin',
} as const;
export const STREAM_ID = { type: 'string', maxLength: 128, description: 'a stream ID' } as const;
export const BLOCK_MS = {
  type: 'integer',
  minimum: 0,
  description: 'block up to this long for data (0: the server cap); absent: do not block',
} as const;
export const COUNT = { type: 'integer', minimum: 1 } as const;
export const FIELDS_AS = {
  type: 'string',
  enum: ['array', 'object'],
  description: 'entry fields as a flat [f, v, ...] array (default, exact) or an object',
} as const;
/** Query of every route that answers entries. */
export const ENTRY_QUERY = {
  type: 'object',
  properties: { fieldsAs: FIELDS_AS },
} as const;
export const END = { type: 'string', enum: ['left', 'right'] } as const;

/**
 * The streams of a multi-stream read: `{key: id, ...}` (UTF-8 keys) or `[{key, id?}, ...]`
 * (any bytes; `id` defaults to `defaultId`). Keys in the order given.
 */
export function streamsParam(v: unknown, defaultId: string): { keys: Buffer[]; ids: Buffer[] } {
  const keys: Buffer[] = [];
  const ids: Buffer[] = [];
  if (Array.isArray(v)) {
    v.forEach((s: unknown, i) => {
      if (s === null || typeof s !== 'object') throw badRequest(`streams[${i}] must be {key, id}`);
      const { key, id } = s as { key?: unknown; id?: unknown };
      keys.push(bytesParam(key, `streams[${i}].key`));
      ids.push(id === undefined ? Buffer.from(defaultId) : bytesParam(id, `streams[${i}].id`));
    });
  } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    for (const [key, id] of Object.entries(v as Record<string, unknown>)) {
      keys.push(Buffer.from(key, 'utf8'));
      ids.push(bytesParam(id, `streams.${key}`));
    }
  } else {
    throw badRequest('streams must be an object {key: id} or an array [{key, id}]');
  }
  if (keys.length === 0) throw badRequest('streams must not be empty');
  return { keys, ids };
}

/**
 * A request's blockMs within the server's cap. The dispatcher caps every wait anyway; capping
 * here as well keeps a huge value from failing the command's own range checks. 0 stays 0
 * (block as long as the cap allows).
 */
export const cappedBlockMs = (ms: number, capMs: number): number => Math.min(ms, capMs);

/** COUNT and BLOCK arguments of XREAD/XREADGROUP. */
export function readOptions(o: { count?: number; blockMs?: number }, capMs: number): string[] {
  const args: string[] = [];
  if (o.count !== undefined) args.push('COUNT', String(o.count));
  if (o.blockMs !== undefined) args.push('BLOCK', String(cappedBlockMs(o.blockMs, capMs)));
  return args;
}

/** HTTP sessions all use database 0 (HttpDeps.session). */
export const HTTP_DB = 0;

export const STREAMS_BODY = {
  oneOf: [
    { type: 'object', additionalProperties: STREAM_ID },
    {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['key'], properties: { key: BYTES, id: STREAM_ID } },
    },
  ],
  description: '{key: id, ...} or [{key, id}, ...] (any key bytes)',
} as const;
