import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { concurrentCodes, freezeClock, withFreshServer } from './testkit.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
});
after(() => t.close());

const svc = 'im_open_login_svc';
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function status(userIds: string[]): Promise<string[]> {
  const env = await t.rest(`${svc}/account_check`, { CheckItem: userIds.map((UserID) => ({ UserID })) });
  assert.equal(env.ErrorCode, 0);
  return (env.ResultItem as Array<{ AccountStatus: string }>).map((r) => r.AccountStatus);
}

describe('account_import', () => {
  it('imports an account, and importing it again succeeds', async () => {
    const first = await t.rest(`${svc}/account_import`, { UserID: 'test', Nick: 'test', FaceUrl: 'http://www.qq.com' });
    assert.deepEqual([first.ActionStatus, first.ErrorCode, first.ErrorInfo], ['OK', 0, '']);
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'test' })).ErrorCode, 0);
    assert.deepEqual(await status(['test']), ['Imported']);
  });

  it('refuses a missing, empty, over-32-byte or control-character UserID with 70402', async () => {
    for (const body of [{}, { UserID: '' }, { UserID: 'x'.repeat(33) }, { UserID: 'é'.repeat(17) }, { UserID: 'a\nb' }, { Nick: 'n' }]) {
      assert.equal((await t.rest(`${svc}/account_import`, body)).ErrorCode, 70402, JSON.stringify(body));
    }
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'x'.repeat(32) })).ErrorCode, 0);
  });

  it('refuses wrong-typed profile fields with 70402 and over-500-byte ones with 40601', async () => {
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'p1', Nick: 5 })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'p1', FaceUrl: ['x'] })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'p1', Nick: 'n'.repeat(501) })).ErrorCode, 40601);
    assert.equal((await t.rest(`${svc}/account_import`, { UserID: 'p1', Nick: 'n'.repeat(500) })).ErrorCode, 0);
  });

  it('refuses a new account past the app account limit with 70398, but re-imports existing ones', () =>
    withFreshServer(async (fresh) => {
      await fresh.server.apps.update(fresh.app.sdkAppId, { accountLimit: 3 });
      // The administrator account already takes one place.
      assert.equal((await fresh.rest(`${svc}/account_import`, { UserID: 'a' })).ErrorCode, 0);
      assert.equal((await fresh.rest(`${svc}/account_import`, { UserID: 'b' })).ErrorCode, 0);
      assert.equal((await fresh.rest(`${svc}/account_import`, { UserID: 'c' })).ErrorCode, 70398);
      assert.equal((await fresh.rest(`${svc}/account_import`, { UserID: 'a' })).ErrorCode, 0);
      const multi = await fresh.rest(`${svc}/multiaccount_import`, { Accounts: ['a', 'd', 'e'] });
      assert.equal(multi.ErrorCode, 0);
      assert.deepEqual(multi.FailAccounts, ['d', 'e']);
    }));
});

describe('multiaccount_import', () => {
  it('imports the old Accounts form', async () => {
    const env = await t.rest(`${svc}/multiaccount_import`, { Accounts: ['m1', 'm2'] });
    assert.deepEqual([env.ErrorCode, env.FailAccounts], [0, []]);
    assert.deepEqual(await status(['m1', 'm2']), ['Imported', 'Imported']);
  });

  it('imports the new AccountList form and lists invalid UserIDs in FailAccounts', async () => {
    const env = await t.rest(`${svc}/multiaccount_import`, {
      AccountList: [{ UserID: 'n1', Nick: 'N1', FaceUrl: 'http://x/1' }, { UserID: 'y'.repeat(40) }, { UserID: 'n2' }],
    });
    assert.deepEqual([env.ErrorCode, env.FailAccounts], [0, ['y'.repeat(40)]]);
    assert.deepEqual(await status(['n1', 'n2']), ['Imported', 'Imported']);
  });

  it('accepts 100 accounts and refuses 101, an empty list, or neither field with 70402', async () => {
    assert.equal((await t.rest(`${svc}/multiaccount_import`, { Accounts: ids(100, 'h') })).ErrorCode, 0);
    assert.equal((await t.rest(`${svc}/multiaccount_import`, { Accounts: ids(101, 'k') })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/multiaccount_import`, { Accounts: [] })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/multiaccount_import`, {})).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/multiaccount_import`, { AccountList: [{ Nick: 'x' }] })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/multiaccount_import`, { Accounts: 'm1' })).ErrorCode, 70402);
  });

  // https://trtc.io/document/34954 (CN https://cloud.tencent.com/document/product/454/124174): multiaccount_import's
  // error table has no 40601 (that is account_import's, https://trtc.io/document/34953); an account that cannot be
  // imported is listed in FailAccounts, and the page's own example repeats UserID_002.
  it('lists an account with an over-500-byte Nick or FaceUrl in FailAccounts and imports the others', async () => {
    const env = await t.rest(`${svc}/multiaccount_import`, {
      AccountList: [
        { UserID: 'UserID_001', Nick: 'Nick_001', FaceUrl: 'http://www.qq.com' },
        { UserID: 'long_nick', Nick: 'n'.repeat(501) },
        { UserID: 'long_face', FaceUrl: 'f'.repeat(501) },
        { UserID: 'UserID_002', Nick: 'Nick_002', FaceUrl: 'http://www.qq.com' },
        { UserID: 'UserID_002', Nick: 'Nick_001', FaceUrl: 'http://www.qq.com' },
      ],
    });
    assert.deepEqual([env.ErrorCode, env.FailAccounts], [0, ['long_nick', 'long_face']]);
    assert.deepEqual(await status(['UserID_001', 'long_nick', 'long_face', 'UserID_002']), ['Imported', 'NotImported', 'NotImported', 'Imported']);
  });
});

