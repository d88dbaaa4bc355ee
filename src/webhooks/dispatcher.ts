import { SINGLE_NODE, type Coordination } from '../bus/coordination.ts';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { callbackSign } from '../auth/callback-sign.ts';
import type { Logger } from '../logger.ts';
import type { AppsService } from '../services/apps/apps-service.ts';
import type { AttemptRow, OutboxRow } from '../store/outbox-repo.ts';
import type { Store } from '../store/store.ts';
import { callbackTarget } from './callback-config.ts';

/** How the dispatcher retries. */
interface DispatcherOptions {
  /** First retry delay; doubles per attempt (ms). */
  retryBaseMs: number;
  /** Longest retry delay (ms). */
  retryMaxMs: number;
  /** A callback still undelivered this long after it was queued is given up (ms). */
  maxAgeMs: number;
  /** Per-attempt timeout, Tencent's 2 s (ms). */
  timeoutMs: number;
  /** Callbacks delivered at once (each order key is still one at a time). */
  concurrency: number;
}

/** Defaults: retry from 1 s doubling to 60 s, for a day. */
export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = { retryBaseMs: 1000, retryMaxMs: 60_000, maxAgeMs: 86_400_000, timeoutMs: 2000, concurrency: 16 };

/** The outcome of one HTTP attempt. */
interface Attempt {
  ok: boolean;
  status: number;
  error: string;
  body?: unknown;
}

/** POSTs a JSON body and reads a JSON reply; a callback succeeds on HTTP 200 with a JSON body. */
function postJson(url: string, body: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ ok: false, status: 0, error: `invalid callback URL ${url}` });
      return;
    }
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          resolve({ ok: false, status, error: 'reply is not JSON' });
          return;
        }
        resolve(status === 200 ? { ok: true, status, error: '', body: parsed } : { ok: false, status, error: `HTTP ${status}`, body: parsed });
      });
      res.on('error', (e) => resolve({ ok: false, status: res.statusCode ?? 0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, status: 0, error: e.message }));
    req.end(body);
  });
}

/** The callback URL of Tencent's protocol: the app's URL plus SdkAppid, CallbackCommand, … and Sign/RequestTime when a token is set. */
export function callbackUrl(base: string, row: Pick<OutboxRow, 'sdk_app_id' | 'command' | 'client_ip' | 'platform'>, token: string, nowMs: number): string {
  const q = new URLSearchParams({
    SdkAppid: String(row.sdk_app_id),
    CallbackCommand: row.command,
    contenttype: 'json',
    ClientIP: row.client_ip,
    OptPlatform: row.platform,
  });
  if (token) {
    const requestTime = Math.floor(nowMs / 1000);
    q.set('Sign', callbackSign(token, requestTime));
    q.set('RequestTime', String(requestTime));
  }
  return `${base}${base.includes('?') ? '&' : '?'}${q.toString()}`;
}

/** How much longer than a delivery's timeout a node's lease on a callback lasts, ms. */
const LEASE_MARGIN_MS = 5000;
/** With several nodes, how often a node looks for callbacks queued elsewhere, ms. */
const SHARED_POLL_MS = 1000;

/**
 * Delivers queued "after" callbacks: at least once, in order per order key, retried with exponential backoff,
 * from the outbox table so nothing queued is lost across a restart.
 */
