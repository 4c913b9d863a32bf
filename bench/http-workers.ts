// The HTTP bench's clients that are not autocannon, as plain CommonJS run in worker threads
// (`new Worker(code, { eval: true })`: no TypeScript loader needed under tsx or vitest), so the
// server keeps the main thread. Each reports back with postMessage.

/**
 * Group consumers: each loops POST .../groups/:group/read {consumer, count, blockMs} then
 * POST .../ack {ids}; posts {consumed, ready} once every consumer has read once, {consumed}
 * (acked entries) every 20 ms, and {consumed, done, error?} once stopped by the message 'stop'
 * or a failed request.
 */
export const GROUP_CONSUMERS_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, key, group, consumers, count, blockMs } = workerData;
const headers = { 'content-type': 'application/json' };
const base = url + '/v1/streams/' + key + '/groups/' + group;
let consumed = 0;
let stopping = false;
parentPort.on('message', (m) => { if (m === 'stop') stopping = true; });
async function post(path, body) {
  const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(path + ': ' + res.status + ' ' + JSON.stringify(json));
  return json;
}
let ready = 0;
async function consume(consumer) {
  while (!stopping) {
    const read = await post('/read', { consumer, count, blockMs });
    if (++ready === consumers) parentPort.postMessage({ consumed, ready: true });
    const ids = read.entries.map((e) => e.id);
    if (ids.length === 0) continue;
    const ack = await post('/ack', { ids });
    consumed += ack.acked;
  }
}
const timer = setInterval(() => parentPort.postMessage({ consumed }), 20);
Promise.all(Array.from({ length: consumers }, (_, i) => consume('c' + i))).then(
  () => {
    clearInterval(timer);
    parentPort.postMessage({ consumed, done: true });
  },
  (err) => {
    clearInterval(timer);
    parentPort.postMessage({ consumed, done: true, error: String(err) });
  },
);
`;

/**
 * SSE subscribers and a publisher: opens `subscribers` streams on one channel, then publishes
 * `messages` messages carrying their send time (flat out with `concurrency` loops, or paced at
 * `ratePerSec`); posts {deliveries, expected, seconds, latenciesMs} when every subscriber got
 * every message, or 10 s after the last publish.
 */
export const PUBSUB_CLIENTS_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, channel, subscribers, messages, concurrency, ratePerSec, payloadBytes } = workerData;
const now = () => performance.timeOrigin + performance.now();
const expected = messages * subscribers;
const latencies = new Float64Array(expected);
const pad = 'p'.repeat(Math.max(0, payloadBytes - 20));
const streams = [];
let deliveries = 0;
let firstAt = 0;
let lastAt = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));

function onEvent(text, subscribed) {
  if (text.startsWith('event: subscribed')) return subscribed();
  if (!text.startsWith('event: message')) return;
  const data = JSON.parse(text.slice(text.indexOf('data: ') + 6));
  const t = now();
  latencies[deliveries++] = t - Number(data.message.slice(0, data.message.indexOf(' ')));
  lastAt = t;
  if (deliveries === expected) finish();
}

function subscribe() {
  return new Promise((resolve, reject) => {
    const path = url + '/v1/subscribe?channel=' + encodeURIComponent(channel);
    const req = http.get(path, { agent: false, headers: { accept: 'text/event-stream' } });
    req.once('error', reject);
    req.once('response', (res) => {
      streams.push(res);
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk) => {
        buffered += chunk;
        let end;
        while ((end = buffered.indexOf('\\n\\n')) >= 0) {
          onEvent(buffered.slice(0, end), resolve);
          buffered = buffered.slice(end + 2);
        }
      });
    });
  });
}

async function publishOne(i) {
  const body = JSON.stringify({ message: now() + ' ' + i + pad });
  const res = await fetch(url + '/v1/channels/' + encodeURIComponent(channel) + '/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
}

async function publishAll() {
  firstAt = now();
  if (ratePerSec === null) {
    let next = 0;
    const loop = async () => { while (next < messages) await publishOne(next++); };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return;
  }
  const sent = [];
  for (let i = 0; i < messages; i++) {
    const due = firstAt + (i * 1000) / ratePerSec;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(publishOne(i));
  }
  await Promise.all(sent);
}

(async () => {
  await Promise.all(Array.from({ length: subscribers }, subscribe));
  await publishAll();
  await Promise.race([finished, new Promise((r) => setTimeout(r, 10000))]);
  for (const s of streams) s.destroy();
  parentPort.postMessage({
    deliveries,
    expected,
    seconds: (lastAt - firstAt) / 1000,
    latenciesMs: latencies.slice(0, deliveries),
  });
})();
`;
