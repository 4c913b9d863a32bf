// Bad input, generated: random and mutated bodies, content types, headers, query strings and
// paths (percent-encoded garbage, odd keys) thrown at every registered route. Each answer must
// be a 4xx, or a 2xx with a body that parses; never a 5xx, never a hang; and the server keeps
// serving afterwards.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceServer } from '../../src/server';

let server: SluiceServer;
let dataDir: string;

/** Route templates with their methods, as the OpenAPI document lists them. */
let routes: { path: string; methods: string[] }[] = [];

/** Streaming routes never end by themselves: inject() would wait forever. */
const isEventStream = (p: string) => p.endsWith('/events') || p.includes('subscribe');

/** Routes hidden from the OpenAPI document. */
const HIDDEN = [
  { path: '/openapi.json', methods: ['get'] },
  { path: '/docs', methods: ['get'] },
  { path: '/docs/json', methods: ['get'] },
];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-fuzz-'));
  server = await SluiceServer.start({
    host: '127.0.0.1',
    httpPort: 0,
    dataDir,
    fsync: 'no',
    maxBlockMs: 20,
    bodyLimitBytes: 256 * 1024,
  });
  const doc = server.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths)
    .filter(([p]) => !isEventStream(p))
    .map(([p, ops]) => ({ path: p, methods: Object.keys(ops) }))
    .concat(HIDDEN);
  const seed: unknown[][] = [
    ['XADD', 's', '1-1', 'f', 'v', 'f', 'w'],
    ['XADD', 's', '2-1', 'g', 'x'],
    ['XGROUP', 'CREATE', 's', 'g', '0'],
    ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>'],
    ['RPUSH', 'l', 'a', 'b', 'c'],
  ];
  for (const args of seed) {
    await server.app.inject({ method: 'POST', url: '/', payload: args });
  }
});

afterAll(async () => {
  await server.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

// ---- generators ---------------------------------------------------------------------------

const COMMANDS = [
  'XADD',
  'XRANGE',
  'XREVRANGE',
  'XREAD',
  'XREADGROUP',
  'XGROUP',
  'XACK',
  'XPENDING',
  'XCLAIM',
  'XAUTOCLAIM',
  'XINFO',
  'XDEL',
  'XTRIM',
  'XLEN',
  'LPUSH',
  'RPUSH',
  'LPOP',
  'RPOP',
  'BLPOP',
  'BRPOP',
  'LMOVE',
  'BLMOVE',
  'LMPOP',
  'BLMPOP',
  'LRANGE',
  'LREM',
  'LSET',
  'LINSERT',
  'LPOS',
  'DEL',
  'TYPE',
  'SCAN',
  'EXISTS',
  'RENAME',
  'PUBLISH',
  'PUBSUB',
  'PING',
  'ECHO',
  'SUBSCRIBE',
];
const WORDS = [
  '*',
  '$',
  '>',
  '-',
  '+',
  '0',
  '0-0',
  '1-1',
  '1',
  '-1',
  '100',
  'BLOCK',
  'COUNT',
  'STREAMS',
  'GROUP',
  'MAXLEN',
  '~',
  'LEFT',
  'RIGHT',
  'CREATE',
  'MKSTREAM',
  's',
  'l',
  'g',
  'c',
  'NOACK',
  'JUSTID',
  'IDLE',
  'TYPE',
  'MATCH',
  'CHANNELS',
  'STREAM',
  '18446744073709551616',
  '1e400',
  '',
];
const KEYS = ['s', 'l', 'g', 'c', 'missing', '%2F', '..', '.', 'a%2Fb', '%00', '%E2%82%AC'];
const QUERY_KEYS = [
  'start',
  'end',
  'stop',
  'count',
  'blockMs',
  'after',
  'order',
  'fieldsAs',
  'match',
  'type',
  'cursor',
  'consumer',
  'minIdleMs',
  'pattern',
  'channel',
  'idle',
  'id',
  'ids',
  'encoding',
];
const BODY_KEYS = [
  'fields',
  'entries',
  'id',
  'ids',
  'values',
  'value',
  'message',
  'consumer',
  'count',
  'blockMs',
  'end',
  'from',
  'to',
  'destination',
  'keys',
  'streams',
  'group',
  'start',
  'maxLen',
  'minId',
  'approx',
  'limit',
  'noMkStream',
  'mkStream',
  'entriesRead',
  'lastId',
  'minIdleMs',
  'justId',
  'noAck',
  'force',
  'retryCount',
  'idleMs',
  'onlyIfExists',
  'base64',
  'channel',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.msgpack',
  'application/x-msgpack',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/event-stream',
  '',
  'json',
  ';;;',
];
const ACCEPTS = [
  'application/json',
  'application/vnd.msgpack',
  'text/event-stream',
  '*/*',
  'text/html',
  'garbage/;;',
];

const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.:/%*$<>"\'\\{}[]') });
const word = fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 12 }), fc.integer());
const anyValue = fc.oneof(
  word,
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.record({ base64: fc.oneof(fc.base64String(), fc.string()) }),
  fc.array(word, { maxLength: 4 }),
  fc.dictionary(fc.constantFrom(...BODY_KEYS, 'x'), word, { maxKeys: 3 }),
);
const command = fc
  .tuple(fc.constantFrom(...COMMANDS), fc.array(word, { maxLength: 8 }))
  .map(([c, args]) => [c, ...args]);
