// The developer console's errors: HTTP status, code and message, answered as {"error":{"code","message"}} by its JSON
// API (docs/console.md) and as a short page by its pages.

/** One console error. */
export interface ConsoleError {
  status: number;
  code: string;
  message: string;
}

/** The errors of one HTTP status: a status always comes with the same code. */
function ofStatus(status: number, code: string): (message: string) => ConsoleError {
  return (message) => ({ status, code, message });
}

const BadRequest = ofStatus(400, 'BadRequest');
const Unauthorized = ofStatus(401, 'Unauthorized');
const NotFound = ofStatus(404, 'NotFound');
const MethodNotAllowed = ofStatus(405, 'MethodNotAllowed');
const PayloadTooLarge = ofStatus(413, 'PayloadTooLarge');
const TooManyRequests = ofStatus(429, 'TooManyRequests');
const Unavailable = ofStatus(503, 'Unavailable');

/** Every error the console answers with. */
export const ConsoleErrors = {
  UNAUTHORIZED: Unauthorized('the console needs its token (the address trtcd logs at start) or an app’s SDKAppID and SecretKey'),
  BAD_LOGIN: Unauthorized('wrong console token, or wrong SDKAppID and SecretKey'),
  RATE_LIMITED: TooManyRequests('too many failed console logins from this address; try again in a minute'),
  NOT_FOUND: NotFound('no such console resource'),
  NO_CALLBACK: NotFound('the app has no callback with this id'),
  NO_STREAM: NotFound('no such stream with video on this node'),
  NO_PREVIEW: NotFound('no such preview'),
  TOO_MANY_PREVIEWS: TooManyRequests('too many thumbnails open on this node; close some'),
  BAD_OFFER: BadRequest('the SDP offer could not be negotiated (a recvonly video offer with this side’s candidates)'),
  METHOD: MethodNotAllowed('method not allowed here'),
  BAD_REQUEST: BadRequest('malformed request'),
  TOO_LARGE: PayloadTooLarge('the request body is too large'),
  UNAVAILABLE: Unavailable('the console could not read the server’s state (the store is unreachable)'),
} satisfies Record<string, ConsoleError>;
