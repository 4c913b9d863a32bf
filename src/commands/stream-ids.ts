// Parsing stream IDs from arguments exactly as Redis 7 does (t_stream.c
// streamGenericParseIDOrReply and util.c string2ull), quirks included: each part goes through
// string2ll first, then strtoull, so "007", "+5" and " 5" are accepted while "-5" is not.
import { StreamId, U64_MAX } from '../../storage/id';
import { Errors } from '../errors';
import { toInt64 } from './args';

const STRTOULL = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;

/** Redis string2ull: null when Redis would refuse the text. */
export function string2ull(s: string): bigint | null {
  const ll = toInt64(Buffer.from(s, 'latin1'));
  if (ll !== null) return ll < 0n ? null : ll;
  const m = STRTOULL.exec(s);
  if (!m) return null;
  const v = BigInt(m[2] as string);
  if (v > U64_MAX) return null; // ERANGE
  return m[1] === '-' ? (U64_MAX + 1n - v) % (U64_MAX + 1n) : v;
}

export interface ParsedId {
  readonly id: StreamId;
  /** False for `<ms>-*` (XADD picks the sequence). */
  readonly seqGiven: boolean;
}

/**
 * Parses `-`, `+` (unless strict), `<ms>` (seq = missingSeq), `<ms>-<seq>` and, when
 * `allowSeqStar`, `<ms>-*`. Throws the catalog's invalid-ID error otherwise.
 */
export function parseId(
  arg: Buffer,
  missingSeq: bigint,
  strict: boolean,
  allowSeqStar = false,
): ParsedId {
  if (arg.length > 127) throw Errors.invalidStreamId();
  const s = arg.toString('latin1');
  if (s === '-' || s === '+') {
    if (strict) throw Errors.invalidStreamId();
    return { id: s === '-' ? StreamId.ZERO : StreamId.MAX, seqGiven: true };
  }
  const dash = s.indexOf('-');
  const ms = string2ull(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) throw Errors.invalidStreamId();
  if (dash < 0) return { id: new StreamId(ms, missingSeq), seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: new StreamId(ms, 0n), seqGiven: false };
  const seq = string2ull(rest);
  if (seq === null) throw Errors.invalidStreamId();
  return { id: new StreamId(ms, seq), seqGiven: true };
}

/** A strict ID (no `-`/`+`), missing sequence 0: XDEL, XACK, XCLAIM, XSETID... */
export function parseStrictId(arg: Buffer): StreamId {
  return parseId(arg, 0n, true).id;
}

/** An interval bound for XRANGE/XREVRANGE/XPENDING: `(` marks an exclusive bound. */
export function parseIntervalId(
  arg: Buffer,
  missingSeq: bigint,
): { id: StreamId; exclude: boolean } {
  const exclude = arg.length > 1 && arg[0] === 0x28; // '('
  if (exclude) return { id: parseId(arg.subarray(1), missingSeq, true).id, exclude };
  return { id: parseId(arg, missingSeq, false).id, exclude };
}

/** idText's last ms part and its text: a run of XADDs shares its ms (one BigInt print). */
let textMs = -1n;
let textMsPrefix = '';

/** The reply form of an ID. */
export function idText(id: StreamId): string {
  if (id.ms !== textMs) {
    textMs = id.ms;
    textMsPrefix = `${id.ms}-`;
  }
  return textMsPrefix + (id.seq < 0x100000000n ? Number(id.seq) : id.seq);
}
