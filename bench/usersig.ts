// Micro-benchmarks for src/auth/usersig.ts, measured in this process.
import { createRequire } from 'node:module';
import { genUserSig, UserSigVerifier, verifyUserSig } from '../src/auth/usersig.ts';

interface OfficialApi {
  genUserSig(userid: string, expire: number): string;
}
const { Api } = createRequire(import.meta.url)('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => OfficialApi };

export interface BenchResult {
  name: string;
  opsPerSec: number;
  baselineOpsPerSec?: number;
  ratio?: number;
  target: string;
  pass: boolean;
}

const SDK_APP_ID = 1400000000;
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const MEASURE_MS = 1500;
const ROUNDS = 6;

/** Runs `fn` for about `ms` milliseconds and returns [ops, elapsed ms]. */
function run(fn: (i: number) => unknown, ms: number, start = 0): [number, number] {
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let elapsed: number;
  do {
    for (let k = 0; k < 64; k++) if (fn(start + n + k) !== undefined) sink++;
    n += 64;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  if (sink < 0) console.log(sink);
  return [n, elapsed];
}

/** Interleaves rounds of `a` and `b` so drift in machine load hits both equally; returns ops/s of each. */
function compare(a: (i: number) => unknown, b: (i: number) => unknown): [number, number] {
  run(a, 150);
  run(b, 150);
  let na = 0, ta = 0, nb = 0, tb = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const [n1, t1] = run(a, MEASURE_MS / ROUNDS, na);
    const [n2, t2] = run(b, MEASURE_MS / ROUNDS, nb);
    na += n1; ta += t1; nb += n2; tb += t2;
  }
  return [(na / ta) * 1000, (nb / tb) * 1000];
}

function measure(fn: (i: number) => unknown): number {
  run(fn, 150);
  const [n, t] = run(fn, MEASURE_MS);
  return (n / t) * 1000;
}

/** Measures generation (vs the official package), cached and uncached verification. */
export async function benchUserSig(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const users = Array.from({ length: 4096 }, (_, i) => `user_${i.toString(36)}_${(i * 7919) % 10007}`);
  const official = new Api(SDK_APP_ID, KEY);

  const [ours, base] = compare(
    (i) => genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: users[i & 4095]!, expire: 86400 }),
    (i) => official.genUserSig(users[i & 4095]!, 86400),
  );
  results.push({ name: 'genUserSig', opsPerSec: ours, baselineOpsPerSec: base, ratio: ours / base, target: 'ratio >= 1.0 vs tls-sig-api-v2', pass: ours / base >= 1 });

  const now = Math.floor(Date.now() / 1000);
  const tokens = users.map((u) => genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: u, expire: 86400, now }));
  const verifier = new UserSigVerifier({ sdkAppId: SDK_APP_ID, secretKey: KEY });
  for (let i = 0; i < users.length; i++) if (!verifier.verify(users[i]!, tokens[i]!).ok) throw new Error('bench setup: token did not verify');
  const cached = measure((i) => verifier.verify(users[i & 4095]!, tokens[i & 4095]!));
  results.push({ name: 'UserSigVerifier.verify (cached)', opsPerSec: cached, target: '>= 1,000,000/s', pass: cached >= 1_000_000 });

  const distinct = Array.from({ length: 20_000 }, (_, i) =>
    genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: users[i & 4095]!, expire: 86400 + i, now }),
  );
  const opts = { sdkAppId: SDK_APP_ID, secretKey: KEY, userId: '', now };
  const uncached = measure((i) => {
    opts.userId = users[(i % 20_000) & 4095]!;
    const r = verifyUserSig(distinct[i % 20_000]!, opts);
    if (!r.ok) throw new Error(`bench: ${r.message}`);
    return r;
  });
  results.push({ name: 'verifyUserSig (uncached)', opsPerSec: uncached, target: '>= 50,000/s', pass: uncached >= 50_000 });
  return results;
}