const v1Body = fc.dictionary(fc.constantFrom(...BODY_KEYS), anyValue, { maxKeys: 6 });

/** JSON nested `depth` deep, arrays and objects in turn (as text: too deep to stringify). */
function nested(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '[' : '{"fields":';
    close = (i % 2 === 0 ? ']' : '}') + close;
  }
  return `${open}"x"${close}`;
}

/** A body: [payload, content type]; undefined payload sends none. */
const body: fc.Arbitrary<[unknown, string | undefined]> = fc.oneof(
  fc.constant<[unknown, string | undefined]>([undefined, undefined]),
  fc.tuple(command, fc.constant('application/json')),
  fc.tuple(fc.array(command, { maxLength: 4 }), fc.constant('application/json')),
  fc.tuple(v1Body, fc.constant('application/json')),
  fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...CONTENT_TYPES)),
  fc.tuple(fc.json({ maxDepth: 3 }), fc.constantFrom(...CONTENT_TYPES)),
  fc.tuple(fc.array(fc.string(), { maxLength: 10 }), fc.constant('application/json')),
  fc.tuple(fc.integer({ min: 100, max: 100_000 }).map(nested), fc.constant('application/json')),
  fc.tuple(
    fc.oneof(command, v1Body).map((v) => pack(v)),
    fc.constantFrom('application/vnd.msgpack', 'application/msgpack'),
  ),
  fc.tuple(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.constantFrom(...CONTENT_TYPES),
  ),
  fc.tuple(fc.string(), fc.constantFrom(...CONTENT_TYPES)),
);

/** A path parameter: a known key, a random one percent-encoded, or raw garbage. */
const param = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.uint8Array({ maxLength: 8 }).map((b) => [...b].map((x) => `%${x.toString(16)}`).join('')),
  fc.constantFrom('%', '%z', '%%', '%c3', '%ff%fe', 'a b', '#', '?', '..%2F..'),
);

function fillPath(template: string): fc.Arbitrary<string> {
  const parts = template.split(/(\{[^}]+\})/);
  return fc
    .tuple(...parts.map((p) => (p.startsWith('{') ? param : fc.constant(p))))
    .map((ps) => ps.join(''));
}

const query = fc
  .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.oneof(word.map(String), printable)), {
    maxLength: 4,
  })
  .map((pairs) =>
    pairs.length === 0
      ? ''
      : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
  );

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

