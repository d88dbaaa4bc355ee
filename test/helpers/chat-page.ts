// A page running Tencent's unmodified Chat SDK (@tencentcloud/chat) and, optionally, TUICallKit's call engine
// (@tencentcloud/call-engine-js, with the trtc-cloud-js-sdk and trtc-sdk-v5 it brings) against a trtcd node, pointed
// at it only by the SDKs' proxy options: `proxyServer` and the TRTC side's `setNetworkProxy`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const pkg = (name: string, from?: string): string => dirname(require.resolve(`${name}/package.json`, from ? { paths: [from] } : undefined));
const CHAT = pkg('@tencentcloud/chat');
const ENGINE = pkg('@tencentcloud/call-engine-js');
const TRTC_CLOUD = pkg('trtc-cloud-js-sdk', ENGINE);
// The call engine's own trtc-sdk-v5 (its TRTCCloud is built against that version), not the project's.
const ENGINE_TRTC = pkg('trtc-sdk-v5', TRTC_CLOUD);

/** The UMD bundles in load order, as the call engine's docs list them. */
export const CALL_ENGINE_BUNDLES = [
  join(CHAT, 'index.js'),
  join(ENGINE_TRTC, 'trtc.js'),
  join(ENGINE_TRTC, 'plugins/video-effect/virtual-background/virtual-background.umd.js'),
  join(TRTC_CLOUD, 'trtc-cloud-js-sdk.js'),
  join(pkg('rtc-detect', ENGINE), 'rtc-detect.js'),
  join(ENGINE, 'index.js'),
];

// Plain JS run in the page (a string, so the test's TypeScript transform adds nothing the page lacks): records every
// Chat event and, with the engine, every TUICallEngine event into window.h.events.
const PAGE_SETUP = `async (o) => {
  const events = [];
  const record = (source, name, e) => {
    try { events.push([source, name, JSON.parse(JSON.stringify(e ?? null))]); } catch { events.push([source, name, String(e)]); }
  };
  const h = { events };
  window.h = h;
  const Chat = window.TencentCloudChat;
  if (o.engine) {
    const E = window.TUICallEngine;
    await new Promise((resolve) => E.TUICallEngine.once('ready', () => resolve()));
    h.E = E;
  }
  const chat = Chat.create({ SDKAppID: o.sdkAppId, proxyServer: o.proxy });
  chat.setLogLevel(1);
  for (const name of Object.values(Chat.EVENT)) chat.on(name, (e) => record('chat', name, e && e.data !== undefined ? e.data : null));
  Object.assign(h, { chat, Chat });
  if (!o.engine) return;
  const engine = h.E.TUICallEngine.createInstance({ SDKAppID: o.sdkAppId, tim: chat });
  for (const name of Object.values(h.E.TUICallEvent)) engine.on(name, (e) => record('engine', name, e));
  await engine.getTRTCCloudInstance().callExperimentalAPI(JSON.stringify({ api: 'setNetworkProxy', params: o.trtcProxy }));
  h.engine = engine;
}`;

/** The Chat SDK's `proxyServer` for a trtcd node. */
export function chatProxyFor(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/chat`;
}

/** A page with a Chat instance (window.h.chat) and, with `engine`, a TUICallEngine on it (window.h.engine). */
export interface ChatPage {
  page: Page;
  errors: string[];
  /** Events so far: [source ('chat' | 'engine'), name, payload]. */
  events(): Promise<Array<[string, string, unknown]>>;
  /** Waits until an event of `source` named `name` matching `pred` (a JS expression over `e`) came; its payload. */
  waitEvent(source: 'chat' | 'engine', name: string, pred?: string): Promise<unknown>;
  /** Runs `expr` (an async function body over `h`) in the page and returns its JSON result or `{error: {code, message}}`. */
  run<T = unknown>(body: string, arg?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Opens a page of `baseUrl` with the Chat SDK (and with `engine` the call engine) pointed at that node. */
export async function openChatPage(browser: Browser, baseUrl: string, sdkAppId: number, opts: { engine?: boolean } = {}): Promise<ChatPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(process.env.CHAT_PAGE_DEBUG ? `${e.message} ${e.stack}` : e.message));
  if (process.env.CHAT_PAGE_DEBUG) page.on('console', (m) => console.log(`[page] ${m.text().slice(0, 400)}`));
  await page.goto(`${baseUrl}/healthz`);
  for (const path of opts.engine ? CALL_ENGINE_BUNDLES : CALL_ENGINE_BUNDLES.slice(0, 1)) await page.addScriptTag({ path });
  const o = {
    sdkAppId,
    proxy: chatProxyFor(baseUrl),
    engine: opts.engine ?? false,
    trtcProxy: { websocketProxy: `${baseUrl.replace(/^http/, 'ws')}/v2/ws`, loggerProxy: baseUrl },
  };
  await page.evaluate(`(${PAGE_SETUP})(${JSON.stringify(o)})`);
  const run = <T>(body: string, arg?: unknown): Promise<T> =>
    page.evaluate(
      async ([b, a]) => {
        const h = (window as unknown as { h: unknown }).h;
        try {
          return await new Function('h', 'arg', `return (async () => { ${b} })()`)(h, a);
        } catch (e) {
          const err = e as { code?: number; message?: string };
          return { error: { code: err?.code, message: String(err?.message ?? e) } };
        }
      },
      [body, arg] as const,
    ) as Promise<T>;
  return {
    page,
    errors,
    events: () => page.evaluate(() => (window as unknown as { h: { events: Array<[string, string, unknown]> } }).h.events),
    waitEvent: async (source, name, pred = 'true') => {
      const handle = await page.waitForFunction(
        ([s, n, p]) => (window as unknown as { h: { events: Array<[string, string, unknown]> } }).h.events.find(([es, en, e]) => es === s && en === n && new Function('e', `return ${p}`)(e)),
        [source, name, pred] as const,
      );
      return ((await handle.jsonValue()) as [string, string, unknown])[2];
    },
    run,
    close: () => context.close(),
  };
}
