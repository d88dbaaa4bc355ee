import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { NonceLog, RedisNonceLog } from './nonces.ts';

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

const REDIS_URL = process.env.TRTCD_TEST_REDIS_URL || undefined;

describe('RedisNonceLog', { skip: REDIS_URL ? false : 'TRTCD_TEST_REDIS_URL not set' }, () => {
  it('refuses a pair that another node accepted, and lets Redis forget it when the window ends', async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL!);
    try {
      const id = `AKIDtest${randomBytes(6).toString('hex')}`;
      const nodeA = new RedisNonceLog(redis, 300);
      const nodeB = new RedisNonceLog(redis, 300);
      assert.equal(await nodeA.add(id, '7', 1000, 1000), true);
      assert.equal(await nodeB.add(id, '7', 1000, 1100), false, 'a replay to another node');
      assert.equal(await nodeB.add(id, '8', 1000, 1100), true);
      assert.equal(await nodeB.add(`${id}x`, '7', 1000, 1100), true);
      const ttl = await redis.pttl(`trtcd:nonce:${id}:1000:7`);
      assert.ok(ttl > 0 && ttl <= 301_000, `expires with the window (${ttl} ms)`);
    } finally {
      redis.disconnect();
    }
  });
});
