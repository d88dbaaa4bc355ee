import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Where the store reports what it will not fix itself: the server's logger, or the CLI's stderr. */
export interface StoreLog {
  warn(fields: object, msg: string): void;
}

/** Creates the data directory owner-only (0700) whatever the umask; warns when an existing one is open to others. */
export function prepareDataDir(dir: string, log?: StoreLog): void {
  if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) {
    chmodSync(dir, 0o700);
    return;
  }
  const mode = statSync(dir).mode & 0o777;
  // The user made this directory and may keep other things in it: tell them rather than change it under them.
  if (mode & 0o066) {
    log?.warn({ dataDir: dir, mode: octal(mode) }, `data directory ${dir} is readable or writable by group or others (mode ${octal(mode)}); it holds app secrets: chmod 700 ${dir}`);
  }
}

/** Creates an SQLite database file 0600 if absent, and tightens it and its -wal and -shm files to 0600 if open to others. */
export function privateDbFiles(file: string, log?: StoreLog): void {
  // SQLite's unix VFS creates -wal, -shm (and -journal) with the database file's permission bits, fchmod-ing past the
  // umask, each time it recreates them (the WAL is deleted when the last connection closes). So a 0600 database file
  // keeps them 0600 for its whole life, which neither a umask set around opening (process-wide, and outlived by the
  // WAL) nor a chmod after opening (too late for a WAL recreated later) would.
  let fd: number | undefined;
  try {
    fd = openSync(file, 'wx', 0o600);
    fchmodSync(fd, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) tighten(f, log);
}

function tighten(file: string, log?: StoreLog): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, 0o600);
  } catch (err) {
    // Another user's file that we may still open: serve, and say how to fix it.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    log?.warn({ file, mode: octal(mode) }, `${file} is readable or writable by group or others (mode ${octal(mode)}) and trtcd cannot change it: chmod 600 ${file}`);
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
