// Real crashes: a child process appends with fsync 'always' from 20 concurrent appenders on
// two streams (one never trimmed, one trimmed and checkpointed all the time) and is killed
// with SIGKILL at random moments. After most kills the test opens the store itself, checks what
// recovery reports and that every acknowledged append is there, then closes it and respawns;
// after the others the next child recovers the crash itself. Below that, crash images (the
// directory copied at a chosen instant) pin the checkpoint and retention bugs those kills found.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamId } from '../../storage/id';
import { Store } from '../../storage/store';
import type { StreamLog } from '../../storage/stream-log';
import type { Logger } from '../../storage/errors';
import { nodeIo, type Io } from '../../storage/io';
import {
  SEGMENT_BYTES,
  STREAM_APPEND,
  STREAM_TRIM,
  TRIM_MAX_LEN,
  entryFields,
  parseFields,
  trimAppendersCount,
  type CrashMode,
} from './fixtures/crash-entry';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'appender.ts');
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const KILLS_COUNT = 24;
const KILL_DELAY_MIN_MS = 50;
const KILL_DELAY_MAX_MS = 400;
/** A child that has not acknowledged anything by then is stuck or broken. */
const FIRST_ACK_TIMEOUT_MS = 15_000;
/** Labels a crash of the process (not of the disk) may leave; anything else is a bug. */
const ALLOWED_LABELS = new Set([
  'TORN_TAIL',
  'ZERO_TAIL',
  'EMPTY_SEGMENT',
  'TEMP_FILE',
  'DEAD_SEGMENT',
  'ORPHAN_INDEX',
  'MISSING_INDEX',
  'STALE_INDEX',
]);
const CORRUPTION_LABELS = [
  'CORRUPT_FRAME',
  'ID_REGRESSION',
  'MISSING_SEGMENT',
  'SEALED_SIZE',
  'CHECKPOINT_BAD',
  'CHECKPOINT_AHEAD',
  'CORRUPT_INDEX',
];

const live = new Set<ChildProcess>();
let tmp: string | null = null;

afterEach(async () => {
  for (const child of [...live]) await killAndReap(child);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  tmp = null;
});

async function killAndReap(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGKILL');
    await closed;
  }
  live.delete(child);
}

/** Seeded so a failing sequence of kill delays can be replayed with CRASH_SEED. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface Ack {
  readonly stream: string;
  readonly id: StreamId;
  readonly run: number;
  readonly app: number;
  readonly n: number;
}

interface RunResult {
  readonly acks: Ack[];
  /** Labels of the child's own recovery: of the kill before, when the test did not verify. */
  readonly labels: string[];
  readonly killedAfterMs: number;
  readonly stderr: string;
}

