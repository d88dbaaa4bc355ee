// The optional SRTP accelerator (native/srtp/srtp.c, libsrtp2), loaded once if it was built at install.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.ts';

/** The accelerator's two functions (see native/srtp/srtp.c). */
export interface NativeSrtp {
  /** A session protecting RTP with the master key followed by the master salt. */
  create(aead: boolean, masterKeyAndSalt: Buffer): unknown;
  /** Protects the packet at buffer[offset, offset + length) in place; the protected length (tag included), or -1. */
  protect(session: unknown, buffer: Buffer, offset: number, length: number): number;
}

let loaded: NativeSrtp | null | undefined;

/** The accelerator, or undefined when it was not built (or TRTCD_NO_NATIVE is set): node:crypto is used then. */
export function nativeSrtp(): NativeSrtp | undefined {
  if (loaded === undefined) {
    loaded = null;
    const root = packageRoot();
    const file = root && join(root, 'native', 'build', 'srtp.node');
    if (!process.env.TRTCD_NO_NATIVE && file && existsSync(file)) {
      try {
        loaded = createRequire(import.meta.url)(file) as NativeSrtp;
      } catch {
        loaded = null;
      }
    }
  }
  return loaded ?? undefined;
}
