import { Type, type Static, type TObject } from '@sinclair/typebox';
import { GiftErrors, type Gift, type GiftCategory, type GiftPatch } from '../../services/gifts/gifts-service.ts';
import { GiftRefusedByApp } from '../../services/gifts/gift.ts';
import { defineCommand, perSecond, perSeconds, type CommandTable, type RateLimit } from './command.ts';
import { RestErrors, type RestErrorEntry } from './errors.ts';
import { errorEntry, GatewayError } from '../gateway-error.ts';

/** Wire codes of the gift APIs' refusals (https://trtc.io/document/72556, https://www.tencentcloud.com/document/product/647/72855). */
const giftErrors = {
  [GiftErrors.DISABLED]: RestErrors.GIFT_DISABLED,
  [GiftErrors.NOT_FOUND]: RestErrors.GIFT_NOT_FOUND,
  [GiftErrors.ROOM_DISABLED]: RestErrors.GIFT_ROOM_DISABLED,
  [GiftErrors.CALLBACK_FAILED]: RestErrors.GIFT_CALLBACK_FAILED,
  [GiftErrors.CONFIG_EXISTS]: RestErrors.GIFT_CONFIG_EXISTS,
  [GiftErrors.CATEGORY_NOT_FOUND]: RestErrors.LIVE_INVALID,
  UNKNOWN_ACCOUNT: RestErrors.LIVE_INVALID,
  NOT_FOUND: RestErrors.LIVE_ROOM_NOT_FOUND,
  ALREADY_EXISTS: RestErrors.LIVE_INVALID,
  LIMIT_EXCEEDED: RestErrors.LIVE_INVALID,
  FAILED_PRECONDITION: RestErrors.LIVE_INVALID,
};

/**
 * Catalogue commands whose pages list 100012 ("called too frequently") answer it at their limit; the others
 * answer the common 60007 (their error tables were not retrieved; see docs/compatibility.md).
 */
const LISTS_100012 = new Set(['get_gift_language', 'del_gift_language', 'copy_default_gift_config']);

function gift(command: string, limit: RateLimit): { limit: RateLimit; invalid: RestErrorEntry; internal: RestErrorEntry; limited: RestErrorEntry; errors: typeof giftErrors } {
  return {
    limit,
    invalid: RestErrors.LIVE_INVALID,
    internal: RestErrors.LIVE_INTERNAL,
    limited: LISTS_100012.has(command) ? RestErrors.LIVE_TOO_FREQUENT : RestErrors.API_RATE_LIMIT,
    errors: giftErrors,
  };
}

/** Catalogue APIs: 1 call per second. */
const catalogue = (command: string) => gift(command, perSecond(1));

const Str = Type.String();

const giftFields = {
  IconUrl: Type.Optional(Str),
  ResourceUrl: Type.Optional(Str),
  Level: Type.Optional(Type.Integer()),
  ExtensionInfo: Type.Optional(Str),
  DefaultDesc: Type.Optional(Str),
};
const categoryFields = { ExtensionInfo: Type.Optional(Str), DefaultDesc: Type.Optional(Str) };

/** The giftFields of an add_gift or edit_gift body, in the service's form. */
function giftFieldsOf(b: Static<TObject<typeof giftFields>>): Omit<GiftPatch, 'coins' | 'defaultName'> {
  return { iconUrl: b.IconUrl, resourceUrl: b.ResourceUrl, level: b.Level, extensionInfo: b.ExtensionInfo, defaultDesc: b.DefaultDesc };
}

/** GiftInfo as get_gift returns it (icon field spelled IconUrl, as in the example). */
function giftInfo(g: Gift): Record<string, unknown> {
  return {
    GiftId: g.giftId,
    IconUrl: g.iconUrl,
    ResourceUrl: g.resourceUrl,
    Coins: g.coins,
    Level: g.level,
    ExtensionInfo: g.extensionInfo,
    DefaultName: g.defaultName,
    DefaultDesc: g.defaultDesc,
  };
}

/** CategoryInfo as get_gift_category returns it. */
function categoryInfo(c: GiftCategory): Record<string, unknown> {
  return { CategoryId: c.categoryId, ExtensionInfo: c.extensionInfo, DefaultName: c.defaultName, DefaultDesc: c.defaultDesc };
}

const S = 'live_engine_http_srv';

