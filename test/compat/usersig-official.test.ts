import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import TLSSigAPIv2 from 'tls-sig-api-v2';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
});
after(() => t.close());

const check = { CheckItem: [{ UserID: 'administrator' }] };

/** Runs the official generator with Date.now moved by `offsetS` seconds. */
function officialAt<T>(offsetS: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => real() + offsetS * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

async function codeWith(usersig: string, identifier = 'administrator'): Promise<number> {
  return (await t.rest('im_open_login_svc/account_check', check, { usersig, identifier })).ErrorCode as number;
}

describe('official tls-sig-api-v2 against a running server', () => {
  it("authenticates a REST v4 call with the official library's UserSig for the admin", async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey);
    const env = await t.rest('im_open_login_svc/account_check', check, { usersig: api.genUserSig('administrator', 86400) });
    assert.equal(env.ActionStatus, 'OK');
    assert.equal(env.ErrorCode, 0);
  });

  it('refuses a UserSig made with another key (70009)', async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, '0'.repeat(64));
    assert.equal(await codeWith(api.genUserSig('administrator', 86400)), 70009);
  });

  it('refuses a UserSig made for another identifier (70013)', async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey);
    assert.equal(await codeWith(api.genUserSig('someone_else', 86400)), 70013);
  });

  it('refuses a UserSig made for another SDKAppID (70014)', async () => {
    const api = new TLSSigAPIv2.Api(1400555555, t.app.secretKey);
    assert.equal(await codeWith(api.genUserSig('administrator', 86400)), 70014);
  });

  it('refuses an expired UserSig (70001), and accepts one still within its validity', async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey);
    assert.equal(await codeWith(officialAt(-7200, () => api.genUserSig('administrator', 3600))), 70001);
    assert.equal(await codeWith(officialAt(-1800, () => api.genUserSig('administrator', 3600))), 0);
  });

  it('refuses a valid UserSig of a non-admin user (60010)', async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey);
    assert.equal(await codeWith(api.genUserSig('alice', 86400), 'alice'), 60010);
  });

  it('refuses a PrivateMapKey presented as a UserSig only if it fails the checks (userbuf tokens are v2 sigs)', async () => {
    const api = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey);
    assert.equal(await codeWith(api.genPrivateMapKey('administrator', 3600, 1234, 255)), 0);
    assert.equal(await codeWith(api.genPrivateMapKey('bob', 3600, 1234, 255)), 70013);
  });
});
