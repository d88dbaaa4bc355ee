import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lifecycles } from './lifecycle.ts';

describe('Lifecycles', () => {
  it('starts parts in order, stops them in reverse once, and stops none that failed to start', async () => {
    const log: string[] = [];
    const part = (name: string, fail = false) => ({
      start: async () => {
        log.push(`start ${name}`);
        if (fail) throw new Error(`${name} failed`);
      },
      stop: () => void log.push(`stop ${name}`),
    });
    const parts = new Lifecycles();
    await parts.start(part('a'));
    await parts.start(part('b'));
    await assert.rejects(parts.start(part('c', true)), /c failed/);
    await parts.stop();
    await parts.stop();
    assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop b', 'stop a']);
  });

  it('takes a part that only stops (nothing to start up front) in its place in the order', async () => {
    const log: string[] = [];
    const parts = new Lifecycles();
    await parts.start({ stop: () => void log.push('stop workers') });
    await parts.start({ start: () => void log.push('start gateway'), stop: () => void log.push('stop gateway') });
    await parts.stop();
    assert.deepEqual(log, ['start gateway', 'stop gateway', 'stop workers']);
  });
});
