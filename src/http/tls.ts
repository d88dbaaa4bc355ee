// The certificate and key of `tlsCert` / `tlsKey`, read once at start: with them the one port serves https and wss.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A PEM certificate (chain) and its private key. */
interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair named by the configuration (null when TLS is off); a file that cannot be used fails naming it. */
export function readTlsPair(config: { tlsCert: string; tlsKey: string }): TlsPair | null {
  if (config.tlsCert === '' && config.tlsKey === '') return null;
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read TLS ${what} file ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const pair = { cert: read('certificate', config.tlsCert), key: read('key', config.tlsKey) };
  // Parsing now turns a wrong file or a key of another certificate into a start error rather than failed handshakes.
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new Error(`TLS certificate ${config.tlsCert} and key ${config.tlsKey} are not a usable PEM pair: ${(err as Error).message}`, { cause: err });
  }
  return pair;
}
