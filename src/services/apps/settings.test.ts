import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../errors.ts';
import { parseSettingChanges } from '../../cli/setting-changes.ts';
import { applySettings, defaultSettings, maskedSettings, MAX_CALLBACK_URL_CHARS, parseSettings, type AppSettings } from './settings.ts';

/** One `key=value` as `app set` takes it, applied to `s`. */
function applySetting(s: AppSettings, key: string, value: string): void {
  applySettings(s, parseSettingChanges([[key, value]]));
}

describe('app settings', () => {
  it('applies each key of the CLI contract', () => {
    const s = defaultSettings();
    applySetting(s, 'features.gift', 'false');
    applySetting(s, 'features.trtc', 'off');
    applySetting(s, 'callback.url', 'http://127.0.0.1:8080/cb');
    applySetting(s, 'callback.token', 'tok');
    applySetting(s, 'ipAllowlist', '127.0.0.1, 10.0.0.0/8,::1');
    applySetting(s, 'disabled', 'true');
    applySetting(s, 'expiresAt', '2030-01-01T00:00:00Z');
    applySetting(s, 'rateLimits', 'off');
    applySetting(s, 'admins', 'root,ops');
    assert.equal(s.features.gift, false);
    assert.equal(s.features.trtc, false);
    assert.equal(s.features.call, true);
    assert.deepEqual(s.callback, { token: 'tok' });
    const all = { url: 'http://127.0.0.1:8080/cb', commands: 'all' };
    assert.deepEqual(s.callbacks, { call: all, live: all });
    assert.deepEqual(s.ipAllowlist, ['127.0.0.1', '10.0.0.0/8', '::1']);
    assert.equal(s.disabled, true);
    assert.equal(s.expiresAt, 1893456000);
    assert.equal(s.rateLimits, 'off');
    assert.deepEqual(s.admins, ['root', 'ops']);
    applySetting(s, 'expiresAt', '1893456000000');
    assert.equal(s.expiresAt, 1893456000);
    applySetting(s, 'expiresAt', 'never');
    assert.equal(s.expiresAt, null);
  });

  it('refuses unknown keys and bad values with INVALID_ARGUMENT', () => {
    const s = defaultSettings();
    for (const [k, v] of [
      ['nope', '1'],
      ['features.video', 'true'],
      ['features.gift', 'maybe'],
      ['rateLimits', 'strict'],
      ['ipAllowlist', '1.2.3.4/33'],
      ['ipAllowlist', 'example.com'],
      ['callback.url', 'ftp://x'],
      ['callback.url', 'http://has space'],
      ['callback.url', `http://x/${'a'.repeat(MAX_CALLBACK_URL_CHARS)}`],
      ['expiresAt', 'soon'],
      ['admins', ' , '],
      ['appRateLimit', '-1'],
      ['accountLimit', '1.5'],
    ]) {
      assert.throws(() => applySetting(s, k!, v!), (e: unknown) => e instanceof DomainError && e.code === 'INVALID_ARGUMENT', `${k}=${v}`);
    }
  });

  it('fills keys missing from stored settings with defaults', () => {
    const s = parseSettings(JSON.stringify({ disabled: true, features: { gift: false } }));
    assert.equal(s.disabled, true);
    assert.equal(s.features.gift, false);
    assert.equal(s.features.call, true);
    assert.equal(s.rateLimits, 'tencent');
  });

  it('masks the callback tokens for display, keeping the rest and leaving the settings themselves untouched', () => {
    const s = defaultSettings();
    assert.deepEqual(maskedSettings(s), s, 'no token set: nothing to mask');
    applySetting(s, 'callback.url', 'http://127.0.0.1:8080/cb');
    applySetting(s, 'callback.token', 'cb-secret');
    applySetting(s, 'liveCallback.token', 'live-secret');
    const shown = maskedSettings(s);
    assert.deepEqual(shown.callback, { token: '***' });
    assert.deepEqual(shown.callbacks, s.callbacks);
    assert.deepEqual(shown.liveCallback, { ...s.liveCallback, token: '***' });
    assert.doesNotMatch(JSON.stringify(shown), /secret/);
    assert.equal(s.callback.token, 'cb-secret');
    assert.equal(s.liveCallback.token, 'live-secret');
  });

  it('callback.url is the shortcut for both callback families (docs/compatibility.md)', () => {
    const s = defaultSettings();
    assert.deepEqual(s.callbacks, { call: null, live: null }, 'a new app sends no callbacks');
    applySetting(s, 'callback.url', 'http://a/cb');
    assert.deepEqual(s.callbacks, { call: { url: 'http://a/cb', commands: 'all' }, live: { url: 'http://a/cb', commands: 'all' } }, 'no list yet: every command');
    s.callbacks = { call: { url: 'http://b/cb', commands: ['Call.CallbackAfterEndCall'] }, live: { url: 'http://a/cb', commands: 'all' } };
    applySetting(s, 'callback.url', 'https://c/cb');
    assert.deepEqual(s.callbacks, { call: { url: 'https://c/cb', commands: ['Call.CallbackAfterEndCall'] }, live: { url: 'https://c/cb', commands: 'all' } }, 'a list set by API is kept');
    applySetting(s, 'callback.url', '');
    assert.deepEqual(s.callbacks, { call: null, live: null }, 'empty removes both configurations');
  });

  it('reads rows written before per-family configuration: their callback.url meant every command of both families', () => {
    const old = parseSettings(JSON.stringify({ callback: { url: 'http://old/cb', token: 'tok' } }));
    assert.deepEqual(old.callback, { token: 'tok' });
    assert.deepEqual(old.callbacks, { call: { url: 'http://old/cb', commands: 'all' }, live: { url: 'http://old/cb', commands: 'all' } });
    assert.deepEqual(parseSettings(JSON.stringify({ callback: { url: '', token: '' } })).callbacks, { call: null, live: null });
    const stored = parseSettings(JSON.stringify({ callbacks: { live: { url: 'http://l/cb', commands: ['Live.CallbackBeforeSendGift'] } } }));
    assert.deepEqual(stored.callbacks, { call: null, live: { url: 'http://l/cb', commands: ['Live.CallbackBeforeSendGift'] } });
  });

  it('applySettings takes typed values and refuses wrong types and out-of-range values with INVALID_ARGUMENT', () => {
    const s = defaultSettings();
    applySettings(s, { 'features.gift': false, disabled: true, expiresAt: null, admins: ['root'], callRingTimeoutMs: 5000, 'chat.webInstances': 3, rateLimits: 'off' });
    assert.deepEqual([s.features.gift, s.disabled, s.expiresAt, s.admins, s.callRingTimeoutMs, s.chat.webInstances, s.rateLimits], [false, true, null, ['root'], 5000, 3, 'off']);
    const bad: Array<Record<string, unknown>> = [
      { disabled: 'yes' },
      { 'features.gift': 1 },
      { admins: [] },
      { admins: 'root' },
      { callRingTimeoutMs: 999 },
      { accountLimit: -1 },
      { appRateLimit: 1.5 },
      { expiresAt: 'never' },
      { rateLimits: 'some' },
      { ipAllowlist: ['not-an-ip'] },
      { 'callback.url': 'ftp://x' },
      { 'chat.purchaseBits': '12' },
      { 'chat.webInstances': 11 },
      { 'features.video': true },
      { nope: 1 },
    ];
    for (const patch of bad) {
      assert.throws(() => applySettings(defaultSettings(), patch as never), (e: unknown) => e instanceof DomainError && e.code === 'INVALID_ARGUMENT', JSON.stringify(patch));
    }
  });
});
