import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSettings, type AppSettings } from '../services/apps/settings.ts';
import { callbackCommandsProblem, callbackFamily, callbackTarget, GIFT_NON_BLOCKING_COMMAND, giftCallbackNonBlocking, MAX_CALLBACK_COMMANDS } from './callback-config.ts';

function settings(over: Partial<AppSettings>): AppSettings {
  return { ...defaultSettings(), ...over };
}

describe('callbackTarget: which command goes where, signed with which token', () => {
  // https://trtc.io/document/68933: "When the executed CallbackCommand is in the configuration list, the callback will be triggered."
  it('sends a command only when its family lists it, or wants every command', () => {
    const s = settings({ callback: { token: 'im' }, callbacks: { call: { url: 'http://c/cb', commands: ['Call.CallbackAfterEndCall'] }, live: { url: 'http://l/cb', commands: 'all' } } });
    assert.deepEqual(callbackTarget(s, 'Call.CallbackAfterEndCall'), { url: 'http://c/cb', token: 'im' });
    assert.equal(callbackTarget(s, 'Call.CallbackAfterStartCall'), null);
    assert.deepEqual(callbackTarget(s, 'Live.CallbackAfterCreateRoom'), { url: 'http://l/cb', token: 'im' });
    assert.deepEqual(callbackTarget(s, 'Mic.CallbackAfterSeatInfoChanged'), { url: 'http://l/cb', token: 'im' }, "Live's seat callback is of the live family");
    assert.equal(callbackTarget(s, 'Group.CallbackAfterSendMsg'), null, 'a command of no family is not sent');
    assert.equal(callbackTarget(defaultSettings(), 'Call.CallbackAfterEndCall'), null, 'nothing configured: nothing sent');
  });

  // https://trtc.io/document/69528: the live_config token signs Live callbacks.
  it('signs Call.* with callback.token and Live.* with the live_config token when configured', () => {
    const base = settings({ callback: { token: 'im' }, callbacks: { call: { url: 'http://c/cb', commands: 'all' }, live: { url: 'http://l/cb', commands: 'all' } } });
    const live = { ...base, liveCallback: { ...base.liveCallback, token: 'live', enabled: true, configured: true } };
    assert.equal(callbackTarget(live, 'Call.CallbackAfterStartCall')!.token, 'im');
    assert.equal(callbackTarget(live, 'Live.CallbackBeforeSendGift')!.token, 'live');
    assert.equal(callbackTarget(live, 'Mic.CallbackAfterSeatInfoChanged')!.token, 'live');
    assert.equal(callbackTarget({ ...live, liveCallback: { ...live.liveCallback, enabled: false } }, 'Live.CallbackAfterCreateRoom')!.token, '', 'configured but disabled: no Sign');
  });

  it('knows each command family', () => {
    assert.equal(callbackFamily('Call.CallbackAfterMemberChanged'), 'call');
    assert.equal(callbackFamily('Live.CallbackAfterEndBattle'), 'live');
    assert.equal(callbackFamily('Mic.CallbackAfterSeatInfoChanged'), 'live');
    assert.equal(callbackFamily('Room.CallbackAfterCreateRoom'), null);
  });
});

describe('CallbackCommandList checks and the non-blocking switch', () => {
  it('refuses unknown words, words of the other family and lists that are too long', () => {
    assert.equal(callbackCommandsProblem('call', ['Call.CallbackAfterStartCall']), null);
    assert.equal(callbackCommandsProblem('live', ['Live.CallbackBeforeSendGift', GIFT_NON_BLOCKING_COMMAND]), null);
    assert.match(callbackCommandsProblem('call', [GIFT_NON_BLOCKING_COMMAND])!, /is not a call callback command/);
    assert.match(callbackCommandsProblem('live', ['Call.CallbackAfterEndCall'])!, /is not a live callback command/);
    assert.match(callbackCommandsProblem('call', Array.from({ length: MAX_CALLBACK_COMMANDS + 1 }, () => 'Call.CallbackAfterEndCall'))!, /at most/);
  });

  // https://cloud.tencent.com/document/product/269/117536 lists "送礼前回调不阻塞配置" as Live.CallbackBeforeCallBackNotBlock.
  it('Live.CallbackBeforeCallBackNotBlock listed means non-blocking; "every command" does not include it', () => {
    const listed = settings({ callbacks: { call: null, live: { url: 'http://l/cb', commands: ['Live.CallbackBeforeSendGift', GIFT_NON_BLOCKING_COMMAND] } } });
    assert.equal(giftCallbackNonBlocking(listed), true);
    assert.equal(callbackTarget(listed, GIFT_NON_BLOCKING_COMMAND)!.url, 'http://l/cb');
    assert.equal(giftCallbackNonBlocking(settings({ callbacks: { call: null, live: { url: 'http://l/cb', commands: 'all' } } })), false);
    assert.equal(giftCallbackNonBlocking(settings({ liveCallback: { ...defaultSettings().liveCallback, giftNonBlocking: true } })), true);
  });
});
