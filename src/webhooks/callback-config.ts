import type { AppSettings, CallbackConfig, CallbackFamily } from '../services/apps/settings.ts';

/** Where one callback command goes: the URL and the token that signs it. */
interface CallbackTarget {
  url: string;
  token: string;
}

/**
 * The command words call_config/set_callback accepts: the three Call.* callbacks (https://trtc.io/document/68933 and
 * its callback pages https://trtc.io/document/68941, https://trtc.io/document/69215).
 */
export const CALL_CALLBACK_COMMANDS: readonly string[] = ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall', 'Call.CallbackAfterMemberChanged'];

/**
 * The Live callbacks live_config/set_callback accepts: TUILiveKit's callback list
 * (https://www.tencentcloud.com/document/product/1071/78174, https://cloud.tencent.com/document/product/269/117536),
 * each word from its own page, cited beside it. The list's message, follow and recording callbacks are left out: their
 * words were not found (docs/compatibility.md).
 */
export const LIVE_CALLBACK_COMMANDS: readonly string[] = [
  'Live.CallbackAfterCreateRoom', // https://tencentcloud.com/document/product/647/64420 (set_callback sample)
  'Live.CallbackAfterDestroyRoom', // same sample
  'Live.CallbackAfterUpdateRoomInfo', // https://cloud.tencent.com/document/product/269/117545
  'Live.CallbackAfterSetMetadata', // https://cloud.tencent.com/document/product/269/125789
  'Live.CallbackAfterDelMetadata', // https://cloud.tencent.com/document/product/269/125790
  'Live.CallbackAfterCreateRoomReachingThreshold', // https://trtc.io/document/70485
  'Live.CallbackAfterMemberStateChanged', // https://cloud.tencent.com/document/product/269/117549
  'Live.CallbackAfterChangeOwner', // https://trtc.io/document/72553
  'Live.CallbackAfterModifyAdmin', // https://trtc.io/document/72554
  'Mic.CallbackAfterSeatInfoChanged', // https://trtc.io/zh/document/64425 (Live's seat callback keeps the Mic. word)
  'Live.CallbackAfterCreateBattle', // https://www.tencentcloud.com/zh/document/product/1071/78193
  'Live.CallbackAfterStartBattle', // https://www.tencentcloud.com/zh/document/product/647/68260
  'Live.CallbackAfterEndBattle', // https://www.tencentcloud.com/zh/document/product/647/68261
  'Live.CallbackBeforeSendGift', // https://cloud.tencent.com/document/product/647/121916
];

/**
 * A word of the Live list that is a switch, not a callback: listed, it lets a gift through when
 * Live.CallbackBeforeSendGift fails or times out (https://cloud.tencent.com/document/product/269/117536, "送礼前回调不阻塞配置";
 * https://cloud.tencent.com/document/product/647/121916), like liveCallback.giftNonBlocking.
 */
export const GIFT_NON_BLOCKING_COMMAND = 'Live.CallbackBeforeCallBackNotBlock';

/** Each family's documented callbacks, in the order get_callback lists them for an "every command" configuration. */
const CALLBACK_COMMANDS: Record<CallbackFamily, readonly string[]> = { call: CALL_CALLBACK_COMMANDS, live: LIVE_CALLBACK_COMMANDS };

/** Every word a family's CallbackCommandList may hold: its callbacks and its switches. */
const LIST_WORDS: Record<CallbackFamily, readonly string[]> = { call: CALL_CALLBACK_COMMANDS, live: [...LIVE_CALLBACK_COMMANDS, GIFT_NON_BLOCKING_COMMAND] };

/** Most entries a CallbackCommandList may hold (Tencent publishes no limit; unconfirmed, see docs/compatibility.md). */
export const MAX_CALLBACK_COMMANDS = 100;

/** The family whose configuration governs `command`: Call.* is call; Live.* and Live's Mic.* seat callback are live. */
export function callbackFamily(command: string): CallbackFamily | null {
  if (command.startsWith('Call.')) return 'call';
  if (command.startsWith('Live.') || LIVE_CALLBACK_COMMANDS.includes(command)) return 'live';
  return null;
}

/**
 * The token that signs Live.* callbacks: the live_config token when one is configured (none at all when it is
 * configured but disabled), otherwise the app's callback.token (the one IM and Call callbacks use).
 */
export function liveCallbackToken(s: Pick<AppSettings, 'callback' | 'liveCallback'>): string {
  if (s.liveCallback.configured) return s.liveCallback.enabled ? s.liveCallback.token : '';
  return s.callback.token;
}

/** The command list get_callback shows for a configuration: its own, or every documented word of the family. */
export function configuredCommands(family: CallbackFamily, config: CallbackConfig): string[] {
  return config.commands === 'all' ? [...CALLBACK_COMMANDS[family]] : [...config.commands];
}

/**
 * Where an app's callback `command` (Call.*, Live.*) is delivered, or null when the app does not want it (its family
 * has no configuration, or the command is not in the family's list). Every producer asks this before queueing, and the
 * dispatcher again at delivery.
 */
export function callbackTarget(s: Pick<AppSettings, 'callback' | 'liveCallback' | 'callbacks'>, command: string): CallbackTarget | null {
  const family = callbackFamily(command);
  const config = family && s.callbacks[family];
  if (!family || !config?.url) return null;
  if (config.commands !== 'all' && !config.commands.includes(command)) return null;
  return { url: config.url, token: family === 'live' ? liveCallbackToken(s) : s.callback.token };
}

/** Whether the app's Live list holds the non-blocking switch (an "every command" configuration does not: it is no callback). */
export function giftCallbackNonBlocking(s: Pick<AppSettings, 'liveCallback' | 'callbacks'>): boolean {
  const list = s.callbacks.live?.commands;
  return s.liveCallback.giftNonBlocking || (Array.isArray(list) && list.includes(GIFT_NON_BLOCKING_COMMAND));
}

/** Why `commands` cannot be `family`'s CallbackCommandList (too long, or a word the family's list does not know), or null. */
export function callbackCommandsProblem(family: CallbackFamily, commands: readonly string[]): string | null {
  if (commands.length > MAX_CALLBACK_COMMANDS) return `CallbackCommandList holds at most ${MAX_CALLBACK_COMMANDS} entries, got ${commands.length}`;
  const unknown = commands.find((c) => !LIST_WORDS[family].includes(c));
  if (unknown !== undefined) return `CallbackCommandList: "${unknown}" is not a ${family} callback command (known: ${LIST_WORDS[family].join(', ')})`;
  return null;
}
