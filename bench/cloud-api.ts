import autocannon from 'autocannon';
import { canonicalRequest, sha256Hex, stringToSign, tc3Signature, utcDate } from '../src/auth/tc3.ts';
import { runCli } from '../test/helpers/child.ts';
import { CONNECTIONS, load, recorded, startBare, startBenchServer, type BenchRow } from './harness.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const USERS = Array.from({ length: 10 }, (_, i) => `device_${i}`);

/** TC3 headers for one CreateTRTCSignaturesWithRoomId body, signed the way the Node SDK signs (host without its port). */
function signed(body: string, secretId: string, secretKey: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const date = utcDate(timestamp);
  const service = 'iotexplorer';
  const canonical = canonicalRequest({
    method: 'POST',
    query: '',
    canonicalHeaders: 'content-type:application/json\nhost:127.0.0.1\n',
    signedHeaders: 'content-type;host',
    payloadHash: sha256Hex(body),
  });
  const signature = tc3Signature({ secretKey, date, service, stringToSign: stringToSign({ timestamp, date, service, canonicalRequest: canonical }) });
  return {
    'content-type': 'application/json',
    'x-tc-action': 'CreateTRTCSignaturesWithRoomId',
    'x-tc-version': '2019-04-23',
    'x-tc-region': 'ap-guangzhou',
    'x-tc-timestamp': String(timestamp),
    authorization: `TC3-HMAC-SHA256 Credential=${secretId}/${date}/${service}/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
  };
}

/** CreateTRTCSignaturesWithRoomId with 10 users (a fresh room and TC3 signature per request) vs the bare server. */
export async function benchCloudApi(): Promise<BenchRow[]> {
  const s = await startBenchServer();
  const args = s.child.proc.spawnargs;
  const dir = args[args.indexOf('--data-dir') + 1]!;
  const { cloudApi } = JSON.parse(runCli(['app', 'show', String(s.sdkAppId), '--data-dir', dir]).stdout) as { cloudApi: { secretId: string; secretKey: string } };
  let n = 0;
  const next = () => {
    const body = JSON.stringify({ TRTCUserIds: USERS, RoomId: `bench-${process.pid}-${n++}` });
    return { method: 'POST', path: '/', body, headers: signed(body, cloudApi.secretId, cloudApi.secretKey) };
  };
  const run = async (duration: number) => {
    const r = await autocannon({ url: `${s.child.url}/`, connections: CONNECTIONS, duration, requests: [{ setupRequest: () => next() }] });
    return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
  };
  let trtcd;
  let sample: string;
  try {
    const first = next();
    sample = await (await fetch(`${s.child.url}/`, { method: 'POST', body: first.body, headers: first.headers })).text();
    if (!sample.includes('TRTCParamList')) throw new Error(`benchmark request fails: ${sample}`);
    await run(1);
    trtcd = await run(DURATION_S);
  } finally {
    await s.child.stop('SIGTERM');
  }
  const bare = await startBare(Buffer.byteLength(sample));
  let base;
  try {
    base = await load(`http://127.0.0.1:${bare.port}/`, next().body);
  } finally {
    bare.stop();
  }
  return recorded([
    {
      name: `Cloud API CreateTRTCSignaturesWithRoomId (10 users: 10 UserSigs + 10 PrivateMapKeys, TC3 verified, room persisted), ${CONNECTIONS} connections, req/s`,
      value: trtcd.rps.toFixed(0),
      baseline: `${base.rps.toFixed(0)} (bare node:http)`,
      ratio: trtcd.rps / base.rps,
      target: '',
      pass: trtcd.errors === 0,
    },
    { name: 'Cloud API CreateTRTCSignaturesWithRoomId p99 latency at that load, ms', value: String(trtcd.p99), baseline: `${base.p99} (bare node:http)`, ratio: null, target: '', pass: true },
  ]);
}
