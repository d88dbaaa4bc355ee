import { after, before } from 'node:test';
import { rtcLogin, type Msg, type RtcTestClient } from './rtc-client.ts';
import { startTestServer, type TestServer } from './server.ts';

/** A suite's server and the /rtc clients its tests log in; `t` is set once the suite's `before` has run. */
export interface RtcSuite {
  t: TestServer;
  /** Logs a user in as rtcLogin does; the client is terminated after the suite. */
  login(userId: string, extra?: Msg, opts?: { expire?: number; sig?: string }): Promise<{ client: RtcTestClient; reply: Msg }>;
}

/**
 * Starts a server before the enclosing suite's tests and runs `setup` on it; after them, runs `teardown`, terminates
 * the /rtc clients they logged in and closes the server.
 */
export function rtcSuite(o: { setup?: (t: TestServer) => Promise<void>; teardown?: () => unknown } = {}): RtcSuite {
  const clients: RtcTestClient[] = [];
  const s: RtcSuite = {
    t: undefined as unknown as TestServer,
    async login(userId, extra, opts) {
      const r = await rtcLogin(s.t.server.url, s.t.app, userId, extra, opts);
      clients.push(r.client);
      return r;
    },
  };
  before(async () => {
    s.t = await startTestServer();
    await o.setup?.(s.t);
  });
  after(async () => {
    await o.teardown?.();
    for (const c of clients) c.ws.terminate();
    await s.t.close();
  });
  return s;
}
