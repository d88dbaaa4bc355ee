import { Type } from '@sinclair/typebox';
import { Account, defineCommand, perSecond, type CommandTable } from './command.ts';
import { RestErrors } from './errors.ts';

const profile = { Nick: Type.Optional(Type.String()), FaceUrl: Type.Optional(Type.String()) };
const accountErrors = { PROFILE_FIELD_TOO_LONG: RestErrors.PROFILE_TOO_LONG, ACCOUNT_LIMIT: RestErrors.ACCOUNT_LIMIT };
const userItems = (name: string) => Type.Object({ [name]: Type.Array(Type.Object({ UserID: Account() })) });

/** `im_open_login_svc`: account import, delete and check (https://trtc.io/document/34953 and pages 34954–34956). */
export const accountCommands: CommandTable = {
  'im_open_login_svc/account_import': defineCommand({
    limit: perSecond(200),
    body: Type.Object({ UserID: Account(), ...profile }),
    errors: accountErrors,
    async handle(ctx, b) {
      await ctx.services.accounts.importOne(ctx.app.sdkAppId, { userId: b.UserID, nick: b.Nick, faceUrl: b.FaceUrl });
      return {};
    },
  }),

  'im_open_login_svc/multiaccount_import': defineCommand({
    limit: perSecond(100),
    body: Type.Object({
      Accounts: Type.Optional(Type.Array(Account())),
      AccountList: Type.Optional(Type.Array(Type.Object({ UserID: Account(), ...profile }))),
    }),
    errors: accountErrors,
    async handle(ctx, b) {
      const list = b.AccountList
        ? b.AccountList.map((a) => ({ userId: a.UserID, nick: a.Nick, faceUrl: a.FaceUrl }))
        : (b.Accounts ?? []).map((userId) => ({ userId }));
      const { failed } = await ctx.services.accounts.importMany(ctx.app.sdkAppId, list);
      return { FailAccounts: failed };
    },
  }),

  'im_open_login_svc/account_delete': defineCommand({
    limit: perSecond(100),
    body: userItems('DeleteItem'),
    async handle(ctx, b) {
      const ids = (b.DeleteItem as Array<{ UserID: string }>).map((i) => i.UserID);
      const results = await ctx.services.accounts.delete(ctx.app.sdkAppId, ids);
      return {
        ResultItem: results.map((r) =>
          r.deleted
            ? { ResultCode: 0, ResultInfo: '', UserID: r.userId }
            : { ResultCode: RestErrors.ACCOUNT_NOT_FOUND.code, ResultInfo: RestErrors.ACCOUNT_NOT_FOUND.message, UserID: r.userId },
        ),
      };
    },
  }),

  'im_open_login_svc/account_check': defineCommand({
    limit: perSecond(100),
    body: userItems('CheckItem'),
    async handle(ctx, b) {
      const ids = (b.CheckItem as Array<{ UserID: string }>).map((i) => i.UserID);
      const results = await ctx.services.accounts.check(ctx.app.sdkAppId, ids);
      return {
        ResultItem: results.map((r) => ({
          UserID: r.userId,
          ResultCode: 0,
          ResultInfo: '',
          AccountStatus: r.imported ? 'Imported' : 'NotImported',
        })),
      };
    },
  }),
};
