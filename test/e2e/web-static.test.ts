import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startChild, type ServerChild } from '../helpers/child.ts';
import { tempDir } from '../helpers/server.ts';

describe('bin/trtcd serves the browser SDK and the demo', () => {
  const dir = tempDir();
  let child: ServerChild;

  before(async () => {
    child = await startChild(['--data-dir', dir]);
  });
  after(async () => {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /sdk/trtcd.js is the bundled SDK', async () => {
    const res = await fetch(`${child.url}/sdk/trtcd.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const body = await res.text();
    assert.match(body, /export\s*\{[^}]*\bTrtcdClient\b/);
    assert.match(body, /^\/\/ web\/sdk\/client\.ts$/m);
  });

  it('GET /demo redirects to the demo page, which loads the SDK from the server', async () => {
    const redirect = await fetch(`${child.url}/demo`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/demo/');
    const page = await fetch(`${child.url}/demo/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /demo\.js/);
    const js = await fetch(`${child.url}/demo/demo.js`);
    assert.match(await js.text(), /from '\/sdk\/trtcd\.js'/);
    assert.equal((await fetch(`${child.url}/demo/nope.js`)).status, 404);
  });
});
