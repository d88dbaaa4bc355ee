import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalHeaders,
  canonicalRequest,
  hostCandidates,
  parseTc3Authorization,
  sha256Hex,
  stringToSign,
  tc3Signature,
  utcDate,
  v1Signature,
  v1StringToSign,
  verifyTc3,
} from './tc3.ts';

// Tencent's Signature v3 documentation example (https://www.tencentcloud.com/document/product/267/37447).
const DOC_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const DOC_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('TC3-HMAC-SHA256', () => {
  it('reproduces the documented GET vector', () => {
    const cr = canonicalRequest({
      method: 'GET',
      query: 'Limit=10&Offset=0',
      canonicalHeaders: 'content-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n',
      signedHeaders: 'content-type;host',
      payloadHash: sha256Hex(''),
    });
    assert.equal(sha256Hex(''), EMPTY_HASH);
    assert.equal(sha256Hex(cr), '91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7');
    const date = utcDate(1539084154);
    assert.equal(date, '2018-10-09');
    const sts = stringToSign({ timestamp: 1539084154, date, service: 'cvm', canonicalRequest: cr });
    assert.equal(sts, 'TC3-HMAC-SHA256\n1539084154\n2018-10-09/cvm/tc3_request\n91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7');
    assert.equal(
      tc3Signature({ secretKey: DOC_KEY, date, service: 'cvm', stringToSign: sts }),
      '5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474',
    );
  });

  it('reproduces the documented POST vector (CVM DescribeInstances, ts 1551113065)', () => {
    // Payload and canonical-request hashes from the Signature v3 page's worked example
    // (https://www.tencentcloud.com/document/product/267/37447); the signature is the one in that page's curl example
    // (Signature=72e494ea…) for the EXAMPLE key.
    const body = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
    assert.equal(sha256Hex(body), '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    const headers = { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' };
    const cr = canonicalRequest({
      method: 'POST',
      query: '',
      canonicalHeaders: canonicalHeaders(headers, ['content-type', 'host']),
      signedHeaders: 'content-type;host',
      payloadHash: sha256Hex(body),
    });
    assert.equal(sha256Hex(cr), '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    const sts = stringToSign({ timestamp: 1551113065, date: utcDate(1551113065), service: 'cvm', canonicalRequest: cr });
    const signature = tc3Signature({ secretKey: DOC_KEY, date: '2019-02-25', service: 'cvm', stringToSign: sts });
    assert.equal(signature, '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');

    const auth = parseTc3Authorization(
      `TC3-HMAC-SHA256 Credential=${DOC_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
    );
    assert.ok(auth);
    const input = { method: 'POST', query: '', headers, body: Buffer.from(body), timestamp: '1551113065', auth, secretKey: DOC_KEY };
    assert.equal(verifyTc3(input), true);
    assert.equal(verifyTc3({ ...input, secretKey: DOC_KEY.replace('E', 'F') }), false);
    assert.equal(verifyTc3({ ...input, body: Buffer.from(body + ' ') }), false);
    assert.equal(verifyTc3({ ...input, timestamp: '1551113066' }), false);
    // The Node SDK sends Host with the port but signs the hostname alone.
    assert.equal(verifyTc3({ ...input, headers: { ...headers, host: 'cvm.tencentcloudapi.com:8443' } }), true);
    // Header values are lower-cased and trimmed.
    assert.equal(verifyTc3({ ...input, headers: { host: ' CVM.tencentcloudapi.com ', 'content-type': 'Application/JSON; charset=UTF-8' } }), true);
  });

  it('parses Authorization headers and refuses malformed ones', () => {
    const ok = parseTc3Authorization(`TC3-HMAC-SHA256 Credential=AKIDx/2026-11-22/localhost:9000/tc3_request,SignedHeaders=Content-Type;host;x-tc-action, Signature=${'A'.repeat(64)}`);
    assert.deepEqual(ok, {
      secretId: 'AKIDx',
      date: '2026-11-22',
      service: 'localhost:9000',
      signedHeaders: ['content-type', 'host', 'x-tc-action'],
      signature: 'a'.repeat(64),
    });
    const sig = 'a'.repeat(64);
    for (const bad of [
      undefined,
      '',
      'Bearer abc',
      `TC3-HMAC-SHA1 Credential=A/2026-11-22/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm/tc3_request, SignedHeaders=content-type;host`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=A/20261122/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22//tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm/tc3_request, SignedHeaders=host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm/tc3_request, SignedHeaders=content-type;host, Signature=xyz`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${sig}, Extra=1`,
      `TC3-HMAC-SHA256 Credential=A/2026-11-22/cvm/tc3_request, Credential=B/2026-11-22/cvm/tc3_request, Signature=${sig}`,
    ]) {
      assert.equal(parseTc3Authorization(bad), null, String(bad));
    }
  });

  it('tries the host with and without its port', () => {
    assert.deepEqual(hostCandidates('127.0.0.1:9000'), ['127.0.0.1:9000', '127.0.0.1']);
    assert.deepEqual(hostCandidates('[::1]:9000'), ['[::1]:9000', '[::1]']);
    assert.deepEqual(hostCandidates('example.com'), ['example.com']);
  });
});

describe('signature v1', () => {
  it('builds the string to sign from sorted raw parameters, without Signature', () => {
    const s = v1StringToSign('post', '127.0.0.1:46831', {
      'TRTCUserIds.0': 'u 1',
      Action: 'CreateTRTCSignaturesWithRoomId',
      Nonce: '63794',
      Signature: 'ignored',
      RoomId: 'room-1',
    });
    assert.equal(s, 'POST127.0.0.1:46831/?Action=CreateTRTCSignaturesWithRoomId&Nonce=63794&RoomId=room-1&TRTCUserIds.0=u 1');
  });

  it('signs with HMAC-SHA1 and HMAC-SHA256 in base64', () => {
    // Tencent's signature v1 documentation example (CVM DescribeInstances, HmacSHA1 → EliP9YW3pW28FpsEdkXt/+WcGeI=).
    const s = v1StringToSign('GET', 'cvm.tencentcloudapi.com', {
      Action: 'DescribeInstances',
      'InstanceIds.0': 'ins-09dx96dg',
      Limit: '20',
      Nonce: '11886',
      Offset: '0',
      Region: 'ap-guangzhou',
      SecretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      Timestamp: '1465185768',
      Version: '2017-03-12',
    });
    assert.equal(
      s,
      'GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12',
    );
    assert.equal(v1Signature(DOC_KEY, 'HmacSHA1', s), 'EliP9YW3pW28FpsEdkXt/+WcGeI=');
    const sha256 = v1Signature(DOC_KEY, 'HmacSHA256', s);
    assert.equal(Buffer.from(sha256, 'base64').length, 32);
    assert.equal(sha256, createHmac('sha256', DOC_KEY).update(s).digest('base64'));
  });
});
