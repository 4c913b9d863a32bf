// Broker settings: command-line flags first, then SLUICE_* environment variables, then defaults.
// One table lists every setting with its flag, variable, default and parser, so --help, the
// environment and validation never disagree.
import { Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_MAX_BLOCK_MS,
  DEFAULT_RESP_PORT,
  DEFAULT_SEGMENT_BYTES,
  MAX_BODY_LIMIT_BYTES,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
} from './limits';
import type { FsyncPolicy } from '../storage/stream-log';
import type { OnCorruption } from '../storage/recovery';
import type { LogLevel } from './log';

export interface Config {
  host: string;
  /** 0: any free port (the bound port is printed at start). */
  httpPort: number;
  /** RESP2/RESP3 port; 0: any free port. */
  respPort: number;
  /** False: no RESP listener (--no-resp). */
  resp: boolean;
  dataDir: string;
  fsync: FsyncPolicy;
  segmentBytes: number;
  onCorruption: OnCorruption;
  logLevel: LogLevel;
  /** Admin Bearer token ('' = none); needed to listen on anything but loopback. */
  token: string;
  /** Read-only Bearer token ('' = none): reads, tails and subscriptions only. */
  readonlyToken: string;
  /** Listen on a non-loopback address without a token anyway. */
  insecureNoAuth: boolean;
  bodyLimitBytes: number;
  /** Longest an HTTP request may block (BLOCK 0 and B* timeouts are capped to it). */
  maxBlockMs: number;
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

const boolean = (v: string): boolean => {
  if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
  throw new InvalidArgumentError('must be true or false');
};

const SETTINGS: Setting[] = [
  {
    key: 'host',
    flag: '--host <address>',
    env: 'SLUICE_HOST',
    help: 'address to listen on; anything but loopback needs --token',
    parse: (v) => v,
    fallback: DEFAULT_HOST,
  },
  {
    key: 'httpPort',
    flag: '--http-port <port>',
    env: 'SLUICE_HTTP_PORT',
    help: 'HTTP port; 0 picks a free one (printed at start)',
    parse: integer('--http-port', 0, 65535),
    fallback: DEFAULT_HTTP_PORT,
  },
  {
    key: 'respPort',
    flag: '--resp-port <port>',
    env: 'SLUICE_RESP_PORT',
    help: 'Redis protocol (RESP2/RESP3) port; 0 picks a free one (printed at start)',
    parse: integer('--resp-port', 0, 65535),
    fallback: DEFAULT_RESP_PORT,
  },
  {
    key: 'resp',
    flag: '--no-resp',
    env: 'SLUICE_RESP',
    help: 'do not listen for the Redis protocol',
    parse: boolean,
    fallback: true,
  },
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
  {
    key: 'token',
    flag: '--token <token>',
    env: 'SLUICE_TOKEN',
    help: 'admin Bearer token for HTTP (and AUTH on RESP); empty: no auth, loopback only',
    parse: (v) => v,
    fallback: '',
  },
  {
    key: 'readonlyToken',
    flag: '--readonly-token <token>',
    env: 'SLUICE_READONLY_TOKEN',
    help: 'Bearer token that may only read, tail and subscribe',
    parse: (v) => v,
    fallback: '',
  },
  {
    key: 'insecureNoAuth',
    flag: '--insecure-no-auth [bool]',
    env: 'SLUICE_INSECURE_NO_AUTH',
    help: 'allow a non-loopback --host without a token',
    parse: boolean,
    fallback: false,
  },
  {
    key: 'bodyLimitBytes',
    flag: '--body-limit-bytes <n>',
    env: 'SLUICE_BODY_LIMIT_BYTES',
    help: 'largest HTTP request body; larger gets 413',
    parse: integer('--body-limit-bytes', 1024, MAX_BODY_LIMIT_BYTES),
    fallback: DEFAULT_BODY_LIMIT_BYTES,
  },
  {
    key: 'maxBlockMs',
    flag: '--max-block-ms <ms>',
    env: 'SLUICE_MAX_BLOCK_MS',
    help: 'longest an HTTP long-poll blocks; BLOCK 0 and longer timeouts are capped to it',
    parse: integer('--max-block-ms', 1, 24 * 3600 * 1000),
    fallback: DEFAULT_MAX_BLOCK_MS,
  },
];

/** Every setting's default: what an embedded broker starts from. */
export function defaultConfig(): Config {
  const config = {} as Record<keyof Config, Config[keyof Config]>;
  for (const s of SETTINGS) config[s.key] = s.fallback;
  return config as unknown as Config;
}

/** Parses argv (without node and script) and env into a Config; exits with usage on errors. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const program = new Command('sluice')
    .description('Sluice: a small durable message broker')
    .showHelpAfterError()
    .allowExcessArguments(false);
  for (const s of SETTINGS) {
    const help = `${s.help} (env ${s.env}, default ${String(s.fallback)})`;
    // A negated flag (--no-resp) takes no value: commander sets it false itself.
    if (s.flag.startsWith('--no-')) program.option(s.flag, help);
    else program.option(s.flag, help, s.parse);
  }
  program.parse(argv, { from: 'user' });
  const opts = program.opts<Partial<Config>>();
  const config = {} as Record<keyof Config, Config[keyof Config]>;
  for (const s of SETTINGS) {
    const fromEnv = env[s.env];
    // Only what the command line gave: commander defaults a negated flag to true, which must
    // not hide the environment variable.
    let value = program.getOptionValueSource(s.key) === 'cli' ? opts[s.key] : undefined;
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
