// trtc-sdk-v5 group: signalling joins per second on one core (against /rtc's auth + room.enter on the same server),
// and, in Chromium with the unmodified SDK, the time from enterRoom to the first decoded remote frame (against a
// browser-to-browser loopback PeerConnection in the same page, which has no server at all).
import { existsSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { genUserSig } from '../src/auth/usersig.ts';
import { CHROMIUM, CHROMIUM_MEDIA_ARGS, launchChromium } from '../test/helpers/browser.ts';
import { openSdkPage, proxyFor } from '../test/helpers/trtc-sdk-page.ts';
import { tempDir } from '../test/helpers/server.ts';
import { createBenchApp, startPinnedServer, withHardStop, type BenchRow } from './harness.ts';

/** Joins in flight at once, and how long each protocol is loaded. */
const IN_FLIGHT = 50;
const DURATION_MS = Number(process.env.BENCH_DURATION ?? 5) * 1000;
/** enterRoom → first frame runs (median reported). */
const FIRST_FRAME_RUNS = 5;

type Cycle = (i: number) => Promise<void>;

/** Runs `cycle` IN_FLIGHT at a time for DURATION_MS (after a 1 s warm-up); cycles per second. */
async function rate(cycle: Cycle): Promise<{ perSec: number; errors: number }> {
  let n = 0;
  let errors = 0;
  const loop = async (until: number, count: boolean) => {
    for (let i = n; performance.now() < until; i = n) {
      n++;
      try {
        await cycle(i);
        if (count) done++;
      } catch {
        errors++;
      }
    }
  };
  let done = 0;
  const warm = performance.now() + 1000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => loop(warm, false)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => loop(t0 + DURATION_MS, true)));
  return { perSec: done / ((performance.now() - t0) / 1000), errors };
}

/** Opens a socket and resolves with it once `onOpen`'s exchange is done (`step` returns true when finished). */
function exchange(url: string, onOpen: (ws: WebSocket) => void, step: (m: Record<string, unknown>, ws: WebSocket) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('timeout'))), 10_000);
    ws.once('open', () => onOpen(ws));
    ws.on('error', (e) => (clearTimeout(timer), reject(e)));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      try {
        if (!step(m, ws)) return;
      } catch (e) {
        clearTimeout(timer);
        ws.terminate();
        return reject(e as Error);
      }
      clearTimeout(timer);
      ws.close(1000);
      ws.once('close', () => resolve());
    });
  });
}

/** One SDK signalling join: upgrade, `join` (MPC: no media), cmd 20, `leave`. */
function sdkJoin(base: string, sdkAppId: number, sig: (u: string) => string): Cycle {
  return (i) => {
    const userId = `sdk${i % 1000}`;
    const q = new URLSearchParams({ sdkAppId: String(sdkAppId), userId, userSig: sig(userId) });
    return exchange(
      `${base.replace(/^http/, 'ws')}/v2/ws?${q.toString()}`,
      (ws) => ws.send(JSON.stringify({ cmd: 'join', seq: 1, userId, data: { roomId: String(1 + (i % 100)), useStringRoomId: false, trtcRole: 20, trtcScene: 1, userSig: sig(userId) } })),
      (m, ws) => {
        if (m.cmd !== 20) return false;
        if (m.code !== 0) throw new Error(`join refused: ${JSON.stringify(m)}`);
        ws.send(JSON.stringify({ cmd: 'leave', seq: 2, userId, tinyId: m.tinyId, data: {} }));
        return true;
      },
    );
  };
}

/** One /rtc join: upgrade, `auth`, `room.enter`, `room.leave`. */
function rtcJoin(base: string, sdkAppId: number, sig: (u: string) => string): Cycle {
  return (i) => {
    const userId = `rtc${i % 1000}`;
    const roomId = 1 + (i % 100);
    return exchange(
      `${base.replace(/^http/, 'ws')}/rtc`,
      (ws) => ws.send(JSON.stringify({ v: 1, id: 'a', type: 'auth', sdkAppId, userId, userSig: sig(userId) })),
      (m, ws) => {
        if (m.ok !== true && m.re !== undefined) throw new Error(`refused: ${JSON.stringify(m)}`);
        if (m.re === 'a') ws.send(JSON.stringify({ v: 1, id: 'e', type: 'room.enter', roomId }));
        if (m.re !== 'e') return false;
        ws.send(JSON.stringify({ v: 1, id: 'l', type: 'room.leave', roomId }));
        return true;
      },
    );
  };
}

