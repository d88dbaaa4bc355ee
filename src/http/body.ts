import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads a request body up to `limit` bytes; resolves 'TOO_LARGE' past that (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'TOO_LARGE'> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.resolve('TOO_LARGE');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve('TOO_LARGE');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Sends a JSON body with its length. */
export function sendJson(res: ServerResponse, status: number, body: string, close = false): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
