// The Chat SDK's framing (docs/chat-and-calls.md "Wire"): each WebSocket frame is one JSON object {head, body};
// server frames are binary, optionally "COMP" + a zlib stream when the URL asked for compression.
import { deflateSync } from 'node:zlib';
import { utf8 } from '../../http/body.ts';

/** The request head fields trtcd reads. */
interface ChatHead {
  servcmd: string;
  seq: number;
  sdkappid?: number;
  identifier?: string;
  usersig?: string;
  a2?: string;
  tinyid?: string;
  status_instid?: number;
  [k: string]: unknown;
}

/** One client frame. */
export interface ChatRequest {
  head: ChatHead;
  body: Record<string, unknown>;
}

/** Largest client frame, bytes (a message body of 12 KB plus the head and push info). */
export const CHAT_MAX_FRAME_BYTES = 64 * 1024;
/** Server frames at least this long are compressed when the client asked for it. */
const COMPRESS_FROM_BYTES = 1024;
const COMP = Buffer.from('COMP');

/** Parses a client frame; null when it is not a {head:{servcmd, seq}, body} object. */
export function parseRequest(data: Buffer): ChatRequest | null {
  const text = utf8(data);
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { head, body } = v as { head?: unknown; body?: unknown };
  if (!head || typeof head !== 'object' || Array.isArray(head)) return null;
  const h = head as ChatHead;
  if (typeof h.servcmd !== 'string' || h.servcmd.length > 128 || typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq)) return null;
  const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { head: h, body: b };
}

/** Encodes a server frame: a reply (the request's servcmd and seq) or a push (the server's own seq). */
export function encodeFrame(head: { servcmd: string; seq: number; sdkappid?: number }, body: unknown, compress: boolean): Buffer {
  const json = Buffer.from(JSON.stringify({ head: { ver: 'v4', ...head }, body }));
  if (!compress || json.length < COMPRESS_FROM_BYTES) return json;
  return Buffer.concat([COMP, deflateSync(json)]);
}

/** A reply body: the fields, with ActionStatus/ErrorCode/ErrorInfo first (the SDK reads ErrorCode). */
export function okBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...fields };
}

/** An error reply body. */
export function failBody(code: number, info: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, ...fields };
}
