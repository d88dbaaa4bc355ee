import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../errors.ts';
import type { Call, CallMember } from './call.ts';
import { transition, type CallAction } from './call-machine.ts';

const T0 = 1_740_000_000_000;
const RING = 30_000;

/** A ringing call started at T0 by `caller`; every callee Waiting with the default ring deadline. */
function makeCall(opts: { caller?: string; callees?: string[]; group?: boolean } & Partial<Call> = {}): Call {
  const { caller = 'alice', callees = ['bob'], group, ...over } = opts;
  const members: CallMember[] = [{ userId: caller, status: 'Calling', ringDeadline: 0 }, ...callees.map((userId) => ({ userId, status: 'Waiting' as const, ringDeadline: T0 + RING }))];
  return {
    callId: 'c-1',
    sdkAppId: 1400000001,
    caller,
    mediaType: 'Audio',
    callType: (group ?? callees.length > 1) ? 'MultiCall' : 'SingleCall',
    chatGroupId: '',
    roomId: 'room-1',
    roomIdType: 2,
    userData: '',
    ringTimeoutMs: RING,
    robot: false,
    startTime: T0,
    acceptTime: 0,
    endTime: 0,
    result: null,
    members,
    invited: [caller, ...callees],
    ...over,
  };
}

/** Applies actions in turn, each at its own time, and returns the last call. */
function run(call: Call, steps: Array<[CallAction, number]>): Call {
  let c = call;
  for (const [action, now] of steps) c = transition(c, action, now).call;
  return c;
}

function refused(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.code, 'FAILED_PRECONDITION');
    if (message) assert.match(err.message, message);
    return true;
  });
}

function statuses(call: Call): Array<[string, string]> {
  return call.members.map((m) => [m.userId, m.status]);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('transition: accept', () => {
  it('turns a Waiting callee into Calling, clears its ring deadline and sets AcceptTime', () => {
    const t = transition(makeCall(), { type: 'accept', user: 'bob' }, T0 + 1000);
    assert.deepEqual(statuses(t.call), [
      ['alice', 'Calling'],
      ['bob', 'Calling'],
    ]);
    assert.equal(t.call.members[1]?.ringDeadline, 0);
    assert.equal(t.call.acceptTime, T0 + 1000);
    assert.equal(t.call.result, null);
    assert.equal(t.call.endTime, 0);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Accept' }]);
  });

  it('sets AcceptTime on the first accept only', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'accept', user: 'bob' }, T0 + 1000],
      [{ type: 'accept', user: 'carol' }, T0 + 5000],
    ]);
    assert.equal(c.acceptTime, T0 + 1000);
    assert.deepEqual(statuses(c), [
      ['alice', 'Calling'],
      ['bob', 'Calling'],
      ['carol', 'Calling'],
    ]);
  });

  it('refuses accepting twice, the caller accepting, and a stranger accepting', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'accept', user: 'bob' }, T0 + 2000), /bob/);
    refused(() => transition(makeCall(), { type: 'accept', user: 'alice' }, T0 + 1000));
    refused(() => transition(makeCall(), { type: 'accept', user: 'mallory' }, T0 + 1000), /mallory/);
  });
});

describe('transition: reject', () => {
  it('ends a 1v1 call with Reject, removing the callee', () => {
    const t = transition(makeCall(), { type: 'reject', user: 'bob' }, T0 + 2000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Reject');
    assert.equal(t.call.endTime, T0 + 2000);
    assert.equal(t.call.acceptTime, 0);
    assert.deepEqual(statuses(t.call), [['alice', 'Calling']]);
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Reject' }]);
    assert.deepEqual(t.call.invited, ['alice', 'bob']);
  });

  it('lets a group call go on while another callee is still ringing', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'reject', user: 'bob' }, T0 + 2000);
    assert.equal(t.ended, false);
    assert.equal(t.call.result, null);
    assert.equal(t.call.endTime, 0);
    assert.deepEqual(statuses(t.call), [
      ['alice', 'Calling'],
      ['carol', 'Waiting'],
    ]);
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Reject' }]);
  });

  it('ends a group call with Reject when the last ringing callee rejects and nobody answered', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'timeout', user: 'bob' }, T0 + RING],
      [{ type: 'reject', user: 'carol' }, T0 + RING + 1],
    ]);
    assert.equal(c.result, 'Reject');
  });

  it('keeps an answered group call going when a ringing callee rejects', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'accept', user: 'bob' }, T0 + 1000],
      [{ type: 'reject', user: 'carol' }, T0 + 2000],
    ]);
    assert.equal(c.result, null);
    assert.deepEqual(statuses(c), [
      ['alice', 'Calling'],
      ['bob', 'Calling'],
    ]);
  });

  it('refuses a reject by a member already in the call', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'reject', user: 'bob' }, T0 + 2000));
    refused(() => transition(c, { type: 'reject', user: 'alice' }, T0 + 2000));
  });
});

