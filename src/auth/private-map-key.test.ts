import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodePrivateMapKeyBuffer, encodePrivateMapKeyBuffer, genPrivateMapKey, genPrivateMapKeyWithStringRoomId, Privilege,
  verifyPrivateMapKey, type PrivateMapKeyBuffer, type VerifyPrivateMapKeyResult,
} from './private-map-key.ts';
import { genUserSig } from './usersig.ts';
import { loadVectors, OfficialApi, prng, USERID_ALPHABET, withFrozenNow, type Vector } from './testkit.ts';

const V = loadVectors();
const T = V.TLS_time;
const pmk = V.vectors.filter((v) => v.userbufParsed !== undefined);
const byName = (name: string): Vector => V.vectors.find((v) => v.name === name)!;
const KEY = byName('usersig_basic').input.key;
const APP = byName('usersig_basic').input.sdkappid;

const reasonOf = (r: VerifyPrivateMapKeyResult): string => (r.ok ? 'OK' : r.reason);

/** The vector's parsed userbuf in our field names. */
function expectedBuffer(v: Vector): PrivateMapKeyBuffer {
  const p = v.userbufParsed!;
  const b: PrivateMapKeyBuffer = {
    version: p.cVer as 0 | 1, account: p.account, sdkAppId: p.dwSdkAppid, roomId: p.dwAuthID, expireAt: p.dwExpTime,
    privilegeMap: p.dwPrivilegeMap, accountType: p.dwAccountType,
  };
  if (p.roomStr !== undefined) b.strRoomId = p.roomStr;
  return b;
}

function roomOf(v: Vector): { roomId: number } | { strRoomId: string } {
  return v.input.method === 'genPrivateMapKey' ? { roomId: v.input.args[2] as number } : { strRoomId: v.input.args[2] as string };
}

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

test('Privilege bits', () => {
  assert.deepEqual(Privilege, {
    CreateRoom: 1, EnterRoom: 2, SendAudio: 4, ReceiveAudio: 8, SendVideo: 16, ReceiveVideo: 32, SendSubVideo: 64, ReceiveSubVideo: 128, All: 255,
  });
  assert.equal(Privilege.EnterRoom | Privilege.ReceiveAudio | Privilege.ReceiveVideo, 42);
});

describe('PrivateMapKey vectors', () => {
  assert.equal(pmk.length, 6);
  for (const v of pmk) {
    const [userId, expire, , privilegeMap] = v.input.args as [string, number, unknown, number];
    const common = { sdkAppId: v.input.sdkappid, secretKey: v.input.key, userId, expire, privilegeMap, now: T };

    test(`${v.name}: generate byte-identical`, (t) => {
      if (!isAscii(userId)) return t.skip('non-ASCII account: we write UTF-8 like Go/C++/PHP (see the divergence test below)');
      const room = roomOf(v);
      const token = 'roomId' in room ? genPrivateMapKey({ ...common, ...room }) : genPrivateMapKeyWithStringRoomId({ ...common, ...room });
      assert.equal(token, v.usersig);
    });

    test(`${v.name}: userbufParsed`, () => {
      const raw = Buffer.from(v.userbufParsed!.hex, 'hex');
      assert.equal(v.userbufParsed!.trailingBytes, 0);
      const got = decodePrivateMapKeyBuffer(raw);
      if (isAscii(userId)) {
        assert.deepEqual(got, expectedBuffer(v));
        assert.deepEqual(encodePrivateMapKeyBuffer(got), raw);
      } else {
        // Lossy UTF-8 view of Node's `charCode & 0xFF` bytes; the vector shows them as latin1.
        assert.deepEqual(got, { ...expectedBuffer(v), account: raw.toString('utf8', 3, 3 + raw.readUInt16BE(1)) });
        assert.equal(raw.toString('latin1', 3, 3 + raw.readUInt16BE(1)), v.userbufParsed!.account);
      }
    });

    test(`${v.name}: verifyPrivateMapKey at TLS.time with its room and privileges`, () => {
      const r = verifyPrivateMapKey(v.usersig, { sdkAppId: v.input.sdkappid, secretKey: v.input.key, userId, ...roomOf(v), privilege: privilegeMap, now: T });
      assert.equal(reasonOf(r), 'OK', JSON.stringify(r));
      assert.ok(r.ok);
      assert.equal(r.buffer.expireAt, v.userbufParsed!.dwExpTime);
    });
  }

  test('non-ASCII account: UTF-8 bytes (Go/C++/PHP) instead of the Node `charCode & 0xFF` quirk', () => {
    const v = byName('privmap_unicode_account_QUIRK');
    const ours = genPrivateMapKey({ sdkAppId: APP, secretKey: KEY, userId: '用户Ü', expire: 300, roomId: 10000, privilegeMap: 255, now: T });
    assert.notEqual(ours, v.usersig);
    const r = verifyPrivateMapKey(ours, { sdkAppId: APP, secretKey: KEY, userId: '用户Ü', roomId: 10000, now: T });
    assert.ok(r.ok);
    assert.equal(r.buffer.account, '用户Ü');
    assert.deepEqual(encodePrivateMapKeyBuffer(r.buffer).subarray(1, 11), Buffer.from('0008e794a8e688b7c39c', 'hex'));
  });
});

