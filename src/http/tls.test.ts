import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../test/helpers/child.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { opensslMissing, selfSignedCert } from '../../test/helpers/tls.ts';
import { loadConfig } from '../config.ts';
import { readTlsPair } from './tls.ts';

const skip = opensslMissing();

describe('TLS configuration', () => {
  it('takes tlsCert and tlsKey from flags or TRTCD_TLS_*, as absolute paths; neither means plain', () => {
    assert.deepEqual([loadConfig({ env: {} }).tlsCert, loadConfig({ env: {} }).tlsKey], ['', '']);
    const c = loadConfig({ env: { TRTCD_TLS_CERT: '/etc/trtcd/cert.pem', TRTCD_TLS_KEY: 'key.pem' } });
    assert.deepEqual([c.tlsCert, c.tlsKey], ['/etc/trtcd/cert.pem', join(process.cwd(), 'key.pem')]);
    const f = loadConfig({ env: { TRTCD_TLS_CERT: '/a.pem' }, flags: { tlsKey: '/b.pem' } });
    assert.deepEqual([f.tlsCert, f.tlsKey], ['/a.pem', '/b.pem']);
  });

  it('refuses one of the pair without the other, naming both flags', () => {
    const both = /--tls-cert and --tls-key/;
    assert.throws(() => loadConfig({ env: {}, flags: { tlsCert: '/a.pem' } }), both);
    assert.throws(() => loadConfig({ env: { TRTCD_TLS_KEY: '/b.pem' } }), both);
    assert.throws(() => loadConfig({ env: { TRTCD_TLS_CERT: '/a.pem' } }), /only --tls-cert \(tlsCert\) was given/);
  });

  it('reads the pair, and names a file that cannot be read or a pair that does not fit', { skip }, () => {
    assert.equal(readTlsPair({ tlsCert: '', tlsKey: '' }), null);
    const a = selfSignedCert(['127.0.0.1']);
    const b = selfSignedCert(['127.0.0.1']);
    const pair = readTlsPair({ tlsCert: a.certFile, tlsKey: a.keyFile });
    assert.deepEqual(pair, { cert: readFileSync(a.certFile), key: readFileSync(a.keyFile) });
    const missing = join(tempDir(), 'missing.pem');
    assert.throws(() => readTlsPair({ tlsCert: missing, tlsKey: a.keyFile }), (e: Error) => e.message.startsWith(`cannot read TLS certificate file ${missing}: ENOENT`));
    assert.throws(() => readTlsPair({ tlsCert: a.certFile, tlsKey: missing }), (e: Error) => e.message.startsWith(`cannot read TLS key file ${missing}: ENOENT`));
    assert.throws(() => readTlsPair({ tlsCert: a.certFile, tlsKey: b.keyFile }), (e: Error) => e.message.includes(`TLS certificate ${a.certFile} and key ${b.keyFile} are not a usable PEM pair`));
    assert.throws(() => readTlsPair({ tlsCert: a.keyFile, tlsKey: a.keyFile }), /not a usable PEM pair/);
  });
});

describe('bin/trtcd start with TLS flags', () => {
  // Files are checked in order, read before they are parsed: these failures need no real certificate.
  const pem = join(tempDir(), 'some.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');

  it('--tls-cert without --tls-key (or the reverse) exits 1 naming both flags, before the data directory is made', () => {
    const dir = join(tempDir(), 'data');
    for (const args of [['--tls-cert', pem], ['--tls-key', pem]]) {
      const r = runCli(['start', '--port', '0', '--data-dir', dir, ...args]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^trtcd: invalid configuration: TLS needs both --tls-cert and --tls-key/);
    }
    const env = runCli(['start', '--port', '0', '--data-dir', dir], { TRTCD_TLS_CERT: pem });
    assert.equal(env.status, 1);
    assert.match(env.stderr, /--tls-cert and --tls-key/);
    assert.equal(existsSync(dir), false);
  });

  it('an unreadable certificate or key file exits 1 naming the file, a pair that is not PEM naming both, before the data directory is made', () => {
    const dir = join(tempDir(), 'data');
    const missing = join(tempDir(), 'no-such-cert.pem');
    const r = runCli(['start', '--port', '0', '--data-dir', dir, '--tls-cert', missing, '--tls-key', pem]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^trtcd: cannot read TLS certificate file ${missing}: ENOENT`));
    const k = runCli(['start', '--port', '0', '--data-dir', dir, '--tls-cert', pem, '--tls-key', tempDir()]);
    assert.equal(k.status, 1, k.stdout + k.stderr);
    assert.match(k.stderr, /^trtcd: cannot read TLS key file \/\S+: EISDIR/);
    const unfit = runCli(['start', '--port', '0', '--data-dir', dir, '--tls-cert', pem, '--tls-key', pem]);
    assert.equal(unfit.status, 1, unfit.stdout + unfit.stderr);
    assert.ok(unfit.stderr.startsWith(`trtcd: TLS certificate ${pem} and key ${pem} are not a usable PEM pair: `), unfit.stderr);
    assert.equal(existsSync(dir), false);
  });
});