describe('transition: timeout', () => {
  it('ends a 1v1 call with NotAnswer', () => {
    const t = transition(makeCall(), { type: 'timeout', user: 'bob' }, T0 + RING);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'NotAnswer');
    assert.equal(t.call.endTime, T0 + RING);
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'NotAnswer' }]);
  });

  it('removes one group callee with NotAnswer while another still rings', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'timeout', user: 'carol' }, T0 + RING);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [{ userId: 'carol', action: 'NotAnswer' }]);
    assert.deepEqual(statuses(t.call), [
      ['alice', 'Calling'],
      ['bob', 'Waiting'],
    ]);
  });

  it('ends an unanswered group call with NotAnswer when the last ring times out', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'reject', user: 'bob' }, T0 + 1000],
      [{ type: 'timeout', user: 'carol' }, T0 + RING],
    ]);
    assert.equal(c.result, 'NotAnswer');
  });

  it('refuses a timeout of a member who answered', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'timeout', user: 'bob' }, T0 + RING));
  });
});

describe('transition: hangup', () => {
  it('by the callee after accepting ends a 1v1 call with NormalEnd', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    const t = transition(c, { type: 'hangup', user: 'bob' }, T0 + 60_000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'NormalEnd');
    assert.equal(t.call.acceptTime, T0 + 1000);
    assert.equal(t.call.endTime, T0 + 60_000);
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Hangup' }]);
    assert.deepEqual(statuses(t.call), [['alice', 'Calling']]);
  });

  it('by the caller after an accept ends a 1v1 call with NormalEnd', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    const t = transition(c, { type: 'hangup', user: 'alice' }, T0 + 60_000);
    assert.equal(t.call.result, 'NormalEnd');
    assert.deepEqual(t.changes, [{ userId: 'alice', action: 'Hangup' }]);
  });

  it('by the caller before any accept cancels the call', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'hangup', user: 'alice' }, T0 + 5000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Cancel');
    assert.equal(t.call.endTime, T0 + 5000);
    assert.equal(t.call.acceptTime, 0);
  });

  it('by a ringing callee is treated as a reject', () => {
    const t = transition(makeCall(), { type: 'hangup', user: 'bob' }, T0 + 5000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Reject');
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Reject' }]);
    const g = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'hangup', user: 'carol' }, T0 + 5000);
    assert.equal(g.ended, false);
    assert.deepEqual(g.changes, [{ userId: 'carol', action: 'Reject' }]);
  });

  it('by one of three members in an answered group call leaves the others talking', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'accept', user: 'bob' }, T0 + 1000],
      [{ type: 'accept', user: 'carol' }, T0 + 2000],
    ]);
    const t = transition(c, { type: 'hangup', user: 'alice' }, T0 + 3000);
    assert.equal(t.ended, false);
    assert.deepEqual(statuses(t.call), [
      ['bob', 'Calling'],
      ['carol', 'Calling'],
    ]);
    const last = transition(t.call, { type: 'hangup', user: 'carol' }, T0 + 4000);
    assert.equal(last.call.result, 'NormalEnd');
  });

  it('refuses a hangup by someone not in the call', () => {
    refused(() => transition(makeCall(), { type: 'hangup', user: 'mallory' }, T0 + 1000), /mallory/);
  });
});

describe('transition: cancel', () => {
  it('by the caller before any accept ends the call with Cancel and no member change', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'cancel', user: 'alice' }, T0 + 3000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Cancel');
    assert.equal(t.call.endTime, T0 + 3000);
    assert.deepEqual(t.changes, []);
  });

  it('is refused to anyone but the caller', () => {
    refused(() => transition(makeCall(), { type: 'cancel', user: 'bob' }, T0 + 3000), /caller/);
  });

  it('is refused after an accept', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'cancel', user: 'alice' }, T0 + 3000));
  });
});

