// Raw HTTP requests whose bodies are sent in parts, held open or abandoned: what a slow or hostile client does.
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

/** The server's answer to an upload. */
export interface UploadReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** An upload in progress. */
export interface Upload {
  /** Resolves as soon as the server answers, even while the body is still unsent; rejects if it closes first. */
  readonly response: Promise<UploadReply>;
  /** Sends more of the body (chunk-framed when the upload is chunked). */
  write(chunk: Buffer | string): void;
  /** Closes the connection, abandoning the rest of the body. */
  destroy(): void;
}

/**
 * Opens a connection and sends the request line, the headers and `first`: Content-Length is `declared`, or the body
 * is chunked when `declared` is undefined. Nothing else is sent until `write`.
 */
export function upload(
  port: number,
  o: { method?: string; path?: string; headers?: Record<string, string>; declared?: number; first?: Buffer | string },
): Upload {
  const socket: Socket = connect(port, '127.0.0.1');
  const chunked = o.declared === undefined;
  const frame = (chunk: Buffer | string): Buffer => {
    const bytes = Buffer.from(chunk);
    return chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes;
  };
  const lines = [`${o.method ?? 'POST'} ${o.path ?? '/'} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${o.declared}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (o.first !== undefined && Buffer.byteLength(o.first) > 0) socket.write(frame(o.first));

  const response = new Promise<UploadReply>((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...fields] = got.subarray(0, end).toString('latin1').split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const f of fields) headers[f.slice(0, f.indexOf(':')).toLowerCase()] = f.slice(f.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      if (got.length < end + 4 + length) return;
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, text: got.subarray(end + 4, end + 4 + length).toString('utf8') });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('the server closed the connection without an answer')));
  });
  response.catch(() => {}); // an abandoned upload is never answered
  return {
    response,
    write: (chunk) => void socket.write(frame(chunk)),
    destroy: () => void socket.destroy(),
  };
}

/** Polls `read` until `ok` holds (a condition on server state, never a sleep standing in for one). */
export async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
