import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { genPrivateMapKey, genPrivateMapKeyWithStringRoomId, Privilege } from '../auth/private-map-key.ts';
import { genUserSig } from '../auth/usersig.ts';
import { loadConfig, type Config } from '../config.ts';
import { startServer } from '../server.ts';
import { AppsService, type App } from '../services/apps/apps-service.ts';
import { maskedSettings } from '../services/apps/settings.ts';
import { parseSettingChanges } from './setting-changes.ts';
import { DomainError } from '../services/errors.ts';
import type { OutboxStatus } from '../store/outbox-repo.ts';
import type { StoreLog } from '../store/data-dir.ts';
import { openStore } from '../store/store.ts';
import { addAvatar, DEFAULT_AVATAR_CONCURRENCY } from '../services/digital-human/avatars.ts';
import { trtcdVersion } from '../health.ts';

interface StoreFlags {
  dataDir?: string;
  store?: string;
  redis?: string;
  config?: string;
}

function uint(name: string, max = 0xffffffff) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) > max) throw new InvalidArgumentError(`${name} must be an integer from 0 to ${max}`);
    return Number(v);
  };
}

function configFrom(flags: StoreFlags & Partial<Record<keyof Config, string>>): Config {
  return loadConfig({
    file: flags.config,
    flags: { dataDir: flags.dataDir, store: flags.store, redis: flags.redis, host: flags.host, port: flags.port, logLevel: flags.logLevel, logFormat: flags.logFormat, tlsCert: flags.tlsCert, tlsKey: flags.tlsKey },
  });
}

/** Store warnings (a data directory open to others) on stderr, where they do not mix with a command's output. */
const stderrLog: StoreLog = { warn: (_fields, msg) => void process.stderr.write(`trtcd: warning: ${msg}\n`) };

/** Opens the configured store and its apps for one CLI command, then closes them. */
async function withApps<T>(flags: StoreFlags, fn: (apps: AppsService) => Promise<T>): Promise<T> {
  const store = await openStore(configFrom(flags), stderrLog);
  try {
    const apps = new AppsService(store);
    await apps.load();
    return await fn(apps);
  } finally {
    await store.close();
  }
}

async function requireApp(apps: AppsService, sdkAppId: number): Promise<App> {
  const app = apps.get(sdkAppId);
  if (!app) throw new DomainError('NOT_FOUND', `app ${sdkAppId} not found`);
  return app;
}

function printDevApp(app: App, gifts: number): void {
  const c = AppsService.credentials(app);
  const sig = genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: c.admin, expire: 604800 });
  process.stdout.write(
    [
      'Created a development app:',
      `  SDKAppID        ${c.sdkAppId}`,
      `  SecretKey       ${c.secretKey}`,
      `  Admin           ${c.admin}`,
      `  Admin UserSig   ${sig}  (7 days)`,
      `  Cloud API       SecretId ${c.cloudApi.secretId}  SecretKey ${c.cloudApi.secretKey}`,
      `  IVH             appKey ${c.ivh.appKey}  accessToken ${c.ivh.accessToken}`,
      ...(gifts ? [`  Gifts           the default catalogue (${gifts} gifts: rose, like, heart, …)`] : []),
      '',
    ].join('\n'),
  );
}