describe('transition: cancelInvite', () => {
  it('withdraws one pending invitation with a Cancel_Invite change; the group call goes on', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'cancelInvite', user: 'alice', target: 'carol' }, T0 + 3000);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [{ userId: 'carol', action: 'Cancel_Invite' }]);
    assert.deepEqual(statuses(t.call), [
      ['alice', 'Calling'],
      ['bob', 'Waiting'],
    ]);
    assert.deepEqual(t.call.invited, ['alice', 'bob', 'carol']);
  });

  it('ends a call with Cancel when it withdraws the only pending invitation of an unanswered call', () => {
    const t = transition(makeCall(), { type: 'cancelInvite', user: 'alice', target: 'bob' }, T0 + 3000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Cancel');
    assert.deepEqual(t.changes, [{ userId: 'bob', action: 'Cancel_Invite' }]);
  });

  it('is refused for a target already in the call or not in it', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'cancelInvite', user: 'alice', target: 'bob' }, T0 + 2000), /bob/);
    refused(() => transition(c, { type: 'cancelInvite', user: 'alice', target: 'mallory' }, T0 + 2000), /mallory/);
  });

  it('is refused to a user who is only ringing or not in the call', () => {
    const c = run(makeCall({ callees: ['bob', 'carol', 'dave'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    refused(() => transition(c, { type: 'cancelInvite', user: 'carol', target: 'dave' }, T0 + 2000), /carol/);
    refused(() => transition(c, { type: 'cancelInvite', user: 'mallory', target: 'dave' }, T0 + 2000), /mallory/);
    // A member who answered may withdraw an invitation.
    const t = transition(c, { type: 'cancelInvite', user: 'bob', target: 'dave' }, T0 + 2000);
    assert.deepEqual(t.changes, [{ userId: 'dave', action: 'Cancel_Invite' }]);
  });
});

describe('transition: join', () => {
  it('adds a Calling member to a group call and to invited', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    const t = transition(c, { type: 'join', user: 'dave' }, T0 + 2000);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [{ userId: 'dave', action: 'Join' }]);
    assert.deepEqual(statuses(t.call), [
      ['alice', 'Calling'],
      ['bob', 'Calling'],
      ['carol', 'Waiting'],
      ['dave', 'Calling'],
    ]);
    assert.deepEqual(t.call.members.at(-1), { userId: 'dave', status: 'Calling', ringDeadline: 0 });
    assert.deepEqual(t.call.invited, ['alice', 'bob', 'carol', 'dave']);
    assert.equal(t.call.acceptTime, T0 + 1000);
  });

  it('counts as the first answer of an unanswered group call (AcceptTime, then NormalEnd)', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'join', user: 'dave' }, T0 + 3000);
    assert.equal(t.call.acceptTime, T0 + 3000);
    assert.equal(transition(t.call, { type: 'end' }, T0 + 9000).call.result, 'NormalEnd');
  });

  it('does not list a former member twice in invited when they join again', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'reject', user: 'carol' }, T0 + 1000],
      [{ type: 'join', user: 'carol' }, T0 + 2000],
    ]);
    assert.deepEqual(c.invited, ['alice', 'bob', 'carol']);
    assert.deepEqual(statuses(c), [
      ['alice', 'Calling'],
      ['bob', 'Waiting'],
      ['carol', 'Calling'],
    ]);
  });

  it('is refused for a SingleCall', () => {
    refused(() => transition(makeCall(), { type: 'join', user: 'dave' }, T0 + 1000), /group/);
  });

  it('is refused for an existing member, Calling or Waiting', () => {
    const g = makeCall({ callees: ['bob', 'carol'] });
    refused(() => transition(g, { type: 'join', user: 'alice' }, T0 + 1000), /alice/);
    refused(() => transition(g, { type: 'join', user: 'bob' }, T0 + 1000), /bob/);
  });
});

