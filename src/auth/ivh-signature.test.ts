import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ivhSignature, ivhSigningString } from './ivh-signature.ts';

// The official vectors (https://www.tencentcloud.com/document/product/1211/62053).
const VECTORS: Array<{ query: Record<string, string>; token: string; signing: string; signature: string }> = [
  {
    query: { appkey: 'example_appkey', timestamp: '1717639699' },
    token: 'example_accesstoken',
    signing: 'appkey=example_appkey&timestamp=1717639699',
    signature: 'aCNWYzZdplxWVo+JsqzZc9+J9XrwWWITfX3eQpsLVno=',
  },
  {
    query: { timestamp: '1717639699', requestid: 'example_requestid', appkey: 'example_appkey' },
    token: 'example_accesstoken',
    signing: 'appkey=example_appkey&requestid=example_requestid&timestamp=1717639699',
    signature: 'QVenICk0VHtHGYZKXM6IC+W1CjZC1joSr/x0gfKKYT4=',
  },
  {
    query: { appkey: 'e38267c0e86411ebb02aed82acb0ed99', timestamp: '1646636485' },
    token: 'f68f2d10ae9e4604b76fb05cf46bccec',
    signing: 'appkey=e38267c0e86411ebb02aed82acb0ed99&timestamp=1646636485',
    signature: 'BfWuaC9kmaicCggXc693uK+sZQ8qe88O4HVQNTdwZuo=',
  },
];

test('the three official IVH signature vectors', () => {
  for (const v of VECTORS) {
    assert.equal(ivhSigningString(v.query), v.signing);
    assert.equal(ivhSignature(v.token, v.signing), v.signature);
  }
});

test('signature is left out of the signing string and values stay raw', () => {
  assert.equal(ivhSigningString({ signature: 'x+y=', timestamp: '1', appkey: 'a b/c' }), 'appkey=a b/c&timestamp=1');
});

test('the final URL of the documentation: URL-encoded signature decodes back to the base64 value', () => {
  const url = new URL(
    'https://gw.tvs.qq.com/v2/ivh/x/createsession?appkey=e38267c0e86411ebb02aed82acb0ed99&timestamp=1646636485&signature=BfWuaC9kmaicCggXc693uK%2BsZQ8qe88O4HVQNTdwZuo%3D',
  );
  const q = Object.fromEntries(url.searchParams);
  assert.equal(ivhSignature('f68f2d10ae9e4604b76fb05cf46bccec', ivhSigningString(q)), q.signature);
});
