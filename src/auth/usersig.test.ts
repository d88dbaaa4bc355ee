import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeTlsBase64, decodeUserSig, encodeTlsBase64, genUserSig, UserSigError, UserSigVerifier, verifyUserSig,
  type UserSigFailure, type VerifyResult,
} from './usersig.ts';
import { loadVectors, OfficialApi, pack, prng, sign, USERID_ALPHABET, withFrozenNow, type Vector } from './testkit.ts';

const V = loadVectors();
const T = V.TLS_time;
const basic = V.vectors.find((v) => v.name === 'usersig_basic')!;
const KEY = basic.input.key;
const APP = basic.input.sdkappid;

/** Maps the vectors' official verifier texts to our failure reasons. */
function expectedReason(text: string): UserSigFailure | 'OK' {
  if (text === 'OK') return 'OK';
  const table: Record<string, UserSigFailure> = {
    'sig error': 'SIG_MISMATCH', 'sig expired': 'EXPIRED', "identifier doesn't match": 'IDENTIFIER_MISMATCH', "sdkappid doesn't match": 'SDKAPPID_MISMATCH',
  };
  const r = table[text] ?? (text.startsWith('decode/inflate/json failed') ? 'MALFORMED' : undefined);
  assert.ok(r, `unmapped expectation ${text}`);
  return r;
}

function reasonOf(r: VerifyResult): UserSigFailure | 'OK' {
  return r.ok ? 'OK' : r.reason;
}

/** The typed-API input equivalent to a vector's JS arguments, or why none exists. */
function typedInput(v: Vector): { userId: string; expire: number; userbuf?: Buffer } | string {
  const [uid, exp, buf] = v.input.args;
  if (typeof uid !== 'string' && typeof uid !== 'number') return 'userid is neither string nor number';
  // Official signs the raw expire text but serialises Number(expire): equivalent only if they print the same.
  const expire = Number(exp);
  if (String(expire) !== String(exp)) return `expire ${JSON.stringify(exp)} is signed as text that Number() does not reproduce (quirk: never verifies)`;
  const userbuf = buf === undefined ? undefined : Buffer.from((buf as { bufferHex: string }).bufferHex, 'hex');
  return userbuf === undefined ? { userId: String(uid), expire } : { userId: String(uid), expire, userbuf };
}

