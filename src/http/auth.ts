// Who may do what, decided before a route runs: Bearer tokens (admin and read-only) compared in
// constant time, and the readiness gate that answers 503 until recovery is done and once the
// server is stopping. Probes and the API docs never need a token; /metrics does when one is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { resolveRow } from '../commands/dispatch';
import type { CommandTable } from '../commands';
import type { CommandRow } from '../commands/table';
import { send } from './codec';
import type { HttpDeps } from './deps';
import { errorBody, HttpError } from './errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route changes state: the read-only token gets 403 NOPERM. */
    write?: boolean;
    /** The route answers without a token (probes, API docs). */
    public?: boolean;
    /** The route answers while recovering or stopping (probes). */
    always?: boolean;
  }
  interface FastifyRequest {
    /** What the request's token allows; set by the auth hook before any route runs. */
    access: Access;
  }
}

/** `admin`: everything (also when no token is configured); `readonly`: reads, tails, subscribes. */
export type Access = 'admin' | 'readonly';

export const NOAUTH_MESSAGE = 'NOAUTH Authentication required';
export const BADTOKEN_MESSAGE = 'NOAUTH invalid token';
export const NOPERM_MESSAGE = 'NOPERM this token is read-only';
const LOADING_MESSAGE = 'LOADING Sluice is loading the dataset in memory';
const SHUTDOWN_MESSAGE = 'SHUTDOWN Sluice is shutting down';

/** Route prefixes served by @fastify/swagger-ui, which sets no route config of its own. */
const DOCS_PREFIX = '/docs';

/**
 * Commands the read-only token may not run although their row lacks the `write` flag: a
 * publish reaches other clients, which is not reading (Redis's ACL puts it in @pubsub, not
 * @read, and a read-only token is the one handed to browsers).
 */
const READONLY_DENIED = new Set(['publish', 'spublish']);

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The token of a request: `Authorization: Bearer <token>`, else `?_token=` (EventSource cannot
 * set headers). Null when neither is present.
 */
function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer +(.*)$/i.exec(header.trim());
    return m ? (m[1] as string) : '';
  }
  const query = request.query as Record<string, unknown> | null | undefined;
  const fromQuery = query?._token;
  if (typeof fromQuery === 'string') return fromQuery;
  if (Array.isArray(fromQuery) && typeof fromQuery[0] === 'string') return fromQuery[0];
  return null;
}

/**
 * Compares a presented token with the configured ones: sha256 digests are always 32 bytes, so
 * timingSafeEqual gets equal lengths and the time taken says nothing of the token's length or
 * of which comparison matched (both are always made).
 */
export class TokenCheck {
  private readonly admin: Buffer | null;
  private readonly readonly: Buffer | null;

  constructor(adminToken: string, readonlyToken: string) {
    this.admin = adminToken ? digest(adminToken) : null;
    this.readonly = readonlyToken ? digest(readonlyToken) : null;
  }

  get enabled(): boolean {
    return this.admin !== null || this.readonly !== null;
  }

  accessOf(token: string): Access | null {
    const d = digest(token);
    const isAdmin = this.admin !== null && timingSafeEqual(d, this.admin);
    const isReadonly = this.readonly !== null && timingSafeEqual(d, this.readonly);
    if (isAdmin) return 'admin';
    return isReadonly ? 'readonly' : null;
  }
}

/** True when the read-only token may run the command of this row (no writes, no admin). */
export function readonlyMayRun(row: CommandRow): boolean {
  const name = row.name.split('|')[0] as string;
  if (row.flags.includes('write') || row.flags.includes('admin')) return false;
  return !READONLY_DENIED.has(name);
}

/**
 * Throws 403 NOPERM when the request's token is read-only and one of `commands` changes state
 * (the command API calls it once the body is parsed). A command that does not resolve (unknown,
 * wrong arity) can change nothing: it runs and gets its own error.
 */
export function checkCommands(
  request: FastifyRequest,
  table: CommandTable,
  commands: readonly (readonly Buffer[])[],
): void {
  if (request.access !== 'readonly') return;
  for (const args of commands) {
    let row: CommandRow;
    try {
      row = resolveRow(table, args);
    } catch {
      continue;
    }
    if (!readonlyMayRun(row)) throw new HttpError(403, NOPERM_MESSAGE);
  }
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  send(request, reply, status, errorBody(message, status));
}

/** 503 with Retry-After while the broker is not ready; false when the request may go on. */
function gated(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply): boolean {
  if (deps.state === 'ready' || request.routeOptions.config?.always) return false;
  reply.header('retry-after', '1');
  if (deps.state === 'stopping') reply.header('connection', 'close');
  const message = deps.state === 'recovering' ? LOADING_MESSAGE : SHUTDOWN_MESSAGE;
  refuse(request, reply, 503, message);
  return true;
}

function isPublic(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.public) return true;
  const url = request.routeOptions.url;
  return url !== undefined && (url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`));
}

/** False (and the request answered) when the token is missing, wrong or not enough. */
function authorized(tokens: TokenCheck, request: FastifyRequest, reply: FastifyReply): boolean {
  if (isPublic(request)) return true;
  const token = presentedToken(request);
  const access = token === null ? null : tokens.accessOf(token);
  if (access === null) {
    reply.header('www-authenticate', 'Bearer realm="sluice"');
    refuse(request, reply, 401, token === null ? NOAUTH_MESSAGE : BADTOKEN_MESSAGE);
    return false;
  }
  request.access = access;
  if (access === 'readonly' && request.routeOptions.config?.write) {
    refuse(request, reply, 403, NOPERM_MESSAGE);
    return false;
  }
  return true;
}

export function registerAuth(app: FastifyInstance, deps: HttpDeps): void {
  const tokens = new TokenCheck(deps.config.token, deps.config.readonlyToken);
  app.decorateRequest('access', 'admin');
  // A callback hook (no promise per request); a request answered here never calls done().
  app.addHook('onRequest', (request, reply, done) => {
    if (tokens.enabled && !authorized(tokens, request, reply)) return;
    if (gated(deps, request, reply)) return;
    done();
  });
}
