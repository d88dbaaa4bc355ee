// The trtcd client SDK: browsers and Node 20 (pass `ws`'s WebSocket there). Bundled for pages at GET /sdk/trtcd.js.
export { TrtcdClient, type RoomInput } from './client.ts';
export { FINAL_CLOSE_CODES, PROTOCOL_VERSION, DEFAULT_REQUEST_TIMEOUT_MS, type ConnectionState } from './connection.ts';
export { CONNECTION_LOST, REQUEST_TIMEOUT, TrtcdError } from './errors.ts';
export { backoffDelay, DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS } from './backoff.ts';
export { Emitter, type Listener } from './emitter.ts';
export { genTestUserSig, tlsBase64, type TestUserSigOptions } from './usersig.ts';
export { ICE_GATHER_WAIT_MS, LocalPublication, RemoteSubscription, type PeerConstructor, type PeerLike, type StreamLike, type TrackLike } from './media.ts';
export type * from './types.ts';
