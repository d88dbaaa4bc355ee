import { Type } from '@sinclair/typebox';
import { defineCommand, perSecond, type CommandTable } from './command.ts';
import { RestErrors } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';

const config = { limit: perSecond(200), invalid: RestErrors.LIVE_INVALID, internal: RestErrors.LIVE_INTERNAL };

/**
 * `live_config`: the token that signs Live.* callbacks (https://trtc.io/document/69528; Sign as in
 * https://www.tencentcloud.com/document/product/1047/34354), kept in the app's settings as liveCallback.token /
 * liveCallback.enabled.
 */
export const liveConfigCommands: CommandTable = {
  'live_config/set_callback_token': defineCommand({
    ...config,
    body: Type.Object({ Token: Type.Optional(Type.String()), IsTokenEnable: Type.Optional(Type.Boolean()) }),
    async handle(ctx, b) {
      await ctx.services.apps.setLiveCallbackToken(ctx.app.sdkAppId, { token: b.Token, enabled: b.IsTokenEnable });
      return {};
    },
  }),

  'live_config/get_callback_token': defineCommand({
    ...config,
    body: Type.Object({}),
    async handle(ctx) {
      const lc = ctx.app.settings.liveCallback;
      if (!lc.configured) throw new GatewayError(RestErrors.LIVE_CALLBACK_TOKEN_MISSING);
      return { Response: { Token: lc.token, IsTokenEnable: lc.enabled } };
    },
  }),
};