function requestArb(): fc.Arbitrary<InjectOptions> {
  const known = fc
    .constantFrom(...routes)
    .chain((r) =>
      fc.tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...r.methods.map((m) => m.toUpperCase())) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
        fillPath(r.path),
      ),
    );
  const randomPath = fc.tuple(
    fc.constantFrom(...METHODS),
    fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `/${s}`),
      fc.array(param, { minLength: 1, maxLength: 5 }).map((ps) => `/v1/${ps.join('/')}`),
    ),
  );
  const headers = fc.record(
    {
      accept: fc.constantFrom(...ACCEPTS),
      'upstash-encoding': fc.constantFrom('base64', 'BASE64', 'utf8', ''),
      'last-event-id': fc.oneof(fc.constantFrom('1-1', '0', '$'), printable),
      'x-random': printable,
      authorization: fc.constantFrom('Bearer x', 'Basic y', 'Bearer'),
    },
    { requiredKeys: [] },
  );
  return fc
    .tuple(
      fc.oneof({ weight: 5, arbitrary: known }, { weight: 1, arbitrary: randomPath }),
      query,
      body,
      headers,
    )
    .map(([[method, url], q, [payload, type], extra]) => {
      const h: Record<string, string> = { ...extra };
      if (type !== undefined) h['content-type'] = type;
      const options: InjectOptions = { method, url: url + q, headers: h };
      if (payload !== undefined && method !== 'GET' && method !== 'HEAD') {
        options.payload = (
          typeof payload === 'string' || Buffer.isBuffer(payload)
            ? payload
            : JSON.stringify(payload)
        ) as string;
      }
      return options;
    });
}

// ---- checks -------------------------------------------------------------------------------

/** Throws unless the body parses as what the content type says. */
function parseBody(res: LightMyRequestResponse, method: string): void {
  const type = String(res.headers['content-type'] ?? '');
  if (method === 'HEAD' || res.rawPayload.length === 0) return;
  if (type.includes('json')) {
    const parsed = JSON.parse(res.body) as { error?: unknown; statusCode?: unknown };
    // Every refusal uses the one error format.
    if (
      res.statusCode >= 400 &&
      (typeof parsed.error !== 'string' || parsed.statusCode !== res.statusCode)
    ) {
      throw new Error('error reply without {error, statusCode}');
    }
  } else if (type.includes('msgpack')) unpack(res.rawPayload);
  else if (!/^text\/(plain|html|css)|javascript|image\//.test(type)) {
    throw new Error(`unexpected content type ${type}`);
  }
}

const HANG_MS = 5000;

/** The answer, or null when inject() itself refuses the URL (WHATWG URL parsing, as `/\x`). */
async function injectBounded(options: InjectOptions): Promise<LightMyRequestResponse | null> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([server.app.inject(options), hang]);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_INVALID_URL') return null;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

describe('bad input at every route', () => {
  it('covers the routes of every module', () => {
    const paths = routes.map((r) => r.path);
    expect(paths).toContain('/');
    expect(paths).toContain('/pipeline');
    expect(paths).toContain('/healthz');
    expect(paths.length).toBeGreaterThan(5);
  });

  it('each gets a 4xx or a parseable 2xx, never a 5xx or a hang; serving goes on', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb(), async (options) => {
        const res = await injectBounded(options);
        fc.pre(res !== null);
        const answer = `${res.statusCode} ${res.body.slice(0, 300)}`;
        const where = `${options.method} ${options.url} -> ${answer}`;
        const ok =
          (res.statusCode >= 200 && res.statusCode < 300) ||
          (res.statusCode >= 400 && res.statusCode < 500);
        if (!ok) throw new Error(where);
        try {
          parseBody(res, String(options.method));
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`);
        }
      }),
      {
        // FUZZ_RUNS=5000 FUZZ_SEED=<n> for a deeper run; the default is bounded and repeatable.
        numRuns: Number(process.env.FUZZ_RUNS ?? 400),
        seed: Number(process.env.FUZZ_SEED ?? 20240607),
        endOnFailure: true,
      },
    );
    const health = await server.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const res = await fetch(`${server.httpUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '["LRANGE","l","0","-1"]',
    });
    expect(res.status).toBe(200);
  });
});
