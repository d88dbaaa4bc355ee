import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const ConfigSchema = Type.Object(
  {
    /** Address to listen on. */
    host: Type.String({ minLength: 1 }),
    /** Port to listen on (0 picks a free one). */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** PEM certificate (chain) file: with tlsKey the port serves https and wss instead of http and ws; '' for plain. */
    tlsCert: Type.String(),
    /** PEM private key file of tlsCert; '' for plain. */
    tlsKey: Type.String(),
    /** Directory of the embedded SQLite store. */
    dataDir: Type.String({ minLength: 1 }),
    /** Where state is kept: `sqlite` (a file in dataDir) or a PostgreSQL URL, postgres://user:password@host:port/database. */
    store: Type.String({ pattern: '^(sqlite|postgres(ql)?://.+)$' }),
    /** Most connections to PostgreSQL at once. */
    pgPoolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Several nodes: the Redis URL (redis://host:port) for the bus, locks and global rate limits; '' for one node. */
    redis: Type.String({ pattern: '^(|rediss?://.+)$' }),
    /** Longest wait for Redis (connecting, a command, a lock) before a request fails with its family's error, in ms. */
    redisTimeoutMs: Type.Integer({ minimum: 1 }),
    /** UDP ports of WebRTC media, 'min-max' (e.g. 40000-49999; one port per peer connection); '' for any free port. */
    mediaPortRange: Type.String({ pattern: '^(|\\d{1,5}-\\d{1,5})$' }),
    /** Worker threads that protect and send the SFU's media (one per core by default); 0 sends on the main thread. */
    mediaWorkers: Type.Integer({ minimum: 0, maximum: 64 }),
    /** pino level: fatal, error, warn, info, debug, trace or silent. */
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    /** json: one JSON object per line; pretty: coloured lines for a terminal; auto: pretty when stdout is a terminal. */
    logFormat: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')]),
    /** Largest request body accepted, in bytes. */
    bodyLimit: Type.Integer({ minimum: 1024 }),
    /** Most bytes of request bodies held at once, across the server, for requests not yet authenticated (Cloud API bodies before their signature is checked). */
    unauthenticatedBodyBytes: Type.Integer({ minimum: 1024 }),
    /** Longest time a request body may take to arrive, in ms. */
    bodyTimeoutMs: Type.Integer({ minimum: 1 }),
    /** SQLite synchronous mode: NORMAL survives a killed process, FULL also a power cut. */
    sqliteSync: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')]),
    /** Create a development app when the store has no app yet. */
    devApp: Type.Boolean(),
    /** How often app changes made by another process (the CLI) are picked up, in ms. */
    appsPollMs: Type.Integer({ minimum: 50 }),
    /** How long shutdown waits for in-flight requests before closing their connections, in ms. */
    shutdownGraceMs: Type.Integer({ minimum: 0 }),
    /** First retry delay of a failed callback, doubling per attempt, in ms. */
    callbackRetryBaseMs: Type.Integer({ minimum: 1 }),
    /** Longest delay between two attempts of a callback, in ms. */
    callbackRetryMaxMs: Type.Integer({ minimum: 1 }),
    /** How long an undelivered callback is retried before it is given up, in ms. */
    callbackMaxAgeMs: Type.Integer({ minimum: 1 }),
    /**
     * The developer console's token (/console/, every app): '' makes a new random one at each start (logged with the
     * console's address); 'off' leaves only apps' SDKAppID and SecretKey to open the console.
     */
    consoleToken: Type.String({ pattern: '^(|off|[A-Za-z0-9._~-]{16,256})$' }),
    /** How long a digital-human session stays "preparing" (SessionStatus 3) before it is ready, in ms. */
    ivhPrepareDelayMs: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** The server's configuration. */
export type Config = Static<typeof ConfigSchema>;

const check = TypeCompiler.Compile(ConfigSchema);

/** Built-in defaults. */
export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: 9000,
  tlsCert: '',
  tlsKey: '',
  dataDir: './.trtcd',
  store: 'sqlite',
  pgPoolSize: 10,
  redis: '',
  redisTimeoutMs: 2000,
  mediaPortRange: '',
  mediaWorkers: availableParallelism(),
  logLevel: 'info',
  logFormat: 'auto',
  bodyLimit: 1024 * 1024,
  unauthenticatedBodyBytes: 32 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  sqliteSync: 'NORMAL',
  devApp: true,
  appsPollMs: 500,
  shutdownGraceMs: 10_000,
  callbackRetryBaseMs: 1000,
  callbackRetryMaxMs: 60_000,
  callbackMaxAgeMs: 86_400_000,
  consoleToken: '',
  ivhPrepareDelayMs: 3000,
};

/** Environment variable for each key: TRTCD_ plus the key in upper snake case. */
const ENV_KEYS: Record<keyof Config, string> = {
  host: 'TRTCD_HOST',
  port: 'TRTCD_PORT',
  tlsCert: 'TRTCD_TLS_CERT',
  tlsKey: 'TRTCD_TLS_KEY',
  dataDir: 'TRTCD_DATA_DIR',
  store: 'TRTCD_STORE',
  pgPoolSize: 'TRTCD_PG_POOL_SIZE',
  redis: 'TRTCD_REDIS',
  redisTimeoutMs: 'TRTCD_REDIS_TIMEOUT_MS',
  mediaPortRange: 'TRTCD_MEDIA_PORT_RANGE',
  mediaWorkers: 'TRTCD_MEDIA_WORKERS',
  logLevel: 'TRTCD_LOG_LEVEL',
  logFormat: 'TRTCD_LOG_FORMAT',
  bodyLimit: 'TRTCD_BODY_LIMIT',
  unauthenticatedBodyBytes: 'TRTCD_UNAUTHENTICATED_BODY_BYTES',
  bodyTimeoutMs: 'TRTCD_BODY_TIMEOUT_MS',
  sqliteSync: 'TRTCD_SQLITE_SYNC',
  devApp: 'TRTCD_DEV_APP',
  appsPollMs: 'TRTCD_APPS_POLL_MS',
  shutdownGraceMs: 'TRTCD_SHUTDOWN_GRACE_MS',
  callbackRetryBaseMs: 'TRTCD_CALLBACK_RETRY_BASE_MS',
  callbackRetryMaxMs: 'TRTCD_CALLBACK_RETRY_MAX_MS',
  callbackMaxAgeMs: 'TRTCD_CALLBACK_MAX_AGE_MS',
  consoleToken: 'TRTCD_CONSOLE_TOKEN',
  ivhPrepareDelayMs: 'TRTCD_IVH_PREPARE_DELAY_MS',
};

function coerce(key: keyof Config, v: string): unknown {
  const sample = DEFAULT_CONFIG[key];
  if (typeof sample === 'number') return /^\d+$/.test(v) ? Number(v) : v;
  if (typeof sample === 'boolean') return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
  return v;
}

/**
 * Where the default data directory (`./.trtcd`) is: in the project directory, the nearest directory up from `cwd` with
 * a package.json (where `npm start` runs, whichever subdirectory it is called from), else in `cwd` itself. So the
 * CLI finds the same data wherever in the project it is run.
 */
export function defaultDataDir(cwd: string = process.cwd()): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, DEFAULT_CONFIG.dataDir);
    if (dirname(dir) === dir) return resolve(cwd, DEFAULT_CONFIG.dataDir);
  }
}

