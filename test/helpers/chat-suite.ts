import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { genUserSig } from '../../src/auth/usersig.ts';
import { ChatWsClient } from './chat-ws-client.ts';
import { startTestServer, type TestServer } from './server.ts';

/** A Chat gateway suite's server and the sockets its tests open; `t` is set once the suite's `before` has run. */
export interface ChatSuite {
  t: TestServer;
  /** Opens a Chat socket (to the development app unless told otherwise), closed after the suite. */
  open(opts?: { compress?: boolean; path?: string; sdkAppId?: number | string }): Promise<ChatWsClient>;
  /** Opens a socket to `app` (the development app by default) and logs `userId` in with a fresh UserSig. */
  login(userId: string, app?: { sdkAppId: number; secretKey: string }): Promise<ChatWsClient>;
}

/** Starts a server before the enclosing suite's tests; after them, closes every socket they opened, then the server. */
export function chatSuite(): ChatSuite {
  const clients: ChatWsClient[] = [];
  const s: ChatSuite = {
    t: undefined as unknown as TestServer,
    async open(opts = {}) {
      const c = await ChatWsClient.open(s.t.server.url, opts.sdkAppId ?? s.t.app.sdkAppId, opts);
      clients.push(c);
      return c;
    },
    async login(userId, app = s.t.app) {
      const c = await s.open({ sdkAppId: app.sdkAppId });
      const r = await c.login(userId, genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: 3600 }));
      assert.equal(r.ErrorCode, 0);
      return c;
    },
  };
  before(async () => {
    s.t = await startTestServer();
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await s.t.close();
  });
  return s;
}
