import { DomainError } from '../../src/services/errors.ts';

/** A check for assert.throws and assert.rejects: the error is a DomainError with this detail. */
export function detail(d: string): (e: unknown) => boolean {
  return (e) => e instanceof DomainError && e.detail === d;
}
