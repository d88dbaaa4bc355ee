import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { runCli, startChild, type ServerChild } from '../test/helpers/child.ts';
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
