// One trtc-sdk-v5 signalling socket: its join into a room, its commands, and its media through the SFU.
import type { RtcpPacket, RtpPacket } from 'werift';
import { GenericNack, PictureLossIndication, ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, RtcpRrPacket, RtcpSrPacket, RtcpTransportLayerFeedback, TransportWideCC } from 'werift';
import type { WebSocket } from 'ws';
import { Privilege, verifyPrivateMapKey } from '../../auth/private-map-key.ts';
import type { Publication, StreamType, Subscription } from '../../realtime/media/sfu.ts';
import type { PeerEnd } from '../../realtime/media/publisher.ts';
import type { MediaKind } from '../../realtime/media/source.ts';
import { RtcErrors, SIG_ERRORS, type RtcErrorEntry } from '../../realtime/protocol.ts';
import { trtcSuspended } from '../../realtime/trtc-room-feature.ts';
import { DomainError } from '../../services/errors.ts';
import { GatewayError } from '../gateway-error.ts';
import { serveMessage, type MessageFamily } from '../message-pipeline.ts';
import { MAX_NUMERIC_ROOM_ID, type RoomRef } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import { Flag, frame, publishedUsers, MAX_CUSTOM_MESSAGE_BYTES, REPLY_OF, SdkErrors, SdkRole, ServerCmd, tinyIdOf } from './protocol.ts';
import { pli, remb, SdkSink, SdkStreamSource, SsrcWriter, UplinkRepair, type DownlinkSsrcs, type UplinkSsrcs } from './sdk-media.ts';
import type { SdkSignalling } from './signalling.ts';
import { FIR_FMT } from '../../realtime/media/sender-out.ts';
import { LayerChoice } from '../../realtime/media/layer-choice.ts';
import { MpcDownlink, MpcUplink, uplinkSsrcsOf } from './mpc.ts';
import { SpcTransport, type ClientAbility } from './spc-transport.ts';
import type { UplinkRoute } from './uplink-ingress.ts';
import { trtcRoomKey, userKey, type UserKey, type TrtcRoomKey } from '../../services/tenant-keys.ts';


/** A client frame as the SDK sends it. */
interface ClientFrame {
  cmd: string;
  seq: number;
  data: Record<string, unknown>;
}

/** What a subscriber asked of one publisher: kinds, the SSRCs it chose and the writers of those SSRCs. */
interface Want {
  audio: boolean;
  bigVideo: boolean;
  smallVideo: boolean;
  auxVideo: boolean;
  ssrc: DownlinkSsrcs;
  writers: { audio: SsrcWriter; big: SsrcWriter; aux: SsrcWriter };
  subs: Partial<Record<StreamType, Subscription>>;
  /** The publisher's small stream, when it publishes one (an SDK publisher on this node). */
  small?: { sink: SdkSink; from: SdkConnection };
  /** Which of the big and small streams goes out on the big-video SSRC. */
  layers: LayerChoice;
}

/** How often trtcd tells an SDK publisher the bandwidth it may use, ms. */
const REMB_INTERVAL_MS = 1000;

/** Client commands that get no reply frame (REPLY_OF lists the others). */
const UNREPLIED: ReadonlySet<string> = new Set(['leave', 'quality_report', 'channel_msg']);
const SDK_FAMILY: MessageFamily = { name: 'trtc-sdk', labelKey: 'cmd', internal: SdkErrors.INTERNAL, knows: (cmd) => Object.hasOwn(REPLY_OF, cmd) || UNREPLIED.has(cmd) };

function bool(v: unknown): boolean {
  return v === true;
}

function uint32(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : 0;
}

/** The room of a join: numeric rooms come as decimal strings too. */
function roomOfJoin(d: Record<string, unknown>): RoomRef {
  const id = d.roomId;
  if (d.useStringRoomId === true) {
    if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 64) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'strRoomId must be 1-64 bytes');
    return { strRoomId: id };
  }
  const n = typeof id === 'number' ? id : typeof id === 'string' && /^\d{1,10}$/.test(id) ? Number(id) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NUMERIC_ROOM_ID) throw new GatewayError(SdkErrors.INVALID_PARAMETER, `roomId must be 1-${MAX_NUMERIC_ROOM_ID}`);
  return { roomId: n };
}

