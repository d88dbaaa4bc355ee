import { createHmac, randomUUID } from 'node:crypto';
import { ivhSignature, ivhSigningString } from '../src/auth/ivh-signature.ts';
import { authenticateIvh } from '../src/gateways/ivh/gateway.ts';
import type { App } from '../src/services/apps/apps-service.ts';
import { runCli } from '../test/helpers/child.ts';
import { CONNECTIONS, load, recorded, startBare, startBenchServer, type BenchRow, type Load } from './harness.ts';

const MEASURE_MS = 1500;
const ROUNDS = 2;
const SM = '/v2/ivh/sessionmanager/sessionmanagerservice/';

/** Runs `fn` for about `ms` milliseconds; ops per second. */
function opsPerSec(fn: (i: number) => unknown, ms: number): number {
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let elapsed: number;
  do {
    for (let k = 0; k < 64; k++) if (fn(n + k) !== undefined) sink++;
    n += 64;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  if (sink < 0) console.log(sink);
  return (n / elapsed) * 1000;
}

/** The documented query: appkey, timestamp, URL-encoded signature. */
function signedQuery(appKey: string, accessToken: string, timestamp: number): string {
  const signing = ivhSigningString({ appkey: appKey, timestamp: String(timestamp) });
  return `${signing}&signature=${encodeURIComponent(ivhSignature(accessToken, signing))}`;
}

/** IVH query verification (parse, signing string, HMAC-SHA256, constant-time compare) vs a bare HMAC-SHA256 of the same string. */
function benchVerify(): BenchRow[] {
  const app = { sdkAppId: 1400000001, ivh: { appKey: 'e38267c0e86411ebb02aed82acb0ed99', accessToken: 'f68f2d10ae9e4604b76fb05cf46bccec' } } as App;
  const apps = { byIvhAppKey: (k: string) => (k === app.ivh.appKey ? app : undefined), admit: () => null };
  const now = Date.now();
  const queries = Array.from({ length: 256 }, (_, i) => signedQuery(app.ivh.appKey, app.ivh.accessToken, Math.floor(now / 1000) - i));
  const verify = (i: number) => authenticateIvh(new URLSearchParams(queries[i & 255]), { apps, nowMs: now, clientIp: '127.0.0.1', needRequestId: false });
  verify(0);
  const signing = `appkey=${app.ivh.appKey}&timestamp=${Math.floor(now / 1000)}`;
  const hmac = (i: number) => createHmac('sha256', app.ivh.accessToken).update(signing + (i & 1)).digest('base64');
  opsPerSec(verify, 150);
  opsPerSec(hmac, 150);
  let ours = 0;
  let base = 0;
  for (let r = 0; r < 4; r++) {
    ours += opsPerSec(verify, MEASURE_MS / 4);
    base += opsPerSec(hmac, MEASURE_MS / 4);
  }
  return [
    {
      name: 'IVH signature verification (query parse + signing string + HMAC-SHA256 + compare), in-process, ops/s',
      value: (ours / 4).toFixed(0),
      baseline: `${(base / 4).toFixed(0)} (bare createHmac sha256 → base64)`,
      ratio: ours / base,
      target: '',
      pass: true,
    },
  ];
}

/** gettrtcsign (UserSig + PrivateMapKey for a viewer of a trtc session) over HTTP vs the bare server, alternating rounds. */
async function benchGetTrtcSign(): Promise<BenchRow[]> {
  const s = await startBenchServer();
  const args = s.child.proc.spawnargs;
  const dir = args[args.indexOf('--data-dir') + 1]!;
  let trtcd: Load;
  let bare: Load;
  try {
    const { ivh } = JSON.parse(runCli(['app', 'show', String(s.sdkAppId), '--data-dir', dir]).stdout) as { ivh: { appKey: string; accessToken: string } };
    const created = runCli(['ivh', 'project', 'create', String(s.sdkAppId), '--id', 'bench_project', '--data-dir', dir]);
    if (created.status !== 0) throw new Error(`ivh project create failed: ${created.stderr}`);
    // One timestamp for the whole run: it stays inside the ±300 s window (warm-up + two rounds of two loads).
    const query = signedQuery(ivh.appKey, ivh.accessToken, Math.floor(Date.now() / 1000));
    const post = async (api: string, payload: Record<string, unknown>) => {
      const res = await fetch(`${s.child.url}${SM}${api}?${query}`, { method: 'POST', body: JSON.stringify({ Header: {}, Payload: { ReqId: randomUUID().replaceAll('-', ''), ...payload } }) });
      const env = (await res.json()) as { Header: { Code: number; Message: string }; Payload: Record<string, unknown> };
      if (env.Header.Code !== 0) throw new Error(`${api} failed: ${JSON.stringify(env.Header)}`);
      return env.Payload;
    };
    const { SessionId } = (await post('createsession', { VirtualmanProjectId: 'bench_project', UserId: 'bench_avatar', Protocol: 'trtc', DriverType: 1 })) as { SessionId: string };
    let addr = '';
    for (let i = 0; i < 200 && !addr; i++) {
      const stat = await post('statsession', { SessionId });
      if (stat.SessionStatus === 1) addr = stat.PlayStreamAddr as string;
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (!addr) throw new Error('bench session never became ready');
    const u = new URL(addr);
    const room = u.searchParams.get('roomid') ?? u.searchParams.get('strroomid');
    await post('startsession', { SessionId });
    const url = `${s.child.url}${SM}gettrtcsign?${query}`;
    const body = JSON.stringify({ Header: {}, Payload: { ReqId: 'd7aa08da33dd4a662ad5be508c5b77cf', SessionId, RoomId: room, UserId: 'bench_viewer' } });
    const sample = await (await fetch(url, { method: 'POST', body })).text();
    if (!sample.includes('"Code":0')) throw new Error(`benchmark request fails: ${sample}`);
    const b = await startBare(Buffer.byteLength(sample));
    const runs: { trtcd: Load[]; bare: Load[] } = { trtcd: [], bare: [] };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        runs.trtcd.push(await load(url, body));
        runs.bare.push(await load(`http://127.0.0.1:${b.port}/`, body));
      }
    } finally {
      b.stop();
    }
    const mean = (xs: Load[]): Load => ({
      rps: xs.reduce((a, x) => a + x.rps, 0) / xs.length,
      p99: Math.max(...xs.map((x) => x.p99)),
      errors: xs.reduce((a, x) => a + x.errors, 0),
    });
    trtcd = mean(runs.trtcd);
    bare = mean(runs.bare);
  } finally {
    await s.child.stop('SIGTERM');
  }
  return [
    {
      name: `IVH gettrtcsign (signed query verified, UserSig + PrivateMapKey), ${CONNECTIONS} connections, req/s`,
      value: trtcd.rps.toFixed(0),
      baseline: `${bare.rps.toFixed(0)} (bare node:http)`,
      ratio: trtcd.rps / bare.rps,
      target: '',
      pass: trtcd.errors === 0,
    },
    { name: 'IVH gettrtcsign p99 latency at that load (worst run), ms', value: String(trtcd.p99), baseline: `${bare.p99} (bare node:http)`, ratio: null, target: '', pass: true },
  ];
}

/** The IVH benchmarks (recorded, no targets): in-process signature verification and gettrtcsign over HTTP. */
export async function benchIvh(): Promise<BenchRow[]> {
  return recorded([...benchVerify(), ...(await benchGetTrtcSign())]);
}
