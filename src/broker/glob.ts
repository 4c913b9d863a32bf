// Redis's glob matching (KEYS, SCAN MATCH, PSUBSCRIBE, COMMAND LIST FILTERBY PATTERN), a port
// of `stringmatchlen_impl` in Redis 7's util.c.
//
// Written by hand because Redis's rules are its own and minimatch/picomatch differ on most of
// them: it works on bytes, not code points or path segments (`*` crosses `/`, no braces or
// extglobs); a range may be reversed (`[z-a]` is `[a-z]`); `[^...]` negates but `[!...]` does
// not; `\` escapes anywhere, and inside a class compares exactly even with nocase; a trailing
// `\` is a literal; `]` right after `[` closes an empty class that matches nothing; an
// unterminated `[` is a class running to the end of the pattern (`[a` matches "a", `[` matches
// nothing, `[^` matches any one byte); `-` makes a range whenever two bytes follow it, even
// if the second is `]` (`[a-]` is the range `]`..`a`). Quirks kept on purpose:
// - `*` matches nothing against an empty subject ("" matches only the empty pattern); KEYS
//   special-cases the one-byte pattern `*` itself, so callers must too.
// - Bytes compare as C `char`, which is signed on x86-64 builds of Redis: in a range, bytes
//   0x80..0xff sort below 0x00 (`[\x01-\xff]` holds only 0xff, 0x00 and 0x01).
// - nocase lowers ASCII A-Z only (C locale), after a reversed range has been swapped: `[Z-a]`
//   becomes `[z-a]`, which matches nothing.
// - Past the end of the pattern Redis reads the NUL that ends its string (sds); so does
//   `byteAt`.
// - Recursion: runs of `*` collapse into one; each other `*` nests one call deeper, and past
//   1000 levels the match fails (Redis's guard against abusive patterns). Once the rest of the
//   pattern after a `*` matched nowhere, every enclosing `*` gives up at once
//   (`skipLongerMatches`), which keeps patterns like `a*a*a*...b` linear rather than
//   exponential.

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
/** Redis's `nesting > 1000` guard in stringmatchlen_impl. */
const MAX_STAR_NESTING = 1000;

interface MatchState {
  skipLongerMatches: boolean;
}

/** Whether `subject` matches the Redis glob `pattern`, byte for byte as Redis 7 decides it. */
export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  return matchFrom(pattern, 0, subject, 0, nocase, { skipLongerMatches: false }, 0);
}

function matchFrom(
  pattern: Buffer,
  start: number,
  subject: Buffer,
  from: number,
  nocase: boolean,
  state: MatchState,
  nesting: number,
): boolean {
  if (nesting > MAX_STAR_NESTING) return false;
  let p = start;
  let s = from;
  while (p < pattern.length && s < subject.length) {
    const c = pattern[p]!;
    if (c === STAR) {
      while (byteAt(pattern, p + 1) === STAR) p++;
      if (p === pattern.length - 1) return true;
      for (; s < subject.length; s++) {
        if (matchFrom(pattern, p + 1, subject, s, nocase, state, nesting + 1)) return true;
        if (state.skipLongerMatches) return false;
      }
      state.skipLongerMatches = true;
      return false;
    }
    if (c === OPEN) {
      const classEnd = matchClass(pattern, p, subject[s]!, nocase);
      if (classEnd < 0) return false;
      p = classEnd;
    } else if (c !== QUESTION) {
      if (c === BACKSLASH && pattern.length - p >= 2) p++;
      if (!sameByte(pattern[p]!, subject[s]!, nocase)) return false;
    }
    p++;
    s++;
    if (s === subject.length) {
      while (byteAt(pattern, p) === STAR) p++;
      break;
    }
  }
  return p === pattern.length && s === subject.length;
}

/**
 * Matches one subject byte against the class opening at `open`. Returns the index of the
 * class's last pattern byte (its `]`, or the pattern's last byte when unterminated), or -1
 * when the byte is not in the class.
 */
function matchClass(pattern: Buffer, open: number, byte: number, nocase: boolean): number {
  let p = open + 1;
  const negate = byteAt(pattern, p) === CARET;
  if (negate) p++;
  let matched = false;
  for (; ; p++) {
    const left = pattern.length - p;
    const c = byteAt(pattern, p);
    if (c === BACKSLASH && left >= 2) {
      p++;
      if (pattern[p] === byte) matched = true;
    } else if (c === CLOSE) {
      break;
    } else if (left === 0) {
      p--;
      break;
    } else if (left >= 3 && pattern[p + 1] === DASH) {
      if (inRange(c, pattern[p + 2]!, byte, nocase)) matched = true;
      p += 2;
    } else if (sameByte(c, byte, nocase)) {
      matched = true;
    }
  }
  return matched !== negate ? p : -1;
}

function inRange(first: number, last: number, byte: number, nocase: boolean): boolean {
  let low = signedChar(first);
  let high = signedChar(last);
  let c = signedChar(byte);
  if (low > high) [low, high] = [high, low];
  if (nocase) {
    low = asciiLower(low);
    high = asciiLower(high);
    c = asciiLower(c);
  }
  return c >= low && c <= high;
}

function sameByte(a: number, b: number, nocase: boolean): boolean {
  return a === b || (nocase && asciiLower(a) === asciiLower(b));
}

/** The pattern byte at `i`, or 0 (the terminating NUL Redis would read) past the end. */
function byteAt(buf: Buffer, i: number): number {
  return i < buf.length ? buf[i]! : 0;
}

function signedChar(byte: number): number {
  return byte > 0x7f ? byte - 0x100 : byte;
}

/** C-locale tolower: only A-Z change. Negative (signed char) values pass through as in glibc. */
function asciiLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}