/** Spawns the appender, kills it `delayMs` after its first acknowledgement, returns its acks. */
async function runUntilKilled(
  dir: string,
  run: number,
  mode: CrashMode,
  delayMs: number,
): Promise<RunResult> {
  const ackFile = path.join(path.dirname(dir), `acks.${run}`);
  const args = ['--import', 'tsx', FIXTURE, dir, ackFile, String(run), mode];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  let killedAfterMs = -1;
  const stuck = setTimeout(() => child.kill('SIGKILL'), FIRST_ACK_TIMEOUT_MS);
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once('data', () => {
    const firstAckMs = Date.now();
    clearTimeout(stuck);
    setTimeout(() => {
      killedAfterMs = Date.now() - firstAckMs;
      child.kill('SIGKILL');
    }, delayMs);
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(stuck);
  live.delete(child);
  if (signal !== 'SIGKILL' || killedAfterMs < 0) {
    throw new Error(`run ${run}: appender ended by itself (code ${code}, signal ${signal}):
${stderr}`);
  }
  const acks: Ack[] = [];
  const labels: string[] = [];
  const lines = (await fs.readFile(ackFile, 'utf8')).split('\n');
  lines.pop(); // empty after the last newline, or a line the kill cut: not an acknowledgement
  for (const line of lines) {
    if (line.startsWith('L ')) labels.push(line.slice(2));
    else acks.push(parseAck(line));
  }
  return { acks, labels, killedAfterMs, stderr };
}

function parseAck(line: string): Ack {
  const parts = line.split(' ');
  const id = StreamId.parse(parts[2] ?? '');
  if (parts[0] !== 'A' || parts.length !== 6 || !id) throw new Error(`bad ack line: ${line}`);
  const [run, app, n] = parts.slice(3).map(Number) as [number, number, number];
  return { stream: parts[1] as string, id, run, app, n };
}

interface Known {
  readonly key: string; // run/app/n
  readonly id: StreamId;
}

/** What the test knows about one stream across every run and restart. */
class StreamModel {
  /** Entries acknowledged, or seen after a recovery: they must stay unless trimmed. */
  readonly durable = new Map<string, Known>();
  /** Highest acknowledged n per `run/app`. */
  readonly ackedN = new Map<string, number>();
  /** Highest ID acknowledged or seen as lastId: later IDs must be above it. */
  maxId = StreamId.ZERO;
  /** Every ID at or below this is trimmed and must never come back. */
  trimmedThrough = StreamId.ZERO;
  entriesAdded = 0n;
  lengthMax = 0;

  constructor(
    readonly name: string,
    readonly trimmed: boolean,
  ) {}
}

/** Records a run's acknowledgements; each must be above every ID known before the run. */
function applyAcks(models: Map<string, StreamModel>, acks: readonly Ack[], run: number): string[] {
  const problems: string[] = [];
  const floor = new Map([...models].map(([name, m]) => [name, m.maxId]));
  for (const ack of acks) {
    const model = models.get(ack.stream);
    if (!model || ack.run !== run) {
      problems.push(`ack for unknown stream or run: ${JSON.stringify(ack)}`);
      continue;
    }
    if (ack.id.compare(floor.get(ack.stream) as StreamId) <= 0) {
      problems.push(
        `run ${run}: new ${ack.stream} ID ${ack.id} not above ${floor.get(ack.stream)}`,
      );
    }
    const key = `${ack.run}/${ack.app}/${ack.n}`;
    const had = model.durable.get(ack.id.toString());
    if (had && had.key !== key)
      problems.push(`ID ${ack.id} acknowledged for ${had.key} and ${key}`);
    model.durable.set(ack.id.toString(), { key, id: ack.id });
    const appKey = `${ack.run}/${ack.app}`;
    model.ackedN.set(appKey, Math.max(model.ackedN.get(appKey) ?? -1, ack.n));
    if (ack.id.compare(model.maxId) > 0) model.maxId = ack.id;
  }
  return problems;
}

/** Checks the entries read back after a recovery against everything the model knows. */
function checkEntries(
  model: StreamModel,
  log: StreamLog,
  entries: Awaited<ReturnType<StreamLog['read']>>,
  modes: readonly CrashMode[],
): string[] {
  const problems: string[] = [];
  const at = `stream ${model.name}`;
  const keys = new Set<string>();
  const lastN = new Map<string, number>();
  let prev: StreamId | null = null;
  for (const e of entries) {
    if (prev && e.id.compare(prev) <= 0) problems.push(`${at}: ${e.id} follows ${prev}`);
    if (e.id.compare(model.trimmedThrough) <= 0) {
      problems.push(`${at}: ${e.id} was trimmed (through ${model.trimmedThrough}) but is back`);
    }
    prev = e.id;
    const parsed = parseFields(e.fields);
    if (!parsed) {
      problems.push(`${at}: ${e.id} has fields nobody wrote`);
      continue;
    }
    const [run, app, n] = parsed;
    const key = `${run}/${app}/${n}`;
    const appKey = `${run}/${app}`;
    if (keys.has(key)) problems.push(`${at}: ${key} duplicated (again at ${e.id})`);
    keys.add(key);
    const expected = entryFields(run, app, n);
    if (!expected.every((f, i) => f.equals(e.fields[i] as Buffer))) {
      problems.push(`${at}: ${e.id} (${key}) has other fields than written`);
    }
    const toTrimStream = app < trimAppendersCount(modes[run] ?? 'normal');
    const ownStream = toTrimStream === model.trimmed;
    const inFlightN = (model.ackedN.get(appKey) ?? -1) + 1;
    if (!ownStream || run >= modes.length || n > inFlightN) {
      problems.push(`${at}: ${e.id} (${key}) was never issued to this stream`);
    }
    const before = lastN.get(appKey);
    const hole = before === undefined ? !model.trimmed && n !== 0 : n !== before + 1;
    if (hole) problems.push(`${at}: ${key} at ${e.id} follows n=${before ?? 'none'}: a hole`);
    lastN.set(appKey, n);
    const known = model.durable.get(e.id.toString());
    if (known && known.key !== key) problems.push(`${at}: ${e.id} holds ${key}, not ${known.key}`);
  }
  problems.push(...checkDurable(model, log, entries));
  return problems;
}

/** Every acknowledged (or formerly recovered) entry that no trim removed must be present. */
function checkDurable(
  model: StreamModel,
  log: StreamLog,
  entries: Awaited<ReturnType<StreamLog['read']>>,
): string[] {
  const problems: string[] = [];
  const present = new Set(entries.map((e) => e.id.toString()));
  const firstLive = log.length === 0 ? log.lastId.next() : log.firstId;
  for (const [idText, known] of model.durable) {
    if (firstLive && known.id.compare(firstLive) < 0) continue;
    if (!present.has(idText)) problems.push(`stream ${model.name}: lost ${idText} (${known.key})`);
  }
  return problems;
}

/** Counters after recovery: consistent with the entries, never behind what was seen. */
function checkCounters(
  model: StreamModel,
  log: StreamLog,
  entries: Awaited<ReturnType<StreamLog['read']>>,
): string[] {
  const problems: string[] = [];
  const at = `stream ${model.name}`;
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (log.length !== entries.length) {
    problems.push(`${at}: length ${log.length} but ${entries.length} entries read`);
  }
  if (first && !first.id.equals(log.firstId)) problems.push(`${at}: firstId ${log.firstId}`);
  if (last && !last.id.equals(log.lastId))
    problems.push(`${at}: lastId ${log.lastId} vs ${last.id}`);
  if (log.lastId.compare(model.maxId) < 0) {
    problems.push(`${at}: lastId went back to ${log.lastId} from ${model.maxId}`);
  }
  if (log.entriesAdded < model.entriesAdded || log.entriesAdded < BigInt(log.length)) {
    problems.push(`${at}: entriesAdded ${log.entriesAdded} (was ${model.entriesAdded})`);
  }
  if (!model.trimmed && log.entriesAdded !== BigInt(log.length)) {
    problems.push(`${at}: untrimmed stream added ${log.entriesAdded} but holds ${log.length}`);
  }
  if (model.trimmed && log.length > TRIM_MAX_LEN) {
    problems.push(`${at}: length ${log.length} above MAXLEN ${TRIM_MAX_LEN}`);
  }
  return problems;
}

/** Folds a verified recovery into the model: what was seen is durable from now on. */
function learn(
  model: StreamModel,
  log: StreamLog,
  entries: Awaited<ReturnType<StreamLog['read']>>,
) {
  for (const e of entries) {
    const parsed = parseFields(e.fields);
    if (parsed) model.durable.set(e.id.toString(), { key: parsed.join('/'), id: e.id });
  }
  const horizon = log.length === 0 ? log.lastId : (log.firstId.prev() ?? StreamId.ZERO);
  model.trimmedThrough = StreamId.max(model.trimmedThrough, horizon);
  for (const [idText, known] of model.durable) {
    if (known.id.compare(model.trimmedThrough) <= 0) model.durable.delete(idText);
  }
  model.maxId = StreamId.max(model.maxId, log.lastId);
  model.entriesAdded = log.entriesAdded;
  model.lengthMax = Math.max(model.lengthMax, log.length);
}

interface Recovery {
  readonly problems: string[];
  readonly labels: string[];
  readonly entriesCount: number;
}

/** Opens the store after a kill, checks both streams and closes it again. */
async function verifyRecovery(
  dir: string,
  models: Map<string, StreamModel>,
  modes: readonly CrashMode[],
): Promise<Recovery> {
  const warnings: string[] = [];
  const logger: Logger = {
    info() {},
    warn: (msg) => warnings.push(msg),
    error: (msg) => warnings.push(msg),
  };
  const store = await Store.open(dir, {
    fsync: 'always',
    segmentBytes: SEGMENT_BYTES,
    onCorruption: 'refuse',
    logger,
  });
  const problems: string[] = [];
  const labels = [...store.reports.values()].flatMap((r) => r.labels);
  let entriesCount = 0;
  try {
    for (const model of models.values()) {
      const log = store.get(Buffer.from(model.name));
      if (!log) {
        problems.push(`stream ${model.name} is gone`);
        continue;
      }
      const entries = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
      entriesCount += entries.length;
      problems.push(...checkEntries(model, log, entries, modes));
      problems.push(...checkCounters(model, log, entries));
      learn(model, log, entries);
    }
  } finally {
    await store.close();
  }
  for (const w of warnings) {
    if (CORRUPTION_LABELS.some((c) => w.includes(c))) problems.push(`warning: ${w}`);
  }
  return { problems, labels, entriesCount };
}

describe('crash: kill -9 during appends, trims and checkpoints', () => {
  it('every acknowledged append survives each kill, in order, and new IDs stay above', async () => {
    const startedMs = Date.now();
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
    const random = makeRandom(seed);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-crash-'));
    const dir = path.join(tmp, 'data');
    const models = new Map([
      [STREAM_APPEND, new StreamModel(STREAM_APPEND, false)],
      [STREAM_TRIM, new StreamModel(STREAM_TRIM, true)],
    ]);
    const modes: CrashMode[] = [];
    const labelsSeen = new Map<string, number>();
    const killedAfterMs: number[] = [];
    let acksCount = 0;
    let verifiedCount = 0;
    for (let run = 0; run < KILLS_COUNT; run++) {
      // Every third run is trim-heavy: 14 of the 20 appenders trim, the trimmer never rests.
      const mode: CrashMode = run % 3 === 2 ? 'trim-heavy' : 'normal';
      modes.push(mode);
      const delayMs = KILL_DELAY_MIN_MS + random() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS);
      const result = await runUntilKilled(dir, run, mode, Math.round(delayMs));
      acksCount += result.acks.length;
      killedAfterMs.push(result.killedAfterMs);
      const problems = applyAcks(models, result.acks, run);
      const labels = [...result.labels];
      // Every fourth kill is left to the next child to recover, which then appends on top of
      // a crash recovery; the test checks that run's acknowledgements after the next kill.
      if (run % 4 !== 1) {
        const recovery = await verifyRecovery(dir, models, modes);
        labels.push(...recovery.labels);
        problems.push(...recovery.problems);
        verifiedCount++;
      }
      for (const l of labels) {
        labelsSeen.set(l, (labelsSeen.get(l) ?? 0) + 1);
        if (!ALLOWED_LABELS.has(l)) problems.push(`recovery label ${l}`);
      }
      expect(problems.slice(0, 20), `run ${run} (${mode}, seed ${seed})`).toEqual([]);
      expect(result.acks.length).toBeGreaterThan(0);
    }
    const trimModel = models.get(STREAM_TRIM) as StreamModel;
    expect(trimModel.entriesAdded).toBeGreaterThan(BigInt(TRIM_MAX_LEN));
    const trimHeavyCount = modes.filter((m) => m === 'trim-heavy').length;
    process.stderr.write(
      `crash test: seed ${seed}, ${KILLS_COUNT} kills (${trimHeavyCount} trim-heavy)` +
        ` ${Math.min(...killedAfterMs)}..${Math.max(...killedAfterMs)} ms after the ` +
        `first ack, ${verifiedCount} verified by the test, ${acksCount} acknowledged appends, ` +
        `${models.get(STREAM_APPEND)?.durable.size} entries in ${STREAM_APPEND}, ` +
        `${STREAM_TRIM} at most ${trimModel.lengthMax} long, ` +
        `labels ${JSON.stringify(Object.fromEntries(labelsSeen))}, ${Date.now() - startedMs} ms\n`,
    );
  }, 120_000);
});

// A crash image: the data directory copied at one instant while the store is open. A kill -9
// loses no written byte (the page cache survives it), so the copy is what a kill then leaves.
async function crashImage(dir: string, image: string): Promise<void> {
  await fs.cp(dir, image, { recursive: true, filter: (src) => path.basename(src) !== 'LOCK' });
}

/** Node's Io with two gates: one holds fdatasync, one holds writes of frames with a TRIM. */
class GatedIo {
  private syncGate: Promise<void> | null = null;
  private openSyncGate = () => {};
  private trimGate: Promise<void> | null = null;
  private openTrimGate = () => {};
  syncsHeld = 0;
  trimWritesHeld = 0;
  readonly io: Io = {
    ...nodeIo,
    fdatasync: async (fd) => {
      if (this.syncGate) {
        this.syncsHeld++;
        await this.syncGate;
      }
      return nodeIo.fdatasync(fd);
    },
    write: async (fd, buf, position) => {
      if (this.trimGate && holdsTrimRecord(buf)) {
        this.trimWritesHeld++;
        await this.trimGate;
      }
      return nodeIo.write(fd, buf, position);
    },
  };

  holdSyncs(): void {
    this.syncGate = new Promise((resolve) => (this.openSyncGate = resolve));
  }
  releaseSyncs(): void {
    this.syncGate = null;
    this.openSyncGate();
  }
  holdTrimWrites(): void {
    this.trimGate = new Promise((resolve) => (this.openTrimGate = resolve));
  }
  releaseTrimWrites(): void {
    this.trimGate = null;
    this.openTrimGate();
  }
}

/** Whether one of the frames in `buf` carries a TRIM record (kind 4, see records.ts). */
function holdsTrimRecord(buf: Buffer): boolean {
  for (
    let pos = 0;
    pos + 48 <= buf.length && buf.readUInt32LE(pos) > 0;
    pos += buf.readUInt32LE(pos)
  ) {
    const end = pos + buf.readUInt32LE(pos);
    for (let r = pos + 48; r + 5 <= end; r += 5 + buf.readUInt32LE(r)) {
      if (buf[r + 4] === 4) return true;
    }
  }
  return false;
}

async function until(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await done()) return;
    await sleep(1);
  }
  throw new Error(`timed out waiting until ${what}`);
}

