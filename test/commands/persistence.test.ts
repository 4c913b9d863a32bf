// SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE and WAIT through the real table and dispatcher, on a
// broker whose I/O counts its fdatasync calls: under `fsync no` nothing is synced until SAVE
// asks, and then every stream log and the journal are. (Their replies and errors are compared
// with redis-server's in the conformance cases, server.cases.ts; SHUTDOWN is tested on a real
// process in test/resp/shutdown.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/commands/reply';
import { nodeIo, type Io } from '../../storage/io';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

/** nodeIo, counting fdatasync calls by the kind of file (segment, journal, other). */
class SyncCountingIo implements Io {
  readonly syncs = { seg: 0, journal: 0, other: 0 };
  private readonly paths = new Map<number, string>();
  open = async (p: string, flags: string) => {
    const fd = await nodeIo.open(p, flags);
    this.paths.set(fd, p);
    return fd;
  };
  close = (fd: number) => nodeIo.close(fd);
  read = nodeIo.read;
  write = nodeIo.write;
  writeSync = nodeIo.writeSync;
  ftruncate = nodeIo.ftruncate;
  fileSize = nodeIo.fileSize;
  fdatasync = (fd: number) => {
    const p = this.paths.get(fd) ?? '';
    if (p.endsWith('.seg')) this.syncs.seg++;
    else if (p.includes('journal')) this.syncs.journal++;
    else this.syncs.other++;
    return nodeIo.fdatasync(fd);
  };
}

const int = (v: number): Reply => ({ t: 'int', v });
const simple = (v: string): Reply => ({ t: 'simple', v });

let s: InProcessSluice | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('SAVE and BGSAVE', () => {
  it('SAVE fdatasyncs every stream log and the journal, whatever the policy', async () => {
    const io = new SyncCountingIo();
    s = await openSluice({ fsync: 'no', io });
    await s.call('XADD', 'a', '*', 'f', 'v');
    await s.call('XADD', 'b', '*', 'f', 'v');
    await s.call('RPUSH', 'q', 'x');
    const before = { ...io.syncs };
    expect(await s.call('SAVE')).toEqual(simple('OK'));
    expect(io.syncs.seg - before.seg).toBe(2);
    expect(io.syncs.journal - before.journal).toBeGreaterThanOrEqual(1);
    // Nothing written since: a second SAVE has nothing to sync.
    const after = { ...io.syncs };
    expect(await s.call('SAVE')).toEqual(simple('OK'));
    expect(io.syncs).toEqual(after);
  });

  it('BGSAVE answers at once and syncs in the background', async () => {
    const io = new SyncCountingIo();
    s = await openSluice({ fsync: 'no', io });
    await s.call('XADD', 'a', '*', 'f', 'v');
    const before = io.syncs.seg;
    expect(await s.call('BGSAVE')).toEqual(simple('Background saving started'));
    expect(await s.call('BGSAVE', 'SCHEDULE')).toEqual(simple('Background saving started'));
    await expect.poll(() => io.syncs.seg - before).toBeGreaterThanOrEqual(1);
  });

  it('LASTSAVE moves to the time of the last SAVE', async () => {
    s = await openSluice({ fsync: 'no' });
    const opened = await s.call('LASTSAVE');
    expect(opened.t).toBe('int');
    s.broker.lastSyncAllMs = 0;
    expect(await s.call('LASTSAVE')).toEqual(int(0));
    const t0 = Math.floor(Date.now() / 1000);
    await s.call('SAVE');
    const r = await s.call('LASTSAVE');
    expect(r.t === 'int' && Number(r.v)).toBeGreaterThanOrEqual(t0);
  });

  it('BGREWRITEAOF compacts the journal of lists into a new snapshot', async () => {
    s = await openSluice({ fsync: 'no' });
    await s.call('RPUSH', 'q', 'a', 'b', 'c');
    const before = s.broker.journal.stats().compactions;
    expect(await s.call('BGREWRITEAOF')).toEqual(
      simple('Background append only file rewriting started'),
    );
    await expect.poll(() => s?.broker.journal.stats().compactions).toBe(before + 1);
    expect(await s.call('LLEN', 'q')).toEqual(int(3));
  });
});

describe('WAIT (no replicas)', () => {
  it('WAIT 0 answers 0 at once; WAIT 1 waits out its timeout, then answers 0', async () => {
    s = await openSluice({ fsync: 'no' });
    expect(await s.call('WAIT', '0', '0')).toEqual(int(0));
    const t0 = Date.now();
    expect(await s.call('WAIT', '1', '120')).toEqual(int(0));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it('WAIT 1 0 waits until the client goes away, or up to the session cap', async () => {
    s = await openSluice({ fsync: 'no' });
    const ac = new AbortController();
    const waiting = s.callIn({ ...s.session(), abort: ac.signal }, 'WAIT', '1', '0');
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    ac.abort();
    expect(await waiting).toEqual(int(0));
    const t0 = Date.now();
    const capped = s.callIn({ ...s.session(), maxBlockMs: 30 }, 'WAIT', '1', '0');
    expect(await capped).toEqual(int(0));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });
});
