// Self-signed certificates made at test time with the openssl binary (Debian's openssl package).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './server.ts';

/** The names a trtcd test certificate covers: loopback and the hosts trtc-sdk-v5 contacts without a proxy (China sdkAppIds). */
export const TEST_CERT_NAMES = ['127.0.0.1', 'localhost', 'schedule.cloud-rtc.com', 'schedule.cloud-rtc.net', 'yun.tim.qq.com'];

/** A reason to skip tests that need a certificate, or false when openssl can make one. */
export function opensslMissing(): string | false {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'the openssl binary is missing: install it (apt-get install -y openssl) to run the TLS tests';
}

/** A certificate and its key as PEM files, and the certificate's text (to trust it as a CA). */
export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
}

/** Makes a self-signed P-256 certificate valid for a day with `names` (IP addresses or DNS names) as its SANs. */
export function selfSignedCert(names: string[] = TEST_CERT_NAMES, dir = tempDir('trtcd-tls-')): TestCert {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=trtcd test', '-addext', `subjectAltName=${san}`, '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed to make a certificate: ${r.stderr}`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
