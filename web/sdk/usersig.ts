// TLS v2 UserSig generation with WebCrypto and CompressionStream, for development pages and tests: whoever holds the
// SecretKey can log in as anyone, so production apps make UserSigs on their server (tls-sig-api-v2), never in a page.

/** Options of genTestUserSig. */
export interface TestUserSigOptions {
  sdkAppId: number;
  userId: string;
  secretKey: string;
  /** Validity in seconds; default 86400. */
  expire?: number;
  /** Generation time, unix seconds; default now. */
  now?: number;
}

/** Standard padded base64 with `+`→`*`, `/`→`-`, `=`→`_` (tls-sig-api-v2's URL-safe variant). */
export function tlsBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

async function deflate(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Makes a v2 UserSig in the page (needs a secure context for WebCrypto: https or localhost); for development only. */
export async function genTestUserSig(o: TestUserSigOptions): Promise<string> {
  const time = o.now ?? Math.floor(Date.now() / 1000);
  const expire = o.expire ?? 86400;
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto is not available here (pages need https or localhost); paste a UserSig instead');
  const enc = new TextEncoder();
  const key = await subtle.importKey('raw', enc.encode(o.secretKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const content = `TLS.identifier:${o.userId}\nTLS.sdkappid:${o.sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  const mac = new Uint8Array(await subtle.sign('HMAC', key, enc.encode(content)));
  let bin = '';
  for (const b of mac) bin += String.fromCharCode(b);
  const doc =
    `{"TLS.ver":"2.0","TLS.identifier":${JSON.stringify(o.userId)},"TLS.sdkappid":${o.sdkAppId},` +
    `"TLS.time":${time},"TLS.expire":${expire},"TLS.sig":"${btoa(bin)}"}`;
  return tlsBase64(await deflate(doc));
}