describe('transition: invite', () => {
  it('adds Waiting members with ringDeadline = now + ringTimeoutMs, by a Calling member', () => {
    const now = T0 + 7000;
    const g = makeCall({ callees: ['bob', 'carol'], ringTimeoutMs: 45_000 });
    const t = transition(g, { type: 'invite', user: 'alice', targets: ['dave', 'erin'] }, now);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [
      { userId: 'dave', action: 'Invite' },
      { userId: 'erin', action: 'Invite' },
    ]);
    assert.deepEqual(t.call.members.slice(3), [
      { userId: 'dave', status: 'Waiting', ringDeadline: now + 45_000 },
      { userId: 'erin', status: 'Waiting', ringDeadline: now + 45_000 },
    ]);
    assert.deepEqual(t.call.invited, ['alice', 'bob', 'carol', 'dave', 'erin']);
  });

  it('lets a callee who answered invite', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    const t = transition(c, { type: 'invite', user: 'bob', targets: ['dave'] }, T0 + 2000);
    assert.deepEqual(t.changes, [{ userId: 'dave', action: 'Invite' }]);
  });

  it('ignores duplicates and existing members', () => {
    const g = makeCall({ callees: ['bob', 'carol'] });
    const t = transition(g, { type: 'invite', user: 'alice', targets: ['dave', 'bob', 'dave', 'alice'] }, T0 + 1000);
    assert.deepEqual(t.changes, [{ userId: 'dave', action: 'Invite' }]);
    assert.deepEqual(
      t.call.members.map((m) => m.userId),
      ['alice', 'bob', 'carol', 'dave'],
    );
    assert.deepEqual(t.call.invited, ['alice', 'bob', 'carol', 'dave']);
  });

  it('re-invites a former member without listing them twice in invited', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'reject', user: 'carol' }, T0 + 1000],
      [{ type: 'invite', user: 'alice', targets: ['carol'] }, T0 + 2000],
    ]);
    assert.deepEqual(c.invited, ['alice', 'bob', 'carol']);
    assert.deepEqual(c.members.at(-1), { userId: 'carol', status: 'Waiting', ringDeadline: T0 + 2000 + RING });
  });

  it('is refused for a SingleCall, for a ringing member, for a stranger, and when everyone is already there', () => {
    refused(() => transition(makeCall(), { type: 'invite', user: 'alice', targets: ['dave'] }, T0 + 1000), /group/);
    const g = makeCall({ callees: ['bob', 'carol'] });
    refused(() => transition(g, { type: 'invite', user: 'bob', targets: ['dave'] }, T0 + 1000), /bob/);
    refused(() => transition(g, { type: 'invite', user: 'mallory', targets: ['dave'] }, T0 + 1000), /mallory/);
    refused(() => transition(g, { type: 'invite', user: 'alice', targets: ['bob', 'carol'] }, T0 + 1000));
  });
});

describe('transition: offline', () => {
  it('ends an answered 1v1 call with Interrupt', () => {
    const c = run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    for (const who of ['alice', 'bob']) {
      const t = transition(c, { type: 'offline', user: who }, T0 + 9000);
      assert.equal(t.ended, true, who);
      assert.equal(t.call.result, 'Interrupt', who);
      assert.equal(t.call.endTime, T0 + 9000);
      assert.deepEqual(t.changes, [{ userId: who, action: 'Offline' }]);
    }
  });

  it('only removes the member when more than one is left', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [
      [{ type: 'accept', user: 'bob' }, T0 + 1000],
      [{ type: 'accept', user: 'carol' }, T0 + 1000],
    ]);
    const t = transition(c, { type: 'offline', user: 'carol' }, T0 + 9000);
    assert.equal(t.ended, false);
    assert.deepEqual(t.changes, [{ userId: 'carol', action: 'Offline' }]);
    assert.deepEqual(
      t.call.members.map((m) => m.userId),
      ['alice', 'bob'],
    );
  });

  it('is refused for someone not in the call', () => {
    refused(() => transition(makeCall(), { type: 'offline', user: 'mallory' }, T0 + 1000), /mallory/);
  });
});

