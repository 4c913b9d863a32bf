// The keyspace under /v1/keys: SCAN (with MATCH, TYPE, cursor and COUNT) answering each key
// with its type, TYPE of one key, and DEL. Keys in paths follow streams.ts; keys in answers are
// values (a string, or {base64} in JSON when not UTF-8). `match` is a UTF-8 glob; patterns over
// other bytes need the command API.
import type { FastifyInstance } from 'fastify';
import { Errors } from '../../errors';
import type { Reply } from '../../commands/reply';
import { send } from '../codec';
import { ready, type HttpDeps } from '../deps';
import { errorBody } from '../errors';
import { run } from '../run';
import { answer, COUNT, HTTP_DB, intOut, nameParam, outOf, textOut, valueOut } from './shapes';

/** Keys SCAN looks at per call when the request names no count (a hint, as in Redis). */
export const DEFAULT_SCAN_COUNT = 100;

interface ScanQuery {
  match?: string;
  type?: string;
  cursor?: string;
  count?: number;
}

const items = (r: Reply): readonly Reply[] => (r.t === 'array' ? r.v : []);

const tags = ['keys'];
const scanSchema = {
  tags,
  summary: 'SCAN: a page of keys with their types; cursor "0" when the scan is done',
  querystring: {
    type: 'object',
    properties: {
      match: { type: 'string', description: 'glob pattern (Redis rules)' },
      type: { type: 'string', description: 'stream or list' },
      cursor: { type: 'string', pattern: '^[0-9]+$', default: '0' },
      count: { ...COUNT, default: DEFAULT_SCAN_COUNT },
    },
  },
} as const;

type KeyParams = { key: string };

export function registerV1Keys(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Querystring: ScanQuery }>('/v1/keys', { schema: scanSchema }, async (req, rep) => {
    const q = req.query;
    const args = ['SCAN', q.cursor ?? '0', 'COUNT', String(q.count ?? DEFAULT_SCAN_COUNT)];
    if (q.match !== undefined) args.push('MATCH', q.match);
    if (q.type !== undefined) args.push('TYPE', q.type);
    const r = await run(deps, rep, args);
    const out = outOf(req);
    return answer(req, rep, r, 200, () => {
      const [cursor, keys] = items(r);
      const keyspace = ready(deps).broker.keyspace;
      // A key deleted since SCAN saw it has no type any more: it is left out.
      const found = items(keys as Reply).flatMap((k) => {
        const type = k.t === 'bulk' ? keyspace.get(HTTP_DB, k.v)?.type : undefined;
        return type ? [{ key: valueOut(k, out), type }] : [];
      });
      return { cursor: textOut(cursor as Reply), keys: found };
    });
  });
  app.get<{ Params: KeyParams }>(
    '/v1/keys/:key',
    { schema: { tags, summary: 'TYPE of one key; 404 when there is none' } },
    async (req, rep) => {
      const key = nameParam(req.params.key);
      const r = await run(deps, rep, ['TYPE', key]);
      if (r.t !== 'error' && textOut(r) === 'none') {
        const err = Errors.noSuchKey();
        return send(req, rep, err.status, errorBody(err.message, err.status));
      }
      const out = outOf(req);
      return answer(req, rep, r, 200, () => ({
        key: valueOut({ t: 'bulk', v: key }, out),
        type: textOut(r),
      }));
    },
  );
  app.delete<{ Params: KeyParams }>(
    '/v1/keys/:key',
    { schema: { tags, summary: 'DEL a key of any type; {deleted}' }, config: { write: true } },
    async (req, rep) => {
      const r = await run(deps, rep, ['DEL', nameParam(req.params.key)]);
      return answer(req, rep, r, 200, () => ({ deleted: intOut(r) }));
    },
  );
}
