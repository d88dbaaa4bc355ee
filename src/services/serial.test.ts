import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerialPerApp } from './serial.ts';

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('SerialPerApp', () => {
  it('runs one app’s tasks in order, one at a time, while another app’s tasks go ahead', async () => {
    const q = new SerialPerApp();
    const log: string[] = [];
    const held = gate();
    const a1 = q.run(1, async () => {
      log.push('a1 start');
      await held.promise;
      log.push('a1 end');
    });
    const a2 = q.run(1, async () => void log.push('a2'));
    await q.run(2, async () => void log.push('b1'));
    assert.deepEqual(log, ['a1 start', 'b1'], 'app 2 did not wait for app 1; app 1’s second task did');
    assert.equal(q.size, 1);
    held.open();
    await Promise.all([a1, a2]);
    assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
    assert.equal(q.size, 0, 'an idle app keeps no queue');
  });

  it('a failed task rejects its caller and does not stop the next', async () => {
    const q = new SerialPerApp();
    const failed = q.run(7, async () => {
      throw new Error('no');
    });
    const next = q.run(7, async () => 'yes');
    await assert.rejects(failed, /no/);
    assert.equal(await next, 'yes');
    assert.equal(q.size, 0);
  });
});
