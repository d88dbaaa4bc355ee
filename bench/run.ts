// `npm run bench`: every benchmark, as ratios against baselines measured in the same run; writes BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCalls } from './calls.ts';
import { benchCloudApi } from './cloud-api.ts';
import { benchGifts } from './gifts.ts';
import type { BenchRow } from './harness.ts';
import { benchIvh } from './ivh.ts';
import { benchForwarding } from './forwarding.ts';
import { benchMedia } from './media.ts';
import { benchNodes } from './nodes.ts';
import { benchRealtime } from './realtime.ts';
import { benchRest } from './rest.ts';
import { benchTrtcSdk } from './trtc-sdk.ts';
import { benchUserSig } from './usersig.ts';

const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

function table(rows: BenchRow[]): string {
  const lines = ['| benchmark | trtcd | baseline | ratio | target | met |', '|---|---:|---:|---:|---|---|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`} | ${r.target} | ${r.pass ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

const only = process.env.BENCH_ONLY; // e.g. BENCH_ONLY=rest to run one group while tuning
const rows: BenchRow[] = [];
for (const r of only && only !== 'usersig' ? [] : await benchUserSig()) {
  rows.push({
    name: r.name,
    value: r.opsPerSec.toFixed(0),
    baseline: r.baselineOpsPerSec === undefined ? '' : `${r.baselineOpsPerSec.toFixed(0)} (official tls-sig-api-v2)`,
    ratio: r.ratio ?? null,
    target: r.target,
    pass: r.pass,
  });
}
if (!only || only === 'rest') rows.push(...(await benchRest()));
if (!only || only === 'calls') rows.push(...(await benchCalls()));
if (!only || only === 'cloud-api') rows.push(...(await benchCloudApi()));
if (!only || only === 'gifts') rows.push(...(await benchGifts()));
if (!only || only === 'ivh') rows.push(...(await benchIvh()));
if (!only || only === 'realtime') rows.push(...(await benchRealtime()));
if (!only || only === 'nodes') rows.push(...(await benchNodes()));
if (!only || only === 'media' || only === 'forwarding') rows.push(...(await benchForwarding()));
// BENCH_ONLY=sfu runs the SFU steps without the forwarding loop (tuning).
if (!only || only === 'media' || only === 'sfu') rows.push(...(await benchMedia()));
if (!only || only === 'trtc-sdk') rows.push(...(await benchTrtcSdk()));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, ${process.platform}`;
const section = [BEGIN, `Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}.`, '', table(rows), END].join('\n');
process.stdout.write(`${section}\n`);

const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const doc = readFileSync(file, 'utf8');
const i = doc.indexOf(BEGIN);
const j = doc.indexOf(END);
writeFileSync(file, i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + END.length) : `${doc.trimEnd()}\n\n${section}\n`);
if (rows.some((r) => !r.pass)) process.exitCode = 1;
