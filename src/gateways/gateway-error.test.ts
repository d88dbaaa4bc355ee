import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../services/errors.ts';
import { entryFor, errorEntry, GatewayError, type ErrorEntry } from './gateway-error.ts';

const BY_DETAIL: ErrorEntry = errorEntry(1, 'by detail');
const BY_CODE: ErrorEntry = errorEntry(2, 'by code');
const FALLBACK: ErrorEntry = errorEntry(3, 'fallback');
const table = { SEAT_TAKEN: BY_DETAIL, NOT_FOUND: BY_CODE };
const fallback = (code: string): ErrorEntry | undefined => (code === 'INVALID_ARGUMENT' ? FALLBACK : undefined);

describe('entryFor', () => {
  it('takes the entry of the refusal’s detail, then of its code, then the family’s fallback for the code', () => {
    assert.equal(entryFor(new DomainError('NOT_FOUND', 'x', 'SEAT_TAKEN'), table, fallback), BY_DETAIL);
    assert.equal(entryFor(new DomainError('NOT_FOUND', 'x', 'OTHER'), table, fallback), BY_CODE);
    assert.equal(entryFor(new DomainError('INVALID_ARGUMENT', 'x'), table, fallback), FALLBACK);
    assert.equal(entryFor(new DomainError('LIMIT_EXCEEDED', 'x'), undefined, fallback), undefined);
  });

  it('does not take what an object inherits for a detail such as "constructor"', () => {
    assert.equal(entryFor(new DomainError('INVALID_ARGUMENT', 'x', 'constructor'), table, fallback), FALLBACK);
  });
});

describe('GatewayError', () => {
  it('carries its entry and the entry’s message unless given a more specific one', () => {
    assert.equal(new GatewayError(BY_CODE).message, 'by code');
    const e = new GatewayError(BY_CODE, 'more specific');
    assert.deepEqual([e.entry.code, e.message, e instanceof Error], [2, 'more specific', true]);
  });
});
