import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTcpProxy } from '../../test/helpers/tcp-proxy.ts';
import { createLogger } from '../logger.ts';
import { RedisBus } from './redis-bus.ts';

const REDIS_URL = process.env.TRTCD_TEST_REDIS_URL || undefined;

describe('RedisBus across a Redis outage', { skip: REDIS_URL ? false : 'TRTCD_TEST_REDIS_URL not set' }, () => {
  it('fails publishes and commands at once while Redis is gone, and hears other nodes again once it is back', { timeout: 30_000 }, async () => {
    const target = new URL(REDIS_URL!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const log = createLogger('silent');
    const a = await RedisBus.connect(`redis://127.0.0.1:${proxy.port}`, log, 500);
    const b = await RedisBus.connect(REDIS_URL!, log, 500);
    try {
      const topic = `test-outage-${Date.now()}`;
      const heard: unknown[] = [];
      a.subscribe(topic, (p, remote) => remote && heard.push(p));
      const hear = async (n: number) => {
        for (let i = 0; heard.length < n; i++) {
          assert.ok(i < 200, `message ${n} heard`);
          b.publish(topic, n);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await hear(1);

      proxy.mode('cut');
      await assert.rejects(a.ping(), 'a command while Redis is gone fails instead of waiting in a queue');
      proxy.mode('pass');
      for (let i = 0; ; i++) {
        try {
          await a.ping();
          break;
        } catch {
          assert.ok(i < 100, 'reconnected');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      heard.length = 0;
      await hear(1);
      assert.ok(heard.length >= 1, 'the subscription was renewed on the new connection');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await proxy.close();
    }
  });
});
