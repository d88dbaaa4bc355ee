import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TIMED_OUT, within } from './deadline.ts';
import { packageRoot } from './package-root.ts';

/** A dependency's state as /healthz reports it. */
interface DependencyHealth {
  status: 'ok' | 'down' | 'disabled';
  /** Why it is down. */
  error?: string;
}

/** What /healthz answers: 200 when every configured dependency answers, else 503. */
interface Health {
  httpStatus: 200 | 503;
  body: { status: 'ok' | 'unavailable'; version: string; store: DependencyHealth & { kind: string }; redis: DependencyHealth };
}

/** The dependencies a node needs: a probe each (undefined when not configured). */
interface HealthProbes {
  storeKind: string;
  store: () => Promise<void>;
  redis?: () => Promise<void>;
  /** How long a probe may take before its dependency counts as down, ms. */
  timeoutMs: number;
  /** The running trtcd's version, read once by the server (trtcdVersion). */
  version: string;
}

/** The running trtcd's version (package.json; 'unknown' when that cannot be read). Reads the file each time. */
export function trtcdVersion(): string {
  try {
    const root = packageRoot();
    return root ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function probe(fn: (() => Promise<void>) | undefined, timeoutMs: number): Promise<DependencyHealth> {
  if (!fn) return { status: 'disabled' };
  try {
    if ((await within(fn(), timeoutMs)) === TIMED_OUT) return { status: 'down', error: `no answer within ${timeoutMs} ms` };
    return { status: 'ok' };
  } catch (err) {
    return { status: 'down', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Probes each dependency (at once, each bounded by the timeout). */
export async function checkHealth(p: HealthProbes): Promise<Health> {
  const [store, redis] = await Promise.all([probe(p.store, p.timeoutMs), probe(p.redis, p.timeoutMs)]);
  const up = store.status === 'ok' && redis.status !== 'down';
  return {
    httpStatus: up ? 200 : 503,
    body: { status: up ? 'ok' : 'unavailable', version: p.version, store: { ...store, kind: p.storeKind }, redis },
  };
}
