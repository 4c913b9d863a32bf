// A Sluice server for the /v1 route tests: in this process, on a temporary data directory and
// a free port; `call` injects a request (JSON, or MessagePack with `msgpack: true`) and parses
// the answer either way.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { SluiceServer, type ServerOptions } from '../../src/server';

export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly type: string;
}

export interface CallOptions {
  readonly msgpack?: boolean;
  readonly headers?: Record<string, string>;
}

/** A request on a real socket; `cancel()` destroys it (the client goes away). */
export interface Pending {
  readonly answer: Promise<Answer>;
  cancel(): void;
}

export interface V1Server {
  readonly server: SluiceServer;
  call(method: string, url: string, body?: unknown, options?: CallOptions): Promise<Answer>;
  /** JSON over a real socket, one connection per request (no keep-alive left behind). */
  request(method: string, url: string, body?: unknown): Pending;
  close(): Promise<void>;
}

export async function startV1(options: ServerOptions = {}): Promise<V1Server> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-v1-'));
  const server = await SluiceServer.start({
    host: '127.0.0.1',
    httpPort: 0,
    fsync: 'no',
    resp: false, // these tests are about HTTP; a RESP port would collide across test files
    dataDir,
    ...options,
  });
  return {
    server,
    async call(method, url, body, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      let payload: string | Buffer | undefined;
      if (opts.msgpack) {
        headers.accept = 'application/vnd.msgpack';
        if (body !== undefined) {
          headers['content-type'] = 'application/vnd.msgpack';
          payload = pack(body);
        }
      } else if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const res = await server.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
      });
      const type = String(res.headers['content-type'] ?? '');
      const parsed = type.includes('msgpack')
        ? unpack(res.rawPayload)
        : res.body.length > 0
          ? JSON.parse(res.body)
          : undefined;
      return { status: res.statusCode, body: parsed, type };
    },
    request: (method, url, body) => socketRequest(server.httpUrl, method, url, body),
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function socketRequest(base: string, method: string, url: string, body?: unknown): Pending {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = http.request(`${base}${url}`, {
    method,
    agent: false,
    headers: {
      connection: 'close',
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          body: text.length > 0 ? JSON.parse(text) : undefined,
          type: String(res.headers['content-type'] ?? ''),
        });
      });
    });
  });
  req.end(payload);
  return { answer, cancel: () => req.destroy() };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
