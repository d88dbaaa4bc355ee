import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { runCli, startChild, TRTCD_BIN, type ServerChild } from '../test/helpers/child.ts';
import { restUrl, tempDir } from '../test/helpers/server.ts';

/** One row of the benchmark table. */
export interface BenchRow {
  name: string;
  value: string;
  baseline: string;
  ratio: number | null;
  target: string;
  pass: boolean;
}

/** Load of one autocannon run. */
export interface Load {
  rps: number;
  p99: number;
  errors: number;
}

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
/** Keep-alive connections of every HTTP load. */
export const CONNECTIONS = 10;
const ROUNDS = 2;

/** One warmed-up autocannon run of a fixed POST. */
export async function load(url: string, body: string): Promise<Load> {
  await autocannon({ url, method: 'POST', body, connections: CONNECTIONS, duration: 1 }); // warm-up (JIT, caches)
  const r = await autocannon({ url, method: 'POST', body, connections: CONNECTIONS, duration: DURATION_S });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** Starts the bare node:http baseline answering `size` bytes of JSON. */
export function startBare(size: number): Promise<{ port: number; stop(): void }> {
  const script = fileURLToPath(new URL('./bare-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve({ port: (JSON.parse(d.toString()) as { port: number }).port, stop: () => proc.kill('SIGTERM') }));
    proc.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
}

/** A trtcd child on a fresh data directory with one app (rate limits off) and an admin UserSig. */
export interface BenchServer {
  child: ServerChild;
  sdkAppId: number;
  /** The URL of a REST v4 command with the admin's credentials. */
  url(command: string): string;
  /** POSTs a REST v4 command and returns the envelope. */
  post(command: string, body: unknown): Promise<Record<string, unknown>>;
}

/** Starts trtcd as a child process (its own core) for a benchmark. */
export async function startBenchServer(): Promise<BenchServer> {
  const dir = tempDir('trtcd-bench-');
  const { sdkAppId } = JSON.parse(runCli(['app', 'create', '--json', '--data-dir', dir]).stdout) as { sdkAppId: number };
  runCli(['app', 'set', String(sdkAppId), 'rateLimits=off', '--data-dir', dir]);
  const usersig = runCli(['usersig', String(sdkAppId), 'administrator', '--data-dir', dir]).stdout.trim();
  const child = await startChild(['--data-dir', dir]);
  const url = (command: string) => restUrl(child.url, command, { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' });
  return {
    child,
    sdkAppId,
    url,
    post: async (command, body) => (await (await fetch(url(command), { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>,
  };
}

/**
 * Loads one trtcd request and a bare node:http server answering a JSON body of the same size, alternating the
 * two over two rounds so drift in the machine's speed affects both alike; returns the means (worst p99).
 */
export async function againstBare(url: string, body: string): Promise<{ trtcd: Load; bare: Load }> {
  const sample = await (await fetch(url, { method: 'POST', body })).text();
  if (!sample.includes('"ErrorCode":0')) throw new Error(`benchmark request fails: ${sample}`);
  const bare = await startBare(Buffer.byteLength(sample));
  const runs: { trtcd: Load[]; bare: Load[] } = { trtcd: [], bare: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.trtcd.push(await load(url, body));
      runs.bare.push(await load(`http://127.0.0.1:${bare.port}/`, body));
    }
  } finally {
    bare.stop();
  }
  const mean = (xs: Load[]): Load => ({
    rps: xs.reduce((a, x) => a + x.rps, 0) / xs.length,
    p99: Math.max(...xs.map((x) => x.p99)),
    errors: xs.reduce((a, x) => a + x.errors, 0),
  });
  return { trtcd: mean(runs.trtcd), bare: mean(runs.bare) };
}

/** The same rows measured and shown, but with no target to meet (the issue set none). */
export function recorded(list: BenchRow[]): BenchRow[] {
  return list.map((r) => ({ ...r, target: 'recorded (no target set)', pass: true }));
}

/** The two rows (throughput ratio, p99) of one request type. */
export function rows(name: string, m: { trtcd: Load; bare: Load }, minRatio: number, maxP99Ms: number): BenchRow[] {
  const ratio = m.trtcd.rps / m.bare.rps;
  return [
    {
      name: `${name}, ${CONNECTIONS} connections, req/s`,
      value: m.trtcd.rps.toFixed(0),
      baseline: `${m.bare.rps.toFixed(0)} (bare node:http)`,
      ratio,
      target: `≥ ${minRatio}×`,
      pass: ratio >= minRatio && m.trtcd.errors === 0,
    },
    {
      name: `${name}, p99 latency at that load (worst run), ms`,
      value: String(m.trtcd.p99),
      baseline: `${m.bare.p99} (bare node:http)`,
      ratio: null,
      target: `< ${maxP99Ms} ms`,
      pass: m.trtcd.p99 < maxP99Ms,
    },
  ];
}

/** Runs `body`, rejecting once it has taken `ms` (a hard stop behind a group's own deadline; the caller cleans up). */
export async function withHardStop<T>(what: string, ms: number, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} exceeded ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([stop, body()]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function pct(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The resident set of a process, KiB (Linux /proc), or NaN. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The CPUs a process may run on (Linux /proc Cpus_allowed_list), or '?'. */
export function cpusAllowed(pid: number | 'self'): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** A snapshot of CPU time, in clock ticks: busy time of the whole machine and of some processes, at `at` ms. */
export interface CpuTicks {
  busy: number;
  ours: number;
  at: number;
}

/** CPU time, in clock ticks: busy time of the whole machine (user + nice + system) and of the given processes. */
export function cpuTicks(pids: Array<number | 'self'>): CpuTicks {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    let ours = 0;
    for (const pid of pids) {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ours += Number(fields[11]) + Number(fields[12]); // utime, stime (all threads)
    }
    return { busy: f[0]! + f[1]! + f[2]!, ours, at: performance.now() };
  } catch {
    return { busy: NaN, ours: NaN, at: performance.now() };
  }
}

/** Share of one core that processes other than ours used between two snapshots (100 ticks/s assumed), %. */
export function othersLoad(a: CpuTicks, b: CpuTicks): number {
  return (b.busy - a.busy - (b.ours - a.ours)) / ((b.at - a.at) / 1000);
}

/** Pins every thread of a process to `list` with taskset; false when that is impossible. */
export function pin(pid: number, list: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** A `trtcd start` child, under `taskset -c <core>` when a core is given. */
export interface PinnedChild {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts `[taskset -c core] node [nodeArgs] bin/trtcd start --port 0 --data-dir dir` and waits until it listens. */
export function startPinned(dir: string, core: string | null, nodeArgs: string[]): Promise<PinnedChild> {
  const argv = [...nodeArgs, TRTCD_BIN, 'start', '--port', '0', '--data-dir', dir];
  // taskset execs node, so the child's pid is the server's.
  const proc = core === null ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('taskset', ['-c', core, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      if (out.length > 100_000) return;
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"trtcd listening"/.exec(out);
      if (m)
        resolve({
          pid: proc.pid!,
          url: `http://127.0.0.1:${m[1]}`,
          stop: async () => {
            if (proc.exitCode !== null || proc.signalCode !== null) return;
            const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            proc.kill('SIGTERM');
            await exited;
            clearTimeout(kill);
          },
        });
    });
    void exited.then(() => reject(new Error(`trtcd exited before listening:\n${out}\n${err}`)));
  });
}

/** A trtcd child pinned to its own core while this process (the load generator) runs on the others. */
export interface PinnedServer {
  child: PinnedChild;
  /** Where each side runs, for row names. */
  where: string;
  /** What could not be arranged (no taskset). */
  notes: string[];
  /** Gives this process its CPUs back and stops the child. */
  release(): Promise<void>;
}

/** Starts trtcd on CPU 1 (every thread, with taskset) and pins this process to the other CPUs. */
export async function startPinnedServer(dir: string, nodeArgs: string[]): Promise<PinnedServer> {
  const ncpu = cpus().length;
  const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
  const serverCore = ncpu >= 2 ? '1' : '0';
  const selfCpus = cpusAllowed('self');
  const child = await startPinned(dir, hasTaskset ? serverCore : null, nodeArgs);
  const notes = hasTaskset ? [] : ['taskset not found: server NOT pinned to one core'];
  const selfPinned = hasTaskset && ncpu >= 2 && pin(process.pid, `0${ncpu > 2 ? `,2-${ncpu - 1}` : ''}`);
  return {
    child,
    where: `server on CPU ${cpusAllowed(child.pid)}, clients on CPU ${cpusAllowed('self')}`,
    notes,
    release: async () => {
      if (selfPinned) pin(process.pid, selfCpus);
      await child.stop();
    },
  };
}

/** Creates an app (rate limits off) in a data directory with the CLI; its id and secret key. */
export function createBenchApp(dir: string): { sdkAppId: number; secretKey: string } {
  const created = JSON.parse(runCli(['app', 'create', '--json', '--data-dir', dir]).stdout) as { sdkAppId: number; secretKey: string };
  if (runCli(['app', 'set', String(created.sdkAppId), 'rateLimits=off', '--data-dir', dir]).status !== 0) throw new Error('app set rateLimits=off failed');
  return created;
}
