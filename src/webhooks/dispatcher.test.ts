import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it, mock } from 'node:test';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { createLogger } from '../logger.ts';
import { AppsService } from '../services/apps/apps-service.ts';
import { openStore, type Store } from '../store/store.ts';
import { CallbackDispatcher, DEFAULT_DISPATCHER_OPTIONS } from './dispatcher.ts';

/** A store with one app whose callbacks go to a receiver; removed after the test. */
async function fixture() {
  const dir = tempDir();
  const store = await openStore({ dataDir: dir });
  const rx = await startReceiver();
  after(async () => {
    await rx.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const apps = new AppsService(store);
  await apps.load();
  const app = await apps.create();
  await apps.update(app.sdkAppId, { 'callback.url': rx.url });
  return { store, rx, apps, app };
}

describe('CallbackDispatcher', () => {
  after(() => mock.timers.reset());

  it('schedules the next pass with backoff when a pass fails, and delivers once the store is back with no other traffic', async () => {
    const { store, rx, apps, app } = await fixture();
    await store.outbox.enqueue([
      { sdk_app_id: app.sdkAppId, command: 'Call.CallbackAfterStartCall', order_key: 'call-1', body: '{"n":1}', client_ip: '', platform: 'RESTAPI', status: 'pending', attempts: 0, next_attempt_at: 0, created_at: Date.now(), delivered_at: 0, last_status: 0, last_error: '' },
    ]);

    // The store fails the first two passes (as PostgreSQL does while it restarts), then answers again.
    let failures = 2;
    let passes = 0;
    const outbox = Object.create(store.outbox) as Store['outbox'];
    outbox.due = (now, limit) => {
      passes++;
      return failures-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : store.outbox.due(now, limit);
    };
    const flaky: Store = { ...store, outbox };

    mock.timers.enable({ apis: ['setTimeout'] });
    const d = new CallbackDispatcher(flaky, apps, createLogger('silent'), { ...DEFAULT_DISPATCHER_OPTIONS, retryBaseMs: 1000, retryMaxMs: 60_000 });
    d.start();
    await d.settled();
    assert.equal(passes, 1);

    mock.timers.tick(999);
    await d.settled();
    assert.equal(passes, 1, 'not before the first backoff');
    mock.timers.tick(1);
    await d.settled();
    assert.equal(passes, 2, 'the failed pass scheduled the next one after retryBaseMs');

    mock.timers.tick(1999);
    await d.settled();
    assert.equal(passes, 2, 'the second failure doubles the wait');
    mock.timers.tick(1);
    await d.settled();
    mock.timers.reset();
    assert.ok(passes >= 3, 'the store is back: the scheduled pass ran');

    const [got] = await rx.waitDelivered(1);
    assert.deepEqual(got!.body, { n: 1 });
    await d.stop();
    assert.equal((await store.outbox.get(1))?.status, 'delivered');
  });

  it('records each attempt with its HTTP status, error and time; retryNow makes a failed callback due again and leaves a delivered one', async () => {
    const { store, rx, apps, app } = await fixture();
    const now = Date.now();
    await store.outbox.enqueue([
      { sdk_app_id: app.sdkAppId, command: 'Call.CallbackAfterStartCall', order_key: 'call-9', body: '{"n":9}', client_ip: '', platform: 'RESTAPI', status: 'pending', attempts: 0, next_attempt_at: 0, created_at: now, delivered_at: 0, last_status: 0, last_error: '' },
    ]);
    rx.failNext(2);
    // Retries a minute apart: only retryNow brings the second and third attempts sooner.
    const d = new CallbackDispatcher(store, apps, createLogger('silent'), { ...DEFAULT_DISPATCHER_OPTIONS, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    d.start();
    await rx.waitAll(1);
    await d.settled();
    const id = 1;
    assert.deepEqual(await d.retryNow(app.sdkAppId + 1, id), undefined, 'another app’s callback is not found');
    assert.deepEqual(await d.retryNow(app.sdkAppId, 99), undefined);
    assert.equal((await d.retryNow(app.sdkAppId, id))?.retried, true);
    await rx.waitAll(2);
    await d.settled();
    await d.retryNow(app.sdkAppId, id);
    await rx.waitDelivered(1);
    await d.settled();
    const [row] = await d.recent(app.sdkAppId, 10);
    assert.deepEqual([row!.status, row!.attempts, row!.last_status], ['delivered', 3, 200]);
    assert.deepEqual(row!.attemptLog.map((a) => [a.attempt, a.status, a.error]), [[1, 500, 'HTTP 500'], [2, 500, 'HTTP 500'], [3, 200, '']]);
    assert.ok(row!.attemptLog.every((a) => a.attempted_at >= now && a.duration_ms >= 0));
    assert.equal((await d.retryNow(app.sdkAppId, id))?.retried, false, 'a delivered callback is left');
    await d.stop();
    assert.equal(rx.all.length, 3);
  });
});
