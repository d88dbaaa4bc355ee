/** Stream protocol of a digital-human session. */
export type IvhProtocol = 'rtmp' | 'trtc' | 'webrtc';
/** 1 = text drive only; 3 = audio (original voice), which also accepts text. */
export type DriverType = 1 | 3;
/** SessionStatus: 1 ready (in progress), 2 closed, 3 preparing, 4 create failed. */
export type SessionStatus = 1 | 2 | 3 | 4;
/** SpeakStatus of statsession and of Type 3 events. */
export type SpeakStatus =
  | 'Initial'
  | 'WaitingTextStart'
  | 'TextStart'
  | 'WaitingTextOver'
  | 'TextOver'
  | 'WaitingAudioStart'
  | 'AudioStart'
  | 'WaitingAudioOver'
  | 'AudioOver'
  | 'Error';

/** TRTC placement of a session on `trtc`. */
export interface SessionTrtc {
  /** The TRTC app the avatar is in (the internal app or the caller's). */
  sdkAppId: number;
  external: boolean;
  roomId?: number;
  strRoomId?: string;
  /** The avatar's TRTC user id (the session's UserId). */
  userId: string;
}

/** A digital-human interactive session. */
export interface IvhSession {
  sessionId: string;
  /** The app whose IVH appKey created it. */
  sdkAppId: number;
  projectId: string;
  assetKey: string;
  userId: string;
  protocol: IvhProtocol;
  driverType: DriverType;
  status: SessionStatus;
  started: boolean;
  speakStatus: SpeakStatus;
  playStreamAddr: string;
  trtc: SessionTrtc | null;
  streamMaxIntervalMs: number;
  errorCode: number;
  errorMessage: string;
  /** Unix ms. */
  createdAt: number;
  readyAt: number;
  lastActiveAt: number;
}

/** A downstream command-channel event (Type 3 speak status, Type 9 drive failure). */
export interface IvhEvent {
  Type: 3 | 9;
  SessionId: string;
  ReqId: string;
  SpeakStatus?: SpeakStatus;
  /** Required in every downstream message (https://tencentcloud.com/document/product/1211/62116). */
  Seq: number;
  FinalType?: number;
  ErrorCode?: number;
  ErrorMessage?: string;
}

/** Bus topic of command-channel events; payload `{ sdkAppId, sessionId, event, avatar?: { sdkAppId, userId } }` (avatar: where it is in TRTC). */
export const IVH_EVENT_TOPIC = 'ivh.event';
/** Bus topic of session closes; payload `{ sdkAppId, sessionId, errorCode }` (the channel drops its socket). */
export const IVH_CLOSED_TOPIC = 'ivh.closed';
