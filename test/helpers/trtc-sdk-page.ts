// A page running Tencent's unmodified Web SDK (trtc-sdk-v5, its UMD bundle from node_modules) against a trtcd node.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
/** The SDK's browser bundle (window.TRTC). */
export const TRTC_SDK_BUNDLE = join(dirname(require.resolve('trtc-sdk-v5/package.json')), 'trtc.js');

/** A page with the SDK loaded and a `window.t` harness that records the SDK's events. */
export interface SdkPage {
  page: Page;
  errors: string[];
  /** Events the app received so far: [name, payload]. */
  events(): Promise<Array<[string, unknown]>>;
  /** Waits until an event named `name` matching `pred` was received; returns its payload. */
  waitEvent(name: string, pred?: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Opens a page of `baseUrl` (a secure context on loopback) with trtc-sdk-v5 and a harness around one TRTC instance. */
export async function openSdkPage(browser: Browser, baseUrl: string, opts: { enableSPC?: boolean } = {}): Promise<SdkPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/healthz`);
  await page.addScriptTag({ path: TRTC_SDK_BUNDLE });
  await page.evaluate((o) => {
    const w = window as unknown as Record<string, unknown> & { TRTC: { create(o?: unknown): Record<string, (...a: unknown[]) => unknown>; EVENT: Record<string, string>; setLogLevel(n: number): void } };
    w.TRTC.setLogLevel(4);
    const trtc = w.TRTC.create(o.enableSPC === false ? { enableSPC: false } : undefined);
    const events: Array<[string, unknown]> = [];
    for (const name of Object.values(w.TRTC.EVENT)) {
      trtc.on!(name, (e: unknown) => {
        let payload: unknown = e;
        if (e && typeof e === 'object' && 'data' in (e as object) && (e as { data: unknown }).data instanceof ArrayBuffer) {
          payload = { ...(e as object), data: new TextDecoder().decode((e as { data: ArrayBuffer }).data) };
        }
        try {
          events.push([name, JSON.parse(JSON.stringify(payload ?? null))]);
        } catch {
          events.push([name, String(payload)]);
        }
      });
    }
    w.t = { trtc, events, TRTC: w.TRTC };
  }, opts);
  return {
    page,
    errors,
    events: () => page.evaluate(() => (window as unknown as { t: { events: Array<[string, unknown]> } }).t.events),
    waitEvent: async (name, pred = 'true') => {
      const handle = await page.waitForFunction(
        ([n, p]) => (window as unknown as { t: { events: Array<[string, unknown]> } }).t.events.find(([en, e]) => en === n && new Function('e', `return ${p}`)(e)),
        [name, pred] as const,
      );
      return ((await handle.jsonValue()) as [string, unknown])[1];
    },
    close: () => context.close(),
  };
}

/** The `proxy` option that points the SDK at a trtcd node over plain HTTP/WS. */
export function proxyFor(baseUrl: string): { websocketProxy: string; loggerProxy: string } {
  return { websocketProxy: `${baseUrl.replace(/^http/, 'ws')}/v2/ws`, loggerProxy: baseUrl };
}
