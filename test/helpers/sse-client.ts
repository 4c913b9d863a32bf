// A Server-Sent Events client for tests over a real socket (node:http, no connection reuse):
// parses events and comments as EventSource does, queues them, and lets a test await the next
// event, an event matching a predicate, or the end of the stream, each with a deadline.
import http from 'node:http';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export interface SseOpen {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body when the status is not 200 (an error reply). */
  readonly body: string;
  readonly client: SseClient | null;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Every line received, as sent (the `retry:` line included). */
  readonly lines: string[] = [];
  private buffered = '';
  private fields: { event: string; data: string[]; id: string | undefined } = SseClient.blank();
  private taken = 0;
  private wake: (() => void) | null = null;
  ended = false;
  readonly done: Promise<void>;

  private constructor(readonly res: http.IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    this.done = new Promise((resolve) => {
      const end = () => {
        this.ended = true;
        this.notify();
        resolve();
      };
      res.once('end', end);
      res.once('close', end);
      res.once('error', end);
    });
  }

  private static blank() {
    return { event: 'message', data: [] as string[], id: undefined as string | undefined };
  }

  /** Opens `url`; resolves once the response headers are in. */
  static open(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseOpen> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, {
        agent: false,
        headers: { accept: 'text/event-stream', ...headers },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, client: null }),
          );
          return;
        }
        resolve({ status: 200, headers: res.headers, body: '', client: new SseClient(res) });
      });
    });
  }

  /** Opens `url` and fails unless it is an event stream. */
  static async connect(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseClient> {
    const opened = await SseClient.open(url, headers);
    if (!opened.client) throw new Error(`SSE ${url}: status ${opened.status} ${opened.body}`);
    return opened.client;
  }

  private feed(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).replace(/\r$/, '');
      this.buffered = this.buffered.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    this.lines.push(line);
    if (line === '') {
      const f = this.fields;
      this.fields = SseClient.blank();
      if (f.data.length === 0) return;
      this.events.push({ event: f.event, data: f.data.join('\n'), id: f.id });
      this.notify();
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      this.notify();
      return;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') this.fields.event = value;
    else if (name === 'data') this.fields.data.push(value);
    else if (name === 'id') this.fields.id = value;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Waits until `cond` holds, the stream ends, or the deadline passes (then throws). */
  async until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.ended) throw new Error(`stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next event not yet taken. */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    await this.until(() => this.events.length > this.taken, timeoutMs, 'the next event');
    return this.events[this.taken++] as SseEvent;
  }

  /** The next `n` events not yet taken. */
  async take(n: number, timeoutMs = 5000): Promise<SseEvent[]> {
    await this.until(() => this.events.length >= this.taken + n, timeoutMs, `${n} events`);
    const out = this.events.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }

  /** Events taken so far plus those queued. */
  get pendingCount(): number {
    return this.events.length - this.taken;
  }

  close(): void {
    this.res.destroy();
  }
}
