// Runs commands for a request through the one command table, in a session that ends when the
// client goes away: a blocked command whose client disconnected is removed at once, and a pop
// is never made for a client that has gone (the abort reaches the waiter before it is served).
import type { FastifyReply } from 'fastify';
import type { Reply } from '../commands/reply';
import type { Session } from '../commands';
import { ready, type HttpDeps } from './deps';

const toBuf = (a: string | Buffer) => (typeof a === 'string' ? Buffer.from(a) : a);

/**
 * An AbortSignal that fires when the client goes away before its response was sent (the
 * response's 'close' without 'finish'), or when the server stops.
 */
export function requestAbort(deps: HttpDeps, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  if (deps.stopping.signal.aborted || clientGone(reply)) {
    ac.abort();
    return ac.signal;
  }
  const onStop = () => ac.abort();
  deps.stopping.signal.addEventListener('abort', onStop, { once: true });
  reply.raw.once('close', () => {
    deps.stopping.signal.removeEventListener('abort', onStop);
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** True when the client of `reply` is gone: what was taken for it must be given back. */
export function clientGone(reply: FastifyReply): boolean {
  return reply.raw.destroyed || reply.raw.socket?.destroyed === true;
}

/**
 * A request's session. Its abort signal is made when first asked for (only blocking commands
 * ask): most requests never need one. A class, with the getter on its prototype: a getter
 * defined on each session object gave each its own hidden class, and hidden classes live in
 * V8's old space, so every request's objects survived minor GCs through them (a third of what
 * a request allocated was promoted; HTTP throughput rose by a quarter without it).
 */
class RequestSession implements Session {
  db = 0;
  name: Buffer | null = null;
  resp: 2 | 3 = 2;
  private signal: AbortSignal | undefined = undefined;
  constructor(
    readonly id: number,
    private readonly deps: HttpDeps,
    private readonly reply: FastifyReply,
  ) {}
  get abort(): AbortSignal {
    return (this.signal ??= requestAbort(this.deps, this.reply));
  }
}

/** A session for one request; reuse it for the commands of a pipeline. */
export function requestSession(deps: HttpDeps, reply: FastifyReply): Session {
  return new RequestSession(deps.sessionId(), deps, reply);
}

export function runIn(
  deps: HttpDeps,
  session: Session,
  args: readonly (string | Buffer)[],
): Promise<Reply> {
  return ready(deps).dispatcher.execute(session, args.map(toBuf));
}

/**
 * Commands run in order, each staged once the one before it is (so a blocking command holds
 * back those after it), with one wait for the durability of all of them at the end: a batch
 * of writes shares its group commits, and consecutive XADDs to one stream are one batch (one
 * lock, one storage command). `stop` is asked before each command or batch (a client that left
 * gets nothing more done); the replies are those of the commands that ran.
 */
export async function runAll(
  deps: HttpDeps,
  session: Session,
  commands: readonly (readonly (string | Buffer)[])[],
  stop: () => boolean = () => false,
): Promise<Reply[]> {
  const { dispatcher } = ready(deps);
  const all = commands.map((args) => args.map(toBuf));
  // A client blocked on the stream sees a batch of XADDs at once: this is not Redis's pipeline.
  const staged = await dispatcher.stageRun(session, all, { whileWaited: true, stop });
  return dispatcher.settleAll(staged);
}

/** One command in a fresh request session. */
export function run(
  deps: HttpDeps,
  reply: FastifyReply,
  args: readonly (string | Buffer)[],
): Promise<Reply> {
  return runIn(deps, requestSession(deps, reply), args);
}
