// TUICallKit's own web UI (@tencentcloud/call-uikit-vue, pinned) built into a Vue app that differs from the quick
// start only by the two proxy options (test/fixtures/tuicallkit/main.js), in two browser tabs against a trtcd started
// by its CLI: u1 places a video call from the UI's API, u2 answers with the UI's accept button, both tabs decode the
// other's video, u1 hangs up with the UI's hang-up button, and trtcd's call record shows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { genUserSig } from '../../src/auth/usersig.ts';
import { chromiumMissing, startDemoRig, type DemoRig } from '../helpers/browser.ts';
import { chatProxyFor } from '../helpers/chat-page.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the TUICallKit UI test: ${skip}`);

/** The app bundled as a TUICallKit project would bundle it (Vite/webpack); esbuild here. */
async function bundle(): Promise<string> {
  const r = await build({
    entryPoints: [fileURLToPath(new URL('../fixtures/tuicallkit/main.js', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    logLevel: 'error',
  });
  return r.outputFiles[0]!.text;
}

describe('TUICallKit web UI against trtcd', { skip }, () => {
  let rig: DemoRig;
  let app: string;
  before(async () => {
    [rig, app] = await Promise.all([startDemoRig({ media: true }), bundle()]);
  });
  after(() => rig?.close());

  const tab = async (userId: string): Promise<Page> => {
    const page = await (await rig.browser.newContext()).newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${rig.child.url}/healthz`);
    await page.setContent('<!doctype html><html><body><div id="app"></div></body></html>');
    await page.addScriptTag({ content: app });
    const userSig = genUserSig({ sdkAppId: rig.app.sdkAppId, secretKey: rig.app.secretKey, userId, expire: 3600 });
    await page.evaluate(
      (o) => (window as unknown as { app: { start(o: unknown): Promise<void> } }).app.start(o),
      { SDKAppID: rig.app.sdkAppId, userID: userId, userSig, chatProxy: chatProxyFor(rig.child.url), trtcProxy: { websocketProxy: `${rig.child.url.replace(/^http/, 'ws')}/v2/ws`, loggerProxy: rig.child.url } },
    );
    return page;
  };

  /** Frames decoded by the <video> TUICallKit made for `peer`'s stream, after it started and then grew. */
  const remoteVideoGrows = async (page: Page, peer: string): Promise<number> => {
    const frames = () => page.evaluate((id) => (document.getElementById(id) as (HTMLVideoElement & { webkitDecodedFrameCount?: number }) | null)?.webkitDecodedFrameCount ?? 0, `video_${peer}`);
    const deadline = Date.now() + 20_000;
    let first = await frames();
    while (first === 0 && Date.now() < deadline) {
      await page.waitForTimeout(250);
      first = await frames();
    }
    let next = first;
    while (next <= first + 5 && Date.now() < deadline) {
      await page.waitForTimeout(250);
      next = await frames();
    }
    assert.ok(first > 0 && next > first + 5, `${peer}'s video in the other tab: ${first} then ${next} frames`);
    return next;
  };

  it('u1 video-calls u2 from the UI; u2 accepts with its button; each tab decodes the other; hang-up ends the call in both and in trtcd', async () => {
    const since = Math.floor(Date.now() / 1000);
    const [a, b] = [await tab('ui-u1'), await tab('ui-u2')];
    await a.evaluate(() => {
      const w = window as unknown as { app: { TUICallKitServer: { calls(o: unknown): Promise<void> }; TUICallType: { VIDEO_CALL: number } } };
      return w.app.TUICallKitServer.calls({ userIDList: ['ui-u2'], type: w.app.TUICallType.VIDEO_CALL });
    });
    await a.getByText('Awaiting response').waitFor();
    await b.getByText('invites you to a video call').waitFor();
    await b.locator('.btn-content', { hasText: 'Accept' }).locator('.tk-button').click();
    await remoteVideoGrows(a, 'ui-u2');
    await remoteVideoGrows(b, 'ui-u1');
    const active = await rig.rest('call_record_http_srv/get_record_by_filter', { StartTime: since });
    assert.equal((active.Response as { TotalNum: number }).TotalNum, 0, 'no record while the call is on');
    await a.locator('.btn-content', { hasText: 'Hang up' }).locator('.tk-button').click();
    // Both UIs go back to idle: the call view is gone.
    for (const p of [a, b]) await p.locator('.button-panel-container').waitFor({ state: 'detached' });
    const ended = await rig.rest('call_record_http_srv/get_record_by_filter', { StartTime: since });
    const records = (ended.Response as { CallRecordList: Array<Record<string, unknown>> }).CallRecordList;
    assert.equal(records.length, 1, JSON.stringify(ended));
    assert.equal(records[0]!.Caller_Account, 'ui-u1');
    assert.equal(records[0]!.MediaType, 'Video');
    assert.equal(records[0]!.CallResult, 'NormalEnd');
    assert.deepEqual(records[0]!.CalleeList_Account, ['ui-u1', 'ui-u2']);
    await Promise.all([a.context().close(), b.context().close()]);
  });
});
