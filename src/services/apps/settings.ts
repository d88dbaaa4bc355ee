import { isIP } from 'node:net';
import { DomainError } from '../errors.ts';

/** Product features an app can switch on or off. */
export const FEATURES = ['call', 'live', 'gift', 'trtc', 'ivh'] as const;
export type Feature = (typeof FEATURES)[number];

/** Rate-limit profiles: `tencent` applies the published per-API limits, `off` none. */
type RateLimitProfile = 'tencent' | 'off';

/** The callback families an app configures separately: Call.* (v4/call_config/*) and Live.* (v4/live_config/*). */
export type CallbackFamily = 'call' | 'live';

/** One family's callback configuration: where its callbacks go and which command words it wants (`all`: every one). */
export interface CallbackConfig {
  url: string;
  commands: string[] | 'all';
}

/** Longest callback URL accepted, in characters (Tencent publishes no limit; unconfirmed, see docs/compatibility.md). */
export const MAX_CALLBACK_URL_CHARS = 1024;

/** Everything about an app that an operator may change after creation. */
export interface AppSettings {
  admins: string[];
  features: Record<Feature, boolean>;
  /** `token` signs Call.* callbacks, and Live.* ones while live_config has no token of its own. */
  callback: { token: string };
  /**
   * Per family, the callback URL and command list set by call_config/live_config set_callback (or by the `callback.url`
   * shortcut, which wants every command); null when the family has none, so nothing of it is sent.
   */
  callbacks: Record<CallbackFamily, CallbackConfig | null>;
  /**
   * Live.* callback authentication (v4/live_config/set_callback_token) and the before-send-gift policy:
   * `configured` once a token was set; `enabled` is IsTokenEnable; `giftNonBlocking` lets a gift through when
   * Live.CallbackBeforeSendGift fails or times out (an explicit ErrorCode ≠ 0 still blocks).
   */
  liveCallback: { token: string; enabled: boolean; configured: boolean; giftNonBlocking: boolean };
  /** IPs or CIDRs allowed to call the server APIs; empty means any. */
  ipAllowlist: string[];
  disabled: boolean;
  /** Unix seconds after which the app's package counts as expired; null for never. */
  expiresAt: number | null;
  rateLimits: RateLimitProfile;
  /** App-wide cap on REST calls per second (SDKAppID-level limit); 0 for none. */
  appRateLimit: number;
  /** Most accounts the app may hold (like the trial edition's 100); 0 for no cap. */
  accountLimit: number;
  /** How long a callee is rung before NotAnswer, unless the call sets its own (ms). */
  callRingTimeoutMs: number;
  /** TRTC rooms on the real-time plane: `requirePrivateMapKey` is the console's "Enable permission key" (https://trtc.io/document/35157). */
  trtc: { requirePrivateMapKey: boolean };
  /**
   * The Chat SDK: `purchaseBits` is the package the login reply announces (up to 64 '0'/'1', the last one bit 0;
   * bit 16 1-to-1 calls, bit 17 group calls), `webInstances` how many instances of one user may be online at once
   * (the console's "Max Login Instances per User per Platform"; a newer login kicks the oldest out).
   */
  chat: { purchaseBits: string; webInstances: number };
}

/** Every package ability on: what a new app's Chat logins announce. */
export const ALL_PURCHASE_BITS = '1'.repeat(64);

/** Longest Live callback token (set_callback_token `Token`), in characters. */
export const MAX_LIVE_CALLBACK_TOKEN_CHARS = 128;

/** Settings of a newly created app. */
export function defaultSettings(): AppSettings {
  return {
    admins: ['administrator'],
    features: { call: true, live: true, gift: true, trtc: true, ivh: true },
    callback: { token: '' },
    callbacks: { call: null, live: null },
    liveCallback: { token: '', enabled: false, configured: false, giftNonBlocking: false },
    ipAllowlist: [],
    disabled: false,
    expiresAt: null,
    rateLimits: 'tencent',
    appRateLimit: 0,
    accountLimit: 0,
    callRingTimeoutMs: 30_000,
    trtc: { requirePrivateMapKey: false },
    chat: { purchaseBits: ALL_PURCHASE_BITS, webInstances: 1 },
  };
}

/** Both families' configuration as the `callback.url` shortcut leaves it: every command to `url` (none when empty). */
function shortcutCallbacks(url: string, prev: AppSettings['callbacks']): AppSettings['callbacks'] {
  const one = (f: CallbackFamily): CallbackConfig | null => (url === '' ? null : { url, commands: prev[f]?.commands ?? 'all' });
  return { call: one('call'), live: one('live') };
}

