import { DomainError } from '../errors.ts';
import type { Call, CallMember, CallResult, MemberAction, MemberChange } from './call.ts';

/** Something that happens to an active call. `user` is who does it. */
export type CallAction =
  | { type: 'accept'; user: string }
  | { type: 'reject'; user: string }
  | { type: 'timeout'; user: string }
  | { type: 'hangup'; user: string }
  | { type: 'cancel'; user: string }
  | { type: 'cancelInvite'; user: string; target: string }
  | { type: 'join'; user: string }
  | { type: 'invite'; user: string; targets: string[] }
  | { type: 'offline'; user: string }
  | { type: 'end' };

/** The outcome of one action: the new call, the member changes, and whether the call ended. */
export interface Transition {
  call: Call;
  changes: MemberChange[];
  ended: boolean;
}

function refuse(message: string): never {
  throw new DomainError('FAILED_PRECONDITION', message);
}

function member(call: Call, user: string): CallMember {
  return call.members.find((m) => m.userId === user) ?? refuse(`${user} is not in call ${call.callId}`);
}

// How a call that nobody answered ends, by the last thing that happened in it.
const UNANSWERED: Record<MemberAction, CallResult> = {
  Reject: 'Reject',
  NotAnswer: 'NotAnswer',
  Hangup: 'Cancel',
  Cancel_Invite: 'Cancel',
  Offline: 'Interrupt',
  Accept: 'NormalEnd',
  Join: 'NormalEnd',
  Invite: 'NotAnswer',
};

/** The call ended with `result` at `now`. */
export function end(call: Call, result: CallResult, now: number): Call {
  return { ...call, result, endTime: now };
}

/** Ends the call once one participant or none is left, or nobody is in it any more (only people being rung); the result follows from what happened last. */
function settle(call: Call, changes: MemberChange[], now: number): Transition {
  if (call.members.length > 1 && call.members.some((m) => m.status === 'Calling')) return { call, changes, ended: false };
  const last = changes.at(-1)?.action ?? 'Hangup';
  let result: CallResult;
  if (call.acceptTime > 0) result = last === 'Offline' ? 'Interrupt' : 'NormalEnd';
  else result = UNANSWERED[last];
  return { call: end(call, result, now), changes, ended: true };
}

function without(call: Call, user: string): Call {
  return { ...call, members: call.members.filter((m) => m.userId !== user) };
}

/**
 * The call state machine: applies one action to an active call at `now` (ms). Pure: returns the new call
 * and what changed, or throws FAILED_PRECONDITION when the action does not apply in the current state.
 */
export function transition(call: Call, action: CallAction, now: number): Transition {
  if (call.result !== null) refuse(`call ${call.callId} has ended`);
  switch (action.type) {
    case 'accept': {
      const m = member(call, action.user);
      if (m.status !== 'Waiting') refuse(`${action.user} is already in the call`);
      const members = call.members.map((x) => (x.userId === action.user ? { ...x, status: 'Calling' as const, ringDeadline: 0 } : x));
      return { call: { ...call, members, acceptTime: call.acceptTime || now }, changes: [{ userId: action.user, action: 'Accept' }], ended: false };
    }
    case 'reject':
    case 'timeout': {
      const m = member(call, action.user);
      if (m.status !== 'Waiting') refuse(`${action.user} is not being rung`);
      const act: MemberAction = action.type === 'timeout' ? 'NotAnswer' : 'Reject';
      return settle(without(call, action.user), [{ userId: action.user, action: act }], now);
    }
    case 'hangup': {
      const m = member(call, action.user);
      if (m.status === 'Waiting') return transition(call, { type: 'reject', user: action.user }, now);
      // The caller hanging up before anyone answered cancels the call.
      if (action.user === call.caller && call.acceptTime === 0) return transition(call, { type: 'cancel', user: action.user }, now);
      return settle(without(call, action.user), [{ userId: action.user, action: 'Hangup' }], now);
    }
    case 'cancel': {
      if (action.user !== call.caller) refuse('only the caller can cancel a call');
      if (call.acceptTime > 0) refuse('the call was answered; hang up instead');
      return { call: end(call, 'Cancel', now), changes: [], ended: true };
    }
    case 'cancelInvite': {
      if (member(call, action.user).status !== 'Calling') refuse(`${action.user} is not in the call`);
      if (member(call, action.target).status !== 'Waiting') refuse(`${action.target} is not being rung`);
      return settle(without(call, action.target), [{ userId: action.target, action: 'Cancel_Invite' }], now);
    }
    case 'join': {
      if (call.callType !== 'MultiCall') refuse('only group calls can be joined');
      if (call.members.some((m) => m.userId === action.user)) refuse(`${action.user} is already in the call`);
      const members = [...call.members, { userId: action.user, status: 'Calling' as const, ringDeadline: 0 }];
      const invited = call.invited.includes(action.user) ? call.invited : [...call.invited, action.user];
      return { call: { ...call, members, invited, acceptTime: call.acceptTime || now }, changes: [{ userId: action.user, action: 'Join' }], ended: false };
    }
    case 'invite': {
      if (call.callType !== 'MultiCall') refuse('only group calls take more members');
      if (member(call, action.user).status !== 'Calling') refuse(`${action.user} is not in the call`);
      const fresh = [...new Set(action.targets)].filter((t) => !call.members.some((m) => m.userId === t));
      if (fresh.length === 0) refuse('everyone invited is already in the call');
      const members = [...call.members, ...fresh.map((userId) => ({ userId, status: 'Waiting' as const, ringDeadline: now + call.ringTimeoutMs }))];
      const invited = [...call.invited, ...fresh.filter((t) => !call.invited.includes(t))];
      return { call: { ...call, members, invited }, changes: fresh.map((userId) => ({ userId, action: 'Invite' as const })), ended: false };
    }
    case 'offline': {
      member(call, action.user);
      return settle(without(call, action.user), [{ userId: action.user, action: 'Offline' }], now);
    }
    case 'end':
      return { call: end(call, call.acceptTime > 0 ? 'NormalEnd' : 'Cancel', now), changes: [], ended: true };
  }
}
