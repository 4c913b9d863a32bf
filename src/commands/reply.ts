// Protocol-neutral reply values. Handlers build these; RESP2, RESP3 and JSON render them.
// Shapes follow Redis's reply calls: `map` where Redis uses addReplyMapLen (RESP2 renders it as
// a flat array), `nullarray` where Redis uses addReplyNullArray (RESP2 `*-1`), `null` for a null
// bulk string (RESP2 `$-1`); RESP3 renders both nulls as `_`.

export type Reply =
  | { readonly t: 'simple'; readonly v: string }
  | { readonly t: 'error'; readonly v: string; readonly status?: number }
  | { readonly t: 'int'; readonly v: number | bigint }
  | {
      readonly t: 'bulk';
      readonly v: Buffer;
      /** RESP3 sends it as a verbatim string of this format (`=`; INFO, CLIENT LIST: txt). */
      readonly verbatim?: 'txt';
    }
  | { readonly t: 'null' }
  | { readonly t: 'nullarray' }
  | { readonly t: 'double'; readonly v: number }
  | { readonly t: 'array'; readonly v: readonly Reply[] }
  | { readonly t: 'set'; readonly v: readonly Reply[] }
  | { readonly t: 'map'; readonly v: readonly (readonly [Reply, Reply])[] }
  | { readonly t: 'push'; readonly v: readonly Reply[] };

export const OK: Reply = { t: 'simple', v: 'OK' };
export const NIL: Reply = { t: 'null' };
export const NIL_ARRAY: Reply = { t: 'nullarray' };
export const EMPTY_ARRAY: Reply = { t: 'array', v: [] };

export const simple = (v: string): Reply => ({ t: 'simple', v });
export const int = (v: number | bigint): Reply => ({ t: 'int', v });
export const bulk = (v: Buffer | string): Reply => ({
  t: 'bulk',
  v: typeof v === 'string' ? Buffer.from(v) : v,
});
/**
 * A bulk string held as a latin1 JS string, one char a byte (how lists keep their elements):
 * RESP writes the text straight into its output, where a Buffer made for each element of an
 * LRANGE reply was a third of its time (perf); whatever else reads `v` gets the Buffer, made
 * once. Equal to `bulk(Buffer.from(text, 'latin1'))` in every renderer.
 */
export class Latin1Bulk {
  readonly t = 'bulk' as const;
  private buf: Buffer | null = null;

  constructor(readonly text: string) {}

  get v(): Buffer {
    return (this.buf ??= Buffer.from(this.text, 'latin1'));
  }
}

/** Text RESP3 sends as a verbatim string (`=<len>\r\ntxt:...`), RESP2 as a bulk string. */
export const verbatim = (v: string): Reply => ({ t: 'bulk', v: Buffer.from(v), verbatim: 'txt' });
export const arr = (v: readonly Reply[]): Reply => ({ t: 'array', v });
export const set = (v: readonly Reply[]): Reply => ({ t: 'set', v });
export const map = (v: readonly (readonly [Reply, Reply])[]): Reply => ({ t: 'map', v });
export const double = (v: number): Reply => ({ t: 'double', v });
export const errorReply = (v: string, status?: number): Reply => ({ t: 'error', v, status });
/** A map keyed by simple field names, as XINFO and friends reply. */
export const fieldMap = (pairs: readonly (readonly [string, Reply])[]): Reply =>
  map(pairs.map(([k, v]) => [bulk(k), v] as const));
