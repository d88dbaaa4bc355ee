import { randomBytes, randomInt } from 'node:crypto';
import { genPrivateMapKey, genPrivateMapKeyWithStringRoomId, Privilege, verifyPrivateMapKey } from '../../auth/private-map-key.ts';
import { genUserSig, verifyUserSig } from '../../auth/usersig.ts';
import type { Bus } from '../../bus/bus.ts';
import type { Store } from '../../store/store.ts';
import { userIdProblem } from '../accounts/accounts-service.ts';
import type { App, AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import { MAX_NUMERIC_ROOM_ID, type RoomRef, type TrtcRoomsService } from '../trtc-rooms/trtc-rooms-service.ts';
import { IVH_CLOSED_TOPIC, IVH_EVENT_TOPIC, type DriverType, type IvhEvent, type IvhProtocol, type IvhSession, type SessionTrtc } from './session.ts';
import { SpeechDriver } from './speech-driver.ts';
import { addAvatar, type IvhAvatar } from './avatars.ts';

export { DEFAULT_AVATAR_CONCURRENCY, type IvhAvatar } from './avatars.ts';

/** How long a session stays "preparing" (3) before it is ready (1), unless configured. */
const DEFAULT_PREPARE_DELAY_MS = 3000;
/** A started session with no drive traffic for this long is closed. */
export const IDLE_CLOSE_MS = 10 * 60_000;
/** Validity of the TRTC keys trtcd makes for avatars and gettrtcsign. */
const IVH_TRTC_EXPIRE_S = 86_400;
/** Host named in rtmp/webrtc PlayStreamAddr (no such stream is served; see docs/compatibility.md). */
const IVH_PLAY_HOST = 'liveplay.ivh.qq.com';
/** StreamMaxInterval range and default, ms. */
const STREAM_MAX_INTERVAL = { min: 2000, max: 6000, default: 2000 } as const;

/** What createsession / createsessionbyasset carry. */
interface CreateSessionRequest {
  projectId?: string;
  assetKey?: string;
  userId: string;
  protocol: string;
  driverType: number;
  protocolOption?: Record<string, unknown>;
  streamMaxInterval?: number;
}

const invalid = (message: string): never => {
  throw new DomainError('INVALID_ARGUMENT', message, 'INVALID');
};
const str = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/**
 * AI digital-human interactive sessions: projects and assets with concurrency quotas, the session status machine
 * (3 preparing → 1 ready → 2 closed, 4 failed), PlayStreamAddr per protocol, the avatar's TRTC identity and room,
 * gettrtcsign, and driving through a SpeechDriver whose events go on the bus for the command channel.
 */
export class DigitalHumanService {
  private readonly avatars = new Map<string, IvhAvatar>();
  private readonly sessions = new Map<string, IvhSession>();
  private readonly drivers = new Map<string, SpeechDriver>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly apps: AppsService,
    private readonly trtcRooms: TrtcRoomsService,
    private readonly bus: Bus,
    private readonly opts: { prepareDelayMs: number; idleCloseMs: number } = { prepareDelayMs: DEFAULT_PREPARE_DELAY_MS, idleCloseMs: IDLE_CLOSE_MS },
  ) {}

  /** Loads avatars and sessions; sessions alive at a restart lost their stream and are closed (-111002). */
  async start(): Promise<void> {
    await this.loadAvatars();
    for (const json of await this.store.ivh.sessions()) {
      const s = JSON.parse(json) as IvhSession;
      if (s.status === 1 || s.status === 3) {
        s.status = 2;
        s.errorCode = -111002;
        s.errorMessage = 'the stream was lost when the server restarted';
        await this.save(s);
      }
      this.sessions.set(s.sessionId, s);
    }
  }

  /** (Re)reads projects and assets, including those the CLI created while the server runs. */
  async loadAvatars(): Promise<void> {
    for (const r of await this.store.ivh.avatars()) {
      this.avatars.set(r.avatar_id, { id: r.avatar_id, sdkAppId: Number(r.sdk_app_id), kind: r.kind as IvhAvatar['kind'], name: r.name, concurrency: Number(r.concurrency) });
    }
  }

  /** Stops every timer and driver. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.drivers.values()) d.stop();
    this.drivers.clear();
  }

  /** Creates a project (VirtualmanProjectId) for an app. */
  createProject(sdkAppId: number, o: { projectId?: string; name?: string; concurrency?: number } = {}): Promise<IvhAvatar> {
    return this.addAvatar(sdkAppId, 'project', o.projectId, o.name, o.concurrency);
  }

  /** Creates an avatar asset (AssetVirtualmanKey) for an app. */
  createAsset(sdkAppId: number, o: { assetKey?: string; name?: string; concurrency?: number } = {}): Promise<IvhAvatar> {
    return this.addAvatar(sdkAppId, 'asset', o.assetKey, o.name, o.concurrency);
  }

  /** Every project and asset of an app. */
  listAvatars(sdkAppId: number): IvhAvatar[] {
    return [...this.avatars.values()].filter((a) => a.sdkAppId === sdkAppId);
  }

  /** createsession / createsessionbyasset. */
  async createSession(app: App, r: CreateSessionRequest): Promise<IvhSession> {
    if (!app.settings.features.ivh) throw new DomainError('PERMISSION_DENIED', 'the digital-human feature is not enabled for this app', 'PERMISSION');
    const kind = r.projectId !== undefined ? 'project' : 'asset';
    const avatarId = r.projectId ?? r.assetKey ?? invalid('VirtualmanProjectId or AssetVirtualmanKey is required');
    if (!this.avatars.has(avatarId)) await this.loadAvatars();
    const avatar = this.avatars.get(avatarId);
    if (!avatar || avatar.sdkAppId !== app.sdkAppId || avatar.kind !== kind) invalid(`${kind === 'project' ? 'VirtualmanProjectId' : 'AssetVirtualmanKey'} ${avatarId} does not exist`);
    const problem = userIdProblem(r.userId);
    if (problem) invalid(problem);
    if (!['rtmp', 'trtc', 'webrtc'].includes(r.protocol)) invalid('Protocol must be rtmp, trtc or webrtc');
    if (r.driverType !== 1 && r.driverType !== 3) invalid('DriverType must be 1 or 3');
    const interval = r.streamMaxInterval ?? STREAM_MAX_INTERVAL.default;
    if (!Number.isInteger(interval) || interval < STREAM_MAX_INTERVAL.min || interval > STREAM_MAX_INTERVAL.max) invalid('StreamMaxInterval must be 2000-6000');
    const busy = [...this.sessions.values()].filter((s) => (s.status === 1 || s.status === 3) && (s.projectId || s.assetKey) === avatarId);
    const sameUser = [...this.sessions.values()].find((s) => s.sdkAppId === app.sdkAppId && s.userId === r.userId && (s.status === 1 || s.status === 3));
    if (busy.length - (sameUser && busy.includes(sameUser) ? 1 : 0) >= avatar!.concurrency) {
      throw new DomainError('LIMIT_EXCEEDED', `the concurrency quota of ${avatarId} (${avatar!.concurrency}) is used up`, 'QUOTA');
    }
    const sessionId = `m${BigInt(`0x${randomBytes(8).toString('hex')}`) % 10n ** 18n}`;
    const trtc = r.protocol === 'trtc' ? this.placeAvatar(app, sessionId, r.userId, r.protocolOption ?? {}) : null;
    const now = Date.now();
    const session: IvhSession = {
      sessionId,
      sdkAppId: app.sdkAppId,
      projectId: kind === 'project' ? avatarId : '',
      assetKey: kind === 'asset' ? avatarId : '',
      userId: r.userId,
      protocol: r.protocol as IvhProtocol,
      driverType: r.driverType as DriverType,
      status: 3,
      started: false,
      speakStatus: 'Initial',
      playStreamAddr: '',
      trtc,
      streamMaxIntervalMs: interval,
      errorCode: 0,
      errorMessage: '',
      createdAt: now,
      readyAt: 0,
      lastActiveAt: now,
    };
    session.playStreamAddr = this.playStreamAddr(app, session, r.protocolOption ?? {});
    if (sameUser) await this.closeSession(sameUser, 110022, 'a new session was created with the same UserId');
    await this.save(session);
    this.sessions.set(sessionId, session);
    this.arm(sessionId, this.opts.prepareDelayMs, () => this.ready(sessionId));
    return session;
  }

  /** statsession. */
  stat(app: App, sessionId: string): IvhSession {
    const s = this.sessions.get(sessionId);
    if (!s || s.sdkAppId !== app.sdkAppId) throw new DomainError('NOT_FOUND', `session ${sessionId} does not exist`, 'SESSION_NOT_FOUND');
    return s;
  }

  /** startsession: only once the session is ready. */
  async startSession(app: App, sessionId: string): Promise<void> {
    const s = this.live(app, sessionId);
    if (s.status !== 1) throw new DomainError('FAILED_PRECONDITION', 'the session is not ready yet (SessionStatus 3)', 'SESSION_NOT_READY');
    s.started = true;
    s.lastActiveAt = Date.now();
    await this.save(s);
    this.armIdle(s);
  }

  /** closesession. */
  async close(app: App, sessionId: string): Promise<void> {
    await this.closeSession(this.live(app, sessionId), 0, '');
  }

  /** In-progress sessions of an app, optionally of one project or asset. */
  list(app: App, filter: { projectId?: string; assetKey?: string }): IvhSession[] {
    return [...this.sessions.values()].filter(
      (s) =>
        s.sdkAppId === app.sdkAppId &&
        (s.status === 1 || s.status === 3) &&
        (filter.projectId === undefined || s.projectId === filter.projectId) &&
        (filter.assetKey === undefined || s.assetKey === filter.assetKey),
    );
  }

  /** gettrtcsign: keys for another user to enter the avatar's room (internal TRTC app only). */
  getTrtcSign(app: App, sessionId: string, userId: string, room: { roomId?: number; strRoomId?: string }): { userSig: string; privateMapKey: string } {
    const s = this.live(app, sessionId);
    if (!s.trtc) invalid('the session does not use the trtc protocol');
    if (s.trtc!.external) throw new DomainError('PERMISSION_DENIED', 'gettrtcsign serves sessions on the internal TRTC app only', 'PERMISSION');
    const problem = userIdProblem(userId);
    if (problem) invalid(problem);
    if (userId === s.trtc!.userId) invalid("UserId must differ from the avatar's UserId");
    const wantsNumeric = room.roomId !== undefined;
    if (!wantsNumeric && room.strRoomId === undefined) invalid('RoomId or StrRoomId is required');
    const matches = wantsNumeric ? s.trtc!.roomId === room.roomId : s.trtc!.strRoomId === room.strRoomId;
    if (!matches) invalid("RoomId is not the session's room");
    const base = { sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: IVH_TRTC_EXPIRE_S };
    return {
      userSig: genUserSig(base),
      privateMapKey: wantsNumeric
        ? genPrivateMapKey({ ...base, roomId: room.roomId!, privilegeMap: Privilege.All })
        : genPrivateMapKeyWithStringRoomId({ ...base, strRoomId: room.strRoomId!, privilegeMap: Privilege.All }),
    };
  }

  /** Throws unless a command channel may attach: the session exists, is ready and started. */
  channelAllowed(app: App, sessionId: string): void {
    const s = this.live(app, sessionId);
    if (s.status !== 1) throw new DomainError('FAILED_PRECONDITION', 'the session is not ready', 'SESSION_NOT_READY');
    if (!s.started) throw new DomainError('FAILED_PRECONDITION', 'call startsession first', 'SESSION_NOT_STARTED');
  }

  /** A drive command (SEND_TEXT, SEND_STREAMTEXT, SEND_AUDIO, SEND_HEARTBEAT). */
  command(app: App, sessionId: string, reqId: string, command: string, data: Record<string, unknown>): void {
    this.channelAllowed(app, sessionId);
    const s = this.sessions.get(sessionId)!;
    this.touch(app, sessionId);
    this.drivers.get(sessionId)!.handle(reqId, command, data);
    s.speakStatus = this.drivers.get(sessionId)!.speakStatus;
  }

  /** Heartbeat or other valid traffic: keeps a started session from the idle close. */
  touch(app: App, sessionId: string): void {
    const s = this.live(app, sessionId);
    s.lastActiveAt = Date.now();
    if (s.started) this.armIdle(s);
  }

  private live(app: App, sessionId: string): IvhSession {
    const s = this.stat(app, sessionId);
    if (s.status === 2 || s.status === 4) {
      throw new DomainError('FAILED_PRECONDITION', s.errorCode === 110022 ? 'the session was replaced by a new one with the same UserId' : 'the session is closed', 'SESSION_CLOSED');
    }
    return s;
  }

  private async ready(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s || s.status !== 3) return;
    s.status = 1;
    s.readyAt = Date.now();
    this.drivers.set(
      sessionId,
      new SpeechDriver({
        sessionId,
        driverType: s.driverType,
        streamMaxIntervalMs: s.streamMaxIntervalMs,
        emit: (event: IvhEvent) => {
          if (event.SpeakStatus) s.speakStatus = event.SpeakStatus;
          else if (event.Type === 9) s.speakStatus = 'Error';
          this.bus.publish(IVH_EVENT_TOPIC, { sdkAppId: s.sdkAppId, sessionId, event, avatar: s.trtc ? { sdkAppId: s.trtc.sdkAppId, userId: s.trtc.userId } : undefined });
        },
      }),
    );
    await this.save(s);
    // The avatar appears in its TRTC room as a participant.
    if (s.trtc) await this.trtcRooms.enter(s.trtc.sdkAppId, this.roomRef(s.trtc), s.trtc.userId, { role: 'avatar', deviceType: 'ivh' }).catch(() => undefined);
  }

  private async closeSession(s: IvhSession, errorCode: number, errorMessage: string): Promise<void> {
    clearTimeout(this.timers.get(s.sessionId));
    this.timers.delete(s.sessionId);
    this.drivers.get(s.sessionId)?.stop();
    this.drivers.delete(s.sessionId);
    const wasReady = s.status === 1;
    s.status = 2;
    s.errorCode = errorCode;
    s.errorMessage = errorMessage;
    await this.save(s);
    if (wasReady && s.trtc) await this.trtcRooms.leave(s.trtc.sdkAppId, this.roomRef(s.trtc), s.trtc.userId, 'session closed').catch(() => undefined);
    this.bus.publish(IVH_CLOSED_TOPIC, { sdkAppId: s.sdkAppId, sessionId: s.sessionId, errorCode });
  }

  private armIdle(s: IvhSession): void {
    this.arm(s.sessionId, this.opts.idleCloseMs, async () => {
      if (s.status === 1) await this.closeSession(s, 0, `closed after ${this.opts.idleCloseMs / 60_000} minutes without drive traffic`);
    });
  }

  private arm(sessionId: string, ms: number, fn: () => Promise<void>): void {
    const old = this.timers.get(sessionId);
    if (old) clearTimeout(old);
    const t = setTimeout(() => void fn().catch(() => undefined), ms);
    t.unref?.();
    this.timers.set(sessionId, t);
  }

  private roomRef(t: SessionTrtc): RoomRef {
    return t.roomId !== undefined ? { roomId: t.roomId } : { strRoomId: t.strRoomId! };
  }

  /** Where the avatar sits in TRTC: the internal app (trtcd allocates the room) or the caller's, whose keys are checked. */
  private placeAvatar(app: App, sessionId: string, userId: string, o: Record<string, unknown>): SessionTrtc {
    const roomNum = o.TrtcRoomId;
    if (roomNum !== undefined && !(Number.isInteger(roomNum) && (roomNum as number) >= 1 && (roomNum as number) <= MAX_NUMERIC_ROOM_ID)) invalid(`ProtocolOption.TrtcRoomId must be 1-${MAX_NUMERIC_ROOM_ID}`);
    const strRoom = str(o, 'TrtcStrRoomId') ?? str(o, 'StrTrtcRoomId');
    if (strRoom !== undefined && (strRoom === '' || Buffer.byteLength(strRoom) > 64)) invalid('ProtocolOption.TrtcStrRoomId must be 1-64 bytes');
    if (o.TrtcUseExternalApp === true) {
      const appId = Number(str(o, 'TrtcAppId') ?? o.TrtcAppId);
      const ext = Number.isSafeInteger(appId) ? this.apps.get(appId) : undefined;
      if (!ext) invalid('ProtocolOption.TrtcAppId is not a known SDKAppID');
      if (roomNum === undefined && strRoom === undefined) invalid('ProtocolOption.TrtcRoomId or TrtcStrRoomId is required with an external app');
      const sig = str(o, 'TrtcUserSig') ?? invalid('ProtocolOption.TrtcUserSig is required with an external app');
      const key = str(o, 'TrtcPrivateMapKey') ?? invalid('ProtocolOption.TrtcPrivateMapKey is required with an external app');
      const who = { sdkAppId: ext!.sdkAppId, secretKey: ext!.secretKey, userId };
      const v = verifyUserSig(sig, who);
      if (!v.ok) throw new DomainError('PERMISSION_DENIED', `ProtocolOption.TrtcUserSig does not verify: ${v.message}`, 'PERMISSION');
      const room = roomNum !== undefined ? { roomId: roomNum as number } : { strRoomId: strRoom! };
      const k = verifyPrivateMapKey(key, { ...who, ...room, privilege: Privilege.EnterRoom });
      if (!k.ok) throw new DomainError('PERMISSION_DENIED', `ProtocolOption.TrtcPrivateMapKey does not admit the avatar: ${k.message}`, 'PERMISSION');
      return { sdkAppId: ext!.sdkAppId, external: true, userId, ...room };
    }
    if (roomNum !== undefined) return { sdkAppId: app.sdkAppId, external: false, userId, roomId: roomNum as number };
    if (strRoom !== undefined) return { sdkAppId: app.sdkAppId, external: false, userId, strRoomId: strRoom };
    if (o.TrtcAutoGenRoomIdType === 1) return { sdkAppId: app.sdkAppId, external: false, userId, strRoomId: `ivh_${sessionId}` };
    return { sdkAppId: app.sdkAppId, external: false, userId, roomId: randomInt(1, MAX_NUMERIC_ROOM_ID + 1) };
  }

  /** PlayStreamAddr: rtmp/webrtc as in the documentation; trtc as `trtc://cloud.tencent.com/play/<userId>?sdkappid&roomid|strroomid&userid&usersig`. */
  private playStreamAddr(app: App, s: IvhSession, o: Record<string, unknown>): string {
    if (str(o, 'CssCustomPushUrl')) return '';
    if (s.protocol === 'rtmp') return `rtmp://${IVH_PLAY_HOST}/live/${s.sessionId}`;
    if (s.protocol === 'webrtc') return `webrtc://${IVH_PLAY_HOST}/live/${s.sessionId}?min_delay_ms=100`;
    const t = s.trtc!;
    const q = new URLSearchParams({ sdkappid: String(t.sdkAppId) });
    if (t.roomId !== undefined) q.set('roomid', String(t.roomId));
    else q.set('strroomid', t.strRoomId!);
    q.set('userid', t.userId);
    // With an external app the caller made the avatar's keys; with the internal one trtcd signs for it.
    q.set('usersig', t.external ? str(o, 'TrtcUserSig')! : genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: t.userId, expire: IVH_TRTC_EXPIRE_S }));
    return `trtc://cloud.tencent.com/play/${encodeURIComponent(t.userId)}?${q.toString()}`;
  }

  private async addAvatar(sdkAppId: number, kind: IvhAvatar['kind'], id: string | undefined, name?: string, concurrency?: number): Promise<IvhAvatar> {
    const avatar = await addAvatar(this.store, { sdkAppId, kind, id, name, concurrency });
    this.avatars.set(avatar.id, avatar);
    return avatar;
  }

  private save(s: IvhSession): Promise<void> {
    return this.store.ivh.saveSession(s.sessionId, s.sdkAppId, JSON.stringify(s), s.createdAt);
  }
}
