import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { userKey } from '../tenant-keys.ts';
import { KNOWN_FOR_MS, KnownAccounts } from './known-accounts.ts';

const k = (id: string) => userKey(1, id);

describe('KnownAccounts', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('keeps an answer for at least half of KNOWN_FOR_MS and never KNOWN_FOR_MS', () => {
    const known = new KnownAccounts(100);
    known.set(k('early'), true);
    mock.timers.tick(KNOWN_FOR_MS / 2 - 1);
    known.set(k('late'), false);
    assert.equal(known.get(k('early')), true);
    mock.timers.tick(1);
    assert.equal(known.get(k('early')), true);
    assert.equal(known.get(k('late')), false);
    mock.timers.tick(KNOWN_FOR_MS / 2);
    assert.equal(known.get(k('early')), undefined);
    assert.equal(known.get(k('late')), undefined);
  });

  it('answers with the newest value, forgets on delete, and holds at most max answers', () => {
    const known = new KnownAccounts(4);
    known.set(k('a'), true);
    known.set(k('b'), true);
    known.set(k('a'), false);
    assert.equal(known.get(k('a')), false);
    known.delete(k('a'));
    assert.equal(known.get(k('a')), undefined);
    for (const id of ['c', 'd', 'e', 'f']) known.set(k(id), true);
    assert.equal(known.get(k('b')), undefined);
    assert.deepEqual(['c', 'd', 'e', 'f'].map((id) => known.get(k(id))), [true, true, true, true]);
  });
});
