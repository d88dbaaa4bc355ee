// `npm test`: the type check and the lint side by side, then every test file. Files that share nothing run
// side by side (one per core): each starts its own servers on free ports with their own data directories and
// PostgreSQL schemas. The rest run one at a time after them: the browser tests (Chromium takes a core of its own),
// those on the machine's Redis (every node on it shares one bus), and those that measure how media flows.
// `node scripts/test.mjs <file>…` runs just those files, one at a time.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** Test files that run one at a time, by path. */
const SERIAL_PATHS = [/\.browser\.test\.ts$/, /^src\/realtime\/media\/stray-datagrams\.test\.ts$/];
/** Test files that run one at a time, by what they use. */
const SERIAL_USES = ['TRTCD_TEST_REDIS_URL', 'REDIS_URL'];

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Runs a command with the terminal's output; resolves to its exit code. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const nodeTest = (files, concurrency) => run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files]);

const given = process.argv.slice(2);
if (given.length > 0) process.exit(await nodeTest(given, 1));

const checks = await Promise.all([run(npx, ['tsc', '--noEmit']), run(npx, ['eslint', '.'])]);
if (checks.some((c) => c !== 0)) process.exit(1);

const files = ['src', 'test', 'web'].flatMap(testFiles).sort();
const serial = files.filter((f) => SERIAL_PATHS.some((re) => re.test(f)) || SERIAL_USES.some((u) => readFileSync(f, 'utf8').includes(u)));
const parallel = files.filter((f) => !serial.includes(f));
const cores = Math.max(2, availableParallelism());
console.log(`# ${parallel.length} test files ${cores} at a time, then ${serial.length} one at a time`);
const first = await nodeTest(parallel, cores);
const second = await nodeTest(serial, 1);
process.exit(first || second);
