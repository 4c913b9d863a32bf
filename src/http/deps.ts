// What every HTTP route module gets: the broker (null until recovery is done), the command
// dispatcher, the settings, metrics, and the server's life-cycle state. Route modules are
// `(app, deps) => void` functions registered by app.ts; they never open storage themselves.
import type { Broker } from '../broker/broker';
import type { Dispatcher, Session } from '../commands';
import type { Config } from '../config';
import type { Logger } from '../../storage/errors';
import type { Metrics } from './metrics';

export type ServerState = 'recovering' | 'ready' | 'stopping';

export interface HttpDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Set once recovery is done; routes other than probes answer 503 before (app.ts). */
  broker: Broker | null;
  dispatcher: Dispatcher | null;
  state: ServerState;
  /**
   * Aborted when the server begins to stop: long-polls end with their timeout reply, SSE
   * streams send a final `event: shutdown` and end.
   */
  readonly stopping: AbortController;
  /** The next client session ID (requests, event streams and subscribers each take one). */
  sessionId(): number;
  /** A new client session for one request or event stream, ended by `abort`. */
  session(abort?: AbortSignal): Session;
}

/** The broker and dispatcher of a ready server (app.ts gates requests before routes run). */
export function ready(deps: HttpDeps): { broker: Broker; dispatcher: Dispatcher } {
  if (!deps.broker || !deps.dispatcher) throw new Error('route ran before the broker was ready');
  return { broker: deps.broker, dispatcher: deps.dispatcher };
}