/** Merges defaults, a JSON config file, TRTCD_* environment variables and command-line flags, in that order. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Partial<Record<keyof Config, string | number | boolean>> } = {}): Config {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG, dataDir: undefined };
  if (opts.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read config file ${opts.file}: ${(err as Error).message}`, { cause: err });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${opts.file} must hold a JSON object`);
    Object.assign(merged, parsed);
  }
  const env = opts.env ?? process.env;
  for (const [key, name] of Object.entries(ENV_KEYS) as Array<[keyof Config, string]>) {
    const v = env[name];
    if (v !== undefined && v !== '') merged[key] = coerce(key, v);
  }
  for (const [key, v] of Object.entries(opts.flags ?? {}) as Array<[keyof Config, unknown]>) {
    if (v !== undefined) merged[key] = typeof v === 'string' ? coerce(key, v) : v;
  }
  merged.dataDir ??= defaultDataDir();
  if (!check.Check(merged)) {
    const first = check.Errors(merged).First();
    // A choice among words (logLevel) names the words rather than TypeBox's "Expected union value".
    const words = (first?.schema as { anyOf?: Array<{ const?: unknown }> } | undefined)?.anyOf?.map((s) => s.const);
    const problem = words?.every((w) => typeof w === 'string') ? `must be one of ${words.join(', ')}, got ${JSON.stringify(first?.value)}` : first?.message;
    throw new Error(`invalid configuration at ${first?.path || '/'}: ${problem ?? 'unknown problem'}`);
  }
  if ((merged.tlsCert === '') !== (merged.tlsKey === '')) {
    const given = merged.tlsCert === '' ? '--tls-key (tlsKey)' : '--tls-cert (tlsCert)';
    throw new Error(`invalid configuration: TLS needs both --tls-cert and --tls-key (tlsCert and tlsKey, TRTCD_TLS_CERT and TRTCD_TLS_KEY); only ${given} was given`);
  }
  const path = (p: string): string => (p === '' ? '' : resolve(p));
  return { ...merged, dataDir: resolve(merged.dataDir), tlsCert: path(merged.tlsCert), tlsKey: path(merged.tlsKey) };
}
