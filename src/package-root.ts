// Where the running trtcd's package lives, for files it ships beside the code (web/, assets/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The trtcd package root: the nearest directory at or above one of `starts` whose package.json is named trtcd. */
export function findPackageRoot(starts: Array<string | undefined>): string | undefined {
  for (const start of starts) {
    if (!start) continue;
    for (let dir = start; ; dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      try {
        if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'trtcd') return dir;
      } catch {
        // An unreadable package.json is not ours; keep walking up.
      }
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** The package root of the running trtcd: from this module (tsx) or the entry script (bin/trtcd's bundle lives in node_modules/.cache). */
export function packageRoot(): string | undefined {
  const here = import.meta.url.startsWith('file:') ? dirname(fileURLToPath(import.meta.url)) : undefined;
  return findPackageRoot([here, process.argv[1] ? dirname(process.argv[1]) : undefined, process.cwd()]);
}

