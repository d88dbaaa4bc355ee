// The one error type every gateway refuses with. Each protocol keeps its catalogue as data (a table of entries in its
// errors.ts); a refusal names its entry and, where it helps, a more specific message; the gateway renders it in the
// protocol's own envelope.
import type { DomainError, DomainErrorCode } from '../services/errors.ts';

/** One entry of a protocol's error catalogue: the code its envelope carries and the message it carries by default. */
export interface ErrorEntry<C extends number | string = number> {
  readonly code: C;
  readonly message: string;
}

/** A catalogue entry. */
export function errorEntry<C extends number | string>(code: C, message: string): ErrorEntry<C> {
  return { code, message };
}

/** A refusal in one protocol's terms: its catalogue entry and a message more specific than the entry's. */
export class GatewayError<E extends ErrorEntry<number | string> = ErrorEntry<number | string>> extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly entry: E,
    message: string = entry.message,
  ) {
    super(message);
  }
}

/**
 * The catalogue entry a service refusal maps to: `table`'s entry for its detail, then for its code, then the family's
 * `fallback` for the code (undefined when the family has none, and the refusal is not one of its own).
 */
export function entryFor<E>(err: DomainError, table: Partial<Record<string, E>> | undefined, fallback: (code: DomainErrorCode) => E | undefined): E | undefined {
  const listed = (key: string | undefined) => (table && key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined);
  return listed(err.detail) ?? listed(err.code) ?? fallback(err.code);
}