/** Reads settings JSON from the store, filling keys that older rows lack. */
export function parseSettings(json: string): AppSettings {
  const base = defaultSettings();
  // Rows written before per-family configuration kept one URL in callback.url: it meant every command of both families.
  const raw = JSON.parse(json) as Partial<AppSettings> & { callback?: { url?: string; token?: string } };
  return {
    ...base,
    ...raw,
    features: { ...base.features, ...raw.features },
    callback: { token: raw.callback?.token ?? '' },
    callbacks: raw.callbacks ? { ...base.callbacks, ...raw.callbacks } : shortcutCallbacks(raw.callback?.url ?? '', base.callbacks),
    liveCallback: { ...base.liveCallback, ...raw.liveCallback },
    trtc: { ...base.trtc, ...raw.trtc },
    chat: { ...base.chat, ...raw.chat },
  };
}

/** The settings as shown to an operator: callback tokens replaced by `***` (an empty one stays empty, meaning not set). */
export function maskedSettings(s: AppSettings): AppSettings {
  const mask = (token: string): string => (token === '' ? '' : '***');
  return { ...s, callback: { ...s.callback, token: mask(s.callback.token) }, liveCallback: { ...s.liveCallback, token: mask(s.liveCallback.token) } };
}

/** The keys `app set` understands. */
export const SETTING_KEYS = [
  ...FEATURES.map((f) => `features.${f}`),
  'admins',
  'callback.url',
  'callback.token',
  'liveCallback.token',
  'liveCallback.enabled',
  'liveCallback.giftNonBlocking',
  'ipAllowlist',
  'disabled',
  'expiresAt',
  'rateLimits',
  'appRateLimit',
  'accountLimit',
  'callRingTimeoutMs',
  'trtc.requirePrivateMapKey',
  'chat.purchaseBits',
  'chat.webInstances',
];

/** Why `url` cannot be a callback URL (http or https, no spaces, at most MAX_CALLBACK_URL_CHARS), or null when it can. */
export function callbackUrlProblem(url: string): string | null {
  if (!/^https?:\/\/\S+$/i.test(url) || !URL.canParse(url)) return 'must be an http:// or https:// URL';
  if ([...url].length > MAX_CALLBACK_URL_CHARS) return `must be at most ${MAX_CALLBACK_URL_CHARS} characters`;
  return null;
}

function cidrOrIp(entry: string): string {
  const [addr, bits, ...rest] = entry.split('/');
  const fam = isIP(addr ?? '');
  const max = fam === 6 ? 128 : 32;
  if (!fam || rest.length || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
    throw new DomainError('INVALID_ARGUMENT', `ipAllowlist entry "${entry}" is not an IP address or CIDR`);
  }
  return entry;
}

/** The typed value of each setting an operator may change (`app set`, AppsService.update); top-level ones as AppSettings holds them. */
type SettingValues = { [F in Feature as `features.${F}`]: boolean } & Pick<
  AppSettings,
  'admins' | 'ipAllowlist' | 'disabled' | 'expiresAt' | 'rateLimits' | 'appRateLimit' | 'accountLimit' | 'callRingTimeoutMs'
> & {
  'callback.url': string;
  'callback.token': string;
  'liveCallback.token': string;
  'liveCallback.enabled': boolean;
  'liveCallback.giftNonBlocking': boolean;
  'trtc.requirePrivateMapKey': boolean;
  /** Up to 64 '0'/'1', the last one bit 0 (see purchaseBitsOf for the CLI's forms). */
  'chat.purchaseBits': string;
  'chat.webInstances': number;
  /** Not a setting: the app's key for UserSigs, rotated. */
  secretKey: string;
};

/** Changes to an app: only the keys given change. */
export type SettingsPatch = Partial<SettingValues>;

/** The settings whose value is true or false, and those that count something. */
export const BOOL_KEYS: ReadonlySet<string> = new Set<string>([...FEATURES.map((f) => `features.${f}`), 'liveCallback.enabled', 'liveCallback.giftNonBlocking', 'disabled', 'trtc.requirePrivateMapKey']);
export const COUNT_KEYS: ReadonlySet<string> = new Set<string>(['appRateLimit', 'accountLimit', 'callRingTimeoutMs', 'chat.webInstances']);

function nonNegative(key: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new DomainError('INVALID_ARGUMENT', `${key} must be a non-negative integer`);
  return n;
}

