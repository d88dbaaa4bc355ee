import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestIds } from './request-ids.ts';

describe('RequestIds', () => {
  it('makes unique ids of the two shapes, and two sources do not collide', () => {
    const a = new RequestIds();
    const b = new RequestIds();
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) ids.add(a.hex()).add(b.hex());
    assert.equal(ids.size, 2000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.match(a.rest(), /^Id-[0-9a-f]{32}-O-Seq-1001$/);
  });
});
