import { benchForwarding } from './forwarding.ts';
process.env.BENCH_FORWARD_MS ??= '500';
for (const r of await benchForwarding()) console.log(r.name.slice(0, 120), '|', r.value, '|', r.baseline, '|', r.ratio?.toFixed(2));