describe('account_delete', () => {
  it('deletes existing accounts and reports 70107 per missing one', async () => {
    await t.rest(`${svc}/multiaccount_import`, { Accounts: ['d1'] });
    const env = await t.rest(`${svc}/account_delete`, { DeleteItem: [{ UserID: 'd1' }, { UserID: 'never' }] });
    assert.equal(env.ErrorCode, 0);
    assert.deepEqual(env.ResultItem, [
      { ResultCode: 0, ResultInfo: '', UserID: 'd1' },
      { ResultCode: 70107, ResultInfo: 'Err_TLS_PT_Open_Login_Account_Not_Exist', UserID: 'never' },
    ]);
    assert.deepEqual(await status(['d1']), ['NotImported']);
  });

  it('refuses a missing, empty or over-100 DeleteItem with 70402', async () => {
    assert.equal((await t.rest(`${svc}/account_delete`, {})).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_delete`, { DeleteItem: [] })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_delete`, { DeleteItem: ids(101, 'z').map((UserID) => ({ UserID })) })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_delete`, { DeleteItem: [{}] })).ErrorCode, 70402);
  });
});

describe('account_check', () => {
  it('reports NotImported with ResultCode 0 for unknown accounts', async () => {
    const env = await t.rest(`${svc}/account_check`, { CheckItem: [{ UserID: 'test' }, { UserID: 'ghost' }] });
    assert.deepEqual(env.ResultItem, [
      { UserID: 'test', ResultCode: 0, ResultInfo: '', AccountStatus: 'Imported' },
      { UserID: 'ghost', ResultCode: 0, ResultInfo: '', AccountStatus: 'NotImported' },
    ]);
  });

  it('refuses a missing, empty, over-100 or wrong-typed CheckItem with 70402', async () => {
    assert.equal((await t.rest(`${svc}/account_check`, {})).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_check`, { CheckItem: [] })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_check`, { CheckItem: ids(101, 'c').map((UserID) => ({ UserID })) })).ErrorCode, 70402);
    assert.equal((await t.rest(`${svc}/account_check`, { CheckItem: 'test' })).ErrorCode, 70402);
  });
});

describe('account API rate limits (rateLimits=tencent)', () => {
  freezeClock();

  const cases: Array<[string, number, (i: number) => unknown]> = [
    ['account_import', 200, (i) => ({ UserID: `rl_${i}` })],
    ['multiaccount_import', 100, (i) => ({ Accounts: [`rlm_${i}`] })],
    ['account_delete', 100, (i) => ({ DeleteItem: [{ UserID: `rld_${i}` }] })],
    ['account_check', 100, (i) => ({ CheckItem: [{ UserID: `rlc_${i}` }] })],
  ];
  for (const [command, limit, body] of cases) {
    it(`${command}: ${limit} calls per second, then 60007`, () =>
      withFreshServer(async (fresh) => {
        const codes = await concurrentCodes(fresh, `${svc}/${command}`, body, limit + 5);
        assert.equal(codes.filter((c) => c === 0).length, limit);
        assert.equal(codes.filter((c) => c === 60007).length, 5);
      }));
  }
});
