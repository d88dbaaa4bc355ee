// Test-only helpers shared by the REST v4 tests (not imported by production code).
import assert from 'node:assert/strict';
import { after, before, mock } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import type { RtcTestClient } from '../../../test/helpers/rtc-client.ts';
import { rtcSuite } from '../../../test/helpers/rtc-suite.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';

/** The fields of every reply, in order. */
export const ENVELOPE = ['ActionStatus', 'ErrorInfo', 'ErrorCode', 'RequestId'];

export type Envelope = Record<string, unknown>;

/** One seat of room_engine_http_mic/get_seat_list. */
export interface SeatEntry {
  Index: number;
  Member_Account?: string;
  IsTakenDisabled: boolean;
  IsVideoDisabled: boolean;
  IsAudioDisabled: boolean;
}

/** Asserts an envelope's ErrorCode, ActionStatus and RequestId, and an empty ErrorInfo on success; returns the envelope. */
export function expectCode(env: Envelope, code: number, what = ''): Envelope {
  assert.equal(env.ErrorCode, code, `${what}: ${JSON.stringify(env)}`);
  assert.equal(env.ActionStatus, code === 0 ? 'OK' : 'FAIL', what);
  assert.match(String(env.RequestId), /^Id-[0-9a-f]{32}-O-Seq-\d+$/, what);
  if (code === 0) assert.equal(env.ErrorInfo, '', what);
  return env;
}

/** expectCode, and that ErrorInfo is a string whatever the code; returns the envelope. */
export function expectCodeAndInfo(env: Envelope, code: number, what = ''): Envelope {
  expectCode(env, code, what);
  assert.equal(typeof env.ErrorInfo, 'string', what);
  return env;
}

/** expectCodeAndInfo, and that a failure carries no Response; returns the envelope. */
export function expectStrictCode(env: Envelope, code: number, what = ''): Envelope {
  expectCodeAndInfo(env, code, what);
  if (code !== 0) assert.equal(env.Response, undefined, what);
  return env;
}

/** Sends a command and asserts its code (expectStrictCode) and, when given, that ErrorInfo matches `info`. */
export async function expectFail(s: TestServer, command: string, body: unknown, code: number, info?: RegExp): Promise<void> {
  const env = await s.rest(command, body);
  const what = `${command} ${JSON.stringify(body).slice(0, 200)}`;
  expectStrictCode(env, code, what);
  if (info) assert.match(String(env.ErrorInfo), info, `${what}: ErrorInfo ${String(env.ErrorInfo)}`);
}

/** Imports accounts with multiaccount_import, asserting that every one was imported. */
export async function importAccounts(s: TestServer, accounts: string[]): Promise<void> {
  const env = await s.rest('im_open_login_svc/multiaccount_import', { Accounts: accounts });
  assert.equal(env.ErrorCode, 0);
  assert.deepEqual(env.FailAccounts, []);
}

/** Freezes Date and setTimeout for the enclosing suite, so that all its requests fall in one rate-limiter window. */
export function freezeClock(): void {
  before(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.now() }));
  after(() => mock.timers.reset());
}

/** Runs `test` against a server of its own (its new app has the default settings: the published rate limits); closes it after. */
export async function withFreshServer(test: (fresh: TestServer) => Promise<void>): Promise<void> {
  const fresh = await startTestServer();
  try {
    await test(fresh);
  } finally {
    await fresh.close();
  }
}

/** The ErrorCodes of `n` concurrent calls of a command; `body` may be a function of the call's index. */
export function concurrentCodes(s: TestServer, command: string, body: unknown | ((i: number) => unknown), n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => s.rest(command, typeof body === 'function' ? (body as (i: number) => unknown)(i) : body).then((e) => e.ErrorCode as number)));
}

/** What a test file on live rooms and seats shares; the fields are set once the file's `before` has run. */
interface LiveSuite {
  readonly t: TestServer;
  /** The first app's SDKAppID. */
  readonly id: number;
  /** Query fields that sign a request as a second app's administrator, who must not reach the first app's rooms. */
  otherTenant: Record<string, string>;
  /** Logs a user in on /rtc; the client is closed after the file's tests. */
  login(userId: string): Promise<RtcTestClient>;
  /** Sends a command (`query` overriding the credentials) that must fail with `code` and, when given, an ErrorInfo matching `info`. */
  fail(command: string, body: unknown, code: number, info?: RegExp, query?: Record<string, string>): Promise<void>;
}

/**
 * Sets up a test file on live rooms and seats: before its tests, a server with rate limits off, `accounts` imported
 * and a second app; after them, the /rtc clients it logged in and the server closed.
 */
export function liveSuite(accounts: string[]): LiveSuite {
  const rtc = rtcSuite({
    async setup(t) {
      await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
      assert.equal((await t.rest('im_open_login_svc/multiaccount_import', { Accounts: accounts })).ErrorCode, 0);
      const other = await t.server.apps.create();
      s.otherTenant = { sdkappid: String(other.sdkAppId), usersig: genUserSig({ sdkAppId: other.sdkAppId, secretKey: other.secretKey, userId: 'administrator', expire: 3600 }) };
    },
  });
  const s: LiveSuite = {
    get t() {
      return rtc.t;
    },
    get id() {
      return rtc.t.app.sdkAppId;
    },
    otherTenant: {},
    login: async (userId) => (await rtc.login(userId)).client,
    async fail(command, body, code, info, query) {
      const env = await rtc.t.rest(command, body, query);
      assert.equal(env.ErrorCode, code, `${command} ${JSON.stringify(body)}: ${JSON.stringify(env)}`);
      assert.equal(env.ActionStatus, 'FAIL');
      if (info) assert.match(String(env.ErrorInfo), info);
    },
  };
  return s;
}
