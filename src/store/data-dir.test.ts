import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { tempDir } from '../../test/helpers/server.ts';
import { prepareDataDir, privateDbFiles, type StoreLog } from './data-dir.ts';
import { openSqlite } from './sqlite.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

function recorder(): StoreLog & { lines: Array<{ fields: object; msg: string }> } {
  const lines: Array<{ fields: object; msg: string }> = [];
  return { lines, warn: (fields, msg) => void lines.push({ fields, msg }) };
}

describe('data directory and database file modes', () => {
  // A permissive umask: what files get if trtcd leaves their modes to it.
  let saved: number;
  before(() => {
    saved = process.umask(0);
  });
  after(() => {
    process.umask(saved);
  });

  it('creates a missing data directory 0700, parents included, without a warning', () => {
    const dir = join(tempDir(), 'a', 'data');
    const log = recorder();
    prepareDataDir(dir, log);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, '..')), 0o700);
    assert.deepEqual(log.lines, []);
  });

  it('warns about an existing directory open to group or others, naming it and the fix, and leaves its mode alone', () => {
    for (const loose of [0o777, 0o755, 0o750, 0o702]) {
      const dir = tempDir();
      chmodSync(dir, loose);
      const log = recorder();
      prepareDataDir(dir, log);
      assert.equal(mode(dir), loose);
      assert.equal(log.lines.length, 1, loose.toString(8));
      assert.match(log.lines[0]!.msg, new RegExp(`data directory ${dir} .*chmod 700 ${dir}$`));
      assert.deepEqual(log.lines[0]!.fields, { dataDir: dir, mode: `0${loose.toString(8)}` });
    }
    for (const tight of [0o700, 0o711]) {
      const dir = tempDir();
      chmodSync(dir, tight);
      const log = recorder();
      prepareDataDir(dir, log);
      assert.deepEqual(log.lines, [], tight.toString(8));
    }
  });

  it('creates the database file 0600 and tightens an existing database, -wal and -shm to 0600', () => {
    const dir = tempDir();
    const file = join(dir, 'trtcd.db');
    privateDbFiles(file);
    assert.equal(mode(file), 0o600);
    assert.equal(statSync(file).size, 0);

    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      writeFileSync(f, 'x');
      chmodSync(f, 0o666);
    }
    privateDbFiles(file);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f), 0o600, f);
    assert.equal(statSync(file).size, 1);
  });

  it('openSqlite: the database and the -wal and -shm files SQLite creates are 0600, also when the WAL is recreated', async () => {
    const dir = join(tempDir(), 'data');
    const file = join(dir, 'trtcd.db');
    const write = async () => {
      const db = openSqlite(dir);
      await sql`CREATE TABLE IF NOT EXISTS t (x INTEGER)`.execute(db);
      await sql`INSERT INTO t VALUES (1)`.execute(db);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f), 0o600, f);
      return db;
    };
    const first = await write();
    assert.equal(mode(dir), 0o700);
    await first.destroy();
    // The last connection closing deletes the WAL; the next one makes it again.
    await (await write()).destroy();
  });

  it('openSqlite tightens files a looser trtcd left behind', async () => {
    const dir = tempDir();
    const file = join(dir, 'trtcd.db');
    const db = openSqlite(dir);
    await sql`CREATE TABLE t (x INTEGER)`.execute(db);
    await db.destroy();
    chmodSync(file, 0o644);
    await openSqlite(dir).destroy();
    assert.equal(mode(file), 0o600);
  });
});