/** Signalling joins per second, SDK vs /rtc, on a server pinned to one core. */
async function joinsPerSecond(): Promise<BenchRow[]> {
  const dir = tempDir('trtcd-bench-sdk-');
  const app = createBenchApp(dir);
  const sigs = new Map<string, string>();
  const sig = (u: string) => sigs.get(u) ?? (sigs.set(u, genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: u, expire: 86400 })), sigs.get(u)!);
  const server = await startPinnedServer(dir, []);
  try {
    const sdk = await rate(sdkJoin(server.child.url, app.sdkAppId, sig));
    const rtc = await rate(rtcJoin(server.child.url, app.sdkAppId, sig));
    return [
      {
        name: `trtc-sdk-v5 signalling joins per second on one core (upgrade + join + cmd 20 + leave, ${IN_FLIGHT} in flight; ${server.where})${server.notes.length ? ` [${server.notes.join('; ')}]` : ''}${sdk.errors ? ` [${sdk.errors} failed]` : ''}`,
        value: sdk.perSec.toFixed(0),
        baseline: `${rtc.perSec.toFixed(0)} (/rtc upgrade + auth + room.enter + room.leave)`,
        ratio: sdk.perSec / rtc.perSec,
        target: 'recorded (no target set)',
        pass: sdk.errors === 0,
      },
    ];
  } finally {
    await server.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** enterRoom → first decoded remote frame with the SDK, against an in-page loopback PeerConnection. */
async function firstFrame(): Promise<BenchRow[]> {
  if (!existsSync(CHROMIUM)) return [];
  const dir = tempDir('trtcd-bench-sdk-ff-');
  const app = createBenchApp(dir);
  const server = await startPinnedServer(dir, []);
  const browser = await launchChromium(CHROMIUM_MEDIA_ARGS);
  try {
    const base = server.child.url;
    const sig = (u: string) => genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: u, expire: 3600 });
    const pub = await openSdkPage(browser, base);
    await pub.page.evaluate((p) => (window as unknown as { t: { trtc: { enterRoom(o: unknown): Promise<void> } } }).t.trtc.enterRoom(p), { sdkAppId: app.sdkAppId, userId: 'ff-pub', userSig: sig('ff-pub'), roomId: 4242, proxy: proxyFor(base) });
    await pub.page.evaluate(() => (window as unknown as { t: { trtc: { startLocalVideo(): Promise<void> } } }).t.trtc.startLocalVideo());
    const sdkMs: number[] = [];
    for (let run = 0; run < FIRST_FRAME_RUNS; run++) {
      const sub = await openSdkPage(browser, base);
      const ms = await sub.page.evaluate(async (p) => {
        const { trtc, TRTC } = (window as unknown as { t: { trtc: Record<string, (...a: unknown[]) => unknown>; TRTC: { EVENT: Record<string, string> } } }).t;
        const view = document.createElement('div');
        view.id = 'ff';
        document.body.append(view);
        const t0 = performance.now();
        const first = new Promise<number>((resolve) => trtc.on!(TRTC.EVENT.FIRST_VIDEO_FRAME!, () => resolve(performance.now() - t0)));
        trtc.on!(TRTC.EVENT.REMOTE_VIDEO_AVAILABLE!, (e: { userId: string; streamType: string }) => void trtc.startRemoteVideo!({ userId: e.userId, streamType: e.streamType, view: 'ff' }));
        await trtc.enterRoom!(p);
        return first;
      }, { sdkAppId: app.sdkAppId, userId: `ff-sub${run}`, userSig: sig(`ff-sub${run}`), roomId: 4242, proxy: proxyFor(base) });
      sdkMs.push(ms);
      await sub.page.evaluate(() => (window as unknown as { t: { trtc: { exitRoom(): Promise<void> } } }).t.trtc.exitRoom());
      await sub.close();
    }
    const loopMs: number[] = [];
    const page = pub.page;
    for (let run = 0; run < FIRST_FRAME_RUNS; run++) {
      loopMs.push(
        await page.evaluate(async () => {
          const stream = await navigator.mediaDevices.getUserMedia({ video: true });
          const t0 = performance.now();
          const a = new RTCPeerConnection();
          const b = new RTCPeerConnection();
          a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
          b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);
          for (const t of stream.getTracks()) a.addTrack(t, stream);
          const video = document.createElement('video');
          video.muted = true;
          const first = new Promise<number>((resolve) => {
            b.ontrack = (e) => {
              video.srcObject = e.streams[0]!;
              void video.play();
              video.requestVideoFrameCallback(() => resolve(performance.now() - t0));
            };
          });
          await a.setLocalDescription(await a.createOffer());
          await b.setRemoteDescription(a.localDescription!);
          await b.setLocalDescription(await b.createAnswer());
          await a.setRemoteDescription(b.localDescription!);
          const ms = await first;
          a.close();
          b.close();
          for (const t of stream.getTracks()) t.stop();
          return ms;
        }),
      );
    }
    const sdk = median(sdkMs);
    const loop = median(loopMs);
    return [
      {
        name: `trtc-sdk-v5: enterRoom → first decoded remote frame (Chromium, fake camera, SPC, publisher already in the room; median of ${FIRST_FRAME_RUNS}: ${sdkMs.map((x) => x.toFixed(0)).join(', ')}), ms`,
        value: sdk.toFixed(0),
        baseline: `${loop.toFixed(0)} (two PeerConnections in one page, no server)`,
        ratio: sdk / loop,
        target: 'recorded (no target set)',
        pass: true,
      },
    ];
  } finally {
    await browser.close();
    await server.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The trtc-sdk-v5 group. */
export async function benchTrtcSdk(): Promise<BenchRow[]> {
  return withHardStop('trtc-sdk bench', 300_000, async () => [...(await joinsPerSecond()), ...(await firstFrame())]);
}