const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

const plainEntry = (i: number) => ({
  id: new StreamId(BigInt(i), 0n),
  fields: [Buffer.from('i'), Buffer.from(String(i).padStart(100, '.'))],
});

describe('crash images: checkpoints and retention', () => {
  it('a checkpoint queued between appends covers only the appends drafted before it', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-crash-image-'));
    const store = await Store.open(path.join(tmp, 'data'), { fsync: 'always' });
    try {
      const log = await store.create(Buffer.from('s'));
      // Queued in one tick, so the writer takes all of them in one batch.
      await Promise.all([
        log.append(() => [plainEntry(1)]),
        log.checkpoint(),
        log.append(() => [plainEntry(2)]),
        log.append(() => [plainEntry(3)]),
      ]);
      await crashImage(path.join(tmp, 'data'), path.join(tmp, 'image'));
    } finally {
      await store.close();
    }
    const image = await Store.open(path.join(tmp, 'image'), { onCorruption: 'refuse' });
    try {
      const log = image.get(Buffer.from('s')) as StreamLog;
      expect(log.lastId.toString()).toBe('3-0');
      expect(log.length).toBe(3);
      expect(log.entriesAdded).toBe(3n);
      const all = await log.read(StreamId.ZERO, StreamId.MAX, 0, false);
      expect(all.map((e) => e.id.toString())).toEqual(['1-0', '2-0', '3-0']);
    } finally {
      await image.close();
    }
  });

  it('retention deletes no segment that a trim not yet durable would free', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-crash-image-'));
    const gated = new GatedIo();
    const dataDir = path.join(tmp, 'data');
    const store = await Store.open(dataDir, { fsync: 'always', segmentBytes: 4096, io: gated.io });
    const log = await store.create(Buffer.from('s'));
    let trimmed: Promise<number> | null = null;
    try {
      for (let i = 1; i <= 300; i++) await log.append(() => [plainEntry(i)]);
      expect(log.segments.length).toBeGreaterThan(6);
      const firstSegment = log.segments[0]?.path as string;
      // The checkpoint's batch waits in fdatasync while a trim is applied and queued.
      gated.holdSyncs();
      const checkpointed = log.checkpoint();
      await until('the checkpoint batch syncs', () => gated.syncsHeld > 0);
      gated.holdTrimWrites();
      trimmed = log.trim({ maxLen: 100, approx: false, limit: 0 });
      await until('the trim is applied', () => log.length === 100);
      gated.releaseSyncs();
      await checkpointed;
      await until('the trim write is held', () => gated.trimWritesHeld > 0);
      // Give retention time to run; it must wait for the trim to be durable.
      await sleep(200);
      expect(await exists(firstSegment)).toBe(true);
      await crashImage(dataDir, path.join(tmp, 'image'));
    } finally {
      gated.releaseSyncs();
      gated.releaseTrimWrites();
      await trimmed;
      await store.close();
    }
    const image = await Store.open(path.join(tmp, 'image'), { onCorruption: 'refuse' });
    try {
      const log = image.get(Buffer.from('s')) as StreamLog;
      expect(log.length).toBe(300);
      expect((await log.read(StreamId.ZERO, StreamId.MAX, 0, false)).length).toBe(300);
    } finally {
      await image.close();
    }
  });
});

describe('restarts without appends', () => {
  it('a store opened and closed with nothing appended restarts from its checkpoint', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-restart-'));
    const root = path.join(tmp, 'data');
    const reports = [];
    for (let round = 0; round < 4; round++) {
      const store = await Store.open(root, { fsync: 'always', onCorruption: 'refuse' });
      const log = store.get(Buffer.from('s')) ?? (await store.create(Buffer.from('s')));
      if (round === 0) await log.append(() => [plainEntry(1)]);
      else reports.push(store.reports.get('s'));
      expect(log.length).toBe(1);
      await store.close();
    }
    // Each close checkpoints the same last frame; no checkpoint may look ahead of the log.
    for (const report of reports) {
      expect(report).toMatchObject({ labels: [], fromCheckpoint: true, framesReplayed: 0 });
    }
  });
});
