import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NonceLog } from './nonces.ts';

describe('NonceLog', () => {
  it('accepts a Nonce and Timestamp once per SecretId while the timestamp is in the window', () => {
    const log = new NonceLog(300);
    assert.equal(log.add('AKIDa', '1', 1000, 1000), true);
    assert.equal(log.add('AKIDa', '1', 1000, 1200), false);
    assert.equal(log.add('AKIDa', '1', 1000, 1300), false);
    assert.equal(log.add('AKIDb', '1', 1000, 1000), true);
    assert.equal(log.add('AKIDa', '2', 1000, 1000), true);
    assert.equal(log.add('AKIDa', '1', 1001, 1000), true);
    // Past the window the timestamp check refuses the pair anyway; the log no longer needs it.
    assert.equal(log.add('AKIDa', '1', 1000, 1301), true);
  });

  it('forgets the pairs whose timestamps have left the window, so its size follows the window, not the uptime', () => {
    const log = new NonceLog(300);
    for (let i = 0; i < 1000; i++) log.add('AKIDa', String(i), 1000, 1000);
    assert.equal(log.size, 1000);
    log.add('AKIDa', 'late', 1400, 1400);
    assert.equal(log.size, 1);
  });
});
