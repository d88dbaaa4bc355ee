import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { verifyUserSig } from '../../src/auth/usersig.ts';
import { verifyPrivateMapKey } from '../../src/auth/private-map-key.ts';
import { parseSettings } from '../../src/services/apps/settings.ts';
import { openStore } from '../../src/store/store.ts';
import { spawn } from 'node:child_process';
import { eventually } from '../helpers/media-peer.ts';
import { runCli, startChild, TRTCD_BIN, type ServerChild } from '../helpers/child.ts';
import { restUrl, tempDir } from '../helpers/server.ts';

const children: ServerChild[] = [];
after(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

async function accountCheck(url: string, sdkAppId: number, usersig: string): Promise<number> {
  const res = await fetch(restUrl(url, 'im_open_login_svc/account_check', { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '7', contenttype: 'json' }), {
    method: 'POST',
    body: JSON.stringify({ CheckItem: [{ UserID: 'administrator' }] }),
  });
  return ((await res.json()) as { ErrorCode: number }).ErrorCode;
}

describe('bin/trtcd app create / usersig / privatemapkey', () => {
  const dir = tempDir();

  it('app create --json prints the credentials object of the contract', () => {
    const r = runCli(['app', 'create', '--json', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(c), ['sdkAppId', 'secretKey', 'admin', 'cloudApi', 'ivh']);
    assert.equal(c.sdkAppId, 1400000001);
    assert.match(c.secretKey as string, /^[0-9a-f]{64}$/);
    assert.equal(c.admin, 'administrator');
    const cloud = c.cloudApi as Record<string, string>;
    assert.match(cloud.secretId!, /^AKID[A-Za-z0-9]{32}$/);
    assert.match(cloud.secretKey!, /^[A-Za-z0-9]{32}$/);
    const ivh = c.ivh as Record<string, string>;
    assert.ok(ivh.appKey && ivh.accessToken);
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });

  it('app create --sdkappid uses the given id and refuses a duplicate', () => {
    const r = runCli(['app', 'create', '--json', '--sdkappid', '1400123456', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { sdkAppId: number }).sdkAppId, 1400123456);
    const dup = runCli(['app', 'create', '--json', '--sdkappid', '1400123456', '--data-dir', dir]);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /already exists/);
  });

  it('usersig prints a token that verifies with the app key, and refuses unknown apps', () => {
    const shown = JSON.parse(runCli(['app', 'show', '1400123456', '--data-dir', dir]).stdout) as { secretKey: string };
    const r = runCli(['usersig', '1400123456', 'alice', '--expire', '600', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const v = verifyUserSig(r.stdout.trim(), { sdkAppId: 1400123456, secretKey: shown.secretKey, userId: 'alice' });
    assert.ok(v.ok);
    assert.equal(v.ok && v.expire, 600);
    assert.notEqual(runCli(['usersig', '1400999999', 'alice', '--data-dir', dir]).status, 0);
  });

  it('privatemapkey prints a key for the room and privileges asked for', () => {
    const shown = JSON.parse(runCli(['app', 'show', '1400123456', '--data-dir', dir]).stdout) as { secretKey: string };
    const r = runCli(['privatemapkey', '1400123456', 'alice', '--str-room-id', 'room-1', '--privilege', '42', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const v = verifyPrivateMapKey(r.stdout.trim(), { sdkAppId: 1400123456, secretKey: shown.secretKey, userId: 'alice', strRoomId: 'room-1' });
    assert.ok(v.ok && v.buffer.privilegeMap === 42);
  });

  it('ivh project create / asset create make avatars with a concurrency quota, refusing duplicates and unknown apps', () => {
    const p = runCli(['ivh', 'project', 'create', '1400123456', '--id', 'proj-1', '--concurrency', '3', '--data-dir', dir]);
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(JSON.parse(p.stdout), { VirtualmanProjectId: 'proj-1', sdkAppId: 1400123456, name: '', concurrency: 3 });
    const a = runCli(['ivh', 'asset', 'create', '1400123456', '--data-dir', dir]);
    assert.equal(a.status, 0, a.stderr);
    assert.match((JSON.parse(a.stdout) as { AssetVirtualmanKey: string }).AssetVirtualmanKey, /^[0-9a-f]{32}$/);
    assert.notEqual(runCli(['ivh', 'project', 'create', '1400123456', '--id', 'proj-1', '--data-dir', dir]).status, 0);
    assert.equal(runCli(['ivh', 'project', 'create', '1400999999', '--data-dir', dir]).status, 3);
  });

  it('app set refuses unknown keys and bad values', () => {
    const bad = runCli(['app', 'set', '1400000001', 'nope=1', '--data-dir', dir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown setting/);
    assert.equal(runCli(['app', 'set', '1400000001', 'rateLimits=maybe', '--data-dir', dir]).status, 1);
    assert.equal(runCli(['app', 'set', '1400000001', 'ipAllowlist=300.1.1.1', '--data-dir', dir]).status, 1);
    assert.equal(runCli(['app', 'set', '1400000001', 'rateLimits=off', 'features.gift=false', '--data-dir', dir]).status, 0);
    const shown = JSON.parse(runCli(['app', 'show', '1400000001', '--data-dir', dir]).stdout) as { settings: { rateLimits: string; features: { gift: boolean } } };
    assert.equal(shown.settings.rateLimits, 'off');
    assert.equal(shown.settings.features.gift, false);
  });

  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  });

  it('usage errors found after parsing name the problem and exit 2', () => {
    for (const [args, message] of [
      [['privatemapkey', '1400000001', 'u1'], /give exactly one of --room-id and --str-room-id/],
      [['privatemapkey', '1400000001', 'u1', '--room-id', '1', '--str-room-id', 'x'], /give exactly one of --room-id and --str-room-id/],
      [['callbacks', 'list', '--status', 'bogus'], /status must be pending, delivered, failed or dropped/],
      [['app', 'set', '1400000001', 'disabled'], /"disabled" is not key=value/],
    ] as const) {
      const r = runCli([...args, '--data-dir', dir]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('app set and app show print callback tokens masked, and app set never echoes the secret key', async () => {
    const secretKey = 'k'.repeat(40);
    const set = runCli(['app', 'set', '1400000001', 'callback.token=cb-s3cr3t', 'liveCallback.token=live-s3cr3t', `secretKey=${secretKey}`, '--data-dir', dir]);
    assert.equal(set.status, 0, set.stderr);
    for (const out of [set.stdout, set.stderr]) assert.doesNotMatch(out, /s3cr3t|kkkk/);
    const printed = JSON.parse(set.stdout) as { settings: { callback: { token: string }; liveCallback: { token: string; configured: boolean } } };
    assert.equal(printed.settings.callback.token, '***');
    assert.deepEqual([printed.settings.liveCallback.token, printed.settings.liveCallback.configured], ['***', true]);
    const shown = runCli(['app', 'show', '1400000001', '--data-dir', dir]);
    assert.doesNotMatch(shown.stdout, /s3cr3t/);
    const app = JSON.parse(shown.stdout) as { secretKey: string; settings: { callback: { token: string }; liveCallback: { token: string } } };
    assert.equal(app.secretKey, secretKey, 'credentials are what app show is for');
    assert.deepEqual([app.settings.callback.token, app.settings.liveCallback.token], ['***', '***']);
    // Masked on display only: the store holds the tokens.
    const store = await openStore({ dataDir: dir });
    try {
      const stored = parseSettings((await store.apps.get(1400000001))!.settings);
      assert.deepEqual([stored.callback.token, stored.liveCallback.token], ['cb-s3cr3t', 'live-s3cr3t']);
    } finally {
      await store.close();
    }
  });
});

describe('bin/trtcd start', () => {
  it('creates and prints a development app with the default gifts on an empty data directory, and serves /healthz', async () => {
    const dir = tempDir();
    const server = await startChild(['--data-dir', dir]);
    children.push(server);
    assert.match(server.output(), /SDKAppID\s+1400000001/);
    assert.match(server.output(), /SecretKey\s+[0-9a-f]{64}/);
    assert.match(server.output(), /Gifts\s+the default catalogue \(15 gifts/);
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    // The gifts are there for a live room at once (get_gift_info_list as the administrator).
    const secretKey = /SecretKey\s+([0-9a-f]{64})/.exec(server.output())![1]!;
    const usersig = runCli(['usersig', '1400000001', 'administrator', '--data-dir', dir]).stdout.trim();
    assert.ok(secretKey && usersig);
    const list = await fetch(restUrl(server.url, 'live_engine_http_srv/get_gift_info_list', { sdkappid: '1400000001', identifier: 'administrator', usersig, random: '1', contenttype: 'json' }), { method: 'POST', body: '{}' });
    const env = (await list.json()) as { ErrorCode: number; GiftInfoList: Array<{ GiftId: string }> };
    assert.equal(env.ErrorCode, 0, JSON.stringify(env));
    assert.equal(env.GiftInfoList.length, 15);
    assert.ok(env.GiftInfoList.some((g) => g.GiftId === 'rose'));
    // A restart does not install them again (the app exists, so no development app is made).
    await server.stop();
    const again = await startChild(['--data-dir', dir]);
    children.push(again);
    assert.doesNotMatch(again.output(), /Created a development app/);
  });

  it('takes app changes made by the CLI while it runs, without a restart', async () => {
    const dir = tempDir();
    const created = JSON.parse(runCli(['app', 'create', '--json', '--data-dir', dir]).stdout) as { sdkAppId: number };
    const server = await startChild(['--data-dir', dir]);
    children.push(server);
    assert.doesNotMatch(server.output(), /Created a development app/);
    const sig = runCli(['usersig', String(created.sdkAppId), 'administrator', '--data-dir', dir]).stdout.trim();
    assert.equal(await accountCheck(server.url, created.sdkAppId, sig), 0);

    assert.equal(runCli(['app', 'set', String(created.sdkAppId), 'disabled=true', '--data-dir', dir]).status, 0);
    assert.equal(await waitFor(() => accountCheck(server.url, created.sdkAppId, sig), 60016), 60016);

    const second = JSON.parse(runCli(['app', 'create', '--json', '--data-dir', dir]).stdout) as { sdkAppId: number };
    const sig2 = runCli(['usersig', String(second.sdkAppId), 'administrator', '--data-dir', dir]).stdout.trim();
    assert.equal(await waitFor(() => accountCheck(server.url, second.sdkAppId, sig2), 0), 0);
  });

  it('finds the same data directory from any subdirectory of the project (the nearest directory up with a package.json)', () => {
    const project = tempDir();
    writeFileSync(join(project, 'package.json'), '{}');
    mkdirSync(join(project, 'src', 'deep'), { recursive: true });
    mkdirSync(join(project, 'docs'));
    const env = { TRTCD_DATA_DIR: '' };
    const created = runCli(['app', 'create', '--json'], env, { cwd: join(project, 'src', 'deep') });
    assert.equal(created.status, 0, created.stderr);
    assert.ok(existsSync(join(project, '.trtcd', 'trtcd.db')), 'the data is in the project directory');
    assert.ok(!existsSync(join(project, 'src', 'deep', '.trtcd')));
    const listed = runCli(['app', 'list'], env, { cwd: join(project, 'docs') });
    assert.equal(listed.stdout.trim(), String(JSON.parse(created.stdout).sdkAppId));
  });

  it('reads the port and data directory from TRTCD_* variables and a config file', async () => {
    const dir = tempDir();
    const file = `${dir}/config.json`;
    await import('node:fs').then((fs) => fs.writeFileSync(file, JSON.stringify({ logLevel: 'info', devApp: false })));
    const server = await startChild(['--config', file], { TRTCD_DATA_DIR: dir });
    children.push(server);
    assert.doesNotMatch(server.output(), /Created a development app/);
    assert.equal(JSON.parse(runCli(['app', 'create', '--json'], { TRTCD_DATA_DIR: dir }).stdout).sdkAppId, 1400000001);
  });

  it('logs its URL, the demo and console addresses and the data directory; --log-format pretty writes lines for a terminal', async () => {
    const dir = tempDir();
    const json = await startChild(['--data-dir', dir]);
    const line = json.output().split('\n').find((l) => l.includes('trtcd listening'))!;
    assert.deepEqual(JSON.parse(line).demo, `${json.url}/demo/`);
    assert.equal(JSON.parse(line).dataDir, dir);
    // The console's address carries its token, which opens it.
    const consoleUrl = JSON.parse(line).console as string;
    assert.match(consoleUrl, new RegExp(`^${json.url}/console/\\?token=[\\w-]{24}$`));
    assert.equal((await fetch(`${json.url}/console/api/state`)).status, 401);
    const opened = await fetch(consoleUrl, { redirect: 'manual' });
    assert.equal(opened.status, 303);
    assert.equal((await fetch(`${json.url}/console/api/state`, { headers: { cookie: opened.headers.get('set-cookie')!.split(';')[0]! } })).status, 200);
    await json.stop();
    const proc = spawn(process.execPath, [TRTCD_BIN, 'start', '--port', '0', '--data-dir', dir, '--log-format', 'pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => /trtcd listening/.test(out), 20_000, 'the listening line');
      assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: trtcd listening \{.*"demo":"http:\/\/127\.0\.0\.1:\d+\/demo\/"/m);
      assert.doesNotMatch(out, /"level":30/, 'no JSON lines');
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const server = await startChild(['--data-dir', tempDir()]);
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.match(server.output(), /trtcd stopped/);
  });
});

describe('data directory privacy', () => {
  const mode = (path: string): number => statSync(path).mode & 0o777;
  const dbFiles = (dir: string): string[] => ['trtcd.db', 'trtcd.db-wal', 'trtcd.db-shm'].map((f) => join(dir, f));

  it('under umask 000, start and the CLI make the data directory 0700 and the database, -wal and -shm 0600', async () => {
    const dir = join(tempDir(), 'data');
    const server = await startChild(['--data-dir', dir], {}, { umask: '000' });
    children.push(server);
    assert.equal(mode(dir), 0o700);
    for (const f of dbFiles(dir)) assert.equal(mode(f), 0o600, f);
    const created = runCli(['app', 'create', '--json', '--data-dir', dir], {}, { umask: '000' });
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.stderr, '');
    for (const f of dbFiles(dir)) assert.equal(mode(f), 0o600, f);
    assert.doesNotMatch(server.output(), /chmod/);
    await server.stop();
  });

  it('an existing data directory open to others is named with the fix at start and by the CLI, not changed; the files are tightened', async () => {
    const dir = tempDir();
    // Left by a trtcd that did not set modes: a world-open directory and world-readable files.
    assert.equal(runCli(['app', 'create', '--json', '--data-dir', dir], {}, { umask: '000' }).status, 0);
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'trtcd.db'), 0o666);
    const server = await startChild(['--data-dir', dir], {}, { umask: '000' });
    children.push(server);
    const warning = server.output().split('\n').find((l) => l.includes('chmod 700'));
    assert.ok(warning, server.output());
    assert.equal((JSON.parse(warning) as { level: number }).level, 40);
    assert.ok(warning.includes(`data directory ${dir} `) && warning.includes(`chmod 700 ${dir}`), warning);
    assert.equal(mode(dir), 0o777);
    for (const f of dbFiles(dir)) assert.equal(mode(f), 0o600, f);
    const cli = runCli(['app', 'list', '--data-dir', dir]);
    assert.equal(cli.stdout, '1400000001\n');
    assert.match(cli.stderr, new RegExp(`^trtcd: warning: data directory ${dir} .*chmod 700 ${dir}\n$`));
    await server.stop();
  });
});

/** Polls `probe` until it yields `want` (the CLI contract is "within 1 s"; allow slack for a loaded machine). */
async function waitFor<T>(probe: () => Promise<T>, want: T, tries = 50): Promise<T> {
  let last = await probe();
  for (let i = 0; i < tries && last !== want; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}
