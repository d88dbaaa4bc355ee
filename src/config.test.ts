import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../test/helpers/server.ts';
import { DEFAULT_CONFIG, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('uses the defaults of the contract', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 9000);
    assert.equal(c.dataDir, resolve('./.trtcd'));
    assert.deepEqual([c.store, c.pgPoolSize], ['sqlite', 10]);
  });

  it('takes the store from TRTCD_STORE or --store: sqlite or a PostgreSQL URL', () => {
    assert.equal(loadConfig({ env: { TRTCD_STORE: 'postgres://u:p@db:5432/trtcd' } }).store, 'postgres://u:p@db:5432/trtcd');
    assert.equal(loadConfig({ env: { TRTCD_STORE: 'postgres://db/a' }, flags: { store: 'postgresql://db/b' } }).store, 'postgresql://db/b');
    assert.equal(loadConfig({ env: { TRTCD_PG_POOL_SIZE: '25' } }).pgPoolSize, 25);
    assert.throws(() => loadConfig({ env: { TRTCD_STORE: 'mysql://db/a' } }), /invalid configuration at \/store/);
    assert.throws(() => loadConfig({ env: { TRTCD_PG_POOL_SIZE: '0' } }), /invalid configuration at \/pgPoolSize/);
  });

  it('names the log levels when the one given is not one of them', () => {
    assert.throws(() => loadConfig({ flags: { logLevel: 'loud' } }), /invalid configuration at \/logLevel: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
    assert.throws(() => loadConfig({ env: { TRTCD_LOG_FORMAT: 'xml' } }), /invalid configuration at \/logFormat: must be one of auto, json, pretty, got "xml"/);
    assert.equal(loadConfig({ env: {} }).logFormat, 'auto');
  });

  it('layers file < environment < flags', () => {
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9100, host: '0.0.0.0', logLevel: 'debug', bodyLimit: 4096 }));
    const c = loadConfig({ file, env: { TRTCD_PORT: '9200', TRTCD_LOG_LEVEL: 'warn', TRTCD_DEV_APP: 'false' }, flags: { port: '9300' } });
    assert.deepEqual([c.port, c.host, c.logLevel, c.bodyLimit, c.devApp], [9300, '0.0.0.0', 'warn', 4096, false]);
  });

  it('refuses unknown keys, wrong types and unreadable files', () => {
    const dir = tempDir();
    const unknown = join(dir, 'u.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ file: unknown, env: {} }), /invalid configuration/);
    assert.throws(() => loadConfig({ env: { TRTCD_PORT: 'abc' } }), /invalid configuration at \/port/);
    assert.throws(() => loadConfig({ env: { TRTCD_PORT: '70000' } }), /invalid configuration/);
    assert.throws(() => loadConfig({ env: { TRTCD_LOG_LEVEL: 'loud' } }), /invalid configuration/);
    assert.throws(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read config file/);
    const arr = join(dir, 'a.json');
    writeFileSync(arr, '[]');
    assert.throws(() => loadConfig({ file: arr, env: {} }), /JSON object/);
    assert.equal(DEFAULT_CONFIG.port, 9000);
  });
});