describe('transition: nobody left in the call', () => {
  it('ends a group call when the caller drops before anyone answered (only callees being rung remain): Interrupt', () => {
    const t = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'offline', user: 'alice' }, T0 + 1000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Interrupt');
  });

  it('keeps a group call going while someone is in it', () => {
    const answered = transition(makeCall({ callees: ['bob', 'carol'] }), { type: 'accept', user: 'bob' }, T0 + 1000).call;
    const t = transition(answered, { type: 'offline', user: 'alice' }, T0 + 2000);
    assert.equal(t.ended, false);
    assert.deepEqual(t.call.members.map((m) => m.userId), ['bob', 'carol']);
  });
});

describe('transition: end', () => {
  it('ends an answered call with NormalEnd, for every member at once', () => {
    const c = run(makeCall({ callees: ['bob', 'carol'] }), [[{ type: 'accept', user: 'bob' }, T0 + 1000]]);
    const t = transition(c, { type: 'end' }, T0 + 50_000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'NormalEnd');
    assert.equal(t.call.endTime, T0 + 50_000);
    assert.equal(t.call.acceptTime, T0 + 1000);
    assert.deepEqual(t.changes, []);
  });

  it('ends an unanswered call with Cancel', () => {
    const t = transition(makeCall(), { type: 'end' }, T0 + 5000);
    assert.equal(t.ended, true);
    assert.equal(t.call.result, 'Cancel');
    assert.equal(t.call.acceptTime, 0);
    assert.equal(t.call.endTime, T0 + 5000);
  });
});

describe('transition: ended calls', () => {
  const actions: CallAction[] = [
    { type: 'accept', user: 'bob' },
    { type: 'reject', user: 'bob' },
    { type: 'timeout', user: 'bob' },
    { type: 'hangup', user: 'alice' },
    { type: 'cancel', user: 'alice' },
    { type: 'cancelInvite', user: 'alice', target: 'bob' },
    { type: 'join', user: 'dave' },
    { type: 'invite', user: 'alice', targets: ['dave'] },
    { type: 'offline', user: 'alice' },
    { type: 'end' },
  ];

  it('refuses every action on an ended call', () => {
    // An ended call whose members would otherwise allow each action (group, bob still Waiting).
    const ended = makeCall({ callees: ['bob', 'carol'], result: 'Cancel', endTime: T0 + 1000 });
    for (const a of actions) refused(() => transition(ended, a, T0 + 2000), /ended/);
  });

  it('refuses every action after a transition that ended the call', () => {
    const ended = transition(makeCall(), { type: 'cancel', user: 'alice' }, T0 + 1000).call;
    for (const a of actions) refused(() => transition(ended, a, T0 + 2000));
  });
});

describe('transition: purity', () => {
  const cases: Array<[string, () => Call, CallAction]> = [
    ['accept', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'accept', user: 'bob' }],
    ['reject', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'reject', user: 'bob' }],
    ['reject 1v1', () => makeCall(), { type: 'reject', user: 'bob' }],
    ['timeout', () => makeCall(), { type: 'timeout', user: 'bob' }],
    ['hangup (caller, cancel)', () => makeCall(), { type: 'hangup', user: 'alice' }],
    ['hangup (callee, reject)', () => makeCall(), { type: 'hangup', user: 'bob' }],
    ['hangup (answered)', () => run(makeCall(), [[{ type: 'accept', user: 'bob' }, T0]]), { type: 'hangup', user: 'bob' }],
    ['cancel', () => makeCall(), { type: 'cancel', user: 'alice' }],
    ['cancelInvite', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'cancelInvite', user: 'alice', target: 'carol' }],
    ['join', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'join', user: 'dave' }],
    ['invite', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'invite', user: 'alice', targets: ['dave', 'erin'] }],
    ['offline', () => makeCall({ callees: ['bob', 'carol'] }), { type: 'offline', user: 'carol' }],
    ['end', () => makeCall(), { type: 'end' }],
  ];

  for (const [name, build, action] of cases) {
    it(`does not mutate its input: ${name}`, () => {
      const input = build();
      const before = structuredClone(input);
      const frozenAction = structuredClone(action);
      // Frozen in depth: any write to the input throws in strict mode.
      const t = transition(deepFreeze(input), deepFreeze(action), T0 + 4000);
      assert.deepEqual(input, before);
      assert.deepEqual(action, frozenAction);
      assert.notEqual(t.call, input);
      assert.notDeepEqual(t.call, before);
    });
  }
});
