// The README's Node examples run as written against a server: each ```js block that does not need a browser is saved
// as an ES module in the package (so its imports resolve) and run with node, with only the values the README tells the
// reader to fill in replaced (the port, the printed SecretKey, the Cloud API SecretId/SecretKey).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The README's ```js blocks; those that use a browser SDK's globals (TRTC, TencentCloudChat) run in a browser only. */
const blocks = [...README.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const nodeBlocks = blocks.filter((b) => !/\b(TRTC|TencentCloudChat|TUICallEngine)\./.test(b));

describe('README examples', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('has Node examples, written as ES modules', () => {
    assert.ok(nodeBlocks.length >= 2, `found ${nodeBlocks.length}`);
    for (const b of nodeBlocks) assert.doesNotMatch(b, /\brequire\(/, 'import, not require: the examples use top-level await');
  });

  it('each Node example runs against trtcd and does what it says', async () => {
    const port = new URL(t.server.url).port;
    // The server runs in this process: the examples run asynchronously, one after the other.
    for (const [i, block] of nodeBlocks.entries()) {
      const code = block
        .replaceAll('127.0.0.1:9000', `127.0.0.1:${port}`)
        .replaceAll('<SecretKey printed by trtcd>', t.app.secretKey)
        .replaceAll("secretId: 'AKID…'", `secretId: '${t.app.cloudApi.secretId}'`)
        .replaceAll("secretKey: '…'", `secretKey: '${t.app.cloudApi.secretKey}'`);
      assert.equal(t.app.sdkAppId, 1400000001, 'the development app the README names');
      const file = `${ROOT}readme-example-${process.pid}-${i}.mjs`;
      writeFileSync(file, code);
      try {
        const env = { ...process.env, http_proxy: '', https_proxy: '', HTTP_PROXY: '', HTTPS_PROXY: '' };
        await promisify(execFile)(process.execPath, [file], { env, timeout: 60_000 }).catch((err: Error & { stderr?: string }) => {
          assert.fail(`example ${i + 1} failed:\n${block}\n${err.stderr ?? err.message}`);
        });
      } finally {
        rmSync(file, { force: true });
      }
    }
    // The REST example imported alice (the Cloud API one resolves only on a successful answer: the SDK throws on errors).
    assert.deepEqual(await t.server.accounts.check(t.app.sdkAppId, ['alice']), [{ userId: 'alice', imported: true }]);
  });
});
