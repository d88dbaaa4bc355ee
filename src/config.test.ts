import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../test/helpers/server.ts';
import { DEFAULT_CONFIG, defaultDataDir, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('uses the defaults of the contract', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 9000);
    assert.equal(c.dataDir, resolve('./.trtcd'));
    assert.deepEqual([c.store, c.pgPoolSize], ['sqlite', 10]);
  });

  it('puts the default data directory in the project directory (the nearest up with a package.json), else in the working directory', () => {
    const project = tempDir();
    writeFileSync(join(project, 'package.json'), '{}');
    const deep = join(project, 'src', 'a', 'b');
    mkdirSync(deep, { recursive: true });
    assert.equal(defaultDataDir(deep), join(project, '.trtcd'));
    assert.equal(defaultDataDir(project), join(project, '.trtcd'));
    const loose = tempDir();
    const ancestors: string[] = [];
    for (let d = dirname(loose); d !== dirname(d); d = dirname(d)) ancestors.push(d);
    if (!ancestors.some((d) => existsSync(join(d, 'package.json')))) assert.equal(defaultDataDir(join(loose)), join(loose, '.trtcd'));
    // A data directory given by flag, variable or file is taken as it is, relative to the working directory.
    assert.equal(loadConfig({ env: { TRTCD_DATA_DIR: 'rel/data' } }).dataDir, resolve('rel/data'));
    assert.equal(loadConfig({ env: {}, flags: { dataDir: './.trtcd' } }).dataDir, resolve('./.trtcd'));
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
