import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TLSSigAPIv2 from 'tls-sig-api-v2';
import { DEFAULT_CONFIG, type Config } from '../../src/config.ts';
import { startServer, type Trtcd } from '../../src/server.ts';
import type { App } from '../../src/services/apps/apps-service.ts';

/** A server on a free port with a fresh data directory and its development app. */
export interface TestServer {
  server: Trtcd;
  app: App;
  dir: string;
  /** An admin UserSig for the development app. */
  adminSig: string;
  /** POSTs a REST v4 command with the admin's credentials (query fields overridable) and returns the parsed envelope. */
  rest(command: string, body: unknown, query?: Record<string, string | undefined>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'trtcd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The REST v4 URL of a command with the standard query string. */
export function restUrl(base: string, command: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  return `${base}/v4/${command}?${params.toString()}`;
}

/** Starts an in-process server for a test. */
export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dir = tempDir();
  const server = await startServer({ ...DEFAULT_CONFIG, dataDir: dir, port: 0, logLevel: 'silent', appsPollMs: 100, ...overrides });
  const app = server.devApp!;
  // The admin's UserSig comes from Tencent's official generator, as an app server's would.
  const adminSig = new TLSSigAPIv2.Api(app.sdkAppId, app.secretKey).genUserSig('administrator', 86400);
  const baseQuery = { sdkappid: String(app.sdkAppId), identifier: 'administrator', usersig: adminSig, random: '99999999', contenttype: 'json' };
  return {
    server,
    app,
    dir,
    adminSig,
    async rest(command, body, query = {}) {
      const res = await fetch(restUrl(server.url, command, { ...baseQuery, ...query }), {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return (await res.json()) as Record<string, unknown>;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