/** `live_engine_http_srv` gift configuration, send_gift and get_gift_count (https://trtc.io/document/72844, https://trtc.io/document/72556). */
export const giftCommands: CommandTable = {
  [`${S}/add_gift`]: defineCommand({
    ...catalogue('add_gift'),
    body: Type.Object({ GiftId: Str, Coins: Type.Integer(), DefaultName: Str, ...giftFields }),
    async handle(ctx, b) {
      await ctx.services.gifts.addGift(ctx.app.sdkAppId, { giftId: b.GiftId, coins: b.Coins, defaultName: b.DefaultName, ...giftFieldsOf(b) });
      return {};
    },
  }),

  [`${S}/edit_gift`]: defineCommand({
    ...catalogue('edit_gift'),
    body: Type.Object({ GiftId: Str, Coins: Type.Optional(Type.Integer()), DefaultName: Type.Optional(Str), ...giftFields }),
    async handle(ctx, b) {
      await ctx.services.gifts.editGift(ctx.app.sdkAppId, b.GiftId, { coins: b.Coins, defaultName: b.DefaultName, ...giftFieldsOf(b) });
      return {};
    },
  }),

  [`${S}/del_gift`]: defineCommand({
    ...catalogue('del_gift'),
    body: Type.Object({ GiftId: Str }),
    async handle(ctx, b) {
      await ctx.services.gifts.delGift(ctx.app.sdkAppId, b.GiftId);
      return {};
    },
  }),

  [`${S}/get_gift`]: defineCommand({
    ...catalogue('get_gift'),
    body: Type.Object({ GiftId: Str }),
    async handle(ctx, b) {
      return { GiftInfo: giftInfo(ctx.services.gifts.getGift(ctx.app.sdkAppId, b.GiftId)) };
    },
  }),

  [`${S}/get_gift_info_list`]: defineCommand({
    ...catalogue('get_gift_info_list'),
    body: Type.Object({}),
    async handle(ctx) {
      return { GiftInfoList: ctx.services.gifts.listGifts(ctx.app.sdkAppId).map(giftInfo) };
    },
  }),

  [`${S}/set_gift_language`]: defineCommand({
    ...catalogue('set_gift_language'),
    body: Type.Object({ GiftId: Str, Language: Str, Name: Type.Optional(Str), Desc: Type.Optional(Str) }),
    async handle(ctx, b) {
      await ctx.services.gifts.setGiftLanguage(ctx.app.sdkAppId, b.GiftId, b.Language, { name: b.Name, desc: b.Desc });
      return {};
    },
  }),

  [`${S}/get_gift_language`]: defineCommand({
    ...catalogue('get_gift_language'),
    body: Type.Object({ GiftId: Str, Language: Str }),
    async handle(ctx, b) {
      const t = ctx.services.gifts.getGiftLanguage(ctx.app.sdkAppId, b.GiftId, b.Language);
      return { GiftInfo: { Name: t.name, Desc: t.desc } };
    },
  }),

  [`${S}/del_gift_language`]: defineCommand({
    ...catalogue('del_gift_language'),
    body: Type.Object({ GiftId: Str, Language: Str }),
    async handle(ctx, b) {
      await ctx.services.gifts.delGiftLanguage(ctx.app.sdkAppId, b.GiftId, b.Language);
      return {};
    },
  }),

  [`${S}/add_gift_category`]: defineCommand({
    ...catalogue('add_gift_category'),
    body: Type.Object({ CategoryId: Str, DefaultName: Str, ...categoryFields }),
    async handle(ctx, b) {
      await ctx.services.gifts.addCategory(ctx.app.sdkAppId, { categoryId: b.CategoryId, defaultName: b.DefaultName, defaultDesc: b.DefaultDesc, extensionInfo: b.ExtensionInfo });
      return {};
    },
  }),

  [`${S}/edit_gift_category`]: defineCommand({
    ...catalogue('edit_gift_category'),
    body: Type.Object({ CategoryId: Str, DefaultName: Type.Optional(Str), ...categoryFields }),
    async handle(ctx, b) {
      await ctx.services.gifts.editCategory(ctx.app.sdkAppId, b.CategoryId, { defaultName: b.DefaultName, defaultDesc: b.DefaultDesc, extensionInfo: b.ExtensionInfo });
      return {};
    },
  }),

  [`${S}/del_gift_category`]: defineCommand({
    ...catalogue('del_gift_category'),
    body: Type.Object({ CategoryId: Str }),
    async handle(ctx, b) {
      await ctx.services.gifts.delCategory(ctx.app.sdkAppId, b.CategoryId);
      return {};
    },
  }),

  [`${S}/get_gift_category`]: defineCommand({
    ...catalogue('get_gift_category'),
    body: Type.Object({ CategoryId: Str }),
    async handle(ctx, b) {
      return { CategoryInfo: categoryInfo(ctx.services.gifts.getCategory(ctx.app.sdkAppId, b.CategoryId)) };
    },
  }),

  [`${S}/set_gift_category_language`]: defineCommand({
    ...catalogue('set_gift_category_language'),
    body: Type.Object({ CategoryId: Str, Language: Str, CategoryName: Type.Optional(Str), CategoryDesc: Type.Optional(Str) }),
    async handle(ctx, b) {
      await ctx.services.gifts.setCategoryLanguage(ctx.app.sdkAppId, b.CategoryId, b.Language, { name: b.CategoryName, desc: b.CategoryDesc });
      return {};
    },
  }),

  [`${S}/get_gift_category_language`]: defineCommand({
    ...catalogue('get_gift_category_language'),
    body: Type.Object({ CategoryId: Str, Language: Str }),
    async handle(ctx, b) {
      const t = ctx.services.gifts.getCategoryLanguage(ctx.app.sdkAppId, b.CategoryId, b.Language);
      return { CategoryInfo: { CategoryName: t.name, CategoryDesc: t.desc } };
    },
  }),

  [`${S}/del_gift_category_language`]: defineCommand({
    ...catalogue('del_gift_category_language'),
    body: Type.Object({ CategoryId: Str, Language: Str }),
    async handle(ctx, b) {
      await ctx.services.gifts.delCategoryLanguage(ctx.app.sdkAppId, b.CategoryId, b.Language);
      return {};
    },
  }),

  [`${S}/add_gift_category_relations`]: defineCommand({
    ...catalogue('add_gift_category_relations'),
    body: Type.Object({ CategoryId: Str, GiftIdList: Type.Array(Str) }),
    async handle(ctx, b) {
      const { invalid } = await ctx.services.gifts.addRelations(ctx.app.sdkAppId, b.CategoryId, b.GiftIdList);
      return { InvalidGiftIdList: invalid };
    },
  }),

  [`${S}/del_gift_category_relations`]: defineCommand({
    ...catalogue('del_gift_category_relations'),
    body: Type.Object({ CategoryId: Str, GiftIdList: Type.Array(Str) }),
    async handle(ctx, b) {
      await ctx.services.gifts.delRelations(ctx.app.sdkAppId, b.CategoryId, b.GiftIdList);
      return {};
    },
  }),

  [`${S}/get_gift_category_relations`]: defineCommand({
    ...catalogue('get_gift_category_relations'),
    body: Type.Object({ CategoryId: Str }),
    async handle(ctx, b) {
      return { GiftIdList: ctx.services.gifts.getRelations(ctx.app.sdkAppId, b.CategoryId) };
    },
  }),

  [`${S}/copy_default_gift_config`]: defineCommand({
    ...gift('copy_default_gift_config', perSeconds(1, 10)),
    body: Type.Object({}),
    async handle(ctx) {
      await ctx.services.gifts.copyDefault(ctx.app.sdkAppId);
      return {};
    },
  }),

  [`${S}/send_gift`]: defineCommand({
    ...gift('send_gift', perSecond(200)),
    body: Type.Object({ RoomId: Str, GiftId: Str, From_Account: Str, ReceiverList_Account: Type.Array(Str), Count: Type.Optional(Type.Integer()) }),
    async handle(ctx, b) {
      try {
        await ctx.services.gifts.sendGift(
          { sdkAppId: ctx.app.sdkAppId, roomId: b.RoomId, giftId: b.GiftId, from: b.From_Account, receivers: b.ReceiverList_Account, count: b.Count },
          { clientIp: ctx.clientIp, platform: 'RESTAPI' },
        );
      } catch (err) {
        // The app server's own ErrorCode in [102100, 102200] reaches the caller with its ErrorInfo.
        if (err instanceof GiftRefusedByApp) throw new GatewayError(errorEntry(err.errorCode, err.errorInfo || RestErrors.GIFT_CALLBACK_FAILED.message));
        throw err;
      }
      return {};
    },
  }),

  [`${S}/get_gift_count`]: defineCommand({
    ...gift('get_gift_count', perSecond(200)),
    body: Type.Object({ RoomId: Str, From_Account: Str }),
    async handle(ctx, b) {
      const c = await ctx.services.gifts.getGiftCount(ctx.app.sdkAppId, b.RoomId, b.From_Account);
      return { Response: { Sequence: c.sequence, TotalCount: c.totalCount, TotalCoins: c.totalCoins, GiftSenderCount: c.senderCount } };
    },
  }),
};
