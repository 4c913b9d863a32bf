// The data directory: layout, FORMAT, the exclusive LOCK and stream directory names.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DataDir,
  DataDirError,
  FORMAT_VERSION,
  fsyncDir,
  LOCK_SETTLE_MS,
  MAX_HEX_KEY_BYTES,
  openDataDir,
  streamDirName,
  streamKeyFromDirName,
  writeFileAtomic,
} from '../../storage/datadir';

let tmp: string;
let root: string;
const opened: DataDir[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-datadir-'));
  root = path.join(tmp, 'data');
});

afterEach(async () => {
  for (const dir of opened.splice(0)) await dir.release();
  for (const child of children.splice(0)) await killChild(child);
  await fs.rm(tmp, { recursive: true, force: true });
});

async function open(at = root): Promise<DataDir> {
  const dir = await openDataDir(at);
  opened.push(dir);
  return dir;
}

async function openError(at = root): Promise<DataDirError> {
  const err = await openDataDir(at).then(
    (dir) => {
      opened.push(dir);
      throw new Error(`open of ${at} succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataDirError);
  return err as DataDirError;
}

async function spawnLiveChild(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
    stdio: 'ignore',
  });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  if (child.pid === undefined) throw new Error('child has no pid');
  return child as ChildProcess & { pid: number };
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Waiting for exit reaps it: an unreaped zombie still answers kill(pid, 0).
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const read = (name: string) => fs.readFile(path.join(root, name), 'utf8');

describe('openDataDir', () => {
  it('FRESH: creates the root, FORMAT, LOCK, streams/ and journal/', async () => {
    const dir = await open();
    expect(dir.root).toBe(root);
    expect(dir.streamsDir).toBe(path.join(root, 'streams'));
    expect(dir.journalDir).toBe(path.join(root, 'journal'));
    expect((await fs.readdir(root)).sort()).toEqual(['FORMAT', 'LOCK', 'journal', 'streams']);
    expect((await fs.stat(dir.streamsDir)).isDirectory()).toBe(true);
    expect((await fs.stat(dir.journalDir)).isDirectory()).toBe(true);
    expect(dir.events.map((e) => e.label)).toEqual(['FRESH']);
  });

  it('FORMAT_OK: FORMAT is {"format":"sluice","version":1} and a reopen accepts it', async () => {
    await (await open()).release();
    expect(JSON.parse(await read('FORMAT'))).toEqual({ format: 'sluice', version: 1 });
    expect(FORMAT_VERSION).toBe(1);
    const again = await open();
    expect(again.events).toEqual([]);
    expect(JSON.parse(await read('FORMAT'))).toEqual({ format: 'sluice', version: 1 });
  });

  it('FORMAT_VERSION: another version is refused with a message naming the file', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'FORMAT'), '{"format":"sluice","version":2}\n');
    const err = await openError();
    expect(err.code).toBe('FORMAT');
    expect(err.message).toContain(path.join(root, 'FORMAT'));
    expect(err.message).toContain('version 2');
    expect(err.message).toContain('newer Sluice');
  });

  it('FORMAT_BAD: a FORMAT that is not JSON, foreign or unreadable is refused', async () => {
    await fs.mkdir(root);
    const formatPath = path.join(root, 'FORMAT');
    for (const text of ['not json', '{"format":"other","version":1}', 'null', '[1]']) {
      await fs.writeFile(formatPath, text);
      const err = await openError();
      expect(err.code).toBe('FORMAT');
      expect(err.message).toContain(formatPath);
    }
    await fs.rm(formatPath);
    await fs.mkdir(formatPath);
    const err = await openError();
    expect(err.code).toBe('FORMAT');
    expect(err.message).toContain(formatPath);
  });

  it('FORMAT_TMP_LEFTOVER: a leftover FORMAT.tmp is removed, with or without FORMAT', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'FORMAT.tmp'), '{"format":"sl');
    const first = await open();
    expect(first.events.map((e) => e.label)).toEqual(['FORMAT_TMP_LEFTOVER', 'FRESH']);
    await first.release();
    await fs.writeFile(path.join(root, 'FORMAT.tmp'), 'junk');
    const second = await open();
    expect(second.events.map((e) => e.label)).toEqual(['FORMAT_TMP_LEFTOVER']);
    expect(await fs.readdir(root)).not.toContain('FORMAT.tmp');
  });

  it('FORMAT_MISSING: files in streams/ without a FORMAT are refused', async () => {
    await fs.mkdir(path.join(root, 'streams', 'k-61'), { recursive: true });
    const err = await openError();
    expect(err.code).toBe('FORMAT');
    expect(err.message).toContain(path.join(root, 'FORMAT'));
  });

  it('a refused open leaves no LOCK behind and does not hold the root', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'FORMAT'), '{"format":"sluice","version":7}');
    await openError();
    expect(await fs.readdir(root)).toEqual(['FORMAT']);
    await fs.writeFile(path.join(root, 'FORMAT'), '{"format":"sluice","version":1}');
    await open();
  });

  it('a root that is a regular file fails with IO naming it', async () => {
    await fs.writeFile(root, 'x');
    const err = await openError();
    expect(err.code).toBe('IO');
    expect(err.message).toContain(root);
  });
});

describe('LOCK', () => {
  it('LOCK_FREE: LOCK holds the pid of the process that opened the directory', async () => {
    await open();
    expect(await read('LOCK')).toBe(`${process.pid}\n`);
  });

  it('LOCK_HELD: a second open in the same process is refused, whatever the spelling', async () => {
    await open();
    for (const spelling of [root, `${root}/`, path.join(root, '..', 'data')]) {
      const err = await openError(spelling);
      expect(err.code).toBe('LOCKED');
      expect(err.message).toContain('two brokers never open one directory');
    }
    await fs.symlink(root, path.join(tmp, 'link'));
    expect((await openError(path.join(tmp, 'link'))).code).toBe('LOCKED');
  });

  it('LOCK_HELD: of concurrent opens in one process exactly one wins', async () => {
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => openDataDir(root)));
    const won = results.filter((r) => r.status === 'fulfilled');
    for (const r of won) opened.push(r.value);
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as DataDirError).code).toBe('LOCKED');
    }
  });

  it('LOCK_HELD then LOCK_STALE: a live holder refuses; killed, its lock is taken', async () => {
    await (await open()).release();
    const child = await spawnLiveChild();
    await fs.writeFile(path.join(root, 'LOCK'), `${child.pid}\n`);
    const err = await openError();
    expect(err.code).toBe('LOCKED');
    expect(err.message).toContain(
      `data directory ${root} is locked by another Sluice process (pid ${child.pid}); ` +
        'two brokers never open one directory',
    );
    expect(await read('LOCK')).toBe(`${child.pid}\n`);

    await killChild(child);
    const dir = await open();
    expect(dir.events.map((e) => e.label)).toEqual(['LOCK_STALE']);
    expect(dir.events[0]?.message).toContain(`pid ${child.pid}`);
    expect(await read('LOCK')).toBe(`${process.pid}\n`);
  });

  it.runIf(process.platform === 'linux')(
    'LOCK_STALE: a LOCK of a process that exited but is not reaped yet (a zombie) is taken',
    async () => {
      await (await open()).release();
      // sh starts `sleep 0` in the background, prints its pid and becomes `sleep 30`, which
      // never waits for it: once it has exited it stays a zombie.
      const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(parent);
      const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      const pid = Number(line.toString().trim());
      const zombie = async () => {
        const stat = await fs.readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
        return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
      };
      for (let i = 0; i < 200 && !(await zombie()); i++) await sleep(10);
      expect(await zombie()).toBe(true);
      expect(() => process.kill(pid, 0)).not.toThrow(); // it still answers, as a live one does
      await fs.writeFile(path.join(root, 'LOCK'), `${pid}\n`);
      const dir = await open();
      expect(dir.events.map((e) => e.label)).toEqual(['LOCK_STALE']);
      expect(await read('LOCK')).toBe(`${process.pid}\n`);
    },
  );

  it('LOCK_STALE: a LOCK with this pid that this process does not hold is taken', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'LOCK'), `${process.pid}\n`);
    const dir = await open();
    expect(dir.events.map((e) => e.label)).toEqual(['LOCK_STALE', 'FRESH']);
  });

  it('LOCK_GARBAGE: a LOCK holding no pid is taken over', async () => {
    await fs.mkdir(root);
    for (const garbage of ['', 'garbage', '0\n', '-1\n', '12abc']) {
      const lockPath = path.join(root, 'LOCK');
      await fs.writeFile(lockPath, garbage);
      const old = new Date(Date.now() - 10 * LOCK_SETTLE_MS);
      await fs.utimes(lockPath, old, old);
      const dir = await openDataDir(root);
      expect(dir.events.map((e) => e.label)).toContain('LOCK_GARBAGE');
      expect(await read('LOCK')).toBe(`${process.pid}\n`);
      await dir.release();
    }
  });

  it('LOCK_GARBAGE: a fresh empty LOCK is not stolen from an opener still writing it', async () => {
    await fs.mkdir(root);
    const lockPath = path.join(root, 'LOCK');
    await fs.writeFile(lockPath, '');
    const child = await spawnLiveChild();
    const attempt = openDataDir(root).then(
      (dir) => {
        opened.push(dir);
        return 'opened';
      },
      (e: unknown) => (e as DataDirError).code,
    );
    await sleep(LOCK_SETTLE_MS / 4);
    await fs.writeFile(lockPath, `${child.pid}\n`);
    expect(await attempt).toBe('LOCKED');
  });

  it('a fresh empty LOCK that never gets a pid is taken once settled', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'LOCK'), '');
    const dir = await open();
    expect(dir.events.map((e) => e.label)).toContain('LOCK_GARBAGE');
  });

  it('release removes LOCK, is idempotent, and lets the directory be opened again', async () => {
    const dir = await openDataDir(root);
    await dir.release();
    await dir.release();
    expect(await fs.readdir(root)).not.toContain('LOCK');
    const again = await open();
    await dir.release();
    expect(await read('LOCK')).toBe(`${process.pid}\n`);
    await again.release();
    await again.release();
    expect(await fs.readdir(root)).not.toContain('LOCK');
  });

  it('release leaves a LOCK that names another process alone', async () => {
    const dir = await openDataDir(root);
    await fs.writeFile(path.join(root, 'LOCK'), '999999\n');
    await dir.release();
    expect(await read('LOCK')).toBe('999999\n');
  });
});

describe('streamDirName', () => {
  const hostile: Buffer[] = [
    Buffer.from('../x'),
    Buffer.from('a/b'),
    Buffer.from('..'),
    Buffer.from('.'),
    Buffer.from('/'),
    Buffer.from('a\\b'),
    Buffer.from('A'),
    Buffer.from('a'),
    Buffer.from('k-61'),
    Buffer.from([0]),
    Buffer.from([0, 0]),
    Buffer.from([0x61, 0, 0x62]),
    Buffer.from([0xff, 0xfe, 0x80]),
    Buffer.from([0xc3, 0x28]),
    Buffer.alloc(10 * 1024, 0x61),
    Buffer.concat([Buffer.alloc(10 * 1024 - 1, 0x61), Buffer.from('b')]),
    Buffer.alloc(0),
  ];

  it('names only contain [a-z0-9-], are distinct, and stay short for hostile keys', () => {
    const names = hostile.map(streamDirName);
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9-]+$/);
      expect(name.length).toBeLessThanOrEqual(130);
      expect(['.', '..']).not.toContain(name);
    }
    expect(new Set(names).size).toBe(hostile.length);
  });

  it('keys up to 100 bytes are k- and hex, longer keys are h- and a sha256', () => {
    expect(MAX_HEX_KEY_BYTES).toBe(100);
    expect(streamDirName(Buffer.alloc(0))).toBe('k-');
    expect(streamDirName(Buffer.from('ab'))).toBe('k-6162');
    expect(streamDirName(Buffer.from([0xff, 0x00]))).toBe('k-ff00');
    const atLimit = streamDirName(Buffer.alloc(100, 0xab));
    expect(atLimit).toBe(`k-${'ab'.repeat(100)}`);
    expect(atLimit.length).toBe(202);
    const overLimit = streamDirName(Buffer.alloc(101, 0xab));
    expect(overLimit).toMatch(/^h-[0-9a-f]{64}$/);
    expect(overLimit).not.toBe(streamDirName(Buffer.alloc(102, 0xab)));
  });

  it('names work as real directory names', async () => {
    await fs.mkdir(root);
    for (const key of hostile) await fs.mkdir(path.join(root, streamDirName(key)));
    expect(await fs.readdir(root)).toHaveLength(hostile.length);
  });

  it('streamKeyFromDirName gives back the key of a k- name and null otherwise', () => {
    for (const key of hostile.filter((k) => k.length <= MAX_HEX_KEY_BYTES)) {
      expect(streamKeyFromDirName(streamDirName(key))).toEqual(key);
    }
    const long = streamDirName(Buffer.alloc(101));
    for (const name of [long, 'k-6', 'k-GG', 'K-61', 'x', '', 'k-61/..']) {
      expect(streamKeyFromDirName(name)).toBeNull();
    }
  });
});

describe('writeFileAtomic and fsyncDir', () => {
  it('writeFileAtomic replaces the content and leaves no .tmp behind', async () => {
    const file = path.join(tmp, 'meta');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, Buffer.from('two'));
    expect(await fs.readFile(file, 'utf8')).toBe('two');
    expect(await fs.readdir(tmp)).toEqual(['meta']);
  });

  it('writeFileAtomic fails without creating anything when the directory is missing', async () => {
    await expect(writeFileAtomic(path.join(tmp, 'nope', 'meta'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('fsyncDir syncs an existing directory and fails on a missing one', async () => {
    await fsyncDir(tmp);
    await expect(fsyncDir(path.join(tmp, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