describe('cross-check with official tls-sig-api-v2', () => {
  test('200 random PrivateMapKeys (numeric and string rooms): identical bytes, and ours verifies them', () => {
    const rnd = prng(0xc0ffee);
    for (let i = 0; i < 200; i++) {
      const app = rnd.int(1_400_000_000, 1_499_999_999);
      const key = rnd.pick('0123456789abcdef', 64, 64);
      const userId = rnd.pick(USERID_ALPHABET, 1, 32);
      const expire = rnd.int(1, 10_000_000);
      const privilegeMap = i % 10 === 0 ? rnd.int(0, 0xffffffff) : rnd.int(0, 255);
      const ms = rnd.int(1_500_000_000_000, 1_900_000_000_000);
      const api = new OfficialApi(app, key);
      const o = { sdkAppId: app, secretKey: key, userId, expire, privilegeMap };
      const numeric = i % 2 === 0;
      const roomId = i % 20 === 0 ? 0xffffffff - rnd.int(0, 3) : rnd.int(0, 0xffffffff);
      const strRoomId = rnd.pick(USERID_ALPHABET, 0, 64);
      const theirs = withFrozenNow(ms, () =>
        numeric ? api.genPrivateMapKey(userId, expire, roomId, privilegeMap) : api.genPrivateMapKeyWithStringRoomID(userId, expire, strRoomId, privilegeMap),
      );
      const ours = withFrozenNow(ms, () => (numeric ? genPrivateMapKey({ ...o, roomId }) : genPrivateMapKeyWithStringRoomId({ ...o, strRoomId })));
      const ctx = JSON.stringify({ i, app, key, userId, expire, privilegeMap, ms, roomId, strRoomId, numeric });
      assert.equal(ours, theirs, ctx);
      const now = Math.floor(ms / 1000) + rnd.int(0, expire);
      const room = numeric ? { roomId } : { strRoomId };
      const r = verifyPrivateMapKey(theirs, { sdkAppId: app, secretKey: key, userId, ...room, privilege: privilegeMap, now });
      assert.ok(r.ok, ctx);
      assert.deepEqual(r.buffer, {
        version: numeric ? 0 : 1, account: userId, sdkAppId: app, roomId: numeric ? roomId : 0, expireAt: Math.floor(ms / 1000) + expire,
        privilegeMap, accountType: 0, ...(numeric ? {} : { strRoomId }),
      });
    }
  });
});

