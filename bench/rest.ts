import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { runCli, startChild } from '../test/helpers/child.ts';
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

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 10;
const ROUNDS = 2;

async function load(url: string, body: string): Promise<{ rps: number; p99: number; errors: number; non2xx: number }> {
  await autocannon({ url, method: 'POST', body, connections: CONNECTIONS, duration: 1 }); // warm-up (JIT, caches)
  const r = await autocannon({ url, method: 'POST', body, connections: CONNECTIONS, duration: DURATION_S });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

function startBare(size: number): Promise<{ port: number; stop(): void }> {
  const script = fileURLToPath(new URL('./bare-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve({ port: (JSON.parse(d.toString()) as { port: number }).port, stop: () => proc.kill('SIGTERM') }));
    proc.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
}

/** (a) authenticated REST v4 account_check vs a bare node:http server answering the same-sized JSON. */
export async function benchRest(): Promise<BenchRow[]> {
  const dir = tempDir('trtcd-bench-');
  const { sdkAppId } = JSON.parse(runCli(['app', 'create', '--json', '--data-dir', dir]).stdout) as { sdkAppId: number };
  runCli(['app', 'set', String(sdkAppId), 'rateLimits=off', '--data-dir', dir]);
  const usersig = runCli(['usersig', String(sdkAppId), 'administrator', '--data-dir', dir]).stdout.trim();
  const body = JSON.stringify({ CheckItem: [{ UserID: 'administrator' }] });

  const server = await startChild(['--data-dir', dir]);
  const url = restUrl(server.url, 'im_open_login_svc/account_check', { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' });
  const sample = await (await fetch(url, { method: 'POST', body })).text();
  const bare = await startBare(Buffer.byteLength(sample));
  const bareUrl = `http://127.0.0.1:${bare.port}/v4/im_open_login_svc/account_check`;
  const runs: { trtcd: Awaited<ReturnType<typeof load>>[]; base: Awaited<ReturnType<typeof load>>[] } = { trtcd: [], base: [] };
  try {
    if (!sample.includes('"ErrorCode":0')) throw new Error(`benchmark request fails: ${sample}`);
    // Alternate the two servers so drift in the machine's speed affects both alike.
    for (let round = 0; round < ROUNDS; round++) {
      runs.trtcd.push(await load(url, body));
      runs.base.push(await load(bareUrl, body));
    }
  } finally {
    await server.stop('SIGTERM');
    bare.stop();
  }
  const mean = (xs: Awaited<ReturnType<typeof load>>[]) => ({
    rps: xs.reduce((a, x) => a + x.rps, 0) / xs.length,
    p99: Math.max(...xs.map((x) => x.p99)),
    errors: xs.reduce((a, x) => a + x.errors + x.non2xx, 0),
  });
  const trtcd = mean(runs.trtcd);
  const base = mean(runs.base);
  const ratio = trtcd.rps / base.rps;
  return [
    {
      name: `REST v4 account_check (1 account, admin UserSig), ${CONNECTIONS} connections, req/s`,
      value: trtcd.rps.toFixed(0),
      baseline: `${base.rps.toFixed(0)} (bare node:http)`,
      ratio,
      target: '≥ 0.5×',
      pass: ratio >= 0.5 && trtcd.errors === 0,
    },
    {
      name: 'REST v4 account_check p99 latency at that load (worst run), ms',
      value: String(trtcd.p99),
      baseline: `${base.p99} (bare node:http)`,
      ratio: null,
      target: '< 5 ms',
      pass: trtcd.p99 < 5,
    },
  ];
}