/** Applies a patch's settings to a settings object, validating each value (`secretKey` is the caller's to apply). */
export function applySettings(s: AppSettings, patch: SettingsPatch): void {
  for (const [key, value] of Object.entries(patch) as Array<[keyof SettingValues, unknown]>) {
    if (value === undefined || key === 'secretKey') continue;
    if (BOOL_KEYS.has(key) && typeof value !== 'boolean') throw new DomainError('INVALID_ARGUMENT', `${key} must be true or false`);
    if (key.startsWith('features.')) {
      const f = key.slice('features.'.length) as Feature;
      if (!FEATURES.includes(f)) throw new DomainError('INVALID_ARGUMENT', `unknown feature "${f}" (known: ${FEATURES.join(', ')})`);
      s.features[f] = value as boolean;
      continue;
    }
    applyOne(s, key, value);
  }
}

function applyOne(s: AppSettings, key: keyof SettingValues, value: unknown): void {
  const text = (): string => {
    if (typeof value !== 'string') throw new DomainError('INVALID_ARGUMENT', `${key} must be a string`);
    return value;
  };
  const strings = (): string[] => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new DomainError('INVALID_ARGUMENT', `${key} must be a list of strings`);
    return value as string[];
  };
  const n = (): number => nonNegative(key, value as number);
  switch (key) {
    case 'admins': {
      const admins = strings();
      if (admins.length === 0) throw new DomainError('INVALID_ARGUMENT', 'admins needs at least one identifier');
      s.admins = admins;
      return;
    }
    case 'callback.url': {
      // The shortcut for both families (docs/compatibility.md): it moves their URL, keeping a command list set by
      // call_config/live_config, wants every command where none was set, and removes both configurations when empty.
      const url = text();
      const problem = url === '' ? null : callbackUrlProblem(url);
      if (problem) throw new DomainError('INVALID_ARGUMENT', `callback.url ${problem} (or empty)`);
      s.callbacks = shortcutCallbacks(url, s.callbacks);
      return;
    }
    case 'callback.token':
      s.callback = { ...s.callback, token: text() };
      return;
    case 'liveCallback.token': {
      const token = text();
      // An empty token removes the Live callback authentication configuration (get_callback_token then answers 100302).
      if (token === '') {
        s.liveCallback = { ...s.liveCallback, token: '', enabled: false, configured: false };
        return;
      }
      if ([...token].length > MAX_LIVE_CALLBACK_TOKEN_CHARS) throw new DomainError('INVALID_ARGUMENT', `liveCallback.token must be 1-${MAX_LIVE_CALLBACK_TOKEN_CHARS} characters`);
      s.liveCallback = { ...s.liveCallback, token, configured: true };
      return;
    }
    case 'liveCallback.enabled':
      s.liveCallback = { ...s.liveCallback, enabled: value as boolean };
      return;
    case 'liveCallback.giftNonBlocking':
      s.liveCallback = { ...s.liveCallback, giftNonBlocking: value as boolean };
      return;
    case 'ipAllowlist':
      s.ipAllowlist = strings().map(cidrOrIp);
      return;
    case 'disabled':
      s.disabled = value as boolean;
      return;
    case 'expiresAt':
      s.expiresAt = value === null ? null : n();
      return;
    case 'rateLimits':
      if (value !== 'tencent' && value !== 'off') throw new DomainError('INVALID_ARGUMENT', 'rateLimits must be "tencent" or "off"');
      s.rateLimits = value;
      return;
    case 'appRateLimit':
      s.appRateLimit = n();
      return;
    case 'accountLimit':
      s.accountLimit = n();
      return;
    case 'callRingTimeoutMs': {
      const ms = n();
      if (ms < 1000 || ms > 600_000) throw new DomainError('INVALID_ARGUMENT', 'callRingTimeoutMs must be from 1000 to 600000');
      s.callRingTimeoutMs = ms;
      return;
    }
    case 'trtc.requirePrivateMapKey':
      s.trtc = { ...s.trtc, requirePrivateMapKey: value as boolean };
      return;
    case 'chat.purchaseBits': {
      const bits = text();
      if (!/^[01]{1,64}$/.test(bits)) throw new DomainError('INVALID_ARGUMENT', 'chat.purchaseBits must be up to 64 0/1 digits (the last one bit 0)');
      s.chat = { ...s.chat, purchaseBits: bits };
      return;
    }
    case 'chat.webInstances': {
      const k = n();
      if (k < 1 || k > 10) throw new DomainError('INVALID_ARGUMENT', 'chat.webInstances must be from 1 to 10');
      s.chat = { ...s.chat, webInstances: k };
      return;
    }
    default:
      throw new DomainError('INVALID_ARGUMENT', `unknown setting "${String(key)}" (known: ${SETTING_KEYS.join(', ')}, secretKey)`);
  }
}
