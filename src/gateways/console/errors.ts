// The developer console's errors: HTTP status, code and message, answered as {"error":{"code","message"}} by its JSON
// API (docs/console.md) and as a short page by its pages.

/** One console error. */
export interface ConsoleError {
  status: number;
  code: string;
  message: string;
}

/** Every error the console answers with. */
export const ConsoleErrors = {
  UNAUTHORIZED: { status: 401, code: 'Unauthorized', message: 'the console needs its token (the address trtcd logs at start) or an app’s SDKAppID and SecretKey' },
  BAD_LOGIN: { status: 401, code: 'Unauthorized', message: 'wrong console token, or wrong SDKAppID and SecretKey' },
  RATE_LIMITED: { status: 429, code: 'TooManyRequests', message: 'too many failed console logins from this address; try again in a minute' },
  NOT_FOUND: { status: 404, code: 'NotFound', message: 'no such console resource' },
  NO_CALLBACK: { status: 404, code: 'NotFound', message: 'the app has no callback with this id' },
  NO_STREAM: { status: 404, code: 'NotFound', message: 'no such stream with video on this node' },
  NO_PREVIEW: { status: 404, code: 'NotFound', message: 'no such preview' },
  TOO_MANY_PREVIEWS: { status: 429, code: 'TooManyRequests', message: 'too many thumbnails open on this node; close some' },
  BAD_OFFER: { status: 400, code: 'BadRequest', message: 'the SDP offer could not be negotiated (a recvonly video offer with this side’s candidates)' },
  METHOD: { status: 405, code: 'MethodNotAllowed', message: 'method not allowed here' },
  BAD_REQUEST: { status: 400, code: 'BadRequest', message: 'malformed request' },
  TOO_LARGE: { status: 413, code: 'PayloadTooLarge', message: 'the request body is too large' },
  UNAVAILABLE: { status: 503, code: 'Unavailable', message: 'the console could not read the server’s state (the store is unreachable)' },
} as const satisfies Record<string, ConsoleError>;