/** One SDK client's socket. */
export class SdkConnection {
  /** `${sdkAppId}\n${userId}`: owner key in the SFU. */
  readonly userKey: UserKey;
  readonly tinyId: string;
  room: RoomRef | undefined;
  role: 'anchor' | 'audience' = 'anchor';
  private privileges: number = Privilege.All;
  private transport: SpcTransport | undefined;
  private uplink: UplinkSsrcs = { audioSsrc: 0, bigVideoSsrc: 0, bigVideoRtxSsrc: 0, smallVideoSsrc: 0, smallVideoRtxSsrc: 0, auxVideoSsrc: 0, auxVideoRtxSsrc: 0 };
  /** Loss repair (NACK out, RTX in) of each uplink video stream. */
  private repairs: UplinkRepair[] = [];
  private readonly sources: Partial<Record<StreamType, SdkStreamSource>> = {};
  private readonly wants = new Map<string, Want>();
  private rembTimer: NodeJS.Timeout | undefined;
  /** Whether this user publishes the small stream (publish/v2 or publish_state_change with smallVideo). */
  smallOn = false;
  /** The latest main publication: the small stream, forwarded here rather than by the SFU, follows its video block. */
  private mainPub: Publication | undefined;
  /** Subscribers of the small stream: it is not in the SFU (no other protocol receives it). */
  readonly smallSinks = new Set<SdkSink>();
  /** MPC mode: the uplink PeerConnection, and one downlink per remote publisher with what was asked of it. */
  private mpcUp: MpcUplink | undefined;
  private readonly mpcDown = new Map<string, { link: MpcDownlink; audio: boolean; video: boolean; aux: boolean; subs: Partial<Record<StreamType, Subscription>> }>();
  /** Replaced by a newer join of the same user: its end does not take the user out of the room. */
  replaced = false;
  closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly sdkAppId: number,
    readonly userId: string,
    private readonly urlUserSig: string,
    readonly ip: string | undefined,
    private readonly s: SdkSignalling,
  ) {
    this.userKey = userKey(sdkAppId, userId);
    this.tinyId = tinyIdOf(sdkAppId, userId);
  }

  /** Writes a frame if the socket is open. */
  send(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  /** Closes the socket with `code`, or destroys it after `graceMs`; resolves once it is closed. */
  shutdown(code: number, reason: string, graceMs: number): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => this.ws.terminate(), graceMs);
      force.unref?.();
      this.ws.once('close', () => (clearTimeout(force), resolve()));
      this.ws.close(code, reason);
    });
  }

  /** Sends cmd 9 (the SDK resets and raises kicked-out) and forgets the room. */
  kick(reason: 'kick' | 'banned' | 'room_disband'): void {
    this.send(frame(ServerCmd.CLIENT_BANNED, 0, { reason }));
    this.dropMedia(reason);
    this.closeTransport();
    this.room = undefined;
  }

  /** Handles one parsed client frame. */
  handle(f: ClientFrame): Promise<void> {
    const reply = REPLY_OF[f.cmd];
    return serveMessage(SDK_FAMILY, this.s.d, f.cmd, { userId: this.userId }, () => this.dispatch(f), {
      ok: (data) => {
        if (reply !== undefined && data !== null) this.send(frame(reply, f.seq, data, 0, '', f.cmd === 'join' || f.cmd === 'join/v2' ? this.tinyId : undefined));
        // The SDK applies the publishers of the join reply only to members it knows by then; the user list that follows
        // the join introduces the rest, so the snapshot is repeated after each list.
        if (f.cmd === 'get_user_list' && this.room) this.send(frame(ServerCmd.UPDATE_REMOTE_MUTE_STAT, 0, publishedUsers(this.s.publishers(this.sdkAppId, this.room))));
      },
      refused: (err) => {
        if (reply !== undefined) this.send(frame(reply, f.seq, {}, Number(err.entry.code), err.message));
      },
    });
  }

  private dispatch(f: ClientFrame): Promise<Record<string, unknown> | null> | Record<string, unknown> | null {
    const d = f.data;
    switch (f.cmd) {
      case 'join/v2':
      case 'join':
        return this.join(d, f.cmd === 'join/v2');
      case 'leave':
        return this.leave('leave').then(() => null);
      case 'quality_report':
        // The SDK has no other source of uplink quality, and a frame every 2 s keeps its socket "online".
        this.send(frame(ServerCmd.UPLINK_NETWORK_STATS, 0, { expectAudPkg: 0, expectVidPkg: 0, recvAudPkg: 0, recvVidPkg: 0, rtt: 0, wsRtt: 0, delay: [] }));
        return null;
      case 'ability_status_report':
      case 'update_constraint_config':
        return {};
      case 'get_user_list':
        this.inRoom();
        return { userList: this.s.userList(this.sdkAppId, this.room!) };
      case 'channel_msg':
        this.message(d);
        return null;
      case 'change_role':
        return this.changeRole(d);
      case 'publish/v2':
        this.publish(d, true);
        return {};
      case 'publish_state_change':
        this.publish(d, false);
        return {};
      case 'publish':
      case 'publish_change':
        return this.mpcPublish(d);
      case 'subscribe':
        return this.mpcSubscribe(d);
      case 'unpublish':
        this.inRoom();
        this.dropPublications('unpublished');
        this.mpcUp?.close();
        this.mpcUp = undefined;
        return {};
      case 'mute_uplink':
        this.mute(d);
        return {};
      case 'subscribe/v3':
        this.subscribe(d, true);
        return {};
      case 'subscribe_change':
        if (this.transport) this.subscribe(d, false);
        else this.mpcChange(d);
        return {};
      case 'unsubscribe':
        this.unsubscribe(d);
        return {};
      case 'rebuild_pc':
        return this.rebuild(d);
      case 'update_network_time': {
        const now = Date.now();
        return { serverRecvTime: now, serverSendTime: now };
      }
      default:
        if (REPLY_OF[f.cmd] !== undefined) throw new GatewayError(SdkErrors.UNSUPPORTED, `${f.cmd} is not supported by this server`);
        return null;
    }
  }

  private inRoom(): RoomRef {
    if (!this.room) throw new GatewayError(SdkErrors.NOT_IN_ROOM);
    return this.room;
  }

  private async join(d: Record<string, unknown>, spc: boolean): Promise<Record<string, unknown>> {
    if (this.room) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'already in a room');
    const app = this.s.d.apps.get(this.sdkAppId);
    if (!app) throw new GatewayError(RtcErrors.SDKAPPID_NOT_FOUND);
    const sig = typeof d.userSig === 'string' && d.userSig !== '' ? d.userSig : this.urlUserSig;
    const verdict = this.s.d.apps.verifyUserSig(this.sdkAppId, this.userId, sig);
    if (!verdict.ok) throw new GatewayError(SIG_ERRORS[verdict.reason] as RtcErrorEntry, `${SIG_ERRORS[verdict.reason].message} (${verdict.message})`);
    if (trtcSuspended(this.s.d.apps, app) || !app.settings.features.trtc) throw new GatewayError(RtcErrors.SERVICE_SUSPENDED);
    const ref = roomOfJoin(d);
    const role = d.trtcRole === SdkRole.AUDIENCE ? 'audience' : 'anchor';
    const pmk = typeof d.privateMapKey === 'string' ? d.privateMapKey : '';
    let privileges: number = Privilege.All;
    // An empty key is no key, and then every privilege is granted (as on /rtc).
    if (app.settings.trtc.requirePrivateMapKey || pmk !== '') {
      if (!pmk) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'this app requires a privateMapKey to enter a room');
      const privilege = this.s.d.trtcRooms.exists(this.sdkAppId, ref) ? Privilege.EnterRoom : Privilege.EnterRoom | Privilege.CreateRoom;
      const r = verifyPrivateMapKey(pmk, { sdkAppId: this.sdkAppId, secretKey: app.secretKey, userId: this.userId, ...ref, privilege });
      if (!r.ok) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, `privateMapKey check failed: ${r.message}`);
      privileges = r.buffer.privilegeMap;
    }
    let ability: Record<string, unknown> | undefined;
    if (spc) {
      const opened = await SpcTransport.open(d.ability as ClientAbility, this.s.d.net, (why, state) => this.transportEnded(why, state)).catch((err: unknown) => {
        throw new GatewayError(SdkErrors.INVALID_PARAMETER, `the ability could not be negotiated: ${(err as Error).message}`);
      });
      this.transport = opened.transport;
      ability = opened.ability;
      this.transport.onRtp = (rtp) => this.uplinkRtp(rtp);
      this.transport.onRtcp = (rtcp) => this.downlinkRtcp(rtcp);
      this.routeUplink();
    }
    try {
      await this.s.d.trtcRooms.enter(this.sdkAppId, ref, this.userId, { role, clientIp: this.ip, deviceType: 'Web', sdkVersion: typeof d.version === 'string' ? d.version.slice(0, 32) : '' });
    } catch (e) {
      this.transport?.close();
      if (e instanceof DomainError && e.code === 'INVALID_ARGUMENT') throw new GatewayError(SdkErrors.INVALID_PARAMETER, e.message);
      throw e;
    }
    if (this.closed) {
      this.transport?.close();
      void this.s.d.trtcRooms.leave(this.sdkAppId, ref, this.userId, 'disconnected');
      return {};
    }
    this.room = ref;
    // A socket that was taken over and joins again owns the user's stay once more: its leave must end it.
    this.replaced = false;
    this.role = role;
    this.s.d.trtcRooms.setRole(this.sdkAppId, ref, this.userId, role);
    this.privileges = privileges;
    this.s.attach(this);
    const relay = this.s.relayIp();
    return { publishers: this.s.publishers(this.sdkAppId, ref), relayOuterIp: relay, relayInnerIp: relay, relayPort: 0, bakRelayIps: [], ...(ability ? { ability } : {}) };
  }

  /**
   * rebuild_pc: the SDK replaced its single PeerConnection (failed, or not connected in time). A new transport is
   * negotiated from the new ability; the SDK then republishes and resubscribes with new SSRCs, so the old downlinks go.
   */
  private async rebuild(d: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.inRoom();
    if (!this.transport) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'rebuild_pc needs the single-PeerConnection mode');
    const opened = await SpcTransport.open(d.ability as ClientAbility, this.s.d.net, (why, state) => this.transportEnded(why, state)).catch((err: unknown) => {
      throw new GatewayError(SdkErrors.INVALID_PARAMETER, `the ability could not be negotiated: ${(err as Error).message}`);
    });
    if (!this.room) {
      opened.transport.close();
      throw new GatewayError(SdkErrors.NOT_IN_ROOM);
    }
    for (const w of this.wants.values()) this.release(w);
    this.wants.clear();
    this.closeTransport();
    this.transport = opened.transport;
    this.transport.onRtp = (rtp) => this.uplinkRtp(rtp);
    this.transport.onRtcp = (rtcp) => this.downlinkRtcp(rtcp);
    this.routeUplink();
    return { ability: opened.ability };
  }

  /** Leaves the room (leave, or the socket's end): unpublishes, unsubscribes, and tells the room service. */
  async leave(reason: string): Promise<void> {
    const ref = this.room;
    this.dropMedia(reason);
    // The transport belongs to this stay: a socket kept open after exitRoom joins again with a new ability.
    this.closeTransport();
    this.room = undefined;
    if (!ref) return;
    this.s.detach(this, ref);
    if (!this.replaced) await this.s.d.trtcRooms.leave(this.sdkAppId, ref, this.userId, reason);
  }

  /** The socket ended. */
  async ended(): Promise<void> {
    this.closed = true;
    await this.leave('disconnected');
    this.closeTransport();
  }

  /** The single PeerConnection failed or did not connect in time: its media goes, and the SDK rebuilds it. */
  private transportEnded(why: PeerEnd, state: string): void {
    this.s.d.log.warn({ sdkAppId: this.sdkAppId, userId: this.userId, why, state }, 'trtc-sdk media connection ended');
    this.dropMedia('connection failed');
  }

  private closeTransport(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  private message(d: Record<string, unknown>): void {
    const ref = this.inRoom();
    const cmdId = d.cmdId;
    if (typeof cmdId !== 'number' || !Number.isInteger(cmdId) || cmdId < 1 || cmdId > 10) return;
    if (typeof d.msg !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d.msg)) return;
    const bytes = Buffer.from(d.msg, 'base64');
    if (bytes.length > MAX_CUSTOM_MESSAGE_BYTES) return;
    this.s.customMessage({ sdkAppId: this.sdkAppId, room: ref, from: this.userId, bytes, cmdId, streamSeq: uint32(d.streamSeq) }, this);
  }

  private async changeRole(d: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = this.inRoom();
    if (d.role !== SdkRole.ANCHOR && d.role !== SdkRole.AUDIENCE) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'role must be 20 or 21');
    const role = d.role === SdkRole.ANCHOR ? 'anchor' : 'audience';
    if (typeof d.privateMapKey === 'string' && d.privateMapKey !== '') {
      const app = this.s.d.apps.get(this.sdkAppId);
      const r = app ? verifyPrivateMapKey(d.privateMapKey, { sdkAppId: this.sdkAppId, secretKey: app.secretKey, userId: this.userId, ...ref, privilege: Privilege.EnterRoom }) : null;
      if (!r?.ok) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, `privateMapKey check failed${r ? `: ${r.message}` : ''}`);
      this.privileges = r.buffer.privilegeMap;
    }
    if (role === 'audience') this.dropPublications('role changed');
    this.role = role;
    this.s.d.trtcRooms.setRole(this.sdkAppId, ref, this.userId, role);
    return {};
  }

  /** publish/v2 (with SSRCs) and publish_state_change: the user's published streams follow `state`. */
  private publish(d: Record<string, unknown>, withSsrcs: boolean): void {
    const ref = this.inRoom();
    if (!this.transport && !this.mpcUp) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'nothing to publish on: send publish/v2 or publish first');
    if (this.role !== 'anchor') throw new GatewayError(SdkErrors.AUDIENCE_CANNOT_PUBLISH);
    if (withSsrcs) {
      this.setUplink({
        audioSsrc: uint32(d.audioSsrc),
        bigVideoSsrc: uint32(d.bigVideoSsrc),
        bigVideoRtxSsrc: uint32(d.bigVideoRtxSsrc),
        smallVideoSsrc: uint32(d.smallVideoSsrc),
        smallVideoRtxSsrc: uint32(d.smallVideoRtxSsrc),
        auxVideoSsrc: uint32(d.auxVideoSsrc),
        auxVideoRtxSsrc: uint32(d.auxVideoRtxSsrc),
      });
    }
    const state = (d.state ?? {}) as Record<string, unknown>;
    const main = { audio: bool(state.audio), video: bool(state.bigVideo) };
    const aux = bool(state.auxVideo);
    const need = (main.audio ? Privilege.SendAudio : 0) | (main.video ? Privilege.SendVideo : 0) | (aux ? Privilege.SendSubVideo : 0);
    if ((this.privileges & need) !== need) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'the privateMapKey does not grant sending what is published');
    this.setStream(ref, 'main', main);
    this.setStream(ref, 'sub', { audio: false, video: aux });
    const small = main.video && bool(state.smallVideo) && this.uplink.smallVideoSsrc !== 0;
    if (small !== this.smallOn) {
      this.smallOn = small;
      if (!small) this.smallSinks.clear();
      this.s.smallChanged(this);
    }
    const muted = (d.muteState ?? {}) as Record<string, unknown>;
    if (withSsrcs) this.mute({ audio: muted.audio, bigVideo: muted.bigVideo, auxVideo: muted.auxVideo });
    this.startRemb();
  }

  /** (Re)publishes a stream when its kinds changed, or unpublishes it when it carries nothing. */
  private setStream(ref: RoomRef, stream: StreamType, kinds: Record<MediaKind, boolean>): void {
    const sfu = this.s.d.media.sfu;
    const current = sfu.find(this.sdkAppId, ref, this.userId, stream);
    const mine = current?.owner === this ? current : undefined;
    if (mine && mine.source.kinds.audio === kinds.audio && mine.source.kinds.video === kinds.video) return;
    if (!kinds.audio && !kinds.video) {
      if (mine) sfu.unpublish(mine, 'unpublished');
      delete this.sources[stream];
      this.routeUplink();
      return;
    }
    const source = this.sources[stream];
    if (mine && source && mine.source === source) {
      // A track added to or dropped from a published stream changes it in place: its subscribers keep it.
      const addsVideo = kinds.video && !source.kinds.video;
      source.setKinds(kinds);
      this.routeUplink();
      sfu.changed(mine);
      this.s.d.media.announceUpdate(mine);
      if (addsVideo) sfu.askKeyframe(mine, true);
      return;
    }
    // The video SSRC is read when a keyframe is asked: an MPC publish_change may bring new SSRCs.
    const fresh = new SdkStreamSource(
      kinds,
      () => {
        const videoSsrc = stream === 'main' ? this.uplink.bigVideoSsrc : this.uplink.auxVideoSsrc;
        if (videoSsrc) this.sendUp([pli(videoSsrc)]);
      },
      () => this.routeUplink(),
    );
    this.sources[stream] = fresh;
    const pub = sfu.publish({ sdkAppId: this.sdkAppId, room: ref, userId: this.userId, stream, source: fresh, owner: this });
    if (stream === 'main') this.mainPub = pub;
    this.s.d.media.announce(pub);
  }

  private mute(d: Record<string, unknown>): void {
    const ref = this.inRoom();
    const sfu = this.s.d.media.sfu;
    const main = sfu.find(this.sdkAppId, ref, this.userId, 'main');
    if (main?.owner === this) {
      if (typeof d.audio === 'boolean') sfu.setMuted(main, 'audio', d.audio);
      if (typeof d.bigVideo === 'boolean') sfu.setMuted(main, 'video', d.bigVideo);
    }
    const sub = sfu.find(this.sdkAppId, ref, this.userId, 'sub');
    if (sub?.owner === this && typeof d.auxVideo === 'boolean') sfu.setMuted(sub, 'video', d.auxVideo);
  }

  /** Takes the uplink SSRCs of a publish: the video streams get loss repair. */
  private setUplink(u: UplinkSsrcs): void {
    this.uplink = u;
    this.routeUplink();
    const vp8 = this.transport?.codecs.vp8.payload ?? this.mpcUp?.vp8PayloadType ?? 0;
    this.repairs = [
      [u.bigVideoSsrc, u.bigVideoRtxSsrc],
      [u.smallVideoSsrc, u.smallVideoRtxSsrc],
      [u.auxVideoSsrc, u.auxVideoRtxSsrc],
    ]
      .filter(([media]) => media !== 0)
      .map(([media, rtx]) => new UplinkRepair(media!, rtx!, vp8));
  }

  /**
   * Routes one uplink packet by its SSRC to the stream it belongs to. A gap in a video stream is asked for again
   * (NACK); a retransmission (RTX) is routed as the packet it repairs. Padding is not forwarded.
   */
  private uplinkRtp(packet: RtpPacket): void {
    if (packet.payload.length === 0) return;
    let rtp = packet;
    for (const r of this.repairs) {
      if (rtp.header.ssrc === r.rtxSsrc && r.rtxSsrc !== 0) {
        const original = r.unwrap(rtp);
        if (!original) return;
        rtp = original;
        break;
      }
      if (rtp.header.ssrc === r.ssrc) {
        const lost = r.arrived(rtp.header.sequenceNumber);
        if (lost.length) this.sendUp([r.nack(lost)]);
        break;
      }
    }
    const ssrc = rtp.header.ssrc;
    const u = this.uplink;
    // A repaired packet came as RTX, which the media worker does not forward: its mark says so.
    const from = (this.transport ?? this.mpcUp)?.mark;
    if (ssrc === u.audioSsrc) this.sources.main?.emit('audio', rtp, from);
    else if (ssrc === u.bigVideoSsrc) this.sources.main?.emit('video', rtp, from);
    else if (ssrc === u.auxVideoSsrc) this.sources.sub?.emit('video', rtp, from);
    else if (ssrc === u.smallVideoSsrc && this.smallOn && !this.mainPub?.blocked.video) for (const sink of this.smallSinks) sink.send('video', rtp, from);
  }

  /**
   * Tells the uplink (the single PeerConnection or MPC's) which SSRCs a media worker may forward itself: those of the
   * streams published now, to their fan-outs (the small stream and RTX stay here). Called whenever one of them changes.
   */
  private routeUplink(): void {
    const up = this.transport ?? this.mpcUp;
    if (!up) return;
    const u = this.uplink;
    const main = this.sources.main;
    const sub = this.sources.sub;
    const routes: UplinkRoute[] = [];
    if (main?.fanOut && main.kinds.audio && u.audioSsrc) routes.push({ ssrc: u.audioSsrc, fanOut: main.fanOut.audio });
    if (main?.fanOut && main.kinds.video && u.bigVideoSsrc) routes.push({ ssrc: u.bigVideoSsrc, fanOut: main.fanOut.video });
    if (sub?.fanOut && sub.kinds.video && u.auxVideoSsrc) routes.push({ ssrc: u.auxVideoSsrc, fanOut: sub.fanOut.video });
    up.routeUplink(routes);
  }

  /** RTCP to this user as a publisher, on whichever uplink it has. */
  private sendUp(packets: RtcpPacket[]): void {
    if (this.transport) this.transport.sendRtcp(packets);
    else this.mpcUp?.sendRtcp(packets);
  }

  /** MPC publish / publish_change: answers the offer on the uplink PeerConnection, then follows `state` as publish/v2 does. */
  private async mpcPublish(d: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.inRoom();
    if (this.transport) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'this connection publishes with publish/v2');
    if (this.role !== 'anchor') throw new GatewayError(SdkErrors.AUDIENCE_CANNOT_PUBLISH);
    if (d.type !== 'offer' || typeof d.sdp !== 'string' || d.sdp.length > 64 * 1024) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'publish needs an SDP offer');
    const offer = d.sdp;
    let sdp: string;
    try {
      if (this.mpcUp) sdp = await this.mpcUp.negotiate(offer);
      else {
        const opened = await MpcUplink.open(offer, this.s.d.net, () => this.dropPublications('connection failed'));
        this.mpcUp = opened.uplink;
        this.mpcUp.onRtp = (rtp) => this.uplinkRtp(rtp);
        this.routeUplink();
        sdp = opened.sdp;
      }
    } catch (err) {
      throw new GatewayError(SdkErrors.INVALID_PARAMETER, `the offer could not be negotiated: ${(err as Error).message}`);
    }
    if (!this.room) {
      this.mpcUp?.close();
      this.mpcUp = undefined;
      throw new GatewayError(SdkErrors.NOT_IN_ROOM);
    }
    this.setUplink(uplinkSsrcsOf(offer));
    this.publish(d, false);
    return { type: 'answer', sdp };
  }

  /** MPC subscribe: a downlink PeerConnection for one remote publisher. */
  private async mpcSubscribe(d: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = this.inRoom();
    if (this.transport) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'this connection subscribes with subscribe/v3');
    if (d.type !== 'offer' || typeof d.sdp !== 'string' || d.sdp.length > 64 * 1024) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'subscribe needs an SDP offer');
    const src = this.s.userOfTinyId(this.sdkAppId, ref, d.srcTinyId) ?? (typeof d.srcUserId === 'string' ? d.srcUserId : undefined);
    if (!src) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'srcTinyId names no member of the room');
    const want = { audio: bool(d.audio), video: bool(d.bigVideo) || bool(d.smallVideo), aux: bool(d.auxVideo) };
    this.requireReceive(want);
    this.mpcDown.get(src)?.link.close();
    this.mpcDown.delete(src);
    const made = await MpcDownlink.answer(
      d.sdp,
      this.s.d.net,
      (stream) => {
        const sub = this.mpcDown.get(src)?.subs[stream];
        if (sub) this.s.d.media.sfu.askKeyframe(sub.publication);
      },
      () => this.forget(src),
    ).catch((err: unknown) => {
      throw new GatewayError(SdkErrors.INVALID_PARAMETER, `the offer could not be negotiated: ${(err as Error).message}`);
    });
    if (!this.room) {
      made.downlink.close();
      throw new GatewayError(SdkErrors.NOT_IN_ROOM);
    }
    this.mpcDown.set(src, { link: made.downlink, ...want, subs: {} });
    this.sync(src);
    return { type: 'answer', sdp: made.sdp };
  }

  /** MPC subscribe_change: other kinds from the same downlink. */
  private mpcChange(d: Record<string, unknown>): void {
    const ref = this.inRoom();
    const src = this.s.userOfTinyId(this.sdkAppId, ref, d.srcTinyId) ?? (typeof d.srcUserId === 'string' ? d.srcUserId : undefined);
    const down = src === undefined ? undefined : this.mpcDown.get(src);
    if (!down) throw new GatewayError(SdkErrors.NO_SUCH_STREAM, 'no subscription to that user');
    const want = { audio: bool(d.audio), video: bool(d.bigVideo) || bool(d.smallVideo), aux: bool(d.auxVideo) };
    this.requireReceive(want);
    Object.assign(down, want);
    this.sync(src!);
  }

  private requireReceive(w: { audio: boolean; video: boolean; aux: boolean }): void {
    const need = (w.audio ? Privilege.ReceiveAudio : 0) | (w.video ? Privilege.ReceiveVideo : 0) | (w.aux ? Privilege.ReceiveSubVideo : 0);
    if ((this.privileges & need) !== need) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'the privateMapKey does not grant receiving what is asked');
  }

  /** MPC: makes the SFU subscriptions of a downlink match what was asked and what the user publishes. */
  private syncMpc(userId: string): void {
    const down = this.mpcDown.get(userId);
    if (!down || !this.room) return;
    const sfu = this.s.d.media.sfu;
    for (const stream of ['main', 'sub'] as const) {
      const kinds = stream === 'main' ? { audio: down.audio, video: down.video } : { audio: false, video: down.aux };
      const sink = stream === 'main' ? down.link.main : down.link.aux;
      const pub = sfu.find(this.sdkAppId, this.room, userId, stream);
      const sub = down.subs[stream];
      if (sub && (!pub || sub.publication !== pub || !sfu.live(pub))) {
        sfu.unsubscribe(sub);
        delete down.subs[stream];
      }
      if (kinds.video && !sink.wants.video && pub) sfu.askKeyframe(pub, true);
      sink.want(kinds);
      if (!pub || down.subs[stream] || (!kinds.audio && !kinds.video)) continue;
      // The downlink outlives its subscriptions (a publisher republishing is subscribed again on the same connection).
      down.subs[stream] = sfu.subscribe(
        pub,
        { send: (k, rtp, from) => sink.send(k, rtp, from), useHistory: (k, h) => sink.useHistory(k, h), useFanOut: (k, f) => sink.useFanOut(k, f), close: () => sink.leaveFanOut() },
        this,
      );
      if (kinds.video) sfu.askKeyframe(pub, true);
    }
  }

  /** Asks this user (a publisher) for a keyframe of its small stream. */
  smallKeyframe(): void {
    if (this.uplink.smallVideoSsrc) this.sendUp([pli(this.uplink.smallVideoSsrc)]);
  }

  /** Feedback from this user as a subscriber: a keyframe request on a downlink SSRC goes to that publisher. */
  private downlinkRtcp(rtcp: RtcpPacket): void {
    // Congestion feedback: the path's loss from transport-wide feedback (before retransmission repairs it), else
    // receiver reports' loss on the big-video SSRC; and the bandwidth estimate (REMB) where the browser sends one.
    if (rtcp instanceof RtcpTransportLayerFeedback && rtcp.feedback instanceof TransportWideCC) {
      const fraction = this.transport?.loss.feedback(rtcp.feedback);
      if (fraction === undefined) return;
      this.s.congestion.twccWindows++;
      for (const w of this.wants.values()) {
        w.layers.lossReport(fraction);
        this.chooseLayer(w);
      }
      return;
    }
    if (rtcp instanceof RtcpRrPacket || rtcp instanceof RtcpSrPacket) {
      if (this.transport?.loss.reporting) return;
      for (const r of rtcp.reports) {
        for (const w of this.wants.values()) {
          if (r.ssrc !== w.ssrc.bigVideoSsrc || w.ssrc.bigVideoSsrc === 0) continue;
          w.layers.lossReport(r.fractionLost / 256);
          this.chooseLayer(w);
        }
      }
      return;
    }
    if (rtcp instanceof RtcpPayloadSpecificFeedback && rtcp.feedback instanceof ReceiverEstimatedMaxBitrate) {
      const { bitrate, ssrcFeedbacks } = rtcp.feedback;
      for (const w of this.wants.values()) {
        if (ssrcFeedbacks.length > 0 && !ssrcFeedbacks.includes(w.ssrc.bigVideoSsrc)) continue;
        w.layers.estimate(Number(bitrate));
        this.chooseLayer(w);
      }
      return;
    }
    if (rtcp instanceof RtcpTransportLayerFeedback && rtcp.feedback instanceof GenericNack) {
      const { mediaSourceSsrc, lost } = rtcp.feedback;
      for (const w of this.wants.values()) {
        for (const writer of [w.writers.big, w.writers.aux]) if (writer.ssrc === mediaSourceSsrc) writer.resend(lost);
      }
      return;
    }
    if (!(rtcp instanceof RtcpPayloadSpecificFeedback)) return;
    const fb = rtcp.feedback;
    if (!(fb instanceof PictureLossIndication) && fb.count !== FIR_FMT) return;
    const ssrc = 'mediaSsrc' in fb ? fb.mediaSsrc : 0;
    for (const w of this.wants.values()) {
      if (ssrc === w.ssrc.bigVideoSsrc && w.small) w.small.from.smallKeyframe();
      const stream: StreamType | undefined = ssrc === w.ssrc.bigVideoSsrc ? 'main' : ssrc === w.ssrc.auxVideoSsrc ? 'sub' : undefined;
      const sub = stream && w.subs[stream];
      if (sub) this.s.d.media.sfu.askKeyframe(sub.publication);
    }
  }

  /** subscribe/v3 (new SSRCs) and subscribe_change (same SSRCs, other kinds). */
  private subscribe(d: Record<string, unknown>, fresh: boolean): void {
    this.inRoom();
    if (!this.transport) throw new GatewayError(SdkErrors.UNSUPPORTED, 'subscribing needs the single-PeerConnection mode');
    const src = this.s.userOfTinyId(this.sdkAppId, this.room!, d.srcTinyId) ?? (typeof d.srcUserId === 'string' ? d.srcUserId : undefined);
    if (!src) throw new GatewayError(SdkErrors.INVALID_PARAMETER, 'srcTinyId names no member of the room');
    const old = this.wants.get(src);
    const ssrc = (d.ssrc ?? {}) as Record<string, unknown>;
    if (fresh || !old) {
      if (old) this.release(old);
      const t = this.transport;
      const down: DownlinkSsrcs = { audioSsrc: uint32(ssrc.audioSsrc), bigVideoSsrc: uint32(ssrc.bigVideoSsrc), bigVideoRtxSsrc: uint32(ssrc.bigVideoRtxSsrc), auxVideoSsrc: uint32(ssrc.auxVideoSsrc), auxVideoRtxSsrc: uint32(ssrc.auxVideoRtxSsrc) };
      const want: Want = {
        audio: false,
        bigVideo: false,
        smallVideo: false,
        auxVideo: false,
        ssrc: down,
        writers: {
          audio: new SsrcWriter(t, down.audioSsrc, t.codecs.opus.payload),
          big: new SsrcWriter(t, down.bigVideoSsrc, t.codecs.downVp8.payload, { ssrc: down.bigVideoRtxSsrc, payloadType: t.codecs.downVp8.rtx }),
          aux: new SsrcWriter(t, down.auxVideoSsrc, t.codecs.downVp8.payload, { ssrc: down.auxVideoRtxSsrc, payloadType: t.codecs.downVp8.rtx }),
        },
        subs: {},
        layers: new LayerChoice(),
      };
      want.writers.big.onOffered = (from, rtp) => {
        if (from !== want.small?.sink) want.layers.bigPacket(rtp.payload.length);
      };
      this.wants.set(src, want);
    }
    const w = this.wants.get(src)!;
    w.audio = bool(d.audio);
    w.bigVideo = bool(d.bigVideo);
    w.smallVideo = bool(d.smallVideo) && !w.bigVideo;
    w.auxVideo = bool(d.auxVideo);
    const need = (w.audio ? Privilege.ReceiveAudio : 0) | (w.bigVideo || w.smallVideo ? Privilege.ReceiveVideo : 0) | (w.auxVideo ? Privilege.ReceiveSubVideo : 0);
    if ((this.privileges & need) !== need) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'the privateMapKey does not grant receiving what is asked');
    this.sync(src);
  }

  private unsubscribe(d: Record<string, unknown>): void {
    this.inRoom();
    const src = this.s.userOfTinyId(this.sdkAppId, this.room!, d.srcTinyId) ?? (typeof d.srcUserId === 'string' ? d.srcUserId : undefined);
    if (src !== undefined && this.mpcDown.has(src)) return this.forget(src);
    const w = src === undefined ? undefined : this.wants.get(src);
    if (!w) return;
    this.release(w);
    this.wants.delete(src!);
  }

  /** Ends the subscriptions of a want. */
  private release(w: Want): void {
    for (const sub of Object.values(w.subs)) this.s.d.media.sfu.unsubscribe(sub);
    w.subs = {};
    if (w.small) w.small.from.smallSinks.delete(w.small.sink);
    w.small = undefined;
  }

  /** Makes the SFU subscriptions to `userId` match what this user asked for and what that user publishes. */
  sync(userId: string): void {
    if (this.mpcDown.has(userId)) return this.syncMpc(userId);
    const w = this.wants.get(userId);
    if (!w || !this.room || !this.transport) return;
    const sfu = this.s.d.media.sfu;
    // The small stream goes out on the big-video SSRC; a publisher without one is sent its big stream instead. Both
    // reach the writer while video is wanted, and the layer choice says which it sends.
    const smallFrom = w.smallVideo || w.bigVideo ? this.s.connectionOf(this.sdkAppId, this.room, userId) : undefined;
    const small = smallFrom?.smallOn ? smallFrom : undefined;
    if (w.small && w.small.from !== small) {
      w.small.from.smallSinks.delete(w.small.sink);
      w.small = undefined;
    }
    if (small && !w.small) {
      w.small = { sink: new SdkSink({ video: w.writers.big }, { audio: false, video: true }), from: small };
      small.smallSinks.add(w.small.sink);
    }
    for (const stream of ['main', 'sub'] as const) {
      const kinds = stream === 'main' ? { audio: w.audio, video: w.bigVideo || w.smallVideo } : { audio: false, video: w.auxVideo };
      const pub: Publication | undefined = sfu.find(this.sdkAppId, this.room, userId, stream);
      const sub = w.subs[stream];
      if (sub && (!pub || sub.publication !== pub || !sfu.live(pub) || (!kinds.audio && !kinds.video))) {
        sfu.unsubscribe(sub);
        delete w.subs[stream];
      }
      if (!pub || (!kinds.audio && !kinds.video)) continue;
      const have = w.subs[stream];
      if (have) {
        const sink = have.subscriber as SdkSink;
        if (kinds.video && !sink.wants.video) sfu.askKeyframe(pub, true);
        sink.want(kinds);
        continue;
      }
      const sink = new SdkSink({ audio: w.writers.audio, video: stream === 'main' ? w.writers.big : w.writers.aux }, { ...kinds });
      w.subs[stream] = sfu.subscribe(pub, sink, this);
      if (kinds.video) sfu.askKeyframe(pub, true);
    }
    this.chooseLayer(w);
  }

  /** Points the big-video writer at the layer the choice names, asking that layer for a keyframe when it changes. */
  private chooseLayer(w: Want): void {
    w.layers.asked = w.smallVideo ? 'small' : 'big';
    w.layers.smallAvailable = w.small !== undefined;
    const small = w.layers.layer() === 'small' ? w.small : undefined;
    const target = small ? small.sink : w.subs.main?.subscriber;
    if (!target || w.writers.big.preference === target) return;
    w.writers.big.prefer(target);
    if (small && w.layers.asked === 'big') this.s.congestion.narrowed++;
    if (small) small.from.smallKeyframe();
    else if (w.subs.main) this.s.d.media.sfu.askKeyframe(w.subs.main.publication, true);
  }

  /** Forgets what was asked of a user who left the room. */
  forget(userId: string): void {
    const down = this.mpcDown.get(userId);
    if (down) {
      for (const sub of Object.values(down.subs)) this.s.d.media.sfu.unsubscribe(sub);
      down.link.close();
      this.mpcDown.delete(userId);
    }
    const w = this.wants.get(userId);
    if (!w) return;
    this.release(w);
    this.wants.delete(userId);
  }

  private dropPublications(reason: string): void {
    const sfu = this.s.d.media.sfu;
    if (this.room) {
      for (const stream of ['main', 'sub'] as const) {
        const p = sfu.find(this.sdkAppId, this.room, this.userId, stream);
        if (p?.owner === this) sfu.unpublish(p, reason);
      }
    }
    delete this.sources.main;
    delete this.sources.sub;
    this.routeUplink();
  }

  /** Ends every publication and subscription of this connection. */
  private dropMedia(reason: string): void {
    clearInterval(this.rembTimer);
    this.rembTimer = undefined;
    this.s.d.media.sfu.dropOwner(this, reason);
    for (const w of this.wants.values()) this.release(w);
    this.wants.clear();
    for (const u of [...this.mpcDown.keys()]) this.forget(u);
    this.mpcUp?.close();
    this.mpcUp = undefined;
    this.smallOn = false;
    this.smallSinks.clear();
    this.mainPub = undefined;
    delete this.sources.main;
    delete this.sources.sub;
    this.routeUplink();
  }

  /** Tells the browser the uplink bandwidth it may use, as a receiver's estimate would. */
  private startRemb(): void {
    if (this.rembTimer) return;
    const tick = () => {
      const ssrcs = [this.uplink.bigVideoSsrc, this.uplink.auxVideoSsrc].filter((x) => x !== 0);
      if (ssrcs.length) this.sendUp([remb(ssrcs)]);
    };
    this.rembTimer = setInterval(tick, REMB_INTERVAL_MS);
    this.rembTimer.unref?.();
    tick();
  }

  /** The user's flag word in cmd 23: a kind the server blocks (SetUserBlocked*) shows as muted. */
  static flagOf(pubs: Publication[]): number {
    let flag = 0;
    for (const p of pubs) {
      const off = (kind: MediaKind) => p.muted[kind] || p.blocked[kind];
      if (p.stream === 'main') {
        if (p.source.kinds.audio) flag |= Flag.AUDIO | (off('audio') ? Flag.AUDIO_MUTED : 0);
        if (p.source.kinds.video) flag |= Flag.BIG_VIDEO | (off('video') ? Flag.BIG_VIDEO_MUTED : 0);
      } else if (p.source.kinds.video) {
        flag |= Flag.AUX_VIDEO | (off('video') ? Flag.AUX_VIDEO_MUTED : 0);
      }
    }
    return flag;
  }

  /** The key of the room this connection is in, if any. */
  get roomKey(): TrtcRoomKey | undefined {
    return this.room ? trtcRoomKey(this.sdkAppId, this.room) : undefined;
  }
}
