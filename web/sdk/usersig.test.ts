import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeUserSig, encodeTlsBase64, genUserSig, verifyUserSig } from '../../src/auth/usersig.ts';
import { genTestUserSig, tlsBase64 } from './usersig.ts';

describe('genTestUserSig (WebCrypto + CompressionStream)', () => {
  const secretKey = 'a'.repeat(64);

  it('makes a UserSig the server verifies, with the same document as the server-side generator', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const userId of ['alice', 'user with spaces', 'ユーザー', 'q"uote']) {
      const sig = await genTestUserSig({ sdkAppId: 1400000001, userId, secretKey, expire: 600, now });
      const v = verifyUserSig(sig, { sdkAppId: 1400000001, secretKey, userId });
      assert.ok(v.ok, JSON.stringify(v));
      assert.equal(v.expiresAt, now + 600);
      assert.deepEqual(decodeUserSig(sig), decodeUserSig(genUserSig({ sdkAppId: 1400000001, secretKey, userId, expire: 600, now })));
    }
  });

  it('is refused with another key and defaults to one day', async () => {
    const sig = await genTestUserSig({ sdkAppId: 1400000001, userId: 'bob', secretKey });
    assert.equal(decodeUserSig(sig)['TLS.expire'], 86400);
    const v = verifyUserSig(sig, { sdkAppId: 1400000001, secretKey: 'b'.repeat(64), userId: 'bob' });
    assert.equal(v.ok || v.reason, 'SIG_MISMATCH');
  });

  it('encodes base64 the way tls-sig-api-v2 does', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = randomBytes(n);
      assert.equal(tlsBase64(bytes), encodeTlsBase64(bytes));
    }
  });
});
