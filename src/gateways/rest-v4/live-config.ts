import { Type } from '@sinclair/typebox';
import { MAX_LIVE_CALLBACK_TOKEN_CHARS } from '../../services/apps/settings.ts';
import { defineCommand, perSecond, type CommandTable } from './command.ts';
import { RestError, RestErrors } from './errors.ts';

const config = { limit: perSecond(200), invalid: RestErrors.LIVE_INVALID, internal: RestErrors.LIVE_INTERNAL };

function invalid(info: string): never {
  throw new RestError(RestErrors.LIVE_INVALID, `${RestErrors.LIVE_INVALID.info} ${info}`);
}

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
      const configured = ctx.app.settings.liveCallback.configured;
      if (!configured && (b.Token === undefined || b.IsTokenEnable === undefined)) {
        invalid('Token and IsTokenEnable are both required the first time (no callback token is configured yet)');
      }
      if (b.Token !== undefined && (b.Token.length === 0 || [...b.Token].length > MAX_LIVE_CALLBACK_TOKEN_CHARS)) {
        invalid(`Token must be 1-${MAX_LIVE_CALLBACK_TOKEN_CHARS} characters`);
      }
      const changes: Array<[string, string]> = [];
      if (b.Token !== undefined) changes.push(['liveCallback.token', b.Token]);
      if (b.IsTokenEnable !== undefined) changes.push(['liveCallback.enabled', String(b.IsTokenEnable)]);
      if (changes.length) await ctx.services.apps.update(ctx.app.sdkAppId, changes);
      return {};
    },
  }),

  'live_config/get_callback_token': defineCommand({
    ...config,
    body: Type.Object({}),
    async handle(ctx) {
      const lc = ctx.app.settings.liveCallback;
      if (!lc.configured) throw new RestError(RestErrors.LIVE_CALLBACK_TOKEN_MISSING);
      return { Response: { Token: lc.token, IsTokenEnable: lc.enabled } };
    },
  }),
};
