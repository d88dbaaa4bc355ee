// Runs at `npm install`: builds trtcd's optional SRTP accelerator (native/srtp/srtp.c against Debian's libsrtp2-dev
// and the headers Node ships) into native/build/srtp.node. Nothing is downloaded. When a compiler, the library or
// the headers are missing it says so and leaves trtcd on node:crypto; it never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'srtp', 'srtp.c');
const out = join(root, 'native', 'build', 'srtp.node');
const nodeHeaders = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
const srtpHeader = ['/usr/include/srtp2/srtp.h', '/usr/local/include/srtp2/srtp.h'].find((f) => existsSync(f));

function skip(why) {
  console.log(`trtcd: SRTP accelerator not built (${why}); media is protected with node:crypto. On Debian/Ubuntu: apt-get install libsrtp2-dev, then npm rebuild.`);
}

if (process.env.TRTCD_NO_NATIVE) skip('TRTCD_NO_NATIVE is set');
else if (!nodeHeaders) skip("Node's headers (node_api.h) were not found");
else if (!srtpHeader) skip('libsrtp2 headers (srtp2/srtp.h) were not found');
else {
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-shared', '-fPIC', '-Wall', `-I${nodeHeaders}`, `-I${dirname(dirname(srtpHeader))}`, source, '-o', out, '-lsrtp2'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) skip(`${cc} failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(0, 3).join(' ')}`);
  else console.log(`trtcd: SRTP accelerator built (${out}, libsrtp2)`);
}