describe('usersig vectors', () => {
  for (const v of V.vectors) {
    const envelopeOnly = v.input.method !== 'genUserSig' && v.input.method !== 'genSig';
    test(`${v.name}: generate byte-identical`, (t) => {
      if (envelopeOnly) return t.skip('PrivateMapKey vectors are generated in private-map-key.test.ts');
      const input = typedInput(v);
      if (typeof input === 'string') return t.skip(input);
      const token = genUserSig({ sdkAppId: v.input.sdkappid, secretKey: v.input.key, now: T, ...input });
      assert.equal(token, v.usersig);
    });

    test(`${v.name}: decode and verify at TLS.time → ${v.verifyAtTime}`, () => {
      assert.deepEqual(decodeUserSig(v.usersig), v.decoded);
      const userId = v.decoded['TLS.identifier'] as string;
      const r = verifyUserSig(v.usersig, { sdkAppId: v.input.sdkappid, secretKey: v.input.key, userId, now: T });
      assert.equal(reasonOf(r), expectedReason(v.verifyAtTime), JSON.stringify(r));
      if (r.ok) {
        const ub = v.decoded['TLS.userbuf'] as string | undefined;
        const want = { ok: true, time: T, expire: v.decoded['TLS.expire'], expiresAt: T + (v.decoded['TLS.expire'] as number) };
        assert.deepEqual(r, ub === undefined ? want : { ...want, userbuf: Buffer.from(ub, 'base64') });
      }
    });
  }

  test('extra.verifyChecks', () => {
    const tok = basic.usersig;
    const exp = basic.decoded['TLS.expire'] as number;
    const o = { sdkAppId: APP, secretKey: KEY, userId: 'xiaojun', now: T };
    const future = genUserSig({ ...o, expire: 60, now: T + 3600 });
    const cases: Record<string, VerifyResult> = {
      at_time_plus_expire: verifyUserSig(tok, { ...o, now: T + exp }),
      at_time_plus_expire_plus_1: verifyUserSig(tok, { ...o, now: T + exp + 1 }),
      wrong_identifier: verifyUserSig(tok, { ...o, userId: 'xiaojun2' }),
      wrong_sdkappid: verifyUserSig(tok, { ...o, sdkAppId: APP + 1 }),
      wrong_key: verifyUserSig(tok, { ...o, secretKey: KEY.replace(/^5/, '6') }),
      truncated_sig: verifyUserSig(tok.slice(0, -12), o),
      time_in_future_is_accepted_by_reference_verifiers: verifyUserSig(future, o),
    };
    assert.deepEqual(Object.keys(cases).sort(), Object.keys(V.extra.verifyChecks).sort());
    for (const [name, r] of Object.entries(cases)) assert.equal(reasonOf(r), expectedReason(V.extra.verifyChecks[name]!), name);
  });

  test('every truncation of a token is MALFORMED (dropping all `_` padding is not a truncation; dropping part is)', () => {
    const unpadded = basic.usersig.replace(/_+$/, '').length;
    assert.ok(unpadded < basic.usersig.length);
    for (let n = 1; n < basic.usersig.length; n++) {
      const r = verifyUserSig(basic.usersig.slice(0, n), { sdkAppId: APP, secretKey: KEY, userId: 'xiaojun', now: T });
      assert.equal(reasonOf(r), n === unpadded ? 'OK' : 'MALFORMED', `prefix ${n}`);
    }
  });

  test('extra.reencodedEquivalents (Go level 0 + newline, PHP \\/, C++ level 1) verify', () => {
    const entries = Object.entries(V.extra.reencodedEquivalents).filter(([k]) => k !== 'note');
    assert.equal(entries.length, 3);
    for (const [name, e] of entries) {
      assert.ok(typeof e === 'object');
      if (e.zlibHeaderHex !== undefined) assert.equal(decodeTlsBase64(e.usersig)!.subarray(0, 2).toString('hex'), e.zlibHeaderHex, name);
      assert.deepEqual(decodeUserSig(e.usersig), basic.decoded, name);
      const r = verifyUserSig(e.usersig, { sdkAppId: APP, secretKey: KEY, userId: 'xiaojun', now: T });
      assert.equal(reasonOf(r), expectedReason(e.verify), name);
    }
  });
});

describe('cross-check with official tls-sig-api-v2', () => {
  test('200 random UserSigs (some with userbuf): identical bytes, and ours verifies them', () => {
    const rnd = prng(0x5eed);
    for (let i = 0; i < 200; i++) {
      const app = rnd.int(1_400_000_000, 1_499_999_999);
      const key = rnd.pick('0123456789abcdef', 64, 64);
      const userId = rnd.pick(USERID_ALPHABET, 1, 32);
      const expire = rnd.int(1, 100_000_000);
      const ms = rnd.int(1_500_000_000_000, 1_900_000_000_000);
      const userbuf = i % 4 === 3 ? Buffer.from(rnd.pick(USERID_ALPHABET, 0, 40)) : undefined;
      const api = new OfficialApi(app, key);
      const theirs = withFrozenNow(ms, () => (userbuf === undefined ? api.genUserSig(userId, expire) : api.genSig(userId, expire, userbuf)));
      const ours = withFrozenNow(ms, () => genUserSig({ sdkAppId: app, secretKey: key, userId, expire, userbuf }));
      const ctx = JSON.stringify({ i, app, key, userId, expire, ms });
      assert.equal(ours, theirs, ctx);
      const now = Math.floor(ms / 1000) + rnd.int(0, expire);
      const r = verifyUserSig(theirs, { sdkAppId: app, secretKey: key, userId, now });
      assert.ok(r.ok, ctx);
      assert.deepEqual(r.userbuf, userbuf, ctx);
      assert.equal(r.expiresAt, Math.floor(ms / 1000) + expire);
    }
  });
});

