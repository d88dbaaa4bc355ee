// REST throughput on one SQLite node, one PostgreSQL + Redis node, and two PostgreSQL + Redis nodes loaded at once.
import autocannon from 'autocannon';
import { genUserSig } from '../src/auth/usersig.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runCli, startChild, type ServerChild } from '../test/helpers/child.ts';
import { restUrl, tempDir } from '../test/helpers/server.ts';
import { CONNECTIONS, recorded, type BenchRow } from './harness.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
/**
 * Load before each measurement, s: a node started a moment ago spends much of a core compiling hot code on V8's
 * background threads for its first seconds, which on two cores slows everything else in the measurement.
 */
const WARM_UP_S = 8;
/** Rounds of the three set-ups, alternated; figures are means over them. */
const ROUNDS = 2;
const PG_URL = process.env.TRTCD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TRTCD_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A fresh schema on PG_URL, and the --store URL that works in it. */
async function freshSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `trtcd_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE SCHEMA ${name}`);
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`) };
}

interface Setup {
  nodes: ServerChild[];
  urls: (command: string) => string[];
  stop(): Promise<void>;
}

async function setup(storeArgs: string[], count: number, extra: string[]): Promise<Setup> {
  const created = JSON.parse(runCli(['app', 'create', '--json', ...storeArgs]).stdout) as { sdkAppId: number; secretKey: string };
  runCli(['app', 'set', String(created.sdkAppId), 'rateLimits=off', ...storeArgs]);
  const nodes = await Promise.all(Array.from({ length: count }, () => startChild([...storeArgs, ...extra])));
  const usersig = genUserSig({ sdkAppId: created.sdkAppId, secretKey: created.secretKey, userId: 'administrator', expire: 86400 });
  const q = { sdkappid: String(created.sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' };
  return {
    nodes,
    urls: (command) => nodes.map((n) => restUrl(n.url, command, q)),
    stop: async () => void (await Promise.all(nodes.map((n) => n.stop('SIGTERM')))),
  };
}

/** Total req/s of one autocannon load per URL, all at once (CONNECTIONS connections in all); a function body is made per request. */
async function loadAll(urls: string[], body: string | (() => string)): Promise<number> {
  const request = typeof body === 'string' ? { body } : { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body() }) }] };
  const run = (duration: number) =>
    Promise.all(urls.map((url) => autocannon({ url, method: 'POST', ...request, connections: Math.max(1, Math.round(CONNECTIONS / urls.length)), duration })));
  await run(WARM_UP_S);
  const results = await run(DURATION_S);
  if (results.some((r) => r.non2xx + r.errors > 0)) throw new Error('benchmark requests failed');
  return results.reduce((a, r) => a + r.requests.average, 0);
}

/** account_check (read, cached) and account_import (a durable write) on the three set-ups. */
export async function benchNodes(): Promise<BenchRow[]> {
  const check = JSON.stringify({ CheckItem: [{ UserID: 'administrator' }] });
  // Each import a new account, as an app importing its users does (one hot row would measure its lock instead).
  let imported = 0;
  const write = () => JSON.stringify({ UserID: `bench-user-${imported++}`, Nick: 'n' });
  const sqliteDir = tempDir('trtcd-bench-nodes-');
  const schema = await freshSchema();
  const results: Record<string, { check: number; write: number }> = {};
  try {
    // The set-ups alternate over ROUNDS rounds and each figure is the mean: this machine's speed drifts by ±20 % over
    // minutes, which a single run of each, one after the other, would put into the ratios.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args, count, extra] of [
        ['SQLite, 1 node', ['--data-dir', sqliteDir], 1, []],
        ['PostgreSQL + Redis, 1 node', ['--store', schema.url], 1, ['--redis', REDIS_URL]],
        ['PostgreSQL + Redis, 2 nodes', ['--store', schema.url], 2, ['--redis', REDIS_URL]],
      ] as const) {
        const s = await setup([...args], count, [...extra]);
        try {
          const r = (results[name] ??= { check: 0, write: 0 });
          r.check += (await loadAll(s.urls('im_open_login_svc/account_check'), check)) / ROUNDS;
          r.write += (await loadAll(s.urls('im_open_login_svc/account_import'), write)) / ROUNDS;
        } finally {
          await s.stop();
        }
      }
    }
  } finally {
    await schema.drop();
  }
  const base = results['SQLite, 1 node']!;
  const all: BenchRow[] = Object.entries(results).flatMap(([name, r]) => [
    { name: `REST account_check, ${name}, ${CONNECTIONS} connections, req/s`, value: r.check.toFixed(0), baseline: `${base.check.toFixed(0)} (SQLite, 1 node)`, ratio: r.check / base.check, target: '', pass: true },
    {
      name: `REST account_import (durable write, a new account each), ${name}, req/s`,
      value: r.write.toFixed(0),
      baseline: `${base.write.toFixed(0)} (SQLite, 1 node)`,
      ratio: r.write / base.write,
      // The target is the PostgreSQL node's (it was 0.07×); on two shared cores a second node adds no capacity to measure.
      ...(name === 'PostgreSQL + Redis, 1 node' ? { target: '≥ 0.5× the SQLite node', pass: r.write / base.write >= 0.5 } : { target: '', pass: true }),
    },
  ]);
  return all.map((r) => (r.target === '' ? recorded([r])[0]! : r));
}
