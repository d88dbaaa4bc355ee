// The optional SRTP accelerator (native/srtp/srtp.c, libsrtp2), loaded if it was built at install.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.ts';

/** The accelerator's functions (see native/srtp/srtp.c). */
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
  /** protectSend of a packet whose header and payload lie in two buffers. */
  protectSendParts(session: unknown, fd: number, destination: unknown, header: Buffer, headerOffset: number, headerLength: number, payload: Buffer, payloadOffset: number, payloadLength: number): number;
  /** A libsrtp2 session authenticating and decrypting RTP of any SSRC (with replay protection). */
  createInbound(aead: boolean, masterKeyAndSalt: Buffer): unknown;
  /** Authenticates and decrypts the packet at buffer[offset, offset + length) in place: its clear length, or -1. */
  unprotect(session: unknown, buffer: Buffer, offset: number, length: number): number;
  /** A second descriptor of the same socket (dup(2)), or -1. */
  dup(fd: number): number;
  /** Closes a descriptor dup() made that no watch took. */
  close(fd: number): void;
  /**
   * Reads datagrams off `fd` as the calling thread's event loop finds it readable: datagram i into buffer at i × 2048,
   * its length, source port, family and address into meta at i × 8; then `onDatagrams(count)`. Closes `fd` when stopped.
   */
  watch(fd: number, buffer: Buffer, meta: Int32Array, onDatagrams: (count: number) => void): unknown;
  /** Stops a watch and closes its descriptor; safe to repeat. */
  unwatch(watcher: unknown): void;
}

/** The built addon and its file, or null; Node's module cache loads the file once per process, so this keeps nothing. */
function load(): { file: string; api: NativeSrtp } | null {
  const root = packageRoot();
  const file = root && join(root, 'native', 'build', 'srtp.node');
  if (process.env.TRTCD_NO_NATIVE || !file || !existsSync(file)) return null;
  try {
    const api = createRequire(import.meta.url)(file) as NativeSrtp;
    // An addon built before these functions existed is rebuilt by `npm rebuild`; until then it is not used.
    return typeof api.protectSendJoined === 'function' && typeof api.createGcm === 'function' && typeof api.watch === 'function' ? { file, api } : null;
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
