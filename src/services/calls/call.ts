/** Audio or video call. */
export type MediaType = 'Audio' | 'Video';
/** A member in the call (`Calling`) or being rung (`Waiting`). */
type MemberStatus = 'Calling' | 'Waiting';
/** How a call ended (call records, Call.CallbackAfterEndCall). */
export type CallResult = 'Cancel' | 'Reject' | 'NotAnswer' | 'NormalEnd' | 'CallBusy' | 'Interrupt';
/** What happened to a member (Call.CallbackAfterMemberChanged ActionType). */
export type MemberAction = 'Accept' | 'Reject' | 'NotAnswer' | 'Hangup' | 'Join' | 'Offline' | 'Invite' | 'Cancel_Invite';
/** 1-to-1 or group. */
export type CallType = 'SingleCall' | 'MultiCall';

/** Every CallResult value, for validating filters. */
export const CALL_RESULTS: readonly CallResult[] = ['Cancel', 'Reject', 'NotAnswer', 'NormalEnd', 'CallBusy', 'Interrupt'];

/** A current member of a call. */
export interface CallMember {
  userId: string;
  status: MemberStatus;
  /** When an unanswered ring times out (ms since epoch); 0 once in the call. */
  ringDeadline: number;
}

/** A call, active (`result` null) or ended. Times are ms since the epoch; 0 when not yet. */
export interface Call {
  callId: string;
  sdkAppId: number;
  caller: string;
  mediaType: MediaType;
  callType: CallType;
  chatGroupId: string;
  roomId: string;
  /** 1 numeric room, 2 string room, 0 none. */
  roomIdType: number;
  userData: string;
  ringTimeoutMs: number;
  /** Started by start_call_by_robot: the robot caller is never busy. */
  robot: boolean;
  startTime: number;
  acceptTime: number;
  endTime: number;
  result: CallResult | null;
  /** Current members, caller first. */
  members: CallMember[];
  /** Everyone who was ever in or invited to the call, caller first (CalleeList_Account). */
  invited: string[];
}

/** One member change produced by a transition. */
export interface MemberChange {
  userId: string;
  action: MemberAction;
}