test('large userbuf (output spans several zlib chunks) is still byte-identical to the official library', () => {
  const rnd = prng(99);
  for (const size of [1500, 6000, 20_000]) {
    const userbuf = Buffer.from(Array.from({ length: size }, () => rnd.int(0, 255)));
    const theirs = withFrozenNow(T * 1000, () => new OfficialApi(APP, KEY).genSig('big', 3600, userbuf));
    assert.ok(decodeTlsBase64(theirs)!.length > 2 * 512, 'deflated output must span several 512-byte chunks');
    assert.equal(genUserSig({ sdkAppId: APP, secretKey: KEY, userId: 'big', expire: 3600, userbuf, now: T }), theirs);
    const r = verifyUserSig(theirs, { sdkAppId: APP, secretKey: KEY, userId: 'big', now: T });
    assert.ok(r.ok);
    assert.deepEqual(r.userbuf, userbuf);
  }
});

describe('verifyUserSig failures', () => {
  const o = { sdkAppId: APP, secretKey: KEY, userId: 'xiaojun', now: T };
  const doc = (fields: Record<string, unknown>): string => pack(JSON.stringify(fields));
  const good = { 'TLS.ver': '2.0', 'TLS.identifier': 'xiaojun', 'TLS.sdkappid': APP, 'TLS.time': T, 'TLS.expire': 100, 'TLS.sig': sign(KEY, 'xiaojun', APP, T, 100) };

  test('hand-built doc verifies in any key order, Python separators and zlib levels 0..9', () => {
    const pythonish = `{"TLS.sig": "${good['TLS.sig']}", "TLS.expire": 100, "TLS.time": ${T}, "TLS.sdkappid": ${APP}, "TLS.identifier": "\\u0078iaojun", "TLS.ver": "2.0"}`;
    for (let level = 0; level <= 9; level++) {
      assert.ok(verifyUserSig(pack(pythonish, level), o).ok, `level ${level}`);
      assert.ok(verifyUserSig(pack(JSON.stringify(good), level), o).ok, `level ${level}`);
    }
  });

  test('v1 (ECDSA) token → V1_UNSUPPORTED', () => {
    const v1 = pack(
      '{"TLS.account_type":"0","TLS.identifier":"x","TLS.appid_at_3rd":"0","TLS.sdk_appid":"1400000000","TLS.expire_after":"86400","TLS.version":"201803230000","TLS.time":"1700000000","TLS.sig":"MEUCIQ..."}',
      1,
    );
    const r = verifyUserSig(v1, { ...o, userId: 'x', sdkAppId: 1_400_000_000 });
    assert.equal(reasonOf(r), 'V1_UNSUPPORTED');
    assert.ok(!r.ok && r.message === 'v1 (ECDSA) UserSig is not supported; generate a v2 (HMAC-SHA256) UserSig with tls-sig-api-v2');
  });

  test('EMPTY and MALFORMED', () => {
    assert.equal(reasonOf(verifyUserSig('', o)), 'EMPTY');
    assert.throws(() => decodeUserSig(''), (e) => e instanceof UserSigError && e.reason === 'EMPTY');
    const malformed = [
      'not a token!', 'eJyr', basic.usersig.replace(/\*/g, '+'), `${basic.usersig}__`, `${basic.usersig} `, 'A'.repeat(40_000),
      encodeTlsBase64(Buffer.from('plain text, not zlib')), pack('{"TLS.ver":"2.0",'), pack('[1,2]'), pack('null'), pack('"2.0"'),
      pack('{"TLS.ver":"3.0","TLS.identifier":"xiaojun"}'),
      doc({ ...good, 'TLS.userbuf': 'not base64!', 'TLS.sig': sign(KEY, 'xiaojun', APP, T, 100, 'not base64!') }),
    ];
    for (const m of malformed) {
      assert.equal(reasonOf(verifyUserSig(m, o)), 'MALFORMED', m.slice(0, 60));
    }
    assert.throws(() => decodeUserSig('$$$$'), (e) => e instanceof UserSigError && e.reason === 'MALFORMED');
  });

  test('wrong types → FIELD_MISSING', () => {
    const cases: Record<string, unknown>[] = [
      { ...good, 'TLS.ver': undefined },
      { ...good, 'TLS.identifier': 12345 },
      { ...good, 'TLS.sdkappid': String(APP) },
      { ...good, 'TLS.sdkappid': undefined },
      { ...good, 'TLS.sdkappid': -1 },
      { ...good, 'TLS.time': String(T) },
      { ...good, 'TLS.time': undefined },
      { ...good, 'TLS.time': T + 0.5 },
      { ...good, 'TLS.expire': 100.5 },
      { ...good, 'TLS.expire': null },
      { ...good, 'TLS.sig': undefined },
      { ...good, 'TLS.sig': 42 },
      { ...good, 'TLS.userbuf': 42 },
    ];
    for (const c of cases) {
      const r = verifyUserSig(doc(c), { ...o, userId: c['TLS.identifier'] === 12345 ? '12345' : 'xiaojun' });
      assert.equal(reasonOf(r), 'FIELD_MISSING', JSON.stringify(c));
    }
  });

  test('check order: forged-and-expired → SIG_MISMATCH; wrong id and app → IDENTIFIER_MISMATCH; bad sig text → SIG_MISMATCH', () => {
    const forged = doc({ ...good, 'TLS.sig': sign('other-key', 'xiaojun', APP, T, 100) });
    assert.equal(reasonOf(verifyUserSig(forged, { ...o, now: T + 1000 })), 'SIG_MISMATCH');
    assert.equal(reasonOf(verifyUserSig(basic.usersig, { ...o, userId: 'x', sdkAppId: 1 })), 'IDENTIFIER_MISMATCH');
    assert.equal(reasonOf(verifyUserSig(doc({ ...good, 'TLS.sig': good['TLS.sig'].slice(0, 40) }), o)), 'SIG_MISMATCH');
    assert.equal(reasonOf(verifyUserSig(doc({ ...good, 'TLS.expire': 101 }), o)), 'SIG_MISMATCH');
    // Node's lenient base64 would read url-safe `-`/`_` as `+`/`/`; the sig must be standard base64.
    const urlSafe = good['TLS.sig'].replace(/\+/g, '-').replace(/\//g, '_');
    assert.notEqual(urlSafe, good['TLS.sig']);
    assert.equal(reasonOf(verifyUserSig(doc({ ...good, 'TLS.sig': urlSafe }), o)), 'SIG_MISMATCH');
    assert.equal(reasonOf(verifyUserSig(doc({ ...good, 'TLS.sig': good['TLS.sig'].replace(/=$/, '') }), o)), 'OK');
    assert.equal(reasonOf(verifyUserSig(doc({ ...good, 'TLS.ver': '2.0', 'TLS.sdk_appid': '1' }), o)), 'OK');
  });

  test('userbuf: signed verbatim (non-canonical base64 accepted, C++/PHP), expectUserbuf', () => {
    const nonCanonical = 'YWJ=';
    const t = doc({ ...good, 'TLS.userbuf': nonCanonical, 'TLS.sig': sign(KEY, 'xiaojun', APP, T, 100, nonCanonical) });
    const r = verifyUserSig(t, { ...o, expectUserbuf: true });
    assert.ok(r.ok);
    assert.deepEqual(r.userbuf, Buffer.from('ab'));
    assert.equal(reasonOf(verifyUserSig(basic.usersig, { ...o, expectUserbuf: true })), 'USERBUF_MISMATCH');
    const empty = genUserSig({ ...o, expire: 10, userbuf: Buffer.alloc(0) });
    assert.equal(decodeUserSig(empty)['TLS.userbuf'], '');
    assert.deepEqual(verifyUserSig(empty, { ...o, expectUserbuf: true }), { ok: true, time: T, expire: 10, expiresAt: T + 10, userbuf: Buffer.alloc(0) });
  });

  test('generator rejects non-integer numbers', () => {
    assert.throws(() => genUserSig({ ...o, expire: 1.5 }), RangeError);
    assert.throws(() => genUserSig({ ...o, expire: 10, sdkAppId: Number.NaN }), RangeError);
    assert.throws(() => genUserSig({ ...o, expire: 10, now: 1.5 }), RangeError);
  });
});

test('TLS base64 codec matches std base64 + substitution, and rejects foreign characters', () => {
  const rnd = prng(7);
  for (let n = 0; n < 200; n++) {
    const bytes = Buffer.from(Array.from({ length: n % 67 }, () => rnd.int(0, 255)));
    const want = bytes.toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
    assert.equal(encodeTlsBase64(bytes), want);
    assert.deepEqual(decodeTlsBase64(want), bytes);
    assert.deepEqual(decodeTlsBase64(want.replace(/_+$/, '')), bytes);
  }
  for (const bad of ['ab+c', 'ab/c', 'ab=c', 'abc\u0100', 'abcé', 'a___', 'abcde', 'ab_c', 'abc_d', 'ab______', 'abcd____']) assert.equal(decodeTlsBase64(bad), undefined, bad);
});

describe('UserSigVerifier', () => {
  const now = T + 10;
  const token = (userId: string, expire = 100): string => genUserSig({ sdkAppId: APP, secretKey: KEY, userId, expire, now: T });

  test('cache hit returns the same result object as the first verification', () => {
    const v = new UserSigVerifier({ sdkAppId: APP, secretKey: KEY });
    const tok = token('alice');
    const first = v.verify('alice', tok, now);
    assert.deepEqual(first, verifyUserSig(tok, { sdkAppId: APP, secretKey: KEY, userId: 'alice', now }));
    assert.equal(v.verify('alice', tok, now), first);
    assert.equal(v.size, 1);
    const forged = genUserSig({ sdkAppId: APP, secretKey: 'wrong', userId: 'alice', expire: 100, now: T });
    const bad = v.verify('alice', forged, now);
    assert.equal(reasonOf(bad), 'SIG_MISMATCH');
    assert.equal(v.verify('alice', forged, now), bad);
  });

  test('cached success turns EXPIRED after expiresAt; a foreign userId never borrows the result', () => {
    const v = new UserSigVerifier({ sdkAppId: APP, secretKey: KEY });
    const tok = token('bob', 100);
    assert.equal(reasonOf(v.verify('mallory', tok, now)), 'IDENTIFIER_MISMATCH');
    assert.equal(reasonOf(v.verify('bob', tok, T + 100)), 'OK');
    assert.equal(reasonOf(v.verify('bob', tok, T + 101)), 'EXPIRED');
    assert.equal(reasonOf(v.verify('mallory', tok, now)), 'IDENTIFIER_MISMATCH');
    assert.equal(reasonOf(v.verify('bob', tok, now)), 'OK');
    assert.equal(v.size, 1);
  });

  test('bounded: evicts oldest entries first', () => {
    const v = new UserSigVerifier({ sdkAppId: APP, secretKey: KEY, maxEntries: 3 });
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    const toks = users.map((u) => token(u));
    const firsts = users.map((u, i) => v.verify(u, toks[i]!, now));
    assert.equal(v.size, 3);
    assert.equal(v.verify('u4', toks[4]!, now), firsts[4]);
    assert.equal(v.verify('u2', toks[2]!, now), firsts[2]);
    assert.notEqual(v.verify('u0', toks[0]!, now), firsts[0]);
    assert.equal(v.size, 3);
    v.verify('', '', now);
    v.verify('x', 'A'.repeat(40_000), now);
    assert.equal(v.size, 3);
    assert.throws(() => new UserSigVerifier({ sdkAppId: APP, secretKey: KEY, maxEntries: 0 }), RangeError);
  });
});
