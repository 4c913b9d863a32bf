// The server commands through the real table and dispatcher: COMMAND generated from the rows
// (and every row's arity, flags and key positions checked against redis-server's COMMAND
// INFO), INFO's sections and the command statistics behind them, CONFIG's parameter store,
// OBJECT, MEMORY and FUNCTION, and INFO's keyspace_hits/misses against redis-server's.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildCommandTable } from '../../src/commands';
import type { Reply } from '../../src/commands/reply';
import { KeyspaceEvents } from '../../src/commands/keyspace-events';
import {
  aclCategories,
  bytesToHuman,
  formatKeyspaceEvents,
  parseKeyspaceEvents,
  serverConfigOf,
  type ServerInfoSource,
} from '../../src/commands/server';
import { CommandStats, ERROR_CODES_MAX } from '../../src/commands/stats';
import type { CommandRow } from '../../src/commands/table';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { RespClient } from '../helpers/resp-client';
import { openSluice, type InProcessSluice } from '../helpers/sluice';

const bulk = (v: string): Reply => ({ t: 'bulk', v: Buffer.from(v) });
const int = (v: number): Reply => ({ t: 'int', v });
const simple = (v: string): Reply => ({ t: 'simple', v });
const arr = (...v: Reply[]): Reply => ({ t: 'array', v });
const set = (...v: Reply[]): Reply => ({ t: 'set', v });
const err = (v: string) => expect.objectContaining({ t: 'error', v }) as Reply;
const OK = simple('OK');
const NIL: Reply = { t: 'null' };

let s: InProcessSluice;

beforeEach(async () => {
  s = await openSluice();
});
afterEach(async () => {
  await s.close();
});

/** A bulk reply's text. */
async function text(...args: string[]): Promise<string> {
  const r = await s.call(...args);
  if (r.t !== 'bulk') throw new Error(`expected a bulk reply, got ${JSON.stringify(r)}`);
  return r.v.toString('utf8');
}

