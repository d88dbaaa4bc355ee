import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher, SPILL, type ItemOutcome } from './batcher.ts';

describe('Batcher', () => {
  it('calls of one turn form one batch; calls made while it runs form the next; each caller gets its own outcome', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    let gate: Promise<void> | null = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(async (items) => {
      batches.push(items);
      if (gate) await gate;
      return items.map((n): ItemOutcome<number> => (n < 0 ? { ok: false, err: new Error(`bad ${n}`) } : { ok: true, value: n * 2 }));
    });
    const first = [1, 2, -3].map((n) => b.run(n).catch((e: Error) => e.message));
    await new Promise((r) => setImmediate(r));
    const second = [4, 5].map((n) => b.run(n));
    gate = null;
    release();
    assert.deepEqual(await Promise.all(first), [2, 4, 'bad -3']);
    assert.deepEqual(await Promise.all(second), [8, 10]);
    assert.deepEqual(batches, [[1, 2, -3], [4, 5]]);
  });

  it('a batch that throws fails every call in it; the next batch runs', async () => {
    let fail = true;
    const b = new Batcher<number, number>(async (items) => {
      if (fail) throw new Error('down');
      return items.map((n) => ({ ok: true, value: n }));
    });
    const r = await Promise.allSettled([b.run(1), b.run(2)]);
    assert.deepEqual(r.map((x) => x.status), ['rejected', 'rejected']);
    fail = false;
    assert.equal(await b.run(3), 3);
  });

  it('splits at the batch size', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (items) => (sizes.push(items.length), items.map((n) => ({ ok: true, value: n }))), 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => b.run(n)));
    assert.deepEqual(sizes, [2, 2, 1]);
  });

  it('with a concurrency of 2, calls made while a batch is in flight wait for it, unless SPILL of them wait: those start a second batch at once; more wait', async () => {
    const inFlight: number[][] = [];
    const gates = new Map<number, () => void>();
    const b = new Batcher<number, number>(
      async (items) => {
        inFlight.push(items);
        await new Promise<void>((r) => gates.set(items[0]!, r));
        inFlight.splice(inFlight.indexOf(items), 1);
        return items.map((n) => ({ ok: true, value: n }));
      },
      100,
      2,
    );
    const turns = async () => {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    const first = [b.run(1), b.run(2)];
    await turns();
    const waiting = Array.from({ length: SPILL - 1 }, (_, i) => b.run(3 + i));
    await turns();
    assert.deepEqual(inFlight, [[1, 2]], 'a few wait for the batch in flight');
    const spilled = b.run(2 + SPILL);
    await turns();
    const second = Array.from({ length: SPILL }, (_, i) => 3 + i);
    assert.deepEqual(inFlight, [[1, 2], second], 'SPILL waiting: a second batch');
    const late = b.run(100);
    await turns();
    assert.deepEqual(inFlight, [[1, 2], second], 'no third');
    gates.get(3)!();
    assert.deepEqual(await Promise.all([...waiting, spilled]), second);
    await turns();
    assert.deepEqual(inFlight, [[1, 2]], 'one waiting item is left to the batch still in flight');
    gates.get(1)!();
    assert.deepEqual(await Promise.all(first), [1, 2]);
    await turns();
    assert.deepEqual(inFlight, [[100]]);
    gates.get(100)!();
    assert.equal(await late, 100);
  });
});
