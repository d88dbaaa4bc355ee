import { randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { UserSigVerifier, type VerifyResult } from '../../auth/usersig.ts';
import type { AppRow } from '../../store/apps-repo.ts';
import type { Store } from '../../store/store.ts';
import { DomainError } from '../errors.ts';
import { applySettings, defaultSettings, MAX_LIVE_CALLBACK_TOKEN_CHARS, parseSettings, type AppSettings, type CallbackConfig, type CallbackFamily, type SettingsPatch } from './settings.ts';

/** The first SDKAppID handed out when none is asked for (Tencent's are 14000xxxxx). */
const FIRST_SDK_APP_ID = 1400000001;

/** A tenant: its credentials and settings. */
export interface App {
  sdkAppId: number;
  secretKey: string;
  cloudApi: { secretId: string; secretKey: string };
  ivh: { appKey: string; accessToken: string };
  settings: AppSettings;
  createdAt: number;
  updatedAt: number;
}

/** What `app create --json` prints: the credentials a client needs. */
interface AppCredentials {
  sdkAppId: number;
  secretKey: string;
  admin: string;
  cloudApi: { secretId: string; secretKey: string };
  ivh: { appKey: string; accessToken: string };
}

/** DomainError details of setCallbackConfig's guards, for the gateways' codes (100300, 100301). */
export const CallbackConfigErrors = { EXISTS: 'CALLBACK_CONFIG_EXISTS', MISSING: 'CALLBACK_CONFIG_MISSING' } as const;

/** Why an app cannot serve requests right now. */
type AppRefusal = 'DISABLED' | 'EXPIRED' | 'IP_NOT_ALLOWED';

interface Loaded {
  app: App;
  verifier: UserSigVerifier;
  admins: Set<string>;
  allow: BlockList | null;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

function toApp(row: AppRow): App {
  return {
    sdkAppId: Number(row.sdk_app_id),
    secretKey: row.secret_key,
    cloudApi: { secretId: row.cloud_secret_id, secretKey: row.cloud_secret_key },
    ivh: { appKey: row.ivh_app_key, accessToken: row.ivh_access_token },
    settings: parseSettings(row.settings),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function blockList(entries: string[]): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const e of entries) {
    const [addr = '', bits] = e.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

/** Apps and their credentials: created and changed through the store, served from memory, reloaded on change. */
export class AppsService {
  private readonly apps = new Map<number, Loaded>();
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    /** How often start() re-reads apps changed by another process (the CLI), ms. */
    private readonly pollMs = 500,
  ) {}

  /** Loads every app into memory. */
  async load(): Promise<void> {
    await this.refresh();
  }

  /** Loads the apps and re-reads those another process (the CLI) changes, every pollMs. */
  async start(): Promise<void> {
    await this.load();
    this.timer ??= setInterval(() => void this.refresh().catch(() => undefined), this.pollMs);
    this.timer.unref();
  }

  /** Stops watching for changes. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Picks up apps whose revision moved since the last look. */
  async refresh(): Promise<void> {
    for (const row of await this.store.apps.changedSince(this.revision)) {
      this.put(toApp(row));
      this.revision = Math.max(this.revision, Number(row.revision));
    }
  }

  private put(app: App): void {
    const prev = this.apps.get(app.sdkAppId);
    // Keep the verification cache unless the key changed: cached results are only valid for the key that made them.
    const verifier =
      prev && prev.app.secretKey === app.secretKey ? prev.verifier : new UserSigVerifier({ sdkAppId: app.sdkAppId, secretKey: app.secretKey });
    this.apps.set(app.sdkAppId, { app, verifier, admins: new Set(app.settings.admins), allow: blockList(app.settings.ipAllowlist) });
  }

  /** One app, from memory. */
  get(sdkAppId: number): App | undefined {
    return this.apps.get(sdkAppId)?.app;
  }

  /** The app owning a Cloud API SecretId, from memory. */
  bySecretId(secretId: string): App | undefined {
    for (const l of this.apps.values()) if (l.app.cloudApi.secretId === secretId) return l.app;
    return undefined;
  }

  /** The app owning an IVH (AI Digital Human) appKey, from memory. */
  byIvhAppKey(appKey: string): App | undefined {
    for (const l of this.apps.values()) if (l.app.ivh.appKey === appKey) return l.app;
    return undefined;
  }

  /** Every app, from memory. */
  list(): App[] {
    return [...this.apps.values()].map((l) => l.app);
  }

  /** Creates an app with fresh credentials (SDKAppID chosen if not given) and its admin accounts. */
  async create(opts: { sdkAppId?: number } = {}): Promise<App> {
    const now = Date.now();
    const settings = defaultSettings();
    const row = await this.store.transaction(async (tx) => {
      const sdkAppId = opts.sdkAppId ?? Math.max(FIRST_SDK_APP_ID, (await tx.apps.maxSdkAppId()) + 1);
      if (!Number.isSafeInteger(sdkAppId) || sdkAppId < 1 || sdkAppId > 0xffffffff) {
        throw new DomainError('INVALID_ARGUMENT', 'sdkAppId must be an integer from 1 to 4294967295');
      }
      if (await tx.apps.get(sdkAppId)) throw new DomainError('ALREADY_EXISTS', `app ${sdkAppId} already exists`);
      const inserted = await tx.apps.insert({
        sdk_app_id: sdkAppId,
        secret_key: randomBytes(32).toString('hex'),
        cloud_secret_id: `AKID${alnum(32)}`,
        cloud_secret_key: alnum(32),
        ivh_app_key: randomBytes(16).toString('hex'),
        ivh_access_token: randomBytes(16).toString('hex'),
        settings: JSON.stringify(settings),
        created_at: now,
        updated_at: now,
      });
      await tx.accounts.upsert(sdkAppId, settings.admins.map((userId) => ({ userId })), now);
      return inserted;
    });
    const app = toApp(row);
    this.put(app);
    return app;
  }

  /** Changes an app's settings (and its `secretKey`, which rotates the UserSig key): only the keys given. */
  async update(sdkAppId: number, patch: SettingsPatch): Promise<App> {
    return this.change(sdkAppId, (settings, extra) => {
      applySettings(settings, patch);
      if (patch.secretKey !== undefined) {
        if (typeof patch.secretKey !== 'string' || !/^[\x21-\x7e]{16,128}$/.test(patch.secretKey)) throw new DomainError('INVALID_ARGUMENT', 'secretKey must be 16-128 printable characters');
        extra.secret_key = patch.secretKey;
      }
    });
  }

  /**
   * Sets the token that signs Live.* callbacks and whether it is checked (live_config/set_callback_token): the first
   * time both are needed; a token is 1 to MAX_LIVE_CALLBACK_TOKEN_CHARS characters.
   */
  async setLiveCallbackToken(sdkAppId: number, change: { token?: string; enabled?: boolean }): Promise<void> {
    if (change.token !== undefined && (change.token.length === 0 || [...change.token].length > MAX_LIVE_CALLBACK_TOKEN_CHARS)) {
      throw new DomainError('INVALID_ARGUMENT', `Token must be 1-${MAX_LIVE_CALLBACK_TOKEN_CHARS} characters`);
    }
    if (change.token === undefined && change.enabled === undefined && this.get(sdkAppId)?.settings.liveCallback.configured) return;
    await this.change(sdkAppId, (settings) => {
      if (!settings.liveCallback.configured && (change.token === undefined || change.enabled === undefined)) {
        throw new DomainError('INVALID_ARGUMENT', 'Token and IsTokenEnable are both required the first time (no callback token is configured yet)');
      }
      if (change.token !== undefined) settings.liveCallback = { ...settings.liveCallback, token: change.token, configured: true };
      if (change.enabled !== undefined) settings.liveCallback = { ...settings.liveCallback, enabled: change.enabled };
    });
  }

  /**
   * Sets one callback family's configuration (null removes it). `expect` is checked against the stored settings being
   * changed: `absent` refuses an existing configuration (ALREADY_EXISTS), `present` a missing one (NOT_FOUND).
   */
  async setCallbackConfig(sdkAppId: number, family: CallbackFamily, config: CallbackConfig | null, expect: 'any' | 'absent' | 'present' = 'any'): Promise<App> {
    return this.change(sdkAppId, (settings) => {
      const have = settings.callbacks[family] !== null;
      if (expect === 'absent' && have) throw new DomainError('ALREADY_EXISTS', `the ${family} callback configuration already exists`, CallbackConfigErrors.EXISTS);
      if (expect === 'present' && !have) throw new DomainError('NOT_FOUND', `no ${family} callback configuration exists`, CallbackConfigErrors.MISSING);
      settings.callbacks = { ...settings.callbacks, [family]: config && { url: config.url, commands: config.commands === 'all' ? 'all' : [...config.commands] } };
    });
  }

  /** Reads an app's stored settings, lets `mutate` change them (and the secret key), writes them back and reloads. */
  private async change(sdkAppId: number, mutate: (settings: AppSettings, extra: { secret_key?: string }) => void): Promise<App> {
    const row = await this.store.apps.get(sdkAppId);
    if (!row) throw new DomainError('NOT_FOUND', `app ${sdkAppId} not found`);
    const settings = parseSettings(row.settings);
    const extra: { secret_key?: string } = {};
    mutate(settings, extra);
    await this.store.transaction(async (tx) => {
      await tx.apps.updateSettings(sdkAppId, JSON.stringify(settings), extra);
      await tx.accounts.upsert(sdkAppId, settings.admins.map((userId) => ({ userId })));
    });
    await this.refresh();
    return this.get(sdkAppId) ?? toApp({ ...row, settings: JSON.stringify(settings) });
  }

  /** Whether an app may serve a request from `ip` at `now` (unix seconds); the reason if not. */
  admit(app: App, ip: string | undefined, now = Date.now() / 1000): AppRefusal | null {
    if (app.settings.disabled) return 'DISABLED';
    if (app.settings.expiresAt !== null && now > app.settings.expiresAt) return 'EXPIRED';
    const allow = this.apps.get(app.sdkAppId)?.allow;
    if (allow) {
      if (!ip) return 'IP_NOT_ALLOWED';
      const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
      const ok = isIP(v4) === 4 ? allow.check(v4, 'ipv4') : allow.check(ip, 'ipv6');
      if (!ok) return 'IP_NOT_ALLOWED';
    }
    return null;
  }

  /** Verifies a UserSig for an app's user, with results cached until the token expires. */
  verifyUserSig(sdkAppId: number, userId: string, userSig: string): VerifyResult {
    const loaded = this.apps.get(sdkAppId);
    if (!loaded) return { ok: false, reason: 'SDKAPPID_MISMATCH', message: `unknown SDKAppID ${sdkAppId}` };
    return loaded.verifier.verify(userId, userSig);
  }

  /** Whether `identifier` is one of the app's administrators. */
  isAdmin(sdkAppId: number, identifier: string): boolean {
    return this.apps.get(sdkAppId)?.admins.has(identifier) ?? false;
  }

  /** The credentials block printed by `app create --json`. */
  static credentials(app: App): AppCredentials {
    return {
      sdkAppId: app.sdkAppId,
      secretKey: app.secretKey,
      admin: app.settings.admins[0] ?? 'administrator',
      cloudApi: { ...app.cloudApi },
      ivh: { ...app.ivh },
    };
  }
}