describe('verifyPrivateMapKey failures', () => {
  const base = { sdkAppId: APP, secretKey: KEY, userId: 'alice', expire: 1000, privilegeMap: 42, now: T };
  const numeric = genPrivateMapKey({ ...base, roomId: 4294967294 });
  const stringRoom = genPrivateMapKeyWithStringRoomId({ ...base, strRoomId: 'room-1' });
  const check = { sdkAppId: APP, secretKey: KEY, userId: 'alice', now: T };
  /** A key whose userbuf says something other than what genPrivateMapKey would write. */
  const custom = (b: Partial<PrivateMapKeyBuffer>, expire = 1000): string =>
    genUserSig({
      ...check, expire,
      userbuf: encodePrivateMapKeyBuffer({ version: 0, account: 'alice', sdkAppId: APP, roomId: 7, expireAt: T + 1000, privilegeMap: 255, accountType: 0, ...b }),
    });

  test('numeric room 4294967294: matches exactly', () => {
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, roomId: 4294967294 })), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, roomId: 4294967295 })), 'ROOM_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, roomId: 4294967294 - 2 ** 32 })), 'ROOM_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, check)), 'OK');
  });

  test('room mismatches, including numeric vs string namespaces', () => {
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, strRoomId: '4294967294' })), 'ROOM_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(stringRoom, { ...check, strRoomId: 'room-1' })), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(stringRoom, { ...check, strRoomId: 'room-2' })), 'ROOM_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(stringRoom, { ...check, strRoomId: 'room-' })), 'ROOM_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(stringRoom, { ...check, roomId: 0 })), 'ROOM_MISMATCH');
    const empty = byName('privmap_string_room_empty_QUIRK');
    const e = { sdkAppId: APP, secretKey: KEY, userId: 'xiaojun', now: T };
    assert.equal(reasonOf(verifyPrivateMapKey(empty.usersig, { ...e, strRoomId: '' })), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(empty.usersig, { ...e, strRoomId: 'x' })), 'ROOM_MISMATCH');
  });

  test('privileges', () => {
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, privilege: Privilege.EnterRoom | Privilege.ReceiveVideo })), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, privilege: Privilege.SendAudio })), 'PRIVILEGE_DENIED');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, privilege: Privilege.All })), 'PRIVILEGE_DENIED');
    assert.equal(reasonOf(verifyPrivateMapKey(custom({ privilegeMap: 0xffffffff }), { ...check, privilege: 0x80000000 })), 'OK');
  });

  test('account, app, userbuf and envelope failures', () => {
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, userId: 'bob' })), 'IDENTIFIER_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, secretKey: 'x' })), 'SIG_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(custom({ account: 'alicE' }), check)), 'ACCOUNT_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(custom({ account: 'alice2' }), check)), 'ACCOUNT_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(custom({ sdkAppId: APP + 1 }), check)), 'SDKAPPID_MISMATCH');
    assert.equal(reasonOf(verifyPrivateMapKey(custom({}), check)), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(byName('usersig_basic').usersig, { ...check, userId: 'xiaojun' })), 'NO_USERBUF');
    assert.equal(reasonOf(verifyPrivateMapKey(byName('usersig_with_raw_userbuf_abc').usersig, { ...check, userId: 'xiaojun' })), 'BUFFER_INVALID');
    assert.equal(reasonOf(verifyPrivateMapKey('', check)), 'EMPTY');
  });

  test('two expiries: envelope time+expire and userbuf dwExpTime', () => {
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, now: T + 1000 })), 'OK');
    assert.equal(reasonOf(verifyPrivateMapKey(numeric, { ...check, now: T + 1001 })), 'EXPIRED');
    const shortTicket = custom({ expireAt: T + 10 }, 1000);
    assert.equal(reasonOf(verifyPrivateMapKey(shortTicket, { ...check, now: T + 10 })), 'OK');
    const r = verifyPrivateMapKey(shortTicket, { ...check, now: T + 11 });
    assert.equal(reasonOf(r), 'EXPIRED');
    assert.match((r as { message: string }).message, /dwExpTime/);
    const shortEnvelope = custom({ expireAt: T + 5000 }, 10);
    assert.equal(reasonOf(verifyPrivateMapKey(shortEnvelope, { ...check, now: T + 11 })), 'EXPIRED');
  });
});

describe('userbuf codec', () => {
  const valid = Buffer.from(byName('privmap_string_room').userbufParsed!.hex, 'hex');
  const validNumeric = Buffer.from(byName('privmap_numeric_room').userbufParsed!.hex, 'hex');

  test('rejects truncated, trailing, unknown-version and inconsistent buffers', () => {
    for (const buf of [valid, validNumeric]) {
      for (let n = 0; n < buf.length; n++) assert.throws(() => decodePrivateMapKeyBuffer(buf.subarray(0, n)), /short|truncated/, `prefix ${n}`);
      assert.throws(() => decodePrivateMapKeyBuffer(Buffer.concat([buf, Buffer.of(0)])), RangeError);
    }
    for (const buf of [valid, validNumeric]) {
      const v2 = Buffer.from(buf);
      v2[0] = 2;
      assert.throws(() => decodePrivateMapKeyBuffer(v2), /cVer/);
    }
    const longAccount = Buffer.from(validNumeric);
    longAccount.writeUInt16BE(0xffff, 1);
    assert.throws(() => decodePrivateMapKeyBuffer(longAccount), RangeError);
    const asNumeric = Buffer.from(valid);
    asNumeric[0] = 0;
    assert.throws(() => decodePrivateMapKeyBuffer(asNumeric), /trailing/);
  });

  test('encode validates fields', () => {
    const b: PrivateMapKeyBuffer = { version: 0, account: 'a', sdkAppId: 1, roomId: 2, expireAt: 3, privilegeMap: 4, accountType: 0 };
    assert.deepEqual(encodePrivateMapKeyBuffer(b), Buffer.from('0000016100000001000000020000000300000004' + '00000000', 'hex'));
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, roomId: 2 ** 32 }), RangeError);
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, roomId: -1 }), RangeError);
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, privilegeMap: 1.5 }), RangeError);
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, strRoomId: 'x' }), TypeError);
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, version: 1 }), TypeError);
    assert.throws(() => encodePrivateMapKeyBuffer({ ...b, account: 'x'.repeat(0x10000) }), RangeError);
    assert.throws(() => genPrivateMapKey({ ...b, secretKey: 'k', userId: 'a', expire: 2 ** 32, now: 0 }), RangeError);
  });
});