export class CallbackDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Delivery passes that failed in a row (a store error): the next pass waits as a failed attempt would. */
  private failedPasses = 0;

  constructor(
    private readonly store: Store,
    private readonly apps: AppsService,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions = DEFAULT_DISPATCHER_OPTIONS,
    private readonly coordination: Coordination = SINGLE_NODE,
  ) {}

  /** Starts delivering what is pending (including what an earlier run left). */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Looks for due callbacks now (called after new ones are queued). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain()
      .then(() => {
        this.failedPasses = 0;
      })
      .catch((err: unknown) => {
        // Nothing else may come to kick the dispatcher (no new callbacks, no restart): schedule the next pass here.
        const delay = this.backoff(++this.failedPasses);
        this.log.error({ err, retryInMs: delay }, 'callback delivery pass failed');
        this.schedule(delay);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** An app's delivery log, newest first, each callback with its attempts (the developer console). */
  async recent(sdkAppId: number, limit: number): Promise<Array<OutboxRow & { attemptLog: AttemptRow[] }>> {
    const rows = await this.store.outbox.list({ sdkAppId, limit });
    const attempts = await this.store.outbox.attemptsOf(rows.filter((r) => Number(r.attempts) > 0).map((r) => Number(r.id)));
    const byId = new Map<number, AttemptRow[]>();
    for (const a of attempts) {
      const list = byId.get(Number(a.outbox_id));
      if (list) list.push(a);
      else byId.set(Number(a.outbox_id), [a]);
    }
    return rows.map((r) => ({ ...r, attemptLog: byId.get(Number(r.id)) ?? [] }));
  }

  /**
   * Makes a callback of the app due now and looks for due callbacks (the console's "retry now"): a pending, failed or
   * dropped one is attempted again, in its place in its order; a delivered one is left alone. Undefined when the app
   * has no such callback.
   */
  async retryNow(sdkAppId: number, id: number): Promise<{ retried: boolean; row: OutboxRow } | undefined> {
    const row = await this.store.outbox.get(id);
    if (!row || Number(row.sdk_app_id) !== sdkAppId) return undefined;
    if (row.status === 'delivered') return { retried: false, row };
    const change = { status: 'pending', next_attempt_at: Date.now() };
    await this.store.outbox.update(id, change);
    this.kick();
    return { retried: true, row: { ...row, ...change } };
  }

  /** Resolves once no delivery pass is running (attempts made so far are recorded). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops scheduling and waits for attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.store.outbox.due(Date.now(), this.opts.concurrency);
      if (due.length === 0 || this.stopped) break;
      const taken = await Promise.all(due.map((row) => this.leased(row)));
      // Everything due is being delivered by other nodes: they will record it; look again when it falls due.
      if (!taken.some(Boolean)) break;
    }
    if (this.stopped) return;
    const next = await this.store.outbox.nextDue();
    // Other nodes queue callbacks without kicking this one (and may die before delivering them): look regularly.
    const wait = next === null ? (this.coordination.shared ? SHARED_POLL_MS : null) : Math.max(0, next - Date.now());
    if (wait !== null) this.schedule(this.coordination.shared ? Math.min(wait, SHARED_POLL_MS) : wait);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref?.();
  }

  /** The wait before the n-th retry: from retryBaseMs, doubling, up to retryMaxMs. */
  private backoff(n: number): number {
    return Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(n - 1, 30));
  }

  /**
   * Delivers a row under a lease on its order key, so that with several nodes each callback is attempted by one node
   * at a time; the row is read again under the lease (another node may have delivered it meanwhile).
   */
  private leased(row: OutboxRow): Promise<boolean> {
    if (!this.coordination.shared) return this.deliver(row).then(() => true);
    return this.coordination.tryLease(`callback:${row.order_key}`, this.opts.timeoutMs + LEASE_MARGIN_MS, async () => {
      const now = await this.store.outbox.get(row.id);
      if (now?.status === 'pending' && Number(now.next_attempt_at) <= Date.now()) await this.deliver(now);
    });
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const app = this.apps.get(Number(row.sdk_app_id));
    // The configuration may have changed since the row was queued: a command the app no longer wants is not sent.
    const target = app ? callbackTarget(app.settings, row.command) : null;
    if (!target) {
      const why = app ? `the app no longer wants ${row.command} (no callback URL, or not in its CallbackCommandList)` : 'the app no longer exists';
      await this.store.outbox.update(row.id, { status: 'dropped', last_error: why });
      return;
    }
    const now = Date.now();
    const result = await postJson(callbackUrl(target.url, row, target.token, now), row.body, this.opts.timeoutMs);
    const attempts = row.attempts + 1;
    const attempt = { outbox_id: Number(row.id), attempt: attempts, attempted_at: now, duration_ms: Date.now() - now, status: result.status, error: result.ok ? '' : result.error };
    if (result.ok) {
      await this.store.transaction((tx) => tx.outbox.attempted(attempt, { status: 'delivered', attempts, delivered_at: Date.now(), last_status: result.status, last_error: '' }));
      return;
    }
    const delay = this.backoff(attempts);
    const giveUp = now + delay - Number(row.created_at) > this.opts.maxAgeMs;
    this.log.info({ id: row.id, command: row.command, attempts, error: result.error, giveUp }, 'callback attempt failed');
    await this.store.transaction((tx) =>
      tx.outbox.attempted(attempt, {
        status: giveUp ? 'failed' : 'pending',
        attempts,
        next_attempt_at: now + delay,
        last_status: result.status,
        last_error: result.error,
      }),
    );
  }
}
