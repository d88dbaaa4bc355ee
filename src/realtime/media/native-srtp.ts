// The optional SRTP accelerator (native/srtp/srtp.c, libsrtp2), loaded if it was built at install.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.ts';

/** The accelerator's two functions (see native/srtp/srtp.c). */
export interface NativeSrtp {
  /** A libsrtp2 session protecting RTP with the master key followed by the master salt. */
  create(aead: boolean, masterKeyAndSalt: Buffer): unknown;
  /** An AEAD_AES_128_GCM session from the derived session key (16 bytes) and salt (12 bytes). */
  createGcm(sessionKey: Buffer, sessionSalt: Buffer): unknown;
  /** Protects the packet at buffer[offset, offset + length) in place; the protected length (tag included), or -1. */
  protect(session: unknown, buffer: Buffer, offset: number, length: number): number;
  /** An IPv4 or IPv6 socket address. */
  destination(ip: string, port: number): unknown;
  /** Protects (unless `session` is null) and sends a packet on a UDP socket descriptor: bytes sent, -1 or -2 when dropped. */
  protectSend(session: unknown, fd: number, destination: unknown, buffer: Buffer, offset: number, length: number): number;
  /** protectSend of a packet whose header and payload lie apart in `buffer`. */
  protectSendJoined(session: unknown, fd: number, destination: unknown, buffer: Buffer, headerOffset: number, headerLength: number, payloadOffset: number, payloadLength: number): number;
}

/** The built addon and its file, or null; Node's module cache loads the file once per process, so this keeps nothing. */
function load(): { file: string; api: NativeSrtp } | null {
  const root = packageRoot();
  const file = root && join(root, 'native', 'build', 'srtp.node');
  if (process.env.TRTCD_NO_NATIVE || !file || !existsSync(file)) return null;
  try {
    const api = createRequire(import.meta.url)(file) as NativeSrtp;
    // An addon built before these functions existed is rebuilt by `npm rebuild`; until then it is not used.
    return typeof api.protectSendJoined === 'function' && typeof api.createGcm === 'function' ? { file, api } : null;
  } catch {
    return null;
  }
}

/** The accelerator, or undefined when it was not built (or TRTCD_NO_NATIVE is set): node:crypto is used then. */
export function nativeSrtp(): NativeSrtp | undefined {
  return load()?.api;
}

/** The accelerator's file, for the media workers to load, when it loads here. */
export function nativeSrtpFile(): string | undefined {
  return load()?.file;
}
