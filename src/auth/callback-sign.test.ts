import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callbackSign } from './callback-sign.ts';

describe('callbackSign', () => {
  it("reproduces the documentation's example", () => {
    assert.equal(callbackSign('xxxxyyyy', 1669872112), '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061');
  });
});
