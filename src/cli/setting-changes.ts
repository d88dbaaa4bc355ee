// `trtcd app set <id> key=value…`: the CLI's words for settings (`true`/`on`/`1`, lists with commas, dates or `never`,
// bit numbers) turned into the typed changes AppsService.update takes.
import { DomainError } from '../services/errors.ts';
import { ALL_PURCHASE_BITS, BOOL_KEYS, COUNT_KEYS, FEATURES, SETTING_KEYS, type Feature, type SettingsPatch } from '../services/apps/settings.ts';

function bool(key: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['true', 'on', '1', 'yes'].includes(s)) return true;
  if (['false', 'off', '0', 'no'].includes(s)) return false;
  throw new DomainError('INVALID_ARGUMENT', `${key} must be true or false, got "${v}"`);
}

function count(key: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new DomainError('INVALID_ARGUMENT', `${key} must be a non-negative integer`);
  return n;
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function timestamp(v: string): number | null {
  const s = v.trim();
  if (s === '' || s === '0' || s === 'never' || s === 'none') return null;
  // Unix time in milliseconds (13 digits) is taken for what it is rather than as a date 50,000 years away.
  if (/^\d+$/.test(s)) return Number(s) > 1e11 ? Math.floor(Number(s) / 1000) : Number(s);
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new DomainError('INVALID_ARGUMENT', `expiresAt must be unix seconds, an ISO date or "never", got "${v}"`);
  return Math.floor(ms / 1000);
}

/** A package as bits: `all`, `none`, a list of set bit numbers (`16,17`), or the bit string itself (3–64 digits, last = bit 0). */
export function purchaseBitsOf(v: string): string {
  const s = v.trim().toLowerCase();
  if (s === 'all') return ALL_PURCHASE_BITS;
  if (s === 'none') return '0'.repeat(64);
  // Three or more 0/1 digits are a bit string; shorter ones ("1", "10") are bit numbers.
  if (/^[01]{3,64}$/.test(s)) return s;
  if (/^\d{1,2}(\s*,\s*\d{1,2})*$/.test(s)) {
    const bits = Array.from({ length: 64 }, () => '0');
    for (const n of s.split(',').map((x) => Number(x.trim()))) {
      if (n > 63) throw new DomainError('INVALID_ARGUMENT', `chat.purchaseBits: bit ${n} is beyond 63`);
      bits[63 - n] = '1';
    }
    return bits.join('');
  }
  throw new DomainError('INVALID_ARGUMENT', 'chat.purchaseBits must be all, none, bit numbers like 16,17, or a string of up to 64 0/1');
}


/**
 * Parses `key=value` pairs as typed on the CLI (`true`/`on`/`1`, lists with commas, dates or `never`, bit numbers)
 * into a patch; an unknown key or a value of the wrong form is INVALID_ARGUMENT.
 */
export function parseSettingChanges(pairs: Array<[string, string]>): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of pairs) {
    if (key.startsWith('features.') && !FEATURES.includes(key.slice('features.'.length) as Feature)) {
      throw new DomainError('INVALID_ARGUMENT', `unknown feature "${key.slice('features.'.length)}" (known: ${FEATURES.join(', ')})`);
    }
    if (BOOL_KEYS.has(key)) patch[key] = bool(key, value);
    else if (COUNT_KEYS.has(key)) patch[key] = count(key, value);
    else if (key === 'admins' || key === 'ipAllowlist') patch[key] = list(value);
    else if (key === 'expiresAt') patch[key] = timestamp(value);
    else if (key === 'chat.purchaseBits') patch[key] = purchaseBitsOf(value);
    else if (key === 'rateLimits' || key === 'callback.url' || key === 'callback.token' || key === 'liveCallback.token' || key === 'secretKey') patch[key] = value;
    else throw new DomainError('INVALID_ARGUMENT', `unknown setting "${key}" (known: ${SETTING_KEYS.join(', ')}, secretKey)`);
  }
  return patch as SettingsPatch;
}

