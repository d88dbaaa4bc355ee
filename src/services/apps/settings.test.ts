import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../errors.ts';
import { applySetting, defaultSettings, maskedSettings, parseSettings } from './settings.ts';

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
    assert.deepEqual(s.callback, { url: 'http://127.0.0.1:8080/cb', token: 'tok' });
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
    assert.deepEqual(shown.callback, { url: 'http://127.0.0.1:8080/cb', token: '***' });
    assert.deepEqual(shown.liveCallback, { ...s.liveCallback, token: '***' });
    assert.doesNotMatch(JSON.stringify(shown), /secret/);
    assert.equal(s.callback.token, 'cb-secret');
    assert.equal(s.liveCallback.token, 'live-secret');
  });
});
