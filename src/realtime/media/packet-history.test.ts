import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketHistory } from './packet-history.ts';

describe('PacketHistory', () => {
  it('keeps the last `slots` packets by sequence number, across a wrap; older and oversized ones are gone', () => {
    const h = new PacketHistory(4, 8);
    for (const seq of [65534, 65535, 0, 1, 2]) h.put(seq, seq * 10, seq === 0, Buffer.from([seq & 0xff, 1, 2]));
    assert.equal(h.get(65534), undefined, 'replaced by 2');
    assert.deepEqual(h.get(0), { timestamp: 0, marker: true, payload: Buffer.from([0, 1, 2]) });
    assert.deepEqual(h.get(65535), { timestamp: 655350, marker: false, payload: Buffer.from([255, 1, 2]) });
    assert.equal(h.get(3), undefined);
    h.put(6, 60, false, Buffer.alloc(9));
    assert.equal(h.get(6), undefined, 'longer than a slot');
    assert.equal(h.get(2), undefined, 'its slot was cleared');
  });

  it('a kept payload is a copy: changing the original later does not change it', () => {
    const h = new PacketHistory(8, 16);
    const p = Buffer.from('payload');
    h.put(5, 1, false, p);
    p.fill(0);
    assert.equal(h.get(5)!.payload.toString(), 'payload');
  });
});
