// A page running Tencent's unmodified Web SDK (trtc-sdk-v5, its UMD bundle from node_modules) against a trtcd node.
import assert from 'node:assert/strict';
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

/** enterRoom's outcome: 'ok' or the RtcError's code and extraCode. */
export type Entered = 'ok' | { code: number; extraCode: number; message: string };

/** Calls `trtc.enterRoom(params)` in the page. */
export async function enterRoom(p: SdkPage, params: Record<string, unknown>): Promise<Entered> {
  return p.page.evaluate(async (o) => {
    try {
      await (window as unknown as { t: { trtc: { enterRoom(o: unknown): Promise<void> } } }).t.trtc.enterRoom(o);
      return 'ok' as const;
    } catch (e) {
      const err = e as { code: number; extraCode: number; message: string };
      return { code: err.code, extraCode: err.extraCode, message: String(err.message) };
    }
  }, params);
}

/** Runs `trtc.<method>(...args)` in the page; resolves 'ok' or the error text. */
export function callSdk(p: SdkPage, method: string, ...args: unknown[]): Promise<string> {
  return p.page.evaluate(
    async ([m, a]) => {
      try {
        const trtc = (window as unknown as { t: { trtc: Record<string, (...x: unknown[]) => Promise<unknown>> } }).t.trtc;
        await trtc[m as string]!(...(a as unknown[]));
        return 'ok';
      } catch (e) {
        return `${String(e)} ${JSON.stringify(e)}`;
      }
    },
    [method, args] as const,
  );
}

/** Starts playing a remote user's video into a new element `v-<userId>-<streamType>`; resolves once the SDK accepted. */
export async function watchRemoteVideo(p: SdkPage, userId: string, streamType: 'main' | 'sub' = 'main'): Promise<void> {
  const id = `v-${userId}-${streamType}`;
  await p.page.evaluate((i) => {
    const d = document.createElement('div');
    d.id = i;
    d.style.width = '320px';
    d.style.height = '240px';
    document.body.append(d);
  }, id);
  assert.equal(await callSdk(p, 'startRemoteVideo', { userId, streamType, view: id }), 'ok');
}

/** Frames decoded so far by the <video> the SDK made in the view of `userId`'s stream. */
export function decodedFrames(page: Page, userId: string, streamType = 'main'): Promise<{ frames: number; width: number }> {
  return page.evaluate(
    (id) => {
      const v = document.querySelector(`#${id} video`) as (HTMLVideoElement & { webkitDecodedFrameCount?: number }) | null;
      return { frames: v?.webkitDecodedFrameCount ?? 0, width: v?.videoWidth ?? 0 };
    },
    `v-${userId}-${streamType}`,
  );
}

/** Waits (≤ `ms`) until frames of `userId`'s video are decoded, then until more are. */
export async function framesGrow(page: Page, userId: string, streamType = 'main', ms = 15_000): Promise<{ frames: number; width: number }> {
  const deadline = Date.now() + ms;
  let first = await decodedFrames(page, userId, streamType);
  while (first.frames === 0) {
    assert.ok(Date.now() < deadline, `no decoded frames of ${userId}'s ${streamType} video within ${ms / 1000} s`);
    await page.waitForTimeout(200);
    first = await decodedFrames(page, userId, streamType);
  }
  let next = first;
  while (next.frames <= first.frames + 5) {
    assert.ok(Date.now() < deadline + 5000, `frames of ${userId} stopped growing: ${JSON.stringify([first, next])}`);
    await page.waitForTimeout(200);
    next = await decodedFrames(page, userId, streamType);
  }
  return next;
}
