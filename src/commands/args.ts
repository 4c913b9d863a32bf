// Argument parsing shared by handlers, with Redis's strictness: keywords are case-insensitive
// ASCII, integers are what Redis's string2ll accepts (optional '-', digits, no '+', no spaces,
// no leading zeros, within int64), and every failure is an error from the catalog.
import { Errors, type CommandError } from '../errors';

/** Case-insensitive keyword test (ASCII), without allocating for mismatched lengths. */
export function isWord(arg: Buffer | undefined, word: string): boolean {
  if (!arg || arg.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let c = arg[i] as number;
    if (c >= 97 && c <= 122) c -= 32;
    let w = word.charCodeAt(i);
    if (w >= 97 && w <= 122) w -= 32;
    if (c !== w) return false;
  }
  return true;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Parses like Redis string2ll; null when it is not a valid int64. */
export function toInt64(arg: Buffer): bigint | null {
  const s = arg.toString('latin1');
  if (s.length === 0 || s.length > 20) return null;
  if (!/^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0') return null;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/** An int64 argument, or `err` (default: value is not an integer or out of range). */
export function int64Arg(arg: Buffer, err: () => CommandError = Errors.notInteger): bigint {
  const v = toInt64(arg);
  if (v === null) throw err();
  return v;
}

/** An integer argument as a JS number (values beyond 2^53 are clamped, as counts never reach). */
export function intArg(arg: Buffer, err: () => CommandError = Errors.notInteger): number {
  const v = int64Arg(arg, err);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

export function text(arg: Buffer): string {
  return arg.toString('latin1');
}
