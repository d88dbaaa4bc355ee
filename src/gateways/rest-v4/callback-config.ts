import { Type, type Static } from '@sinclair/typebox';
import { CallbackConfigErrors } from '../../services/apps/apps-service.ts';
import { callbackUrlProblem, type CallbackFamily } from '../../services/apps/settings.ts';
import { callbackCommandsProblem, configuredCommands } from '../../webhooks/callback-config.ts';
import { defineCommand, perSecond, type CommandTable, type RestContext } from './command.ts';
import { RestErrors } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';

// Every page gives 200 calls/s and the 100001/100002 pair; 100300 and 100301 where a page lists them.
const config = {
  limit: perSecond(200),
  invalid: RestErrors.LIVE_INVALID,
  internal: RestErrors.LIVE_INTERNAL,
  errors: { [CallbackConfigErrors.EXISTS]: RestErrors.CALLBACK_CONFIG_EXISTS, [CallbackConfigErrors.MISSING]: RestErrors.CALLBACK_CONFIG_MISSING },
};

const UrlAndCommands = Type.Object({ Url: Type.String(), CallbackCommandList: Type.Array(Type.String()) });

/** The body's configuration for `family`, validated (100002 naming the problem); duplicate words are kept once. */
function configOf(family: CallbackFamily, b: Static<typeof UrlAndCommands>): { url: string; commands: string[] } {
  const problem = callbackUrlProblem(b.Url);
  if (problem) throw new GatewayError(RestErrors.LIVE_INVALID, `${RestErrors.LIVE_INVALID.message} Url ${problem}`);
  const listProblem = callbackCommandsProblem(family, b.CallbackCommandList);
  if (listProblem) throw new GatewayError(RestErrors.LIVE_INVALID, `${RestErrors.LIVE_INVALID.message} ${listProblem}`);
  return { url: b.Url, commands: [...new Set(b.CallbackCommandList)] };
}

/** get_callback: `Response: {Url, CallbackCommandList}`, or 100301 while the family has no configuration. */
function getCallback(family: CallbackFamily) {
  return defineCommand({
    ...config,
    body: Type.Object({}),
    async handle(ctx: RestContext) {
      const c = ctx.app.settings.callbacks[family];
      if (!c) throw new GatewayError(RestErrors.CALLBACK_CONFIG_MISSING);
      return { Response: { Url: c.url, CallbackCommandList: configuredCommands(family, c) } };
    },
  });
}

/**
 * set_callback / update_callback: writes the family's URL and command words; `expect` says whether a configuration
 * must be absent (create: 100300 when one exists), present (update: 100301 when none), or either (overwrite).
 */
function setCallback(family: CallbackFamily, expect: 'any' | 'absent' | 'present' = 'any') {
  return defineCommand({
    ...config,
    body: UrlAndCommands,
    async handle(ctx: RestContext, b) {
      await ctx.services.apps.setCallbackConfig(ctx.app.sdkAppId, family, configOf(family, b), expect);
      return {};
    },
  });
}

/** delete_callback: removes the family's configuration; with none there is nothing to remove, and it succeeds. */
function deleteCallback(family: CallbackFamily) {
  return defineCommand({
    ...config,
    body: Type.Object({}),
    async handle(ctx: RestContext) {
      await ctx.services.apps.setCallbackConfig(ctx.app.sdkAppId, family, null);
      return {};
    },
  });
}

/**
 * Callback configuration by REST (docs/compatibility.md): per family (Call.*, Live.*) one URL and the command words
 * sent to it, kept in the app's settings as `callbacks.call` / `callbacks.live` and read by callbackTarget.
 */
export const callbackConfigCommands: CommandTable = {
  // https://trtc.io/document/68938 (CN https://tencentcloud.com/document/product/647/68938): a later call overwrites.
  'call_config/set_callback': setCallback('call'),
  // https://trtc.io/document/68937 (CN https://cloud.tencent.com/document/product/647/116419): 100301 when none.
  'call_config/get_callback': getCallback('call'),
  // https://trtc.io/document/68939
  'call_config/delete_callback': deleteCallback('call'),

  // https://tencentcloud.com/document/product/647/64420: creates; 100300 when a configuration exists.
  'live_config/set_callback': setCallback('live', 'absent'),
  // https://tencentcloud.com/document/product/647/64418: 100301 when none.
  'live_config/get_callback': getCallback('live'),
  // https://cloud.tencent.com/document/product/269/117540 (intl https://tencentcloud.com/document/product/647/64419): 100301 when none.
  'live_config/update_callback': setCallback('live', 'present'),
  // https://tencentcloud.com/zh/document/product/647/64421: lists only 100001/100002.
  'live_config/delete_callback': deleteCallback('live'),
};