/** INFO's fields as a map (section titles and blank lines dropped). */
async function infoFields(...sections: string[]): Promise<Map<string, string>> {
  const fields = new Map<string, string>();
  for (const line of (await text('INFO', ...sections)).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

async function configValue(name: string): Promise<string | undefined> {
  const r = await s.call('CONFIG', 'GET', name);
  if (r.t !== 'map') throw new Error('CONFIG GET answers a map');
  const value = r.v[0]?.[1];
  return value?.t === 'bulk' ? value.v.toString('latin1') : undefined;
}

function strings(r: Reply): string[] {
  if (r.t !== 'array' && r.t !== 'set') throw new Error(`not an array: ${JSON.stringify(r)}`);
  return r.v.map((x) => (x.t === 'bulk' || x.t === 'simple' ? x.v.toString() : '?'));
}

describe('COMMAND', () => {
  it('COMMAND COUNT counts the top-level rows', async () => {
    expect(await s.call('COMMAND', 'COUNT')).toEqual(int(buildCommandTable().size));
  });

  it('COMMAND with no arguments describes every top-level command, in table order', async () => {
    const r = await s.call('COMMAND');
    const names = r.t === 'array' ? r.v.map((e) => (e.t === 'array' ? e.v[0] : e)) : [];
    expect(names).toEqual([...buildCommandTable().all()].map((row) => bulk(row.name)));
    expect(await s.call('COMMAND', 'INFO')).toEqual(r);
  });

  it('COMMAND INFO: name, arity, flags, keys, categories, tips, key specs, subs', async () => {
    const r = await s.call('COMMAND', 'INFO', 'XLEN');
    const keySpec: Reply = {
      t: 'map',
      v: [
        [bulk('flags'), set(simple('RO'))],
        [
          bulk('begin_search'),
          {
            t: 'map',
            v: [
              [bulk('type'), bulk('index')],
              [bulk('spec'), { t: 'map', v: [[bulk('index'), int(1)]] }],
            ],
          },
        ],
        [
          bulk('find_keys'),
          {
            t: 'map',
            v: [
              [bulk('type'), bulk('range')],
              [
                bulk('spec'),
                {
                  t: 'map',
                  v: [
                    [bulk('lastkey'), int(0)],
                    [bulk('keystep'), int(1)],
                    [bulk('limit'), int(0)],
                  ],
                },
              ],
            ],
          },
        ],
      ],
    };
    expect(r).toEqual(
      arr(
        arr(
          bulk('xlen'),
          int(2),
          set(simple('readonly'), simple('fast')),
          int(1),
          int(1),
          int(1),
          set(simple('@read'), simple('@stream'), simple('@fast')),
          set(),
          set(keySpec),
          set(),
        ),
      ),
    );
  });

  it('COMMAND INFO of a container lists its subcommands in the same shape', async () => {
    const r = await s.call('COMMAND', 'INFO', 'config');
    const entry = r.t === 'array' ? r.v[0] : undefined;
    const subs = entry?.t === 'array' ? entry.v[9] : undefined;
    const names = subs?.t === 'array' ? subs.v.map((e) => (e.t === 'array' ? e.v[0] : e)) : [];
    expect(names).toEqual(
      ['get', 'set', 'resetstat', 'rewrite', 'help'].map((n) => bulk(`config|${n}`)),
    );
  });

  it('COMMAND INFO finds subcommands by full name; unknown names are null entries', async () => {
    const r = await s.call('COMMAND', 'INFO', 'config|get', 'nosuch', 'xgroup|nosuch');
    expect(r.t === 'array' && r.v.slice(1)).toEqual([NIL, NIL]);
    const first = r.t === 'array' ? r.v[0] : undefined;
    expect(first?.t === 'array' && first.v.slice(0, 6)).toEqual([
      bulk('config|get'),
      int(-3),
      set(simple('admin'), simple('noscript'), simple('loading'), simple('stale')),
      int(0),
      int(0),
      int(0),
    ]);
  });

  it('COMMAND INFO lists flags in Redis order whatever the row says', async () => {
    const r = await s.call('COMMAND', 'INFO', 'blmove');
    const entry = r.t === 'array' ? r.v[0] : undefined;
    const flags = entry?.t === 'array' ? strings(entry.v[2] as Reply) : [];
    const order = ['write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking'];
    expect(flags).toEqual([...flags].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
  });

  it('a pub/sub command names channels, not keys: its key spec says not_key', async () => {
    const r = await s.call('COMMAND', 'INFO', 'spublish');
    const entry = r.t === 'array' ? r.v[0] : undefined;
    const specs = entry?.t === 'array' ? entry.v[8] : undefined;
    const spec = specs?.t === 'set' ? specs.v[0] : undefined;
    expect(spec?.t === 'map' && spec.v[0]).toEqual([bulk('flags'), set(simple('not_key'))]);
    expect(await s.call('COMMAND', 'GETKEYS', 'spublish', 'ch', 'm')).toEqual(
      err('ERR The command has no key arguments'),
    );
  });

  it('COMMAND DOCS maps names to summary, since and group; unknown ones are left out', async () => {
    const row = buildCommandTable().get('xlen') as CommandRow;
    expect(await s.call('COMMAND', 'DOCS', 'XLEN', 'nosuch')).toEqual({
      t: 'map',
      v: [
        [
          bulk('xlen'),
          {
            t: 'map',
            v: [
              [bulk('summary'), bulk(row.summary)],
              [bulk('since'), bulk('5.0.0')],
              [bulk('group'), bulk('stream')],
            ],
          },
        ],
      ],
    });
  });

  it('COMMAND DOCS of a container holds its subcommands; no names: every command', async () => {
    const r = await s.call('COMMAND', 'DOCS', 'object');
    const doc = r.t === 'map' ? r.v[0]?.[1] : undefined;
    const subs =
      doc?.t === 'map'
        ? doc.v.find(([k]) => k.t === 'bulk' && `${k.v}` === 'subcommands')
        : undefined;
    expect(subs?.[1].t === 'map' && subs[1].v.map(([k]) => k)).toEqual(
      ['encoding', 'freq', 'idletime', 'refcount', 'help'].map((n) => bulk(`object|${n}`)),
    );
    const all = await s.call('COMMAND', 'DOCS');
    expect(all.t === 'map' && all.v.length).toBe(buildCommandTable().size);
  });

  it('COMMAND GETKEYS returns the keys of a call, subcommands and moving keys too', async () => {
    const keys = (...call: string[]) => s.call('COMMAND', 'GETKEYS', ...call);
    expect(await keys('del', 'a', 'b')).toEqual(arr(bulk('a'), bulk('b')));
    expect(await keys('XGROUP', 'CREATE', 's', 'g', '$')).toEqual(arr(bulk('s')));
    expect(await keys('blpop', 'a', 'b', '0')).toEqual(arr(bulk('a'), bulk('b')));
    expect(await keys('xread', 'STREAMS', 'a', 'b', '0', '0')).toEqual(arr(bulk('a'), bulk('b')));
  });

  it('COMMAND GETKEYS refuses unknown and keyless commands, bad arity, bad arguments', async () => {
    const keys = (...call: string[]) => s.call('COMMAND', 'GETKEYS', ...call);
    expect(await keys('nosuch', 'a')).toEqual(err('ERR Invalid command specified'));
    expect(await keys('xgroup', 'nosub', 'a')).toEqual(err('ERR Invalid command specified'));
    expect(await keys('ping', 'a')).toEqual(err('ERR The command has no key arguments'));
    expect(await keys('xlen', 'a', 'b')).toEqual(
      err('ERR Invalid number of arguments specified for command'),
    );
    expect(await keys('lmpop', '0', 'a', 'LEFT')).toEqual(
      err('ERR Invalid arguments specified for command'),
    );
    expect(await keys('xlen')).toEqual(
      err("ERR wrong number of arguments for 'command|getkeys' command"),
    );
  });

  it('COMMAND GETKEYSANDFLAGS tells keys read from keys written', async () => {
    expect(await s.call('COMMAND', 'GETKEYSANDFLAGS', 'lmove', 'a', 'b', 'LEFT', 'LEFT')).toEqual(
      arr(arr(bulk('a'), set(simple('RW'))), arr(bulk('b'), set(simple('RW')))),
    );
    expect(await s.call('COMMAND', 'GETKEYSANDFLAGS', 'xlen', 'a')).toEqual(
      arr(arr(bulk('a'), set(simple('RO')))),
    );
  });

  it('COMMAND LIST lists commands, each followed by its subcommands', async () => {
    const names = strings(await s.call('COMMAND', 'LIST'));
    const table = buildCommandTable();
    const expected = [...table.all()].flatMap((r) => [
      r.name,
      ...(r.subcommands ?? []).map((x) => x.name),
    ]);
    expect(names).toEqual(expected);
  });

  it('COMMAND LIST FILTERBY PATTERN, ACLCAT and MODULE', async () => {
    const list = async (...f: string[]) =>
      strings(await s.call('COMMAND', 'LIST', 'FILTERBY', ...f));
    expect(await list('PATTERN', 'XGROUP*')).toEqual([
      'xgroup',
      ...['create', 'setid', 'destroy', 'createconsumer', 'delconsumer', 'help'].map(
        (n) => `xgroup|${n}`,
      ),
    ]);
    const streams = await list('aclcat', 'STREAM');
    expect(streams).toContain('xgroup|create');
    expect(streams).not.toContain('xgroup');
    expect(streams).not.toContain('lpush');
    expect(await list('ACLCAT', 'dangerous')).toEqual(
      expect.arrayContaining(['keys', 'flushall', 'info', 'config|set']),
    );
    expect(await list('MODULE', 'x')).toEqual([]);
    expect(await s.call('COMMAND', 'LIST', 'FILTERBY', 'NAME', 'x')).toEqual(
      err('ERR syntax error'),
    );
  });

  it('COMMAND HELP; an unknown subcommand points to it', async () => {
    const help = strings(await s.call('COMMAND', 'HELP'));
    expect(help[0]).toBe('COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help.at(-1)).toBe('    Prints this help.');
    expect(await s.call('COMMAND', 'nope')).toEqual(
      err("ERR unknown subcommand 'nope'. Try COMMAND HELP."),
    );
  });
});

describe('ACL categories', () => {
  const row = (name: string) => {
    const table = buildCommandTable();
    return (table.get(name) ?? table.sub(name)) as CommandRow;
  };

  it('follow from the group and the flags: @slow unless @fast', () => {
    expect(aclCategories(row('xadd'))).toEqual(['write', 'stream', 'fast']);
    expect(aclCategories(row('blpop'))).toEqual(['write', 'list', 'slow', 'blocking']);
    expect(aclCategories(row('config|set'))).toEqual(['admin', 'slow', 'dangerous']);
  });

  it('a container has only the categories its flags and its own entry give', () => {
    expect(aclCategories(row('xgroup'))).toEqual(['slow']);
    expect(aclCategories(row('command'))).toEqual(['slow', 'connection']);
    expect(aclCategories(row('command|docs'))).toEqual(['slow', 'connection']);
  });
});

describe('INFO', () => {
  const DEFAULT_TITLES = [
    ...['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU'],
    ...['Modules', 'Errorstats', 'Cluster', 'Keyspace'],
  ];
  const titles = (info: string) => info.split('\r\n').filter((l) => l.startsWith('# '));

  it('default sections come in Redis order, a blank line between them, CRLF lines', async () => {
    const info = await text('INFO');
    expect(titles(info)).toEqual(DEFAULT_TITLES.map((t) => `# ${t}`));
    expect(info.startsWith('# Server\r\nredis_version:7.0.15\r\n')).toBe(true);
    expect(info).toContain('\r\n\r\n# Clients\r\n');
    expect(info.endsWith('\r\n')).toBe(true);
    expect(info.replace(/\r\n/g, '')).not.toContain('\n');
    expect(await text('INFO', 'default')).toEqual(expect.stringContaining('# Keyspace'));
  });

  it('section names are case-insensitive, repeats count once, unknown ones add none', async () => {
    expect(titles(await text('INFO', 'KEYSPACE', 'Server', 'server', 'nope'))).toEqual([
      '# Server',
      '# Keyspace',
    ]);
    expect(await text('INFO', 'nope')).toBe('');
  });

  it('all and everything add Commandstats', async () => {
    for (const word of ['all', 'EVERYTHING']) {
      expect(titles(await text('INFO', word))).toContain('# Commandstats');
    }
    expect(titles(await text('INFO'))).not.toContain('# Commandstats');
  });

  it('Server reports the Redis version clients check, and Sluice version and process', async () => {
    const f = await infoFields('server');
    expect(f.get('redis_version')).toBe('7.0.15');
    expect(f.get('sluice_version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.get('redis_mode')).toBe('standalone');
    expect(f.get('process_id')).toBe(String(process.pid));
    expect(f.get('run_id')).toMatch(/^[0-9a-f]{40}$/);
    expect(f.get('hz')).toBe('10');
    expect(f.get('tcp_port')).toBe('0');
    expect(Number(f.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(0);
  });

  it('connection figures come from the info source the RESP server sets', async () => {
    const source: ServerInfoSource = {
      tcpPort: 6390,
      connectedClients: () => 3,
      totalConnections: () => 7,
      pubsubClients: () => 1,
      bindAddress: '127.0.0.1',
    };
    s.dispatcher.serverInfo = source;
    const f = await infoFields('server', 'clients', 'stats');
    expect([f.get('tcp_port'), f.get('connected_clients'), f.get('pubsub_clients')]).toEqual([
      '6390',
      '3',
      '1',
    ]);
    expect(f.get('total_connections_received')).toBe('7');
    expect(await configValue('port')).toBe('6390');
    expect(await configValue('bind')).toBe('127.0.0.1');
  });

  it('blocked_clients counts commands waiting for data', async () => {
    const waiting = s.callIn(s.session(), 'BLPOP', 'q', '0');
    await new Promise((r) => setTimeout(r, 20));
    expect((await infoFields('clients')).get('blocked_clients')).toBe('1');
    await s.call('RPUSH', 'q', 'x');
    await waiting;
    expect((await infoFields('clients')).get('blocked_clients')).toBe('0');
  });

  it('Persistence: always journaled, with the fsync policy and journal figures', async () => {
    await s.call('RPUSH', 'l', 'a', 'b');
    const f = await infoFields('persistence');
    expect(f.get('aof_enabled')).toBe('1');
    expect(f.get('loading')).toBe('0');
    expect(f.get('aof_last_write_status')).toBe('ok');
    expect(f.get('sluice_fsync')).toBe('no');
    expect(Number(f.get('rdb_changes_since_last_save'))).toBeGreaterThan(0);
    expect(Number(f.get('sluice_journal_log_bytes'))).toBeGreaterThan(0);
  });

  it('Memory reports the process size and maxmemory', async () => {
    const f = await infoFields('memory');
    expect(Number(f.get('used_memory'))).toBeGreaterThan(0);
    expect(f.get('used_memory_human')).toMatch(/^\d+\.\d\d[KMG]$/);
    expect(f.get('maxmemory')).toBe('0');
    expect(f.get('maxmemory_policy')).toBe('noeviction');
  });

  it('Keyspace lists each database holding keys', async () => {
    const other = { ...s.session(), db: 3 };
    await s.call('XADD', 's', '1-1', 'f', 'v');
    await s.call('RPUSH', 'l', 'a');
    await s.callIn(other, 'RPUSH', 'l', 'a');
    expect(await text('INFO', 'keyspace')).toBe(
      '# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n',
    );
  });

  it('Stats: commands processed, error replies, pub/sub counts', async () => {
    await s.call('PING');
    await s.call('XLEN', 'a', 'b');
    const f = await infoFields('stats');
    expect(f.get('total_commands_processed')).toBe('1');
    expect(f.get('total_error_replies')).toBe('1');
    expect(f.get('pubsub_channels')).toBe('0');
    expect(f.get('keyspace_hits')).toBe('0');
  });
});

describe('INFO commandstats and errorstats', () => {
  async function cmdstat(name: string): Promise<string | undefined> {
    return (await infoFields('commandstats')).get(`cmdstat_${name}`);
  }

  it('counts calls and their time, subcommands under their full name', async () => {
    await s.call('XADD', 's', '1-1', 'f', 'v');
    await s.call('XADD', 's', '2-1', 'f', 'v');
    await s.call('XGROUP', 'CREATE', 's', 'g', '0');
    expect(await cmdstat('xadd')).toMatch(
      /^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/,
    );
    expect(await cmdstat('xgroup|create')).toMatch(/^calls=1,/);
  });

  it('an error reply is a failed call, and counted by its code', async () => {
    await s.call('XADD', 's', '1-1', 'f', 'v');
    await s.call('XADD', 's', '1-1', 'f', 'v');
    await s.call('RPUSH', 's', 'x');
    expect(await cmdstat('xadd')).toMatch(/^calls=2,.*,rejected_calls=0,failed_calls=1$/);
    expect(await cmdstat('rpush')).toMatch(/^calls=1,.*failed_calls=1$/);
    const errors = await infoFields('errorstats');
    expect([...errors]).toEqual([
      ['errorstat_ERR', 'count=1'],
      ['errorstat_WRONGTYPE', 'count=1'],
    ]);
  });

  it('an arity error is a rejected call of the command, not a call', async () => {
    await s.call('XLEN');
    await s.call('XGROUP', 'CREATE', 's');
    await s.call('XGROUP');
    expect(await cmdstat('xlen')).toBe(
      'calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0',
    );
    expect(await cmdstat('xgroup|create')).toMatch(/^calls=0,.*rejected_calls=1,/);
    expect(await cmdstat('xgroup')).toMatch(/^calls=0,.*rejected_calls=1,/);
    expect((await infoFields('errorstats')).get('errorstat_ERR')).toBe('count=3');
  });

  it('an unknown command or subcommand counts only in errorstats', async () => {
    await s.call('NOSUCH', 'x');
    await s.call('XGROUP', 'NOSUB', 'x');
    const stats = await infoFields('commandstats');
    expect([...stats.keys()].filter((k) => k !== 'cmdstat_info')).toEqual([]);
    expect((await infoFields('errorstats')).get('errorstat_ERR')).toBe('count=2');
    expect((await infoFields('stats')).get('total_commands_processed')).toBe('2');
  });

  it('CONFIG RESETSTAT clears commands, errors and totals', async () => {
    await s.call('XLEN', 's');
    await s.call('NOSUCH');
    expect(await s.call('CONFIG', 'RESETSTAT')).toEqual(OK);
    const stats = await infoFields('commandstats');
    expect([...stats.keys()]).toEqual(['cmdstat_config|resetstat']);
    expect(stats.get('cmdstat_config|resetstat')).toMatch(/^calls=1,/);
    expect(await text('INFO', 'errorstats')).toBe('# Errorstats\r\n');
    expect((await infoFields('stats')).get('total_commands_processed')).toBe('3');
  });
});

describe('CommandStats', () => {
  it('instantaneous ops per second is the count of the last whole second', () => {
    const stats = new CommandStats();
    for (const t of [1000, 1100, 1900]) stats.record('ping', 1, null, t);
    expect(stats.opsPerSecond(1950)).toBe(0);
    expect(stats.opsPerSecond(2500)).toBe(3);
    stats.record('ping', 1, null, 2100);
    expect(stats.opsPerSecond(2200)).toBe(3);
    expect(stats.opsPerSecond(3100)).toBe(1);
    expect(stats.opsPerSecond(4100)).toBe(0);
  });

  it('tracks at most ERROR_CODES_MAX error codes; later ones count only in the total', () => {
    const stats = new CommandStats();
    for (let i = 0; i <= ERROR_CODES_MAX; i++) stats.reject(null, `E${i}`);
    expect(stats.errorEntries()).toHaveLength(ERROR_CODES_MAX);
    expect(stats.totalErrorReplies).toBe(ERROR_CODES_MAX + 1);
    stats.reject(null, 'E0');
    expect(stats.errorEntries().find(([c]) => c === 'E0')).toEqual(['E0', 2]);
  });
});

describe('CONFIG GET', () => {
  it('answers a map in RESP3 and a flat array in RESP2', async () => {
    expect(await s.call('CONFIG', 'GET', 'maxmemory')).toEqual({
      t: 'map',
      v: [[bulk('maxmemory'), bulk('0')]],
    });
  });

  it('a name is answered as typed; a glob matches case-insensitively; each once', async () => {
    const r = await s.call('CONFIG', 'GET', 'HZ', 'h*', 'nosuch', 'TIME*');
    expect(r).toEqual({
      t: 'map',
      v: [
        [bulk('HZ'), bulk('10')],
        [bulk('timeout'), bulk('0')],
      ],
    });
  });

  it('appendfsync and fsync report the broker fsync policy; databases its count', async () => {
    expect(await configValue('appendfsync')).toBe('no');
    expect(await configValue('fsync')).toBe('no');
    expect(await configValue('databases')).toBe('16');
    expect(await configValue('dir')).toBe(s.broker.store.dataDir.root);
    expect(await configValue('appendonly')).toBe('yes');
    expect(await configValue('save')).toBe('');
  });
});

describe('CONFIG SET', () => {
  it('stores values as CONFIG GET shows them', async () => {
    expect(
      await s.call('CONFIG', 'SET', 'maxmemory', '2GB', 'HZ', '900', 'loglevel', 'WARNING'),
    ).toEqual(OK);
    expect(await configValue('maxmemory')).toBe(String(2 * 1024 ** 3));
    expect(await configValue('hz')).toBe('500');
    expect(await configValue('loglevel')).toBe('warning');
    expect((await infoFields('server')).get('hz')).toBe('500');
  });

  it('changes nothing when one value is bad', async () => {
    expect(await s.call('CONFIG', 'SET', 'timeout', '5', 'maxmemory', 'lots')).toEqual(
      err(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be " +
          'a memory value',
      ),
    );
    expect(await configValue('timeout')).toBe('0');
  });

  it('refuses the parameters that are Sluice state', async () => {
    expect(await s.call('CONFIG', 'SET', 'appendfsync', 'always')).toEqual(
      err(
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - can't set " +
          'immutable config',
      ),
    );
    const r = await s.call('CONFIG', 'SET', 'requirepass', 'secret');
    expect(r.t === 'error' && r.v).toContain('--token');
    expect(await configValue('requirepass')).toBe('');
  });

  it('notify-keyspace-events is read back normalised and as flags', async () => {
    expect(await s.call('CONFIG', 'SET', 'notify-keyspace-events', 'Elg')).toEqual(OK);
    expect(await configValue('notify-keyspace-events')).toBe('glE');
    const flags = s.dispatcher.config.keyspaceEvents;
    expect(flags).toBe(KeyspaceEvents.keyevent | KeyspaceEvents.list | KeyspaceEvents.generic);
    expect(serverConfigOf(s.broker)?.keyspaceEvents).toBe(flags);
    await s.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    expect(s.dispatcher.config.keyspaceEvents).toBe(0);
  });

  it('CONFIG REWRITE answers OK: the command line is the configuration', async () => {
    expect(await s.call('CONFIG', 'REWRITE')).toEqual(OK);
  });

  it('CONFIG HELP lists GET, SET, RESETSTAT and REWRITE', async () => {
    const help = strings(await s.call('CONFIG', 'HELP'));
    expect(help.filter((l) => !l.startsWith(' '))).toEqual([
      'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'GET <pattern>',
      'SET <directive> <value>',
      'RESETSTAT',
      'REWRITE',
      'HELP',
    ]);
  });
});

describe('keyspace event classes', () => {
  it.each([
    ['KEA', 'AKE'],
    ['AKEmn', 'AKEm'],
    ['g$lshzxetd', 'A'],
    ['mEdK', 'dKEm'],
    ['', ''],
    ['tx', 'xt'],
    ['KEn', 'nKE'],
    ['Egn', 'gnE'],
  ])('%s is written back as %s', (given, shown) => {
    expect(formatKeyspaceEvents(parseKeyspaceEvents(given) as number)).toBe(shown);
  });

  it('an unknown character makes the whole value invalid', () => {
    expect(parseKeyspaceEvents('KZ')).toBeNull();
  });
});

describe('bytesToHuman', () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1.00K'],
    [1536, '1.50K'],
    [1024 ** 2 * 3.5, '3.50M'],
    [1024 ** 3, '1.00G'],
    [(1n << 64n) - 1n, '18446744073709551615B'],
  ])('%s is %s', (n, shown) => {
    expect(bytesToHuman(n)).toBe(shown);
  });
});

describe('OBJECT', () => {
  it('ENCODING: stream for streams, quicklist for lists, null for a missing key', async () => {
    await s.call('XADD', 's', '1-1', 'f', 'v');
    await s.call('RPUSH', 'l', 'a');
    expect(await s.call('OBJECT', 'ENCODING', 's')).toEqual(bulk('stream'));
    expect(await s.call('OBJECT', 'encoding', 'l')).toEqual(bulk('quicklist'));
    expect(await s.call('OBJECT', 'ENCODING', 'nosuch')).toEqual(NIL);
  });

  it('looks the key up in the session database', async () => {
    await s.callIn({ ...s.session(), db: 2 }, 'RPUSH', 'l', 'a');
    expect(await s.call('OBJECT', 'ENCODING', 'l')).toEqual(NIL);
    expect(await s.callIn({ ...s.session(), db: 2 }, 'OBJECT', 'ENCODING', 'l')).toEqual(
      bulk('quicklist'),
    );
  });

  it('FREQ needs an LFU policy; IDLETIME answers 0 unless one is set; REFCOUNT is 1', async () => {
    await s.call('RPUSH', 'l', 'a');
    const freq = await s.call('OBJECT', 'FREQ', 'l');
    expect(freq.t === 'error' && freq.v).toMatch(/^ERR An LFU maxmemory policy is not selected/);
    expect(await s.call('OBJECT', 'IDLETIME', 'l')).toEqual(int(0));
    expect(await s.call('OBJECT', 'REFCOUNT', 'l')).toEqual(int(1));
    await s.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lfu');
    expect(await s.call('OBJECT', 'FREQ', 'l')).toEqual(int(0));
    const idle = await s.call('OBJECT', 'IDLETIME', 'l');
    expect(idle.t === 'error' && idle.v).toMatch(/^ERR An LFU maxmemory policy is selected/);
  });
});

describe('FUNCTION', () => {
  it('FLUSH takes nothing, SYNC or ASYNC and empties nothing', async () => {
    for (const mode of [[], ['SYNC'], ['async']]) {
      expect(await s.call('FUNCTION', 'FLUSH', ...mode)).toEqual(OK);
    }
    expect(await s.call('FUNCTION', 'FLUSH', 'LATER')).toEqual(
      err('ERR FUNCTION FLUSH only supports SYNC|ASYNC option'),
    );
  });

  it('LIST is empty; its options are checked', async () => {
    expect(await s.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'x*', 'WITHCODE')).toEqual(arr());
    expect(await s.call('FUNCTION', 'LIST', 'LIBRARYNAME')).toEqual(
      err('ERR library name argument was not given'),
    );
    expect(await s.call('FUNCTION', 'LIST', 'x')).toEqual(err('ERR Unknown argument x'));
  });

  it('HELP lists what Sluice has', async () => {
    const help = strings(await s.call('FUNCTION', 'HELP'));
    expect(help.filter((l) => !l.startsWith(' '))).toEqual([
      'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
      'FLUSH [ASYNC|SYNC]',
      'HELP',
    ]);
  });
});

/**
 * Rows whose flags differ from redis-server's (comparing only flags a row can carry): bugs in
 * those rows' files, listed so the comparison stays exact. Fix the row, then drop its entry.
 */
const KNOWN_FLAG_DIFFERENCES: Record<string, string> = {};
/** Rows whose ACL categories differ: Redis's command files say what group and flags cannot. */
const KNOWN_CATEGORY_DIFFERENCES: Record<string, string> = {
  'pubsub|help': 'redis: @slow only',
  client: 'redis: @slow only (a container)',
};

/** The flags a CommandRow can carry: Redis flags outside them (skip_slowlog...) are skipped. */
const ROW_FLAGS = new Set([
  ...['write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading'],
  ...['stale', 'fast', 'no_auth', 'may_replicate', 'movablekeys', 'allow_busy'],
]);

interface InfoHead {
  readonly arityAndKeys: string;
  readonly flags: string;
  readonly categories: string;
}

/** COMMAND INFO's name, arity and key positions, its flags and its categories, as text. */
function infoHead(reply: Reply): InfoHead | null {
  const entry = reply.t === 'array' ? reply.v[0] : undefined;
  if (entry?.t !== 'array') return null;
  const n = (i: number) => {
    const r = entry.v[i];
    return r?.t === 'int' ? String(r.v) : '?';
  };
  const [name] = strings(arr(entry.v[0] as Reply));
  return {
    arityAndKeys: `${name} arity ${n(1)} keys ${n(3)},${n(4)},${n(5)}`,
    flags: strings(entry.v[2] as Reply)
      .filter((f) => ROW_FLAGS.has(f))
      .join(','),
    categories: strings(entry.v[6] as Reply).join(','),
  };
}

describe('COMMAND INFO matches redis-server for every row', () => {
  let redis: RedisServer;
  let client: RespClient;
  /** Per row and subcommand: [name, redis-server's head, Sluice's]. */
  const compared: [string, InfoHead | null, InfoHead | null][] = [];

  beforeAll(async () => {
    redis = await startRedis();
    client = await RespClient.connect(redis.port);
    const sluice = await openSluice();
    try {
      const table = buildCommandTable();
      for (const row of [...table.all()].flatMap((r) => [r, ...(r.subcommands ?? [])])) {
        const theirs = infoHead(await client.call('COMMAND', 'INFO', row.name));
        compared.push([row.name, theirs, infoHead(await sluice.call('COMMAND', 'INFO', row.name))]);
      }
    } finally {
      await sluice.close();
    }
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  /** Rows where `field` differs, each with both values. */
  function differing(field: keyof InfoHead): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, theirs, ours] of compared) {
      if (theirs && ours && theirs[field] !== ours[field]) {
        out[name] = `redis [${theirs[field]}] | sluice [${ours[field]}]`;
      }
    }
    return out;
  }

  it('every row is a redis-server command', () => {
    expect(compared.length).toBeGreaterThan(50);
    expect(compared.filter(([, theirs]) => theirs === null).map(([name]) => name)).toEqual([]);
  });

  it('arity, first key, last key and step agree for every row', () => {
    expect(differing('arityAndKeys')).toEqual({});
  });

  it('flags agree, but for the rows known to differ', () => {
    const found = differing('flags');
    const message = `flags differ: ${JSON.stringify(found, null, 2)}`;
    expect(Object.keys(found).sort(), message).toEqual(Object.keys(KNOWN_FLAG_DIFFERENCES).sort());
  });

  it('ACL categories agree, but for the rows known to differ', () => {
    const found = differing('categories');
    const message = `categories differ: ${JSON.stringify(found, null, 2)}`;
    expect(Object.keys(found).sort(), message).toEqual(
      Object.keys(KNOWN_CATEGORY_DIFFERENCES).sort(),
    );
  });
});

describe('MEMORY', () => {
  const usage = async (...args: string[]): Promise<number> => {
    const r = await s.call('MEMORY', 'USAGE', ...args);
    if (r.t !== 'int') throw new Error(`MEMORY USAGE answered ${JSON.stringify(r)}`);
    return Number(r.v);
  };

  it("USAGE of a list follows its values' bytes; SAMPLES 0 measures every value", async () => {
    await s.call('RPUSH', 'l', ...Array.from({ length: 1000 }, () => 'x'.repeat(100)));
    const thousand = await usage('l');
    expect(thousand).toBeGreaterThan(1000 * 100);
    expect(thousand).toBeLessThan(1000 * 200);
    // 640 short values first (the default samples 5 x 128 of them), then 1,000 long ones.
    await s.call('LPUSH', 'm', ...Array.from({ length: 640 }, () => 'y'));
    await s.call('RPUSH', 'm', ...Array.from({ length: 1000 }, () => 'z'.repeat(1000)));
    const sampled = await usage('m');
    const all = await usage('m', 'SAMPLES', '0');
    expect(all).toBeGreaterThan(1000 * 1000);
    expect(sampled).toBeLessThan(all / 10);
    expect(await usage('m', 'SAMPLES', '20')).toBe(all); // 2,560 values measured: all of them
  });

  it('USAGE of a stream counts its groups and pending entries, not entries on disk', async () => {
    for (let i = 1; i <= 500; i++) await s.call('XADD', 's', `${i}-1`, 'f', 'v'.repeat(100));
    const entries = await usage('s');
    expect(entries).toBeLessThan(10_000);
    await s.call('XGROUP', 'CREATE', 's', 'g', '0');
    await s.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '500', 'STREAMS', 's', '>');
    expect(await usage('s')).toBeGreaterThanOrEqual(entries + 500 * 58);
  });

  it('DOCTOR answers what Redis does with nothing to report, as verbatim text', async () => {
    const r = await s.call('MEMORY', 'DOCTOR');
    expect(r).toMatchObject({ t: 'bulk', verbatim: 'txt' });
    expect(r.t === 'bulk' && r.v.toString()).toMatch(/^Hi Sam, I can't find any memory issue/);
  });

  it("STATS has redis-server 7.0's fields in its order, a db.N map per database used", async () => {
    const keysOf = (r: Reply): string[] => {
      if (r.t !== 'map') throw new Error(`MEMORY STATS answered ${JSON.stringify(r)}`);
      return r.v.map(([k]) => (k.t === 'bulk' ? k.v.toString() : '?'));
    };
    const redis = await startRedis();
    const client = await RespClient.connect(redis.port, { resp: 3 });
    try {
      for (const c of [client, s]) await c.call('XADD', 'k', '1-1', 'f', 'v');
      await client.call('SELECT', '3');
      await client.call('RPUSH', 'l', 'a');
      await s.callIn({ ...s.session(), db: 3 }, 'RPUSH', 'l', 'a');
      const theirs = await client.call('MEMORY', 'STATS');
      const ours = await s.call('MEMORY', 'STATS');
      expect(keysOf(ours)).toEqual(keysOf(theirs));
      expect(keysOf(ours)).toContain('db.3');
      const field = (name: string) =>
        ours.t === 'map'
          ? ours.v.find(([k]) => k.t === 'bulk' && k.v.toString() === name)?.[1]
          : null;
      expect(field('keys.count')).toEqual(int(2));
      // The resident set as INFO's used_memory has it (it moves a little between two readings).
      const total = field('total.allocated');
      const rss = process.memoryUsage().rss;
      expect(total?.t === 'int' && Math.abs(Number(total.v) - rss) / rss).toBeLessThan(0.1);
    } finally {
      await client.close();
      await redis.stop();
    }
  });
});

describe('INFO keyspace_hits and keyspace_misses', () => {
  // After each command, how much each counter moved, on redis-server 7.0 and on Sluice.
  const SCRIPT = [
    'LLEN l',
    'LLEN nol',
    'LRANGE l 0 -1',
    'LRANGE nol 0 -1',
    'LRANGE l x y',
    'LRANGE s 0 1',
    'LINDEX l 0',
    'LINDEX nol 0',
    'LPOS l a',
    'LPOS nol a',
    'LPOS l a RANK 0',
    'XLEN s',
    'XLEN nos',
    'XLEN l',
    'XRANGE s - +',
    'XRANGE nos - +',
    'XRANGE s x +',
    'XREVRANGE s + -',
    'XREAD STREAMS s 0',
    'XREAD STREAMS s nos 0 0',
    'XREAD STREAMS l s 0 0',
    'XREAD COUNT 1 STREAMS s $',
    'XREADGROUP GROUP g c STREAMS s >',
    'XREADGROUP GROUP g c STREAMS s 0',
    'XREADGROUP GROUP nog c STREAMS s >',
    'XPENDING s g',
    'XPENDING nos g',
    'XPENDING s g - + 10',
    'XPENDING s g x + 10',
    'XINFO STREAM s',
    'XINFO STREAM nos',
    'XINFO GROUPS s',
    'XINFO CONSUMERS s g',
    'XINFO STREAM s FULL',
    'XINFO STREAM l',
    'TYPE s',
    'TYPE nos',
    'EXISTS s l nos',
    'OBJECT ENCODING s',
    'OBJECT ENCODING nos',
    'OBJECT REFCOUNT l',
    'XACK s g 1-1',
    'XACK nos g 1-1',
    'XCLAIM s g c 0 1-1',
    'XCLAIM nos g c 0 1-1',
    'XAUTOCLAIM s g c 0 0',
    'XAUTOCLAIM nos g c 0 0',
    'XAUTOCLAIM s g c x 0',
    'SCAN 0',
    'SCAN 0 TYPE list',
    'SCAN 0 MATCH s* TYPE stream',
    'KEYS *',
    'DBSIZE',
    'LPUSH l x',
    'LPOP l',
    'RPOPLPUSH l l2',
    'LMOVE l2 l LEFT LEFT',
    'XADD s * a b',
    'XDEL s 1-1',
    'XTRIM s MAXLEN 100',
    'XGROUP CREATECONSUMER s g c2',
    'DEL nos',
    'RENAME l l3',
    'RENAME l3 l',
    'MEMORY USAGE s',
    'LSET l 0 z',
    'LREM l 0 y',
    'RPUSHX nol q',
  ].map((line) => line.split(' '));

  it('move as redis-server 7.0 counts reads, command by command; RESETSTAT zeroes', async () => {
    const redis = await startRedis();
    const client = await RespClient.connect(redis.port);
    const counters = async (call: (...a: string[]) => Promise<Reply>) => {
      const r = await call('INFO', 'stats');
      const info = r.t === 'bulk' ? r.v.toString() : '';
      const get = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
      return [get('keyspace_hits'), get('keyspace_misses')];
    };
    const sides = [(...a: string[]) => client.call(...a), (...a: string[]) => s.call(...a)];
    try {
      for (const call of sides) {
        await call('RPUSH', 'l', 'a', 'b', 'c');
        await call('XADD', 's', '1-1', 'f', 'v');
        await call('XGROUP', 'CREATE', 's', 'g', '0');
        await call('CONFIG', 'RESETSTAT');
      }
      const moves: string[] = [];
      for (const cmd of SCRIPT) {
        const [theirs, ours] = await Promise.all(
          sides.map(async (call) => {
            const before = await counters(call);
            await call(...cmd);
            const after = await counters(call);
            return `${after[0]! - before[0]!}/${after[1]! - before[1]!}`;
          }),
        );
        if (theirs !== ours) moves.push(`${cmd.join(' ')}: redis ${theirs}, sluice ${ours}`);
      }
      expect(moves).toEqual([]);
      const [hits] = await counters((...a) => s.call(...a));
      expect(hits).toBeGreaterThan(20);
      await s.call('CONFIG', 'RESETSTAT');
      expect(await counters((...a) => s.call(...a))).toEqual([0, 0]);

      // A blocked XREAD counts its first attempt only: served once woken, it is not counted.
      const other = await RespClient.connect(redis.port);
      const blockedMoves = await Promise.all(
        [
          [(...a: string[]) => client.call(...a), (...a: string[]) => other.call(...a)],
          [(...a: string[]) => s.call(...a), (...a: string[]) => s.callIn(s.session(), ...a)],
        ].map(async ([reader, writer]) => {
          const before = await counters(writer!);
          const read = reader!('XREAD', 'BLOCK', '5000', 'STREAMS', 'woken', '$');
          for (let i = 0; i < 100 && (await counters(writer!))[1] === before[1]; i++) {
            await sleep(10);
          }
          await writer!('XADD', 'woken', '*', 'f', 'v');
          expect((await read).t).toBe('array');
          const after = await counters(writer!);
          return [after[0]! - before[0]!, after[1]! - before[1]!];
        }),
      );
      await other.close();
      expect(blockedMoves[1]).toEqual(blockedMoves[0]);
    } finally {
      await client.close();
      await redis.stop();
    }
  });
});
