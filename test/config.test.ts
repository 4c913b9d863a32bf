// The command line and SLUICE_* environment variables: flags win over the environment, which
// wins over the defaults; negated flags (--no-resp) work from either; bad values are refused.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { DEFAULT_HTTP_PORT, DEFAULT_RESP_PORT } from '../src/limits';

describe('loadConfig', () => {
  it('defaults without flags or environment', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      httpPort: DEFAULT_HTTP_PORT,
      respPort: DEFAULT_RESP_PORT,
      resp: true,
      dataDir: './data',
      fsync: 'everysec',
    });
  });

  it('takes flags, and SLUICE_* variables where no flag is given', () => {
    const env = { SLUICE_HTTP_PORT: '7', SLUICE_FSYNC: 'always', SLUICE_DATA_DIR: '/tmp/x' };
    const c = loadConfig(['--http-port', '5', '--resp-port', '0'], env);
    expect(c).toMatchObject({ httpPort: 5, respPort: 0, fsync: 'always', dataDir: '/tmp/x' });
  });

  it('--no-resp turns the RESP listener off, as SLUICE_RESP=false does', () => {
    expect(loadConfig(['--no-resp'], {}).resp).toBe(false);
    expect(loadConfig(['--no-resp', '--resp-port', '0'], {}).resp).toBe(false);
    expect(loadConfig([], { SLUICE_RESP: 'false' }).resp).toBe(false);
    expect(loadConfig([], { SLUICE_RESP: 'true' }).resp).toBe(true);
    expect(loadConfig(['--no-resp'], { SLUICE_RESP: 'true' }).resp).toBe(false);
  });

  it('refuses bad values with a message naming the flag or variable', () => {
    const errors: string[] = [];
    const exit = (argv: string[], env: NodeJS.ProcessEnv) => {
      const write = process.stderr.write.bind(process.stderr);
      const spy = (chunk: string | Uint8Array) => (errors.push(String(chunk)), true);
      process.stderr.write = spy as typeof process.stderr.write;
      const realExit = process.exit.bind(process);
      process.exit = ((code?: number) => {
        throw new Error(`exit ${code}`);
      }) as typeof process.exit;
      try {
        loadConfig(argv, env);
      } finally {
        process.stderr.write = write;
        process.exit = realExit;
      }
    };
    expect(() => exit(['--fsync', 'sometimes'], {})).toThrow(/exit 1/);
    expect(() => exit([], { SLUICE_RESP: 'maybe' })).toThrow(/exit 1/);
    expect(() => exit(['--http-port', '70000'], {})).toThrow(/exit 1/);
    expect(errors.join('')).toMatch(/--fsync/);
    expect(errors.join('')).toMatch(/SLUICE_RESP/);
  });
});
