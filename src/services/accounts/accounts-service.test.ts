import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { InProcessBus } from '../../bus/bus.ts';
import { openStore, type Store } from '../../store/store.ts';
import { tempDir } from '../../../test/helpers/server.ts';
import { AppsService } from '../apps/apps-service.ts';
import { AccountsService } from './accounts-service.ts';
import { CHANGES_EVERY_MS } from './change-feed.ts';
import { KNOWN_FOR_MS } from './known-accounts.ts';

const APP = 1400000001;

describe('AccountsService on two nodes', () => {
  let store: Store;
  let a: AccountsService;
  let b: AccountsService;
  /** Bus messages node A sent to node B. */
  let sent: unknown[];

  beforeEach(async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_750_000_000_000 });
    store = await openStore({ dataDir: tempDir() });
    const busA = new InProcessBus();
    const busB = new InProcessBus();
    sent = [];
    busA.subscribe('accounts.changed', (p, remote) => {
      if (remote) return;
      sent.push(p);
      busB.deliverRemote('accounts.changed', p);
    });
    a = new AccountsService(store, new AppsService(store), busA);
    b = new AccountsService(store, new AppsService(store), busB);
    a.start();
    b.start();
  });

  afterEach(async () => {
    a.stop();
    b.stop();
    mock.timers.reset();
    await store.close();
  });

  it('tells the other node of an import at once, and of the imports of the next few ms together, in order', async () => {
    assert.equal(await b.exists(APP, 'u1'), false);
    await a.importOne(APP, { userId: 'u1' });
    assert.equal(await b.exists(APP, 'u1'), true);
    assert.equal(sent.length, 1);

    // B has seen u2..u4 missing; A imports two and deletes one within the window: one message each way, later.
    assert.deepEqual([...(await b.existing(APP, ['u2', 'u3', 'u4']))], []);
    await a.importOne(APP, { userId: 'u2' });
    await a.importOne(APP, { userId: 'u3' });
    await a.importMany(APP, [{ userId: 'u4' }]);
    await a.delete(APP, ['u2']);
    assert.equal(sent.length, 1);
    assert.deepEqual([...(await b.existing(APP, ['u2', 'u3', 'u4']))], []);
    mock.timers.tick(CHANGES_EVERY_MS);
    assert.deepEqual(sent.slice(1), [
      { sdkAppId: APP, userIds: ['u2', 'u3', 'u4'], imported: true },
      { sdkAppId: APP, userIds: ['u2'], imported: false },
    ]);
    assert.deepEqual([...(await b.existing(APP, ['u2', 'u3', 'u4']))].sort(), ['u3', 'u4']);

    // A quiet window: the next change goes out at once again.
    mock.timers.tick(CHANGES_EVERY_MS);
    await a.importOne(APP, { userId: 'u5' });
    assert.equal(sent.length, 4);
  });

  it('sends what waits when the node stops', async () => {
    await a.importOne(APP, { userId: 'u1' });
    await a.importOne(APP, { userId: 'u2' });
    assert.equal(sent.length, 1);
    a.stop();
    assert.deepEqual(sent[1], { sdkAppId: APP, userIds: ['u2'], imported: true });
  });

  it('sees within KNOWN_FOR_MS an import whose bus message never came', async () => {
    assert.equal(await b.exists(APP, 'lost'), false);
    // Written by a node that was killed before it told the others.
    await store.accounts.upsert(APP, [{ userId: 'lost' }]);
    mock.timers.tick(KNOWN_FOR_MS - 1);
    assert.equal(await b.exists(APP, 'lost'), false);
    mock.timers.tick(1);
    assert.equal(await b.exists(APP, 'lost'), true);
  });
});
