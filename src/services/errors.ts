/** Why a service refused an operation; each gateway maps these to its own wire codes. */
export type DomainErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'LIMIT_EXCEEDED'
  | 'PERMISSION_DENIED'
  | 'FAILED_PRECONDITION';

/** A typed refusal from a service: a protocol-neutral code plus a human-readable message. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
