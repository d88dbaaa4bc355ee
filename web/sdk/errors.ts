// Errors the client rejects with: the server's error replies and the client's own conditions.

/** Code of requests that were in flight (or never sent) when the connection was lost or the client closed. */
export const CONNECTION_LOST = -1;
/** Code of requests that got no reply within `requestTimeoutMs`. */
export const REQUEST_TIMEOUT = -2;

/** A refused request: `code` is the server's error code (docs/realtime-protocol.md) or one of the client's negative codes. */
export class TrtcdError extends Error {
  override readonly name = 'TrtcdError';
  /** Creates an error for a request of `type`. */
  constructor(
    readonly code: number,
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}
