// Broker settings: command-line flags first, then SLUICE_* environment variables, then defaults.
// One table lists every setting with its flag, variable, default and parser, so --help, the
// environment and validation never disagree.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from './limits';
import type { FsyncPolicy } from '../storage/stream-log';
import type { OnCorruption } from '../storage/recovery';
import type { LogLevel } from './log';

export interface Config {
  dataDir: string;
  fsync: FsyncPolicy;
  segmentBytes: number;
  onCorruption: OnCorruption;
  logLevel: LogLevel;
}

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    }
    return v as T;
  };
}

function integer(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

interface Setting {
  key: keyof Config;
  flag: string;
  env: string;
  help: string;
  parse: (v: string) => Config[keyof Config];
  fallback: Config[keyof Config];
}

const SETTINGS: Setting[] = [
  {
    key: 'dataDir',
    flag: '--data-dir <path>',
    env: 'SLUICE_DATA_DIR',
    help: 'data directory (created if missing)',
    parse: (v) => v,
    fallback: './data',
  },
  {
    key: 'fsync',
    flag: '--fsync <policy>',
    env: 'SLUICE_FSYNC',
    help: 'always: reply after fdatasync (group commit); everysec: fdatasync each second; no: OS',
    parse: oneOf('--fsync', ['always', 'everysec', 'no'] as const),
    fallback: 'everysec',
  },
  {
    key: 'segmentBytes',
    flag: '--segment-bytes <n>',
    env: 'SLUICE_SEGMENT_BYTES',
    help: 'stream segment size in bytes; retention drops whole segments',
    parse: integer('--segment-bytes', MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES),
    fallback: DEFAULT_SEGMENT_BYTES,
  },
  {
    key: 'onCorruption',
    flag: '--on-corruption <action>',
    env: 'SLUICE_ON_CORRUPTION',
    help: 'refuse: stop there; truncate: cut the file there; quarantine: copy aside, then cut',
    parse: oneOf('--on-corruption', ['refuse', 'truncate', 'quarantine'] as const),
    fallback: 'refuse',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'SLUICE_LOG_LEVEL',
    help: 'debug, info, warn, error or silent',
    parse: oneOf('--log-level', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    fallback: 'info',
  },
];

/** Parses argv (without node and script) and env into a Config; exits with usage on errors. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const program = new Command('sluice')
    .description('Sluice: a small durable message broker')
    .showHelpAfterError()
    .allowExcessArguments(false);
  for (const s of SETTINGS) {
    program.option(s.flag, `${s.help} (env ${s.env}, default ${String(s.fallback)})`, s.parse);
  }
  program.parse(argv, { from: 'user' });
  const opts = program.opts<Partial<Config>>();
  const config = {} as Record<keyof Config, Config[keyof Config]>;
  for (const s of SETTINGS) {
    const fromEnv = env[s.env];
    let value = opts[s.key];
    if (value === undefined && fromEnv !== undefined && fromEnv !== '') {
      try {
        value = s.parse(fromEnv);
      } catch (err) {
        program.error(`${s.env}: ${(err as Error).message}`);
      }
    }
    config[s.key] = value ?? s.fallback;
  }
  return config as unknown as Config;
}