/** Builds the `trtcd` command-line program. */
function program(): Command {
  const cli = new Command('trtcd').description('Self-hosted server wire-compatible with Tencent RTC server APIs').version(trtcdVersion(), '-V, --version', 'print the version').exitOverride();
  const dataDir = ['--data-dir <dir>', 'data directory (default .trtcd in the project directory, the nearest up with a package.json, else here; or TRTCD_DATA_DIR)'] as const;
  const configFile = ['--config <file>', 'JSON configuration file'] as const;
  const storeUrl = ['--store <store>', 'sqlite (default, in the data directory) or a PostgreSQL URL postgres://… (or TRTCD_STORE)'] as const;

  cli
    .command('start')
    .description('start the server')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 9000)')
    .option(...dataDir)
    .option(...storeUrl)
    .option('--redis <url>', 'several nodes: Redis URL redis://host:port for the bus, locks and rate limits (or TRTCD_REDIS)')
    .option(...configFile)
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace, silent')
    .option('--log-format <format>', 'json, pretty, or auto: pretty when stdout is a terminal (default; or TRTCD_LOG_FORMAT)')
    .option('--tls-cert <file>', 'PEM certificate (chain): with --tls-key the port serves https and wss (or TRTCD_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (or TRTCD_TLS_KEY)')
    .action(async (flags: StoreFlags & { host?: string; port?: string; logLevel?: string; logFormat?: string; tlsCert?: string; tlsKey?: string }) => {
      // Listen for signals before the server exists so a signal during start-up still shuts down cleanly.
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      process.once('SIGINT', () => stop());
      process.once('SIGTERM', () => stop());
      const server = await startServer(configFrom(flags), undefined, { onDevApp: printDevApp, devGifts: true });
      await stopped;
      await server.close();
    });

  const app = cli.command('app').description('manage apps (SDKAppIDs) and their credentials');
  app
    .command('create')
    .description('create an app with fresh credentials')
    .option('--sdkappid <n>', 'SDKAppID to use (default: next free from 1400000001)', uint('sdkappid'))
    .option('--json', 'print the credentials as one JSON object')
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (flags: StoreFlags & { sdkappid?: number; json?: boolean }) => {
      const created = await withApps(flags, (apps) => apps.create({ sdkAppId: flags.sdkappid }));
      const c = AppsService.credentials(created);
      if (flags.json) process.stdout.write(`${JSON.stringify(c)}\n`);
      else process.stdout.write(`SDKAppID ${c.sdkAppId}\nSecretKey ${c.secretKey}\nAdmin ${c.admin}\nCloud API SecretId ${c.cloudApi.secretId}\nCloud API SecretKey ${c.cloudApi.secretKey}\nIVH appKey ${c.ivh.appKey}\nIVH accessToken ${c.ivh.accessToken}\n`);
    });
  app
    .command('set')
    .description('change settings: features.<call|live|gift|trtc|ivh>, admins, callback.url, callback.token, ipAllowlist, disabled, expiresAt, rateLimits, appRateLimit, accountLimit, callRingTimeoutMs, liveCallback.token, liveCallback.enabled, liveCallback.giftNonBlocking, trtc.requirePrivateMapKey, chat.purchaseBits, chat.webInstances, secretKey')
    .argument('<sdkAppId>', 'the app', uint('sdkAppId'))
    .argument('<settings...>', 'key=value pairs')
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (sdkAppId: number, pairs: string[], flags: StoreFlags) => {
      const changes = pairs.map((p): [string, string] => {
        const i = p.indexOf('=');
        if (i <= 0) throw new InvalidArgumentError(`"${p}" is not key=value`);
        return [p.slice(0, i), p.slice(i + 1)];
      });
      const updated = await withApps(flags, (apps) => apps.update(sdkAppId, parseSettingChanges(changes)));
      process.stdout.write(`${JSON.stringify({ sdkAppId: updated.sdkAppId, settings: maskedSettings(updated.settings) })}\n`);
    });
  app
    .command('show')
    .description('print an app, credentials and settings (callback tokens masked), as JSON')
    .argument('<sdkAppId>', 'the app', uint('sdkAppId'))
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (sdkAppId: number, flags: StoreFlags) => {
      const found = await withApps(flags, (apps) => requireApp(apps, sdkAppId));
      process.stdout.write(`${JSON.stringify({ ...AppsService.credentials(found), settings: maskedSettings(found.settings) })}\n`);
    });
  app
    .command('list')
    .description('list the SDKAppIDs')
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (flags: StoreFlags) => {
      const all = await withApps(flags, async (apps) => apps.list());
      for (const a of all) process.stdout.write(`${a.sdkAppId}${a.settings.disabled ? ' (disabled)' : ''}\n`);
    });

  const ivh = cli.command('ivh').description('digital-human projects and assets');
  for (const kind of ['project', 'asset'] as const) {
    ivh
      .command(kind)
      .description(`manage digital-human ${kind}s`)
      .command('create')
      .description(`create a ${kind === 'project' ? 'virtualman project (VirtualmanProjectId)' : 'virtualman asset (AssetVirtualmanKey)'} with a concurrency quota`)
      .argument('<sdkAppId>', 'the app (whose IVH appKey will use it)', uint('sdkAppId'))
      .option('--id <id>', kind === 'project' ? 'VirtualmanProjectId (default: random)' : 'AssetVirtualmanKey (default: random)')
      .option('--name <name>', 'display name', '')
      .option('--concurrency <n>', 'sessions that may run at once', uint('concurrency', 1000), DEFAULT_AVATAR_CONCURRENCY)
      .option(...dataDir)
      .option(...storeUrl)
      .option(...configFile)
      .action(async (sdkAppId: number, flags: StoreFlags & { id?: string; name: string; concurrency: number }) => {
        const store = await openStore(configFrom(flags), stderrLog);
        try {
          const apps = new AppsService(store);
          await apps.load();
          await requireApp(apps, sdkAppId);
          const a = await addAvatar(store, { sdkAppId, kind, id: flags.id, name: flags.name, concurrency: flags.concurrency });
          process.stdout.write(`${JSON.stringify(kind === 'project' ? { VirtualmanProjectId: a.id, sdkAppId, name: a.name, concurrency: a.concurrency } : { AssetVirtualmanKey: a.id, sdkAppId, name: a.name, concurrency: a.concurrency })}\n`);
        } finally {
          await store.close();
        }
      });
  }

  const callbacks = cli.command('callbacks').description('third-party callbacks');
  callbacks
    .command('list')
    .description('print the callback delivery log, newest first, one JSON object per line')
    .option('--sdkappid <n>', 'only this app', uint('sdkappid'))
    .option('--status <status>', 'only pending, delivered, failed or dropped callbacks')
    .option('--limit <n>', 'at most this many', uint('limit'), 100)
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (flags: StoreFlags & { sdkappid?: number; status?: string; limit: number }) => {
      if (flags.status && !['pending', 'delivered', 'failed', 'dropped'].includes(flags.status)) throw new InvalidArgumentError('status must be pending, delivered, failed or dropped');
      const store = await openStore(configFrom(flags), stderrLog);
      try {
        const rows = await store.outbox.list({ sdkAppId: flags.sdkappid, status: flags.status as OutboxStatus | undefined, limit: flags.limit });
        for (const r of rows) {
          process.stdout.write(
            `${JSON.stringify({
              id: r.id,
              sdkAppId: Number(r.sdk_app_id),
              command: r.command,
              orderKey: r.order_key,
              status: r.status,
              attempts: r.attempts,
              createdAt: new Date(Number(r.created_at)).toISOString(),
              deliveredAt: r.delivered_at ? new Date(Number(r.delivered_at)).toISOString() : null,
              nextAttemptAt: r.status === 'pending' ? new Date(Number(r.next_attempt_at)).toISOString() : null,
              lastStatus: r.last_status,
              lastError: r.last_error,
              body: JSON.parse(r.body) as unknown,
            })}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });

  cli
    .command('usersig')
    .description("print a UserSig for a user of an app, signed with the app's key")
    .argument('<sdkAppId>', 'the app', uint('sdkAppId'))
    .argument('<userId>', 'the user')
    .option('--expire <seconds>', 'validity in seconds', uint('expire'), 604800)
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (sdkAppId: number, userId: string, flags: StoreFlags & { expire: number }) => {
      const found = await withApps(flags, (apps) => requireApp(apps, sdkAppId));
      process.stdout.write(`${genUserSig({ sdkAppId, secretKey: found.secretKey, userId, expire: flags.expire })}\n`);
    });

  cli
    .command('privatemapkey')
    .description('print a PrivateMapKey (room permission ticket) for a user and room')
    .argument('<sdkAppId>', 'the app', uint('sdkAppId'))
    .argument('<userId>', 'the user')
    .option('--room-id <n>', 'numeric room id', uint('room-id'))
    .option('--str-room-id <id>', 'string room id')
    .option('--privilege <bits>', 'privilege bitmap (255 = all)', uint('privilege', 255), Privilege.All)
    .option('--expire <seconds>', 'validity in seconds', uint('expire'), 86400)
    .option(...dataDir)
    .option(...storeUrl)
    .option(...configFile)
    .action(async (sdkAppId: number, userId: string, flags: StoreFlags & { roomId?: number; strRoomId?: string; privilege: number; expire: number }) => {
      if ((flags.roomId === undefined) === (flags.strRoomId === undefined)) throw new InvalidArgumentError('give exactly one of --room-id and --str-room-id');
      const found = await withApps(flags, (apps) => requireApp(apps, sdkAppId));
      const base = { sdkAppId, secretKey: found.secretKey, userId, expire: flags.expire, privilegeMap: flags.privilege };
      const key = flags.strRoomId !== undefined ? genPrivateMapKeyWithStringRoomId({ ...base, strRoomId: flags.strRoomId }) : genPrivateMapKey({ ...base, roomId: flags.roomId! });
      process.stdout.write(`${key}\n`);
    });
  return cli;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has printed its own usage errors; an InvalidArgumentError that reaches here is an action's, unprinted
    // (it is a CommanderError too, so it is looked at first).
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`trtcd: ${err.message}\n`);
      return 2;
    }
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof DomainError) {
      process.stderr.write(`trtcd: ${err.message}\n`);
      return err.code === 'NOT_FOUND' ? 3 : 1;
    }
    process.stderr.write(`trtcd: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
