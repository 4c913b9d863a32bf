// The Upstash-compatible command API: `POST /` runs one command given as a JSON (or
// MessagePack) array and answers `{"result": ...}` shaped as a RESP2 client sees it, or
// `{"error": "ERR ..."}` with status 400; `POST /pipeline` runs several in order, not
// atomically, in one session. `Upstash-Encoding: base64` base64-encodes every string of the
// reply but "OK", as @upstash/redis expects. Blocking commands are allowed here (Upstash has
// none): their wait is capped by --max-block-ms and a timeout answers `{"result": null}`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Session } from '../commands';
import type { Reply } from '../commands/reply';
import { MAX_PIPELINE_COMMANDS } from '../limits';
import { checkCommands } from './auth';
import { bytesOf, replyToWire, send, wantsMsgpack } from './codec';
import { ready, type HttpDeps } from './deps';
import { badRequest, errorBody } from './errors';
import { undoPop } from './pop-undo';
import { clientGone, requestSession, runAll, runIn } from './run';

const ARG_SHAPE = 'a string, a number or {"base64": "..."}';

/** One command from a request value: a non-empty array of byte strings. */
export function commandOf(v: unknown, where: string): Buffer[] {
  if (!Array.isArray(v)) {
    throw badRequest(`${where} must be an array of command and arguments, e.g. ["PING"]`);
  }
  if (v.length === 0) throw badRequest(`${where} is an empty command`);
  const out = new Array<Buffer>(v.length);
  for (let i = 0; i < v.length; i++) {
    const b = bytesOf(v[i]);
    if (!b) throw badRequest(`${where}[${i}] must be ${ARG_SHAPE}`);
    out[i] = b;
  }
  return out;
}

/** Every command of a pipeline, all checked before the first runs. */
export function pipelineOf(v: unknown): Buffer[][] {
  if (!Array.isArray(v)) {
    throw badRequest('body must be an array of commands, e.g. [["PING"],["TIME"]]');
  }
  if (v.length === 0) throw badRequest('body is an empty pipeline');
  if (v.length > MAX_PIPELINE_COMMANDS) {
    throw badRequest(`a pipeline holds at most ${MAX_PIPELINE_COMMANDS} commands`);
  }
  return v.map((c, i) => commandOf(c, `body[${i}]`));
}

/**
 * The request's value. A text/plain or octet-stream body (which app.ts hands over as bytes) is
 * JSON all the same, as Upstash reads it: `fetch(url, {method: 'POST', body: '["PING"]'})`
 * sends text/plain.
 */
function bodyOf(request: FastifyRequest): unknown {
  const body = request.body;
  if (!Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw badRequest('body is not valid JSON');
  }
}

/** Runs one command; a pop made for a client that has gone is given back. */
async function runCommand(
  deps: HttpDeps,
  reply: FastifyReply,
  session: Session,
  args: readonly Buffer[],
): Promise<Reply> {
  const r = await runIn(deps, session, args);
  if (r.t !== 'error' && clientGone(reply)) await undoPopOf(deps, session, args, r);
  return r;
}

function undoPopOf(
  deps: HttpDeps,
  session: Session,
  args: readonly Buffer[] | undefined,
  r: Reply,
) {
  return undoPop(ready(deps).broker, deps.logger, session.db, args ?? [], r);
}

function base64Requested(request: FastifyRequest): boolean {
  const h = request.headers['upstash-encoding'];
  return typeof h === 'string' && h.trim().toLowerCase() === 'base64';
}

/** A command error: 400 as Upstash answers every one, but a server fault keeps its 5xx. */
function errorStatus(r: Reply & { t: 'error' }): number {
  return r.status !== undefined && r.status >= 500 ? r.status : 400;
}

const argSchema = {
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    {
      type: 'object',
      properties: { base64: { type: 'string' } },
      required: ['base64'],
    },
  ],
};
const commandSchema = { type: 'array', minItems: 1, items: argSchema };
const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    statusCode: { type: 'integer' },
  },
};
/** Route schemas document the API (OpenAPI); the handlers validate, with clearer messages. */
const noValidation = () => () => true;

async function one(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const args = commandOf(bodyOf(request), 'body');
  checkCommands(request, ready(deps).dispatcher.table, [args]);
  const r = await runCommand(deps, reply, requestSession(deps, reply), args);
  if (r.t === 'error') {
    const status = errorStatus(r);
    return send(request, reply, status, errorBody(r.v, status));
  }
  const result = replyToWire(r, wantsMsgpack(request), base64Requested(request));
  return send(request, reply, 200, { result });
}

async function pipeline(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply) {
  const commands = pipelineOf(bodyOf(request));
  checkCommands(request, ready(deps).dispatcher.table, commands);
  const msgpack = wantsMsgpack(request);
  const base64 = base64Requested(request);
  const session = requestSession(deps, reply);
  // A client that left gets nothing more done on its behalf (Redis drops what it had not yet
  // run of a closed connection's input), and what was popped for it is given back.
  const replies = await runAll(deps, session, commands, () => clientGone(reply));
  const out: unknown[] = [];
  for (const [i, r] of replies.entries()) {
    if (r.t !== 'error' && clientGone(reply)) await undoPopOf(deps, session, commands[i], r);
    if (r.t === 'error') out.push({ error: r.v, code: errorBody(r.v, 400).code });
    else out.push({ result: replyToWire(r, msgpack, base64) });
  }
  return send(request, reply, 200, out);
}

export function registerCommandApi(app: FastifyInstance, deps: HttpDeps): void {
  app.post(
    '/',
    {
      validatorCompiler: noValidation,
      schema: {
        tags: ['command API'],
        summary: 'Run one command (Upstash-compatible)',
        description:
          'Body: the command and its arguments, e.g. ["XADD","orders","*","sku","42"]. ' +
          'Replies are shaped as a RESP2 client sees them; blocking commands wait at most ' +
          '--max-block-ms and answer null on timeout. Header Upstash-Encoding: base64 ' +
          'base64-encodes every string of the reply but "OK".',
        body: commandSchema,
        response: { 200: { type: 'object', properties: { result: {} } }, 400: errorSchema },
      },
    },
    (request, reply) => one(deps, request, reply),
  );
  app.post(
    '/pipeline',
    {
      validatorCompiler: noValidation,
      schema: {
        tags: ['command API'],
        summary: 'Run several commands in order, not atomically',
        description:
          `At most ${MAX_PIPELINE_COMMANDS} commands; each gets {"result"} or {"error"}, ` +
          'in order.',
        body: { type: 'array', minItems: 1, items: commandSchema },
        response: { 400: errorSchema },
      },
    },
    (request, reply) => pipeline(deps, request, reply),
  );
}
